package config

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"
)

// Status describes the health of a store's refresh. Read it with Store.Status.
type Status struct {
	// Healthy is false after a permanent failure (not found, access denied,
	// decryption), while a rejected change is outstanding (until the layer that
	// brought it changes again), and when the last success is older than
	// Options.MaxStaleness, and while a layer call the store abandoned (a
	// layer that did not return after its context ended) has not returned.
	// The store keeps serving its last good snapshot either way.
	Healthy bool
	// LastSuccess is when a refresh (or the first load) last completed, whether
	// or not anything changed.
	LastSuccess time.Time
	// LastAttempt is when a refresh last started.
	LastAttempt time.Time
	// LastChange is when a new snapshot was last published.
	LastChange time.Time
	// LastError is the error of the last attempt together with any rejection
	// still outstanding, or nil. It never contains a secret value.
	LastError error
	// Staleness is the time since LastSuccess.
	Staleness time.Duration
	// Refreshes, Changes, Rejected and Failures count refresh attempts, published
	// changes, rebuilt configs that failed decoding or validation, and attempts
	// that failed to read a layer.
	Refreshes, Changes, Rejected, Failures int
	// Warnings are the problems of the snapshot served that did not stop it
	// (as Store.Warnings): unknown names, secret-policy findings and layer
	// warnings, whether they came with Load or with a refreshed layer.
	Warnings []error
	// Layers describes each layer that is a Refresher or a StatusReporter, in
	// the order given to Load: the versions this store serves from it and
	// the API calls it made.
	Layers []LayerStatus
}

// LayerStatus is what a layer reports of itself for Store.Status.
type LayerStatus struct {
	// Name is the layer's Name.
	Name string
	// Versions maps each versioned source (a secret) to the version this
	// store serves: the Versions of the last Update it accepted.
	Versions map[string]string
	// Calls counts the layer's API calls by operation ("GetSecretValue") and
	// outcome.
	Calls map[string]CallCount
	// Watch describes the layer's watch for this store; nil for a layer that
	// does not watch (see Watcher).
	Watch *WatchStatus
}

// WatchStatus is the state of a layer's watch, for Status.
type WatchStatus struct {
	// WatchReport is what the watch last reported. Err also holds the error
	// the watch last returned, while the store waits to call it again.
	WatchReport
	// Events counts the notifications the store received from the watch.
	Events int
	// Lag is the time from the change an event announced (Event.At) to the
	// publication of the snapshot that serves it, for the last such change
	// of this layer; a read of the layer that found nothing new leaves it.
	// Never negative: an event dated after the publication shows 0.
	Lag time.Duration
}

// A StatusReporter is a layer that can describe itself: the API calls it made.
// The Secrets Manager layer is one. The Versions it reports are replaced by
// the versions each store serves, which only the store knows. A LayerStatus
// that panics shows the layer with its name alone, and is logged at error
// level by the panic's type.
type StatusReporter interface {
	LayerStatus() LayerStatus
}

// Change is delivered to subscribers after each refresh that published a
// snapshot in which a value changed, and after each refresh that was rejected
// or failed. Changes queued for a busy subscriber are merged into one (see
// Store.Subscribe).
type Change[T any] struct {
	// Old and New are the snapshots before and after. After a rejected or failed
	// refresh that published nothing both are the snapshot still in use.
	Old, New *T
	// Keys lists the keys whose values changed, sorted. Secret keys are listed
	// by name; values are never included.
	Keys []string
	// Err is the reason a refresh was rejected or failed, nil if neither. A
	// refresh that published a change and failed to read another layer gives
	// one Change with both Keys and Err. A merged Change (see Store.Subscribe)
	// carries the distinct errors of every event merged into it, joined
	// (errors.Join), earliest first: nil only if none of them failed.
	Err error
	// At is when the refresh finished.
	At time.Time
	// Warnings are the problems of New that did not stop it, as
	// Store.Warnings: unknown names, secret-policy findings, layer warnings.
	Warnings []error

	old, new *snapshot[T] // the snapshots of Old and New, when the store made the Change
	view     *changeView  // how to print Old and New masked; see Format
}

// refreshCall is one read of the refreshable layers, which callers wait on.
// Until it starts, Store.mu guards its fields.
type refreshCall struct {
	done    chan struct{}
	err     error
	callers int  // the calls of Refresh that joined it
	demand  bool // a watch connected again: read as if on demand
	full    bool // a watch connected: read every layer, watched ones too
	// all is true for a read of every refreshable layer; false for a read a
	// watch caused, of the layers in events alone, due at notBefore.
	all       bool
	events    map[int][]Event // what each layer's watch notified, for its RefreshRequest
	notBefore time.Time
	served    []int // the layers whose change the read published; set by run
}

