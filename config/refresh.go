package config

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"
)

// Status describes the health of a store's refresh. Read it with Store.Status.
type Status struct {
	// Healthy is false after a permanent failure (not found, access denied,
	// decryption), while a rejected change is outstanding (until the layer that
	// brought it changes again), and when the last success is older than
	// Options.MaxStaleness. The store keeps serving its last good snapshot either way.
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
}

// A StatusReporter is a layer that can describe itself: the API calls it made.
// The Secrets Manager layer is one. The Versions it reports are replaced by
// the versions each store serves, which only the store knows.
type StatusReporter interface {
	LayerStatus() LayerStatus
}

// Change is delivered to subscribers after each refresh that published a
// snapshot in which a value changed, and after each refresh that was rejected
// or failed.
type Change[T any] struct {
	// Old and New are the snapshots before and after. After a rejected or failed
	// refresh both are the snapshot still in use.
	Old, New *T
	// Keys lists the keys whose values changed, sorted. Secret keys are listed
	// by name; values are never included.
	Keys []string
	// Err is the reason a refresh was rejected or failed; nil for a change.
	Err error
	// At is when the refresh finished.
	At time.Time

	collapsible bool        // a plain failure, which a later failure may replace in a queue
	view        *changeView // how to print Old and New masked; see Format
}

type refreshCall struct {
	done chan struct{}
	err  error
	next time.Duration // when to check again: the TTL, or a backoff after a transient failure
}

type subscriber[T any] struct {
	fn     func(Change[T])
	queue  []Change[T]
	wake   chan struct{}
	cancel chan struct{}
}

// start launches the refresh loop when a layer is refreshable.
func (s *Store[T]) start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if !s.refreshable() {
		return
	}
	if s.opts.Lazy {
		s.lazy = true
		return
	}
	s.wg.Add(1)
	go s.loop()
}

func (s *Store[T]) refreshable() bool {
	for _, l := range s.layers {
		if _, ok := l.(Refresher); ok {
			return true
		}
	}
	return false
}

// loop refreshes every jittered TTL, and sooner with backoff after a transient
// failure. It exits when the store is closed.
func (s *Store[T]) loop() {
	defer s.wg.Done()
	wait := s.jittered()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.clock.After(wait):
		}
		call, mine := s.begin(true)
		if call == nil {
			return
		}
		if mine {
			s.run(call)
		}
		wait = call.next
	}
}

// jittered returns the TTL moved by up to ±10 %.
func (s *Store[T]) jittered() time.Duration {
	ttl := s.opts.RefreshInterval
	return ttl - ttl/10 + rand.N(ttl/5+1)
}

// backoff returns the wait before retry n (1-based): full jitter over an
// exponential bound, capped at a quarter of the TTL.
func (s *Store[T]) backoff(n int) time.Duration {
	limit := s.opts.RefreshInterval / 4
	d := s.opts.RetryBackoff
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if d <= 0 {
		return time.Nanosecond
	}
	return rand.N(d) + 1
}

// Refresh re-reads the refreshable layers now and publishes the result if it
// changed and is valid. Use it when the application has a reason to believe a
// secret changed, such as a database login that failed during a rotation.
//
// Concurrent calls share one refresh. A call within Options.MinRefreshInterval
// of the previous attempt makes no API call and returns the last attempt's
// error. Refresh returns when the refresh ends or ctx is done, whichever is first.
func (s *Store[T]) Refresh(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	// The interval check and the start are one step under s.mu, so a caller
	// cannot start a second refresh just after another caller's has finished.
	call := s.inflight
	if call == nil {
		if s.clock.Now().Sub(s.status.LastAttempt) < s.opts.MinRefreshInterval {
			err := s.status.LastError
			s.mu.Unlock()
			return err
		}
		call = s.startLocked(false)
	}
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin returns the refresh in flight, or starts one and reports started. With
// inline set the caller must run a started refresh itself (the loop does), and
// waits for one already in flight; otherwise a started refresh runs on its own
// goroutine. It returns nil once the store is closed.
func (s *Store[T]) begin(inline bool) (call *refreshCall, started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	if c := s.inflight; c != nil {
		if inline {
			s.mu.Unlock()
			<-c.done
			s.mu.Lock()
		}
		return c, false
	}
	return s.startLocked(inline), true
}

// startLocked records a new refresh attempt and makes it the one in flight.
// Unless inline is set it runs the refresh on its own goroutine. s.mu must be
// held, the store must be open and no refresh in flight.
func (s *Store[T]) startLocked(inline bool) *refreshCall {
	c := &refreshCall{done: make(chan struct{})}
	s.inflight = c
	s.status.LastAttempt = s.clock.Now()
	s.status.Refreshes++
	if !inline {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(c)
		}()
	}
	return c
}

