package ssm

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/strata-go/strata/config"
)

// state is what one read found: the config.State a store keeps for the
// layer. It is never modified once returned.
type state struct {
	params map[string]*param   // by name
	listed map[string][]string // by path: the names read under it, sorted
}

func newState() *state {
	return &state{params: map[string]*param{}, listed: map[string][]string{}}
}

// versions returns the version of each parameter read, by name: the
// Versions of Status.
func (st *state) versions() map[string]string {
	m := make(map[string]string, len(st.params))
	for n, p := range st.params {
		m[n] = p.versionText()
	}
	return m
}

// update is the config.Update of values read with st.
func (st *state) update(values config.Values) config.Update {
	return config.Update{Changed: true, Values: values, State: st, Versions: st.versions()}
}

// keep copies the parameter name of prev, if any, into st.
func (st *state) keep(prev *state, name string) {
	if p, ok := prev.params[name]; ok {
		st.params[name] = p
	}
}

// changedFrom reports whether st read other parameters, or other versions,
// than prev.
func (st *state) changedFrom(prev *state) bool {
	if len(st.params) != len(prev.params) || len(st.listed) != len(prev.listed) {
		return true
	}
	for n, p := range st.params {
		if old, ok := prev.params[n]; !ok || old.version != p.version {
			return true
		}
	}
	for path, names := range st.listed {
		if old, ok := prev.listed[path]; !ok || !slices.Equal(old, names) {
			return true
		}
	}
	return false
}

// Refresh reads every spec when req.Prev is nil (GetParametersByPath for
// each Path, GetParameters for named parameters, ten a call, in parallel).
// Otherwise it asks only for versions: DescribeParameters with a Path filter
// for each Path (50 parameters a page) and with a Name filter for the named
// parameters (50 a call); it reads values (GetParameters, ten a call) only
// for a parameter whose version is not the one in req.Prev, or that is new
// under a path. A parameter gone from a path is a change too. When nothing
// changed it returns Changed false and no values.
//
// A parameter or path that cannot be checked or read keeps its value and
// version of req.Prev and is reported in the error; it does not hold back the
// others' changes. An answer that cannot be used (a parameter without a value,
// a version or a known type) is a *config.SourceError matching
// config.ErrMalformed, never a value.
//
// With req.Prev nil each API call keeps the SDK client's retries; with
// req.Prev set each call is sent once (RetryMaxAttempts 1), as the store
// retries a failed refresh with its own backoff.
func (l *Reader) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if err := l.checkSources(); err != nil {
		return config.Update{}, err
	}
	if l.client == nil {
		return config.Update{}, noClientError()
	}
	if req.Prev == nil {
		st, errs := l.readAll(ctx)
		vals, berrs, warns := l.bind(req.Schema, st)
		return st.update(vals), joinErrs(l.withKeys(errs), berrs, warns)
	}
	prev, ok := req.Prev.(*state)
	if !ok || prev == nil {
		return config.Update{}, fmt.Errorf("%w: ssm: Refresh was given the State of another layer (%T)", config.ErrLayer, req.Prev)
	}
	next, errs := l.checkVersions(withSingleAttempt(ctx), prev)
	if !next.changedFrom(prev) {
		l.log.LogAttrs(ctx, slog.LevelDebug, "ssm: refresh found no change", slog.Int("parameters", len(next.params)))
		return config.Update{}, joinErrs(l.withKeys(errs))
	}
	vals, berrs, warns := l.bind(req.Schema, next)
	l.log.LogAttrs(ctx, slog.LevelDebug, "ssm: refresh found new versions", slog.Int("parameters", len(next.params)))
	return next.update(vals), joinErrs(l.withKeys(errs), berrs, warns)
}

// paths returns the path of every Path spec, each once.
func (l *Reader) paths() []string {
	var out []string
	for _, s := range l.sources {
		if s.kind == kindPath && !slices.Contains(out, s.root) {
			out = append(out, s.root)
		}
	}
	return out
}

// named returns every parameter name a Names or Parameter spec reads, each
// once, in spec order.
func (l *Reader) named() []string {
	var out []string
	for _, s := range l.sources {
		for _, n := range s.ParameterNames() {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// optionalName reports whether every spec that names the parameter is
// Optional, so that its absence is no problem.
func (l *Reader) optionalName(name string) bool {
	found := false
	for _, s := range l.sources {
		if !slices.Contains(s.ParameterNames(), name) {
			continue
		}
		if !s.optional {
			return false
		}
		found = true
	}
	return found
}

// optionalPath reports whether every Path spec of path is Optional.
func (l *Reader) optionalPath(path string) bool {
	for _, s := range l.sources {
		if s.kind == kindPath && s.root == path && !s.optional {
			return false
		}
	}
	return true
}

// readAll reads every parameter of every spec: the first read.
func (l *Reader) readAll(ctx context.Context) (*state, []error) {
	st := newState()
	paths := l.paths()
	lists := make([]*listing, len(paths))
	perrs := make([]error, len(paths))
	l.parallel(len(paths), func(i int) { lists[i], perrs[i] = l.byPath(ctx, paths[i]) })
	var errs []error
	for i, path := range paths {
		if perrs[i] != nil {
			errs = append(errs, perrs[i])
			continue
		}
		errs = append(errs, lists[i].errs...)
		names := make([]string, 0, len(lists[i].params))
		for _, p := range lists[i].params {
			st.params[p.name] = p
			names = append(names, p.name)
		}
		st.listed[path] = names
		if len(names) == 0 && len(lists[i].errs) == 0 && !l.optionalPath(path) {
			errs = append(errs, l.emptyPath(path))
		}
	}
	var want []string
	for _, n := range l.named() {
		if _, ok := st.params[n]; !ok {
			want = append(want, n)
		}
	}
	res := l.get(ctx, want)
	for _, n := range want {
		switch p, ok := res.got[n]; {
		case ok:
			st.params[n] = p
		case res.missing[n]:
			if !l.optionalName(n) {
				errs = append(errs, l.notFound(n))
			}
		default:
			errs = append(errs, res.errs[n])
		}
	}
	return st, errs
}