func newCall() *refreshCall { return &refreshCall{done: make(chan struct{}), all: true} }

// start launches the refresh loop when a layer is refreshable.
func (s *Store[T]) start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.stop = s.ctx.Done()
	if !s.refreshable() {
		s.direct = true
		return
	}
	if s.opts.Lazy {
		s.lazy = true
		return
	}
	s.direct = true
	s.wg.Add(1)
	go s.loop()
	s.startWatches()
}

func (s *Store[T]) refreshable() bool {
	for _, l := range s.layers {
		if _, ok := l.(Refresher); ok {
			return true
		}
	}
	return false
}

// loop reads the layers whenever the schedule says a read is due. It exits
// when the store is closed.
func (s *Store[T]) loop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		now := s.clock.Now()
		wait := s.sched.next.Sub(now)
		var timer <-chan time.Time
		if wait > 0 {
			// Set under s.mu, so a read that moves the schedule earlier
			// finds the timer to stop (see finish).
			timer = s.timerAt(s.sched.next, now)
			s.loopAt, s.loopTimer = s.sched.next, timer
		}
		s.mu.Unlock()
		if wait > 0 {
			select {
			case <-s.ctx.Done():
				s.release(timer)
				return
			case <-timer:
			case <-s.resched:
			}
			s.mu.Lock()
			s.loopAt, s.loopTimer = time.Time{}, nil
			s.mu.Unlock()
			continue // the schedule may have moved meanwhile
		}
		call := s.scheduled()
		if call == nil {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-call.done:
		}
	}
}

// stopper is a Clock that can release a channel returned by After, as
// configtest.Clock can.
type stopper interface {
	Stop(ch <-chan time.Time) bool
}

// release stops a timer the store no longer waits for, on a Clock that can
// (a fake clock then no longer counts it as a waiter).
func (s *Store[T]) release(ch <-chan time.Time) {
	if c, ok := s.clock.(stopper); ok {
		c.Stop(ch)
	}
}

// scheduled returns the read that serves a scheduled check: the one in
// flight, the one waiting to start, or a new one. It returns nil once the
// store is closed.
func (s *Store[T]) scheduled() *refreshCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scheduledLocked()
}

// scheduledLocked is scheduled with s.mu held.
func (s *Store[T]) scheduledLocked() *refreshCall {
	switch {
	case s.closed:
		return nil
	case s.inflight != nil && s.inflight.all:
		return s.inflight
	case s.pending != nil:
		return s.pending
	}
	c := newCall()
	s.pending = c
	s.kickLocked()
	return c
}

// kickLocked starts a pending read if one may start: no read in flight, and
// for the read of every layer MinRefreshInterval passed since the last one
// started, for a read a watch caused its short coalescing wait. The read of
// every layer goes first when both may. Otherwise it arranges to try again
// when the first of them may. s.mu must be held.
func (s *Store[T]) kickLocked() {
	if s.closed || s.inflight != nil || (s.pending == nil && s.pendingWatch == nil) {
		return
	}
	now := s.clock.Now()
	var c *refreshCall
	switch {
	case s.pending != nil && !now.Before(s.sched.earliest()):
		c, s.pending = s.pending, nil
		s.sched.started(now)
	case s.pendingWatch != nil && !now.Before(s.pendingWatch.notBefore):
		c, s.pendingWatch = s.pendingWatch, nil
		s.lastWatchRead = now
	default:
		s.armLocked(now)
		return
	}
	s.inflight = c
	s.st.status.LastAttempt = now
	s.st.status.Refreshes++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(c)
	}()
}

// armLocked arranges for kickLocked to run when the first pending read may
// start. A timer already set for that time or earlier stays; one set for a
// later time is replaced. s.mu must be held.
func (s *Store[T]) armLocked(now time.Time) {
	var at time.Time
	if s.pending != nil {
		at = s.sched.earliest()
	}
	if w := s.pendingWatch; w != nil && (at.IsZero() || w.notBefore.Before(at)) {
		at = w.notBefore
	}
	if s.arm != nil {
		if !s.arm.at.After(at) {
			return
		}
		close(s.arm.cancel)
		if c, ok := s.clock.(stopper); ok {
			c.Stop(s.arm.timer)
		}
	}
	a := &armed{at: at, timer: s.timerAt(at, now), cancel: make(chan struct{})} // set now, not when the goroutine runs
	s.arm = a
	s.wg.Add(1)
	go s.startAfter(a)
}

