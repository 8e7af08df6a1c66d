package secretsmanager

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/strata-go/strata/config"
)

// maxLeft bounds the versions a state remembers, per source, of those it
// moved away from.
const maxLeft = 4

// announcedRetries are the waits between the reads of a secret whose
// version is not yet the one an event announced: Secrets Manager is
// eventually consistent, and a read right after the event may still find
// the version before. Four reads within about 2 seconds.
var announcedRetries = []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 1200 * time.Millisecond}

// leftVersion is a version a source served and moved away from, and when:
// the time of the event that moved it, or of the read that found the move.
type leftVersion struct {
	id string
	at time.Time
}

// advance returns the state that serves next (with listed) after st: each
// source whose version changed remembers the version it left, at at(r) (now,
// when at is nil or gives zero), keeping the newest maxLeft. A version the
// source moves back to is forgotten.
func (st *state) advance(next map[ref]*secret, listed map[string][]listEntry, at func(ref) time.Time) *state {
	out := &state{secrets: next, listed: listed}
	if st == nil {
		return out
	}
	now := time.Now()
	for r, s := range next {
		left := st.left[r]
		if old, ok := st.secrets[r]; ok && old.versionID != s.versionID {
			when := now
			if at != nil && !at(r).IsZero() {
				when = at(r)
			}
			left = append([]leftVersion{{id: old.versionID, at: when}}, left...)
		}
		left = slices.DeleteFunc(slices.Clone(left), func(lv leftVersion) bool { return lv.id == s.versionID })
		if len(left) > maxLeft {
			left = left[:maxLeft]
		}
		if len(left) > 0 {
			if out.left == nil {
				out.left = map[ref][]leftVersion{}
			}
			out.left[r] = left
		}
	}
	return out
}

// leftAt reports whether the source r moved away from version id, and when.
func (st *state) leftAt(r ref, id string) (time.Time, bool) {
	for _, lv := range st.left[r] {
		if lv.id == id {
			return lv.at, true
		}
	}
	return time.Time{}, false
}

// announced is what the events of one read say of one source.
type announced struct {
	version string    // "" when the events name none
	at      time.Time // the latest event's time
}

// planEvents turns the events of a read into the sources to read. full is
// true when they call for a complete read instead: an event for every
// source (""), or for a secret new under a Prefix spec. An event for a source
// the reader does not have is ignored. A source is not read when its event
// announces the version it serves, or one it moved away from after the event
// (a late or duplicate delivery); a source reading another stage than
// AWSCURRENT is read only along with a move of its secret's AWSCURRENT, or
// when the reader does not follow that.
func (l *Reader) planEvents(prev *state, events []config.Event) (plan map[ref]announced, full bool) {
	byLabel := make(map[string]ref, len(prev.secrets))
	for r := range prev.secrets {
		byLabel[r.label()] = r
	}
	for _, s := range l.sources {
		if r := s.ref(s.id); s.kind != kindPrefix && r.versionID == "" {
			if _, ok := byLabel[r.label()]; !ok {
				byLabel[r.label()] = r // an optional source not read yet
			}
		}
	}
	wants := map[ref]announced{}
	for _, e := range events {
		r, ok := byLabel[e.Source]
		switch {
		case e.Source == "":
			return nil, true
		case !ok && l.underAnyPrefix(e.Source):
			return nil, true
		case !ok || r.versionID != "":
			continue
		}
		if w, seen := wants[r]; seen && w.at.After(e.At) {
			continue // a later event for the source is in the batch
		}
		wants[r] = announced{version: e.Version, at: e.At}
	}
	plan = map[ref]announced{}
	moved, follows := map[string]bool{}, map[string]bool{}
	for r, w := range wants {
		if r.stage != "" {
			continue
		}
		follows[r.id] = true
		if old, ok := prev.secrets[r]; ok && w.version != "" && w.version == old.versionID {
			continue // the version it serves
		} else if ok && olderThan(w.at, old) {
			continue // a move made before the version it serves existed
		}
		if left, ok := prev.leftAt(r, w.version); ok && w.version != "" && (w.at.IsZero() || !w.at.After(left)) {
			continue // a late event for a version it moved away from since
		}
		moved[r.id] = true
		plan[r] = w
	}
	for r, w := range wants {
		if r.stage != "" && (moved[r.id] || !follows[r.id]) {
			plan[r] = announced{at: w.at}
		}
	}
	return plan, false
}

// createdMargin is how much earlier than the CreatedDate of the version a
// source serves an event must be dated to be taken for one older than that
// version: event times are whole seconds, from another clock.
const createdMargin = 5 * time.Second

