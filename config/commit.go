package config

import (
	"maps"
	"slices"
	"time"
)

// refreshState is what a store keeps of its refreshable layers between reads.
// A commit replaces it whole; no field of a committed one is modified.
type refreshState struct {
	cache     []Values  // the values each layer gave for the published snapshot
	cacheWarn [][]error // the warnings each layer gave with them
	// states and versions hold, for each Refresher, the State and versions
	// of the values in cache: what the published snapshot serves.
	states   []State
	versions []map[string]string
	// rejectedBy holds, for each refreshable layer whose last change was
	// rejected, why; the store is unhealthy while it is not empty.
	rejectedBy map[int]error
	// rejectedVals holds the values of each rejected change, so the same
	// change read again is not rejected (and reported) again.
	rejectedVals map[int]Values
	status       Status
}

// readResult is what one read of the refreshable layers found (collect).
type readResult struct {
	updates  map[int]Update  // the new changes read, by layer
	changed  []int           // the layers of updates, in order
	warnings map[int][]error // the warnings that go with each change
	settled  []int           // layers back at the values served after a rejected change
	errs     []error         // every failure to read
	stuck    bool            // a layer's abandoned call has not returned
}

// buildResult is what building the changes of a read gave (buildChanges).
type buildResult[T any] struct {
	snap       *snapshot[T] // the snapshot of the accepted changes; nil if none
	accepted   []int
	cache      []Values // the values snap was built from
	cacheWarn  [][]error
	rejections map[int]error // changed layers whose values were rejected, and why
}

// commitResult is the outcome of a read: the new state, what to publish and
// whom to tell.
type commitResult[T any] struct {
	state   refreshState
	publish *snapshot[T] // nil: keep the snapshot served
	events  []Change[T]
	err     error // what Refresh returns: Status().LastError
	outcome outcome
}

// commit is the pure step of a refresh: from the state before the read, what
// the read found and what was built, it makes the new state, the snapshot to
// publish and the events. It takes no lock, reads no clock (now is when the
// read ended) and does no I/O.
func commit[T any](schema *Schema, prev refreshState, cur *snapshot[T], read readResult, built buildResult[T], now time.Time) commitResult[T] {
	st := prev
	st.rejectedBy, st.rejectedVals = maps.Clone(prev.rejectedBy), maps.Clone(prev.rejectedVals)
	st.states, st.versions = slices.Clone(prev.states), slices.Clone(prev.versions)
	// A layer whose values were rejected has handed them over and will not
	// report them again until its source changes: it stays on its last good
	// values, so a change elsewhere still gets published, and its rejection
	// stays reported until it changes again.
	for i, r := range built.rejections {
		st.rejectedBy[i], st.rejectedVals[i] = r, read.updates[i].Values
	}
	for _, i := range read.settled {
		delete(st.rejectedBy, i)
		delete(st.rejectedVals, i)
	}
	if len(built.rejections) > 0 {
		st.status.Rejected++
	}
	res := commitResult[T]{outcome: readOK}
	shown := cur
	var keys []string
	if built.snap != nil {
		st.cache, st.cacheWarn = built.cache, built.cacheWarn
		for _, i := range built.accepted {
			// The store keeps each layer's State; it moves on only now that
			// the values read with it are served.
			st.states[i], st.versions[i] = read.updates[i].State, read.updates[i].Versions
			delete(st.rejectedBy, i)
			delete(st.rejectedVals, i)
		}
		// Publish even when no value changed, so provenance shows the new versions.
		res.publish, shown = built.snap, built.snap
		st.status.Warnings = slices.Clone(built.snap.warnings)
		if keys = changedKeys(schema, cur.values, built.snap.values); len(keys) > 0 {
			st.status.Changes++
			st.status.LastChange = now
		}
	}
	var rejected []error // each distinct rejection once
	for _, i := range read.changed {
		if r, ok := built.rejections[i]; ok && !slices.Contains(rejected, r) {
			rejected = append(rejected, r)
		}
	}
	var problems []error
	for _, r := range rejected {
		problems = flattenErrors(problems, r)
	}
	problems = append(problems, read.errs...)
	st.status.LastError = reportedError(st.rejectedBy, problems, rejected)
	if len(read.errs) > 0 {
		st.status.Failures++
		res.outcome = readPermanent
		if transient(&AggregateError{Errs: read.errs}) {
			res.outcome = readTransient
		}
		st.status.Healthy = len(st.rejectedBy) == 0 && res.outcome == readTransient && !read.stuck
	} else {
		st.status.LastSuccess = now
		st.status.Healthy = len(st.rejectedBy) == 0
	}
	// Refresh returns what Status reports: a rejection stays outstanding until
	// its layer changes again, even through refreshes that find nothing new.
	res.err = st.status.LastError
	if len(keys) > 0 || len(problems) > 0 {
		// One event for one refresh: the keys it changed and every problem of it.
		ev := Change[T]{Old: &cur.cfg, New: &shown.cfg, Keys: keys, At: now,
			Warnings: slices.Clone(shown.warnings), old: cur, new: shown}
		if len(problems) > 0 {
			ev.Err = res.err
		}
		res.events = append(res.events, ev)
	}
	res.state = st
	return res
}

// reportedError is the error Status reports: the problems of the last attempt
// (which include its rejection, if any) and every rejection still outstanding.
func reportedError(rejectedBy map[int]error, problems, current []error) error {
	errs := slices.Clone(problems)
	seen := slices.Clone(current) // rejections are the *AggregateError of build, so == is safe
	for _, i := range slices.Sorted(maps.Keys(rejectedBy)) {
		r := rejectedBy[i]
		if slices.Contains(seen, r) {
			continue
		}
		seen = append(seen, r)
		errs = append(errs, flattenErrors(nil, r)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return &AggregateError{Errs: errs, Warnings: warningsOf(seen)}
}