// armed is a timer that starts a pending read; see armLocked.
type armed struct {
	at     time.Time
	timer  <-chan time.Time
	cancel chan struct{} // closed when a timer for an earlier time replaced it
}

// startAfter waits for a's timer, then starts a pending read if one may.
func (s *Store[T]) startAfter(a *armed) {
	defer s.wg.Done()
	select {
	case <-s.ctx.Done():
		s.release(a.timer)
		return
	case <-a.cancel:
		return
	case <-a.timer:
	}
	s.mu.Lock()
	if s.arm == a {
		s.arm = nil
	}
	s.kickLocked()
	s.mu.Unlock()
}

// Refresh reads the refreshable layers and publishes the result if it changed
// and is valid. Use it when the application has a reason to believe a secret
// changed, such as a database login that failed during a rotation.
//
// The read Refresh waits for starts after Refresh was called: a read already
// in flight does not count, since it may have missed the change. Calls that
// arrive before that read starts share it, and it starts no earlier than
// Options.MinRefreshInterval after the previous read started, so a login storm
// cannot become an API storm: a call soon after another waits for the interval
// to pass. Refresh returns what Status().LastError reports after that read
// (its problems and any rejection still outstanding), or, if ctx ends first,
// an error naming the context given to Refresh that matches ctx.Err()
// (errors.Is), or ErrClosed. A read that Refresh stopped waiting for still
// completes.
func (s *Store[T]) Refresh(ctx context.Context) error {
	if s.current() == nil {
		return errNotLoaded
	}
	if ctx == nil {
		return errNilContext
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return refreshCtxError(err, "before Refresh was called; no read was started") // nobody waits for it: no read
	}
	call := s.pending
	if call == nil {
		call = newCall()
		s.pending = call
		s.kickLocked()
	}
	call.callers++
	close(s.joined) // tells a test that a caller arrived; see export_test.go
	s.joined = make(chan struct{})
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return refreshCtxError(ctx.Err(), "before the read; the read still completes")
	}
}

// refreshCtxError is what Refresh returns when its ctx ended: it names that
// context, and matches ctx.Err() (errors.Is).
func refreshCtxError(cause error, when string) error {
	return fmt.Errorf("config: Refresh stopped waiting (the context given to Refresh ended %s): %w", when, cause)
}

// revalidate is Get's lazy-mode check: once the schedule says a read is due it
// starts one in the background and returns at once. A compare-and-swap lets
// exactly one Get through until that read ends; the others return after one
// atomic load.
func (s *Store[T]) revalidate() {
	next := s.nextCheck.Load()
	if s.clock.Now().UnixNano() < next || !s.nextCheck.CompareAndSwap(next, math.MaxInt64) {
		return
	}
	// The read's end stores the next check; a closed store checks no more.
	s.scheduled()
}

// run performs one read, commits it and completes call. Reads are serialised
// through s.inflight, so the state read here is not changed by anyone else
// before this run commits.
func (s *Store[T]) run(call *refreshCall) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RefreshTimeout)
	defer cancel()
	s.mu.Lock()
	prev := s.st
	s.mu.Unlock()

	read := s.collect(ctx, prev, call)
	if s.ctx.Err() != nil {
		// Closed while refreshing: nothing to record and nobody to tell.
		s.finish(call, commitResult[T]{err: ErrClosed, outcome: readClosed})
		return
	}
	// Decoding and validation run outside the lock: they may call user code
	// (UnmarshalText, custom rules), which must block neither Get nor Status.
	built := s.buildChanges(prev, read)
	res := commit(s.schema, prev, s.snap.Load(), read, built, s.clock.Now())
	call.served = built.accepted
	s.logResult(res) // before finish, so a Refresh that returns finds its read logged
	s.finish(call, res)
}