// revalidate is Get's lazy-mode check: once the next check is due it starts
// one background refresh and returns at once. A compare-and-swap lets exactly
// one Get through; the others return after one atomic load.
func (s *Store[T]) revalidate() {
	next := s.nextCheck.Load()
	now := s.clock.Now().UnixNano()
	mine := now + int64(s.opts.MinRefreshInterval)
	if now < next || !s.nextCheck.CompareAndSwap(next, mine) {
		return
	}
	s.mu.Lock()
	// A run that finished meanwhile has set the next check itself: then there
	// is nothing to start.
	if s.inflight == nil && !s.closed && s.nextCheck.Load() == mine {
		s.startLocked(false)
	}
	s.mu.Unlock()
}

// run performs one refresh and completes call.
func (s *Store[T]) run(call *refreshCall) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.RefreshTimeout)
	defer cancel()

	// Runs are serialised through s.inflight, so the cache read here is not
	// changed by anyone else before this run stores it back.
	s.mu.Lock()
	good, goodWarn := slices.Clone(s.cache), slices.Clone(s.cacheWarn)
	prev, rejectedVals := slices.Clone(s.states), maps.Clone(s.rejectedVals)
	s.mu.Unlock()
	cache, cacheWarn := slices.Clone(good), slices.Clone(goodWarn)

	var errs []error
	var changedLayers []int
	updates := map[int]Update{} // the changes read, by layer
	var settled []int           // layers back at the values served after a rejected change
	for i, l := range s.layers {
		r, ok := l.(Refresher)
		if !ok {
			continue
		}
		u, err := refreshLayer(ctx, s.meta[i], r, RefreshRequest{Schema: s.schema, Prev: prev[i]})
		ch := u.Changed
		switch rv, was := rejectedVals[i]; {
		case was && ch && reflect.DeepEqual(u.Values, rv):
			ch = false // the change rejected before, read again: still outstanding
		case was && !u.Changed && err == nil:
			settled = append(settled, i)
		}
		var warnings []error
		for _, e := range flattenErrors(nil, err) {
			// Unknown names of new values go with them to build, which makes
			// them problems under Options.Strict, as Load does.
			if isLayerWarning(e) && (ch || !s.opts.Strict) {
				warnings = append(warnings, e)
			} else {
				errs = append(errs, e)
			}
		}
		if ch {
			cache[i], cacheWarn[i] = u.Values, warnings
			updates[i] = u
			changedLayers = append(changedLayers, i)
		}
	}
	if s.ctx.Err() != nil {
		// Closed while refreshing: nothing to record and nobody to tell.
		s.finish(call, ErrClosed, 0, nil)
		return
	}

	// Decoding and validation run outside the lock: they may call user code
	// (UnmarshalText, custom rules), which must block neither Get nor Status.
	var snap *snapshot[T]
	accepted := changedLayers
	rejections := map[int]error{} // changed layers whose values were rejected
	if len(changedLayers) > 0 {
		var err error
		snap, err = s.build(cache, slices.Concat(cacheWarn...))
		if err != nil {
			snap, accepted, cache, cacheWarn = s.buildEach(good, goodWarn, cache, cacheWarn, changedLayers, err, rejections)
		}
	}
	var rejected []error // each distinct rejection once
	for _, i := range changedLayers {
		if r, ok := rejections[i]; ok && !slices.Contains(rejected, r) {
			rejected = append(rejected, r)
		}
	}
	var failure error
	if len(errs) > 0 {
		failure = &AggregateError{Errs: errs}
	}
	now := s.clock.Now()
	old := s.snap.Load()
	var events []Change[T]

	s.mu.Lock()
	// A layer whose values were rejected has handed them over and will not
	// report them again until its source changes: it stays on its last good
	// values, so a change elsewhere still gets published, and its rejection
	// stays reported until it changes again.
	for i, r := range rejections {
		s.rejectedBy[i], s.rejectedVals[i] = r, updates[i].Values
	}
	for _, i := range settled {
		delete(s.rejectedBy, i)
		delete(s.rejectedVals, i)
	}
	if len(rejections) > 0 {
		s.status.Rejected++
	}
	if snap != nil {
		s.cache, s.cacheWarn = cache, cacheWarn
		for _, i := range accepted {
			// The store keeps each layer's State; it moves on only now that
			// the values read with it are served.
			s.states[i], s.versions[i] = updates[i].State, updates[i].Versions
			delete(s.rejectedBy, i)
			delete(s.rejectedVals, i)
		}
		// Publish even when no value changed, so provenance shows the new versions.
		s.snap.Store(snap)
		if keys := changedKeys(s.schema, old.values, snap.values); len(keys) > 0 {
			s.status.Changes++
			s.status.LastChange = now
			events = append(events, Change[T]{Old: &old.cfg, New: &snap.cfg, Keys: keys, At: now, view: s.changeView(old, snap)})
		}
	}
	// The loop waits a jittered TTL, so a fleet started together spreads out;
	// lazy mode checks once the snapshot is a TTL old, as documented.
	next, lazyNext := s.jittered(), s.opts.RefreshInterval
	var problems []error
	for _, r := range rejected {
		problems = flattenErrors(problems, r)
	}
	problems = append(problems, errs...)
	if failure != nil {
		s.status.Failures++
		if transient(failure) {
			s.failures++
			next = s.backoff(s.failures)
			lazyNext = next
		}
		s.status.LastError = s.reportedError(problems, rejected)
		s.status.Healthy = len(s.rejectedBy) == 0 && transient(failure)
	} else {
		s.failures = 0
		s.status.LastSuccess = now
		s.status.LastError = s.reportedError(problems, rejected)
		s.status.Healthy = len(s.rejectedBy) == 0
	}
	// Refresh returns what Status reports: a rejection stays outstanding until
	// its layer changes again, even through refreshes that find nothing new.
	callErr := s.status.LastError
	if len(problems) > 0 {
		cur := s.snap.Load()
		// One event for one refresh, naming every problem of it. Only a plain
		// failure may later be replaced by the next one in a busy queue.
		events = append(events, Change[T]{Old: &cur.cfg, New: &cur.cfg, Err: callErr, At: now,
			collapsible: len(rejected) == 0, view: s.changeView(cur, cur)})
	}
	s.nextCheck.Store(now.Add(lazyNext).UnixNano())
	s.finishLocked(call, callErr, next, events)
	s.mu.Unlock()
	close(call.done)

	if callErr != nil {
		s.log.Warn("config: refresh failed; serving the last good configuration", "error", callErr.Error())
	} else if len(events) > 0 {
		s.log.Debug("config: configuration changed", "keys", events[0].Keys)
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

// reportedError is the error Status reports: the problems of the last attempt
// (which include its rejection, if any) and every rejection still outstanding.
// s.mu must be held.
func (s *Store[T]) reportedError(problems, current []error) error {
	errs := slices.Clone(problems)
	seen := slices.Clone(current) // rejections are the *AggregateError of build, so == is safe
	for _, i := range slices.Sorted(maps.Keys(s.rejectedBy)) {
		r := s.rejectedBy[i]
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

// finishLocked completes call and queues events. s.mu must be held; the
// caller closes call.done after unlocking.
func (s *Store[T]) finishLocked(call *refreshCall, err error, next time.Duration, events []Change[T]) {
	call.err, call.next = err, next
	s.inflight = nil
	for _, ev := range events {
		s.notify(ev)
	}
}

// finish completes call without recording anything.
func (s *Store[T]) finish(call *refreshCall, err error, next time.Duration, events []Change[T]) {
	s.mu.Lock()
	s.finishLocked(call, err, next, events)
	s.mu.Unlock()
	close(call.done)
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
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	st.Staleness = s.clock.Now().Sub(st.LastSuccess)
	if s.opts.MaxStaleness > 0 && st.Staleness > s.opts.MaxStaleness {
		st.Healthy = false
	}
	st.Layers = s.layerStatus()
	return st
}

// Subscribe calls fn after every refresh that publishes a snapshot in which a
// value changed, and after every refresh that fails or is rejected (Change.Err
// set); a refresh that publishes only new versions of unchanged values calls
// no one. Each
// subscriber has its own goroutine and queue, so a slow one delays neither
// readers nor the refresh loop nor other subscribers. The returned function
// unsubscribes; Close unsubscribes everyone.
func (s *Store[T]) Subscribe(fn func(Change[T])) (unsubscribe func()) {
	sub := &subscriber[T]{fn: fn, wake: make(chan struct{}, 1), cancel: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return func() {}
	}
	if s.subs == nil {
		s.subs = map[int]*subscriber[T]{}
	}
	id := s.nextSub
	s.nextSub++
	s.subs[id] = sub
	s.wg.Add(1)
	s.mu.Unlock()
	go s.deliver(sub)
	return func() {
		s.mu.Lock()
		if _, ok := s.subs[id]; ok {
			delete(s.subs, id)
			close(sub.cancel)
		}
		s.mu.Unlock()
	}
}

// notify queues ev for every subscriber. A failure following a failure still
// queued replaces it, so a stuck subscriber during an outage holds one event,
// not one per retry. s.mu must be held.
func (s *Store[T]) notify(ev Change[T]) {
	for _, sub := range s.subs {
		if n := len(sub.queue); n > 0 && ev.collapsible && sub.queue[n-1].collapsible {
			sub.queue[n-1] = ev
		} else {
			sub.queue = append(sub.queue, ev)
		}
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Store[T]) deliver(sub *subscriber[T]) {
	defer s.wg.Done()
	for {
		select {
		case <-sub.cancel:
			return
		case <-sub.wake:
		}
		for {
			s.mu.Lock()
			if len(sub.queue) == 0 {
				s.mu.Unlock()
				break
			}
			ev := sub.queue[0]
			sub.queue[0] = Change[T]{} // let the snapshots it holds go
			sub.queue = sub.queue[1:]
			s.mu.Unlock()
			select {
			case <-sub.cancel:
				return
			default:
			}
			sub.fn(ev)
		}
	}
}

// Close stops the refresh loop and subscribers and waits for them to exit. Get
// keeps returning the last snapshot after Close; Refresh returns ErrClosed.
// Close is safe to call more than once.
func (s *Store[T]) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for id, sub := range s.subs {
		delete(s.subs, id)
		close(sub.cancel)
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// layerStatus describes each layer that is a Refresher or a StatusReporter.
func (s *Store[T]) layerStatus() []LayerStatus {
	s.mu.Lock()
	versions := slices.Clone(s.versions)
	s.mu.Unlock()
	var out []LayerStatus
	for i, l := range s.layers {
		_, refresher := l.(Refresher)
		r, reporter := l.(StatusReporter)
		if !refresher && !reporter {
			continue
		}
		ls := LayerStatus{Name: s.meta[i].name}
		if reporter {
			ls = r.LayerStatus()
		}
		ls.Versions = maps.Clone(versions[i])
		out = append(out, ls)
	}
	return out
}
