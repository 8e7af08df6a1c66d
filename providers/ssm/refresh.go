package ssm

import (
	"context"
	"slices"

	"github.com/strata-go/strata/config"
)

// checkVersions asks for the version of every parameter in use, and of every
// parameter now under a path, and reads those whose version is new. What
// cannot be checked or read keeps its version of prev.
func (l *Reader) checkVersions(ctx context.Context, prev *state) (*state, []error) {
	next := newState()
	var errs []error
	var toFetch []string
	covered := map[string]bool{} // names whose version a path description gave
	want := func(name string, version int64) {
		if old, ok := prev.params[name]; ok && old.version == version {
			next.params[name] = old
			return
		}
		toFetch = append(toFetch, name)
	}

	paths := l.paths()
	descs := make([]described, len(paths))
	bads := make([][]error, len(paths))
	derrs := make([]error, len(paths))
	l.parallel(len(paths), func(i int) { descs[i], bads[i], derrs[i] = l.describePath(ctx, paths[i]) })
	failed := map[string]bool{}
	for i, path := range paths {
		if derrs[i] != nil {
			errs = append(errs, derrs[i])
			failed[path] = true
			for _, n := range prev.listed[path] {
				next.keep(prev, n)
				covered[n] = true
			}
			continue
		}
		for _, e := range bads[i] {
			errs = append(errs, e)
			if se, ok := e.(*config.SourceError); ok {
				next.keep(prev, se.Source)
				covered[se.Source] = true
			}
		}
		for n, v := range descs[i] {
			covered[n] = true
			want(n, v)
		}
	}

	var ask []string
	for _, n := range l.named() {
		if !covered[n] {
			ask = append(ask, n)
		}
	}
	versions, nerrs := l.describeNames(ctx, ask)
	for _, n := range ask {
		if err, bad := nerrs[n]; bad {
			errs = append(errs, err)
			next.keep(prev, n)
			continue
		}
		v, ok := versions[n]
		if !ok {
			if !l.optionalName(n) {
				errs = append(errs, l.notFound(n))
				next.keep(prev, n)
			}
			continue
		}
		want(n, v)
	}

	errs = append(errs, l.fetchChanged(ctx, prev, next, toFetch)...)
	errs = append(errs, l.relist(prev, next, paths, failed)...)
	return next, errs
}

// fetchChanged reads the parameters of toFetch into next. One that cannot
// be read keeps its version of prev; one gone since it was described is gone
// from a path, and missing for a spec that names it.
func (l *Reader) fetchChanged(ctx context.Context, prev, next *state, toFetch []string) []error {
	slices.Sort(toFetch)
	toFetch = slices.Compact(toFetch)
	if len(toFetch) == 0 {
		return nil
	}
	named := l.named()
	res := l.get(ctx, toFetch)
	var errs []error
	for _, n := range toFetch {
		switch p, ok := res.got[n]; {
		case ok:
			next.params[n] = p
		case res.missing[n]:
			if slices.Contains(named, n) && !l.optionalName(n) {
				errs = append(errs, l.notFound(n))
				next.keep(prev, n)
			}
		default:
			errs = append(errs, res.errs[n])
			next.keep(prev, n)
		}
	}
	return errs
}

// relist records, for each path that could be described, the names now
// read under it. A path with nothing under it that is not Optional keeps
// the parameters of prev and is reported.
func (l *Reader) relist(prev, next *state, paths []string, failed map[string]bool) []error {
	var errs []error
	for _, path := range paths {
		if failed[path] {
			if names, ok := prev.listed[path]; ok {
				next.listed[path] = names
			}
			continue
		}
		var names []string
		for n := range next.params {
			if _, ok := under(n, path); ok {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		if len(names) == 0 && !l.optionalPath(path) {
			errs = append(errs, l.emptyPath(path))
			for _, n := range prev.listed[path] {
				next.keep(prev, n)
			}
			names = prev.listed[path]
		}
		if names == nil {
			names = []string{}
		}
		next.listed[path] = names
	}
	return errs
}