// collect reads the refreshable layers of call (every one, or those a watch
// notified) with the State of the values served.
func (s *Store[T]) collect(ctx context.Context, prev refreshState, call *refreshCall) readResult {
	r := readResult{updates: map[int]Update{}, warnings: map[int][]error{}}
	for i, l := range s.layers {
		ref, ok := l.(Refresher)
		if !ok || (!call.all && call.events[i] == nil) {
			continue
		}
		onDemand := call.callers > 0 || call.demand
		if call.all && !s.pollsLayer(i, onDemand || call.full) {
			continue // its watch is connected, and its safety-net poll is not due
		}
		u, err := s.refreshLayer(ctx, i, refreshDeadline(s.opts.RefreshTimeout), ref,
			RefreshRequest{Schema: s.schema, Prev: prev.states[i], Events: call.events[i], OnDemand: onDemand})
		s.mu.Lock()
		r.stuck = r.stuck || s.stuck[i] != nil
		s.mu.Unlock()
		if failed(err) {
			s.repollLayer(i)
		}
		ch := u.Changed
		if ch && len(u.Values) == 0 && failed(err) {
			// A failed read keeps each source it could not read at its
			// previous value: an empty set with an error read nothing.
			ch = false
		}
		switch rv, was := prev.rejectedVals[i]; {
		case was && ch && reflect.DeepEqual(u.Values, rv):
			ch = false // the change rejected before, read again: still outstanding
		case was && !u.Changed && err == nil:
			r.settled = append(r.settled, i)
		}
		var warnings []error
		for _, e := range flattenErrors(nil, err) {
			// Unknown names of new values go with them to build, which makes
			// them problems under Options.Strict, as Load does.
			if isLayerWarning(e) && (ch || !s.opts.Strict) {
				warnings = append(warnings, e)
			} else {
				r.errs = append(r.errs, e)
			}
		}
		if ch {
			r.updates[i], r.warnings[i] = u, warnings
			r.changed = append(r.changed, i)
		}
	}
	return r
}

// buildChanges builds a snapshot from the values served with the changes read.
func (s *Store[T]) buildChanges(prev refreshState, read readResult) buildResult[T] {
	b := buildResult[T]{rejections: map[int]error{}}
	if len(read.changed) == 0 {
		return b
	}
	cache, cacheWarn := slices.Clone(prev.cache), slices.Clone(prev.cacheWarn)
	for _, i := range read.changed {
		cache[i], cacheWarn[i] = read.updates[i].Values, read.warnings[i]
	}
	snap, err := s.build(cache, slices.Concat(cacheWarn...))
	if err == nil {
		b.snap, b.accepted, b.cache, b.cacheWarn = snap, read.changed, cache, cacheWarn
		return b
	}
	b.snap, b.accepted, b.cache, b.cacheWarn = s.buildEach(prev.cache, prev.cacheWarn, cache, cacheWarn, read.changed, err, b.rejections)
	return b
}

// finish stores what a read committed, moves the schedule on, queues the
// events, completes call and starts a read that waited for this one.
func (s *Store[T]) finish(call *refreshCall, res commitResult[T]) {
	s.mu.Lock()
	now := s.clock.Now()
	if res.outcome != readClosed {
		s.st = res.state
		if res.publish != nil {
			s.snap.Store(res.publish)
		}
		switch {
		case call.all:
			s.sched.finished(now, res.outcome)
		case res.outcome == readTransient:
			// A read a watch caused leaves the schedule alone unless it
			// failed and should be retried soon: it may move the next
			// read earlier, never later, so that a flood of events whose
			// reads fail cannot hold back the read of every layer.
			s.sched.retrySoon(now)
		}
		s.rescheduledLocked()
		if res.publish != nil {
			s.measureLagLocked(call, now)
		}
	}
	call.err = res.err
	s.inflight = nil
	for _, ev := range res.events {
		s.notify(ev)
	}
	s.kickLocked()
	s.mu.Unlock()
	close(call.done)
}

// rescheduledLocked tells lazy mode and the loop when the next read is due,
// waking the loop when that is earlier than its timer. s.mu must be held.
func (s *Store[T]) rescheduledLocked() {
	s.nextCheck.Store(s.sched.next.UnixNano())
	if !s.loopAt.IsZero() && s.sched.next.Before(s.loopAt) {
		// The loop waits for a later time than is now due: wake it, and
		// release its timer (a fake clock then no longer counts it).
		if c, ok := s.clock.(stopper); ok {
			c.Stop(s.loopTimer)
		}
		s.loopAt, s.loopTimer = time.Time{}, nil
		select {
		case s.resched <- struct{}{}:
		default:
		}
	}
}

// logResult logs a failed read, and the warnings of a published change:
// once with each change, not on every refresh that finds nothing new.
func (s *Store[T]) logResult(res commitResult[T]) {
	switch {
	case res.err != nil && res.publish != nil:
		s.log.Warn("config: refresh failed in part; published what was read, serving the last good values of the rest",
			"error", res.err.Error())
	case res.err != nil:
		s.log.Warn("config: refresh failed; serving the last good configuration", "error", res.err.Error())
	}
	for _, ev := range res.events {
		if len(ev.Keys) == 0 {
			continue
		}
		s.log.Debug("config: configuration changed", "keys", ev.Keys)
		s.logWarnings(s.ctx, ev.new.warnings)
	}
}

