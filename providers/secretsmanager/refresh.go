package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/strata-go/strata/config"
)

// Refresh checks whether any secret in use has a new version and, if so,
// returns the complete set of values as Load would, with changed == true.
//
// It costs one DescribeSecret per secret read by id (none for a source pinned
// to a VersionId), one ListSecrets page per 100 secrets for each Prefix
// source (its listing carries the versions, so no DescribeSecret is needed),
// and a GetSecretValue (or BatchGetSecretValue) only for a secret whose
// AWSCURRENT version (or the version holding the source's Stage) is not the
// one in use, or that is new under a prefix. A secret gone from a prefix is a
// change too. When nothing changed it returns (nil, false, nil).
//
// A secret that cannot be checked or fetched (deleted, access denied,
// throttled), or whose new version does not parse, keeps its last good value
// and version and is reported in the error; it does not hold back the rotation
// of the others. So a changed value
// set may come with an error naming the secrets that failed, and their values
// in the set are the previous ones. With changed == false an error means
// nothing new could be read; the versions in use stay the same, so the next
// Refresh sees the same changes again.
//
// A version is recorded only once its value was read intact: an answer that
// carries neither SecretString nor SecretBinary is a *config.SourceError with
// config.ErrMalformed, never a value, and the source keeps the value and
// version of req.Prev until a later refresh reads it whole.
//
// With req.Events (a read that Watch's events caused) and not req.OnDemand
// (Store.Refresh, whose caller wants every source read), it reads only the
// sources the events name, by stage with GetSecretValue (or
// BatchGetSecretValue), not by the version an event names, and keeps every
// other source at its value and version in req.Prev. An event that
// announces the version a source serves costs no call, and so does one
// announcing a version the source moved away from after the event's time (a
// late, duplicate or out-of-order delivery), and so does one dated more
// than 5 seconds before the creation of the version the source serves (a
// move made before that version existed); a read that gives such a
// version (a read that lags behind the move) is not taken, so a source never
// goes back to an older version through an event. The state remembers the
// last 4 versions each source moved away from. A read that does not yet give
// the announced version is made again, 4 reads within about 2 seconds; if
// none gives it, the version in use keeps serving and the error (transient)
// says so, so the store reads again soon. An event for every source (""),
// or for a secret new under a Prefix spec, makes the read a complete one as
// described above; an event for a source the reader does not have is
// ignored.
//
// With req.Prev == nil (the first read) a push feed that cannot run as
// configured (push.Feed.Err: no queue URL, a bad prefix) is a config.ErrLayer
// error naming it, before any call. Each API call keeps the SDK client's
// retries (3 attempts with the standard retryer), so a blip does not fail a
// start. With req.Prev != nil each call is sent once (RetryMaxAttempts 1 for
// the call): the store retries failed refreshes with its own backoff, and the
// two would multiply during an outage.
func (l *Reader) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	schema := req.Schema
	if req.Prev == nil {
		if f := l.opts.Push; f != nil && f.Err() != nil {
			return config.Update{}, feedError{f.Err()}
		}
		r, err := l.read(ctx, schema)
		if err != nil {
			return config.Update{}, err
		}
		return r.state.update(r.m.values), joinErrs(l.withKeys(r.errs), l.withKeys(r.m.errs), r.m.warns)
	}
	prev, ok := req.Prev.(*state)
	if !ok {
		return config.Update{}, fmt.Errorf("%w: secretsmanager: Refresh was given the State of another layer (%T)", config.ErrLayer, req.Prev)
	}
	if l.client == nil {
		return config.Update{}, noClientError()
	}
	if len(req.Events) > 0 && !req.OnDemand { // a caller of Store.Refresh wants every source read
		if u, ok, err := l.refreshEvents(ctx, req, prev); ok {
			return u, err
		}
	}
	// The store retries a failed refresh with its own backoff: each call is
	// sent once, so an outage costs one request per call and attempt.
	ctx = withSingleAttempt(ctx)

	listed, errs := l.listAll(ctx)
	if len(errs) > 0 {
		return config.Update{}, joinErrs(errs)
	}
	m := newMapper(schema, l.opts.StrictKeys)
	bindings := l.bind(schema, listed, m)
	refs := uniqueRefs(bindings)
	listedVersions := versionsOfListing(listed)
	next, toFetch, errs := l.checkVersions(ctx, prev, refs, listedVersions, gateable(req))
	if len(toFetch) > 0 {
		errs = append(errs, l.fetchChanged(ctx, prev, toFetch, next)...)
	}
	errs = append(errs, l.keepUsable(schema, prev, bindings, next)...)
	if !changedFrom(prev, next, listed) {
		l.log.LogAttrs(ctx, slog.LevelDebug, "secretsmanager: refresh found no change", slog.Int("secrets", len(next)))
		return config.Update{}, joinErrs(errs)
	}
	for _, b := range bindings {
		if s, ok := next[b.ref]; ok {
			m.bind(b, s)
		}
	}
	if len(m.errs) > 0 {
		return config.Update{}, joinErrs(append(errs, m.errs...))
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "secretsmanager: refresh found new versions", slog.Int("fetched", len(toFetch)))
	st := prev.advance(next, listed, nil)
	return st.update(m.values), joinErrs(append(errs, m.warns...))
}

// versionsOfListing returns the versions a listing gives for each secret
// name. A listing carries each secret's versions, so secrets found under a
// prefix need no DescribeSecret.
func versionsOfListing(listed map[string][]listEntry) map[string]map[string][]string {
	listedVersions := map[string]map[string][]string{}
	for _, entries := range listed {
		for _, e := range entries {
			if e.versions != nil {
				listedVersions[e.name] = e.versions
			}
		}
	}
	return listedVersions
}