// olderThan reports whether an event dated at tells of a move made before
// the version s was created, so before s became the one in use: a late
// delivery (a queue that kept it while its reader was down), whatever the
// version it names. A zero time, or a version without a CreatedDate, says
// nothing.
func olderThan(at time.Time, s *secret) bool {
	return !at.IsZero() && !s.created.IsZero() && at.Add(createdMargin).Before(s.created)
}

// underAnyPrefix reports whether a source label names a secret under one of
// the reader's Prefix specs.
func (l *Reader) underAnyPrefix(label string) bool {
	for _, s := range l.sources {
		if s.kind == kindPrefix {
			if _, ok := underPrefix(label, s.id); ok {
				return true
			}
		}
	}
	return false
}

// refreshEvents is the Refresh of a read that events caused: it reads only
// the sources they name, by stage (never by the version an event names),
// and keeps every other source as in prev. ok is false when the events call
// for a complete read instead.
func (l *Reader) refreshEvents(ctx context.Context, req config.RefreshRequest, prev *state) (u config.Update, ok bool, err error) {
	plan, full := l.planEvents(prev, req.Events)
	if full {
		return config.Update{}, false, nil
	}
	if len(plan) == 0 {
		l.log.LogAttrs(ctx, slog.LevelDebug, "secretsmanager: events name no version to read", slog.Int("events", len(req.Events)))
		return config.Update{}, true, nil
	}
	ctx = withSingleAttempt(ctx)
	taken, errs := l.readAnnounced(ctx, prev, plan)
	next := maps.Clone(prev.secrets)
	maps.Copy(next, taken)
	schema := req.Schema
	m := newMapper(schema, l.opts.StrictKeys)
	bindings := l.bind(schema, prev.listed, m)
	errs = append(errs, l.keepUsable(schema, prev, bindings, next)...)
	if !changedFrom(prev, next, prev.listed) {
		return config.Update{}, true, joinErrs(errs)
	}
	for _, b := range bindings {
		if s, ok := next[b.ref]; ok {
			m.bind(b, s)
		}
	}
	if len(m.errs) > 0 {
		return config.Update{}, true, joinErrs(append(errs, m.errs...))
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "secretsmanager: events brought new versions", slog.Int("read", len(plan)), slog.Int("taken", len(taken)))
	st := prev.advance(next, prev.listed, func(r ref) time.Time { return plan[r].at })
	return st.update(m.values), true, joinErrs(append(errs, m.warns...))
}

// readAnnounced reads the sources of plan by stage and returns the secrets
// to take. A version read is taken unless it is the one served, or one the
// source moved away from (a read that lags behind) and not the one
// announced. A source whose read does not yet give the announced version
// (nor another new one) is read again after each of announcedRetries; if it
// still does not, the error says so, and the store's next read (a complete
// one, as after any failure) looks again.
func (l *Reader) readAnnounced(ctx context.Context, prev *state, plan map[ref]announced) (map[ref]*secret, []error) {
	pending := slices.SortedFunc(maps.Keys(plan), compareRefs)
	taken := map[ref]*secret{}
	found := map[ref]string{} // the version the last read gave
	var errs []error
	for try := 0; ; try++ {
		got, ferrs := l.fetch(ctx, pending)
		errs = append(errs, ferrs...)
		var again []ref
		for _, r := range pending {
			s, ok := got[r]
			if !ok {
				continue // failed: reported in ferrs
			}
			w := plan[r]
			found[r] = s.versionID
			old, served := prev.secrets[r]
			_, wasLeft := prev.leftAt(r, s.versionID)
			switch {
			case served && s.versionID == old.versionID, wasLeft && s.versionID != w.version:
				if w.version != "" {
					again = append(again, r)
				}
			default:
				taken[r] = s
			}
		}
		if len(again) == 0 {
			return taken, errs
		}
		if try == len(announcedRetries) || !sleepCtx(ctx, announcedRetries[try]) {
			for _, r := range again {
				errs = append(errs, &config.SourceError{
					Layer: LayerName, Source: r.id, Code: config.ErrTransient,
					Message: fmt.Sprintf("an event announced a new version as %s, but %d reads by stage over %v found only %s, the version in use or one it moved away from (Secrets Manager is eventually consistent); the version in use keeps serving, and the next refresh looks again",
						r.wantStage(), try+1, announcedTotal(try), found[r]),
				})
			}
			return taken, errs
		}
		pending = again
	}
}

// announcedTotal is the time the first tries reads of readAnnounced wait.
func announcedTotal(tries int) time.Duration {
	var d time.Duration
	for _, w := range announcedRetries[:tries] {
		d += w
	}
	return d
}

// sleepCtx waits d, or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func compareRefs(a, b ref) int {
	return cmp.Or(strings.Compare(a.id, b.id), strings.Compare(a.stage, b.stage), strings.Compare(a.versionID, b.versionID))
}