// buildEach finds, after the changes of several layers failed to build
// together, which of them build on the last good values: it adds them one at
// a time, keeps each that builds, and records why each other was rejected. It
// returns the snapshot of the accepted changes (nil if none) with the values it
// was built from. One layer's invalid value thus never holds back another
// layer's change. With a single changed layer there is nothing to separate.
func (s *Store[T]) buildEach(good []Values, goodWarn [][]error, cache []Values, cacheWarn [][]error,
	changed []int, err error, rejections map[int]error) (*snapshot[T], []int, []Values, [][]error) {
	if len(changed) == 1 {
		rejections[changed[0]] = err
		return nil, nil, good, goodWarn
	}
	trial, trialWarn := slices.Clone(good), slices.Clone(goodWarn)
	var accepted []int
	for _, i := range changed {
		trial[i], trialWarn[i] = cache[i], cacheWarn[i]
		if _, err := s.build(trial, slices.Concat(trialWarn...)); err != nil {
			rejections[i] = err
			trial[i], trialWarn[i] = good[i], goodWarn[i]
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return nil, nil, good, goodWarn
	}
	snap, err := s.build(trial, slices.Concat(trialWarn...))
	if err != nil { // each built alone but not together: reject them all
		for _, i := range accepted {
			rejections[i] = err
		}
		return nil, nil, good, goodWarn
	}
	return snap, accepted, trial, trialWarn
}

// warningsOf collects the warnings of rejected builds, so a rejection keeps
// its hints (such as the unknown name that left a required field unset).
func warningsOf(rejections []error) []error {
	var out []error
	for _, r := range rejections {
		if agg, ok := r.(*AggregateError); ok {
			out = append(out, agg.Warnings...)
		}
	}
	return out
}

// transient reports whether every failure of a refresh is transient, so that
// a retry soon may succeed. One permanent failure (not found, access denied)
// among transient ones makes the refresh permanent: the store reports unhealthy.
func transient(err error) bool {
	var agg *AggregateError
	if !errors.As(err, &agg) {
		return IsTransient(err)
	}
	for _, e := range agg.Errs {
		if !IsTransient(e) {
			return false
		}
	}
	return len(agg.Errs) > 0
}

// changedKeys lists the keys whose raw values differ between two merges, in
// schema order.
func changedKeys(schema *Schema, old, cur []slot) []string {
	var keys []string
	for i, f := range schema.fields {
		o, c := old[i], cur[i]
		if o.set != c.set || !reflect.DeepEqual(o.Raw, c.Raw) {
			keys = append(keys, f.Key)
		}
	}
	return keys
}

// Status reports the health of the store's refresh.
func (s *Store[T]) Status() Status {
	if s.current() == nil {
		return Status{LastError: errNotLoaded}
	}
	s.mu.Lock()
	st := s.st.status
	versions := slices.Clone(s.st.versions)
	s.mu.Unlock()
	st.Warnings = slices.Clone(st.Warnings)
	st.Staleness = s.clock.Now().Sub(st.LastSuccess)
	if s.opts.MaxStaleness > 0 && st.Staleness > s.opts.MaxStaleness {
		st.Healthy = false
	}
	st.Layers = s.layerStatus(versions)
	return st
}

// layerStatus describes each layer that is a Refresher or a StatusReporter.
func (s *Store[T]) layerStatus(versions []map[string]string) []LayerStatus {
	var out []LayerStatus
	for i, l := range s.layers {
		_, refresher := l.(Refresher)
		r, reporter := l.(StatusReporter)
		if !refresher && !reporter {
			continue
		}
		ls := LayerStatus{Name: s.meta[i].name}
		if reporter {
			ls = s.reportedStatus(i, r)
		}
		ls.Versions = maps.Clone(versions[i])
		ls.Watch = s.watchStatus(i)
		out = append(out, ls)
	}
	return out
}

// reportedStatus is what layer i reports of itself. A LayerStatus that
// panics reports nothing but the layer's name, and is logged by the panic's
// type: Status is called by probes and metric readers, on goroutines where a
// panic would end the process.
func (s *Store[T]) reportedStatus(i int, r StatusReporter) (ls LayerStatus) {
	defer func() {
		if p := recover(); p != nil {
			ls = LayerStatus{Name: s.meta[i].name}
			s.log.Error(fmt.Sprintf("config: %s panicked in LayerStatus (a panic of type %T); Status shows none of its calls", s.meta[i].label, p))
		}
	}()
	return r.LayerStatus()
}