// checkVersions asks which version each ref of prev follows now (from the
// listing, or with DescribeSecret) and returns the secrets that stay as they
// are, the refs to fetch (new, or whose version moved) and the errors of the
// check. A ref that could not be checked keeps its last good version.
func (l *Reader) checkVersions(ctx context.Context, prev *state, refs []ref, listedVersions map[string]map[string][]string, gateable bool) (map[ref]*secret, []ref, []error) {
	var errs []error
	var ids []string
	seen := map[string]bool{}
	for _, r := range refs {
		_, cached := prev.secrets[r]
		_, fromList := listedVersions[r.id]
		if cached && r.versionID == "" && !fromList && !seen[r.id] {
			seen[r.id] = true
			ids = append(ids, r.id)
		}
	}
	var gated map[string]map[string][]string
	if gateable {
		gated = l.gate(ctx, prev, ids)
	}
	described, derrs := l.describe(ctx, slices.DeleteFunc(ids, func(id string) bool { _, ok := gated[id]; return ok }))
	maps.Copy(described, gated)

	next := map[ref]*secret{}
	var toFetch []ref
	reported := map[string]bool{}
	for _, r := range refs {
		old, cached := prev.secrets[r]
		switch {
		case !cached:
			toFetch = append(toFetch, r)
			continue
		case r.versionID != "":
			next[r] = old
			continue
		}
		vs, fromList := listedVersions[r.id]
		if !fromList {
			if err, bad := derrs[r.id]; bad {
				if errors.Is(err, config.ErrNotFound) && l.optional(r) {
					continue // an optional secret that is gone sets nothing now
				}
				if !reported[r.id] {
					reported[r.id] = true
					errs = append(errs, err)
				}
				next[r] = old // keep the last good version
				continue
			}
			vs = described[r.id]
		}
		ids := versionsWithStage(vs, r.wantStage())
		switch {
		case len(ids) == 0 && l.optional(r):
			// The version an optional source reads is gone: it sets nothing now.
		case len(ids) == 0:
			errs = append(errs, &config.SourceError{
				Layer: LayerName, Source: r.id, Code: config.ErrNotFound,
				Message: fmt.Sprintf("no version of secret %q is labelled %s in %s", r.id, r.wantStage(), l.where),
			})
			next[r] = old
		case slices.Contains(ids, old.versionID):
			next[r] = old
		default:
			toFetch = append(toFetch, r)
		}
	}
	return next, toFetch, errs
}

// fetchChanged reads the refs of toFetch into next. A ref that could not be
// read (or whose answer was not whole) keeps its version of prev, if any.
func (l *Reader) fetchChanged(ctx context.Context, prev *state, toFetch []ref, next map[ref]*secret) []error {
	got, errs := l.fetch(ctx, toFetch)
	for _, r := range toFetch {
		if _, ok := got[r]; !ok {
			if old, cached := prev.secrets[r]; cached {
				next[r] = old // the fetch failed: keep the last good version
			}
		}
	}
	maps.Copy(next, got)
	return errs
}

// keepUsable tries each binding whose secret is new in next. A new version
// that does not parse (invalid JSON, over the size limit) is reported, and
// the last good version keeps serving in its place (or,
// for a secret new to this layer, nothing), so it does not hold back the
// other secrets. It is fetched again at the next refresh. Each binding is
// tried on its own mapper, which reports every problem, even one whose
// text another binding already produced.
func (l *Reader) keepUsable(schema *config.Schema, prev *state, bindings []binding, next map[ref]*secret) []error {
	var errs []error
	for _, b := range bindings {
		s, ok := next[b.ref]
		old, cached := prev.secrets[b.ref]
		if !ok || (cached && old == s) {
			continue
		}
		probe := newMapper(schema, l.opts.StrictKeys)
		probe.bind(b, s)
		if len(probe.errs) == 0 {
			continue
		}
		errs = append(errs, probe.errs...)
		if cached {
			next[b.ref] = old
		} else {
			delete(next, b.ref)
		}
	}
	return errs
}

// changedFrom reports whether next (with the listing) differs from prev.
func changedFrom(prev *state, next map[ref]*secret, listed map[string][]listEntry) bool {
	changed := !sameListing(prev.listed, listed)
	for r, s := range next {
		if old, ok := prev.secrets[r]; !ok || old.versionID != s.versionID {
			changed = true
		}
	}
	for r := range prev.secrets {
		if _, ok := next[r]; !ok {
			changed = true
		}
	}
	return changed
}

// update is the config.Update of values read with st.
func (st *state) update(values config.Values) config.Update {
	return config.Update{Changed: true, Values: values, State: st, Versions: st.versions()}
}

// versionsWithStage returns the VersionIds that carry stage. It is normally
// one; a list tolerates endpoints that leave a label on several versions.
func versionsWithStage(vs map[string][]string, stage string) []string {
	var out []string
	for id, stages := range vs {
		if slices.Contains(stages, stage) {
			out = append(out, id)
		}
	}
	return out
}

// sameListing reports whether two listings found the same secret names.
func sameListing(a, b map[string][]listEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for p, ea := range a {
		eb, ok := b[p]
		if !ok || len(ea) != len(eb) {
			return false
		}
		for i := range ea {
			if ea[i].name != eb[i].name {
				return false
			}
		}
	}
	return true
}
