package config

import (
	"fmt"
	"time"
)

// watchCoalesce is how long a read a watch caused waits for more
// notifications to share it: one SQS batch of events arrives within it.
const watchCoalesce = 20 * time.Millisecond

// watchSpacing is the least time between the starts of two reads watches
// caused: a flood of events (a queue others can write to) costs at most one
// read a second, and a rotation still arrives within about a second.
const watchSpacing = time.Second

// maxPendingEvents bounds the events one layer's pending read carries; past
// it they collapse into one event for every source of the layer.
const maxPendingEvents = 1000

// watchAbandon is how long after the store closed it waits for a Watch to
// return before it stops waiting: long enough for a watch to clean up what
// it made (a fan-out queue and its subscription), short enough that Close
// returns even when a Watch ignores its context.
const watchAbandon = 2 * time.Second

// watchState is what a store knows of one layer's watch. Store.mu guards it.
type watchState struct {
	active   bool      // Watch runs, or broke and will be called again
	lastFull time.Time // when a read of every source of the layer last started
	// connectedOnce is set once the watch first reported itself connected.
	connectedOnce bool
	calls         int // the calls of Watch made
	call          int // the number of the call of Watch running; 0 between calls
	report        WatchReport
	since         time.Time // when the watch last connected (on the store's clock)
	events        int
	lag           time.Duration
}

// startWatches runs the Watch of every layer that is a Watcher.
// Every layer's watchState is in place before the first Watch runs: a
// watch that reports at once reads the states of the others.
func (s *Store[T]) startWatches() {
	// Under s.mu: the loop already runs, and may have started a read.
	s.mu.Lock()
	watches := make([]*watchState, len(s.layers))
	for i, l := range s.layers {
		if _, ok := l.(Watcher); ok {
			watches[i] = &watchState{active: true, lastFull: s.sched.lastRead} // Load read it
		}
	}
	s.watches = watches
	s.mu.Unlock()
	for i, l := range s.layers {
		if w, ok := l.(Watcher); ok {
			s.wg.Add(1)
			go s.watchLoop(i, w)
		}
	}
}

// watchLoop calls layer i's Watch until the store closes, again after a
// backoff each time it fails; the backoff starts again only after a watch
// that stayed connected for RefreshInterval, so one that connects and fails
// at once, again and again, backs off more each time. It ends when Watch
// returns nil: nothing to watch.
func (s *Store[T]) watchLoop(i int, w Watcher) {
	defer s.wg.Done()
	for failures := 0; ; {
		err := s.runWatch(i, w)
		s.mu.Lock()
		ws := s.watches[i]
		// A Report from this call, now that it returned, is stale.
		ws.call = 0
		if s.ctx.Err() != nil || err == nil { // closed, or nothing to watch: poll
			ws.active, ws.report.Connected = false, false
			s.retuneLocked()
			s.mu.Unlock()
			return
		}
		if ws.report.Connected && s.clock.Now().Sub(ws.since) >= s.opts.RefreshInterval {
			failures = 0 // it worked for a while: start the backoff again
		}
		failures++
		ws.report.Connected, ws.report.Err = false, err
		s.retuneLocked()
		wait, now := s.sched.retry(failures), s.clock.Now()
		s.mu.Unlock()
		s.log.Warn("config: watch failed; polling until it is back", "layer", s.meta[i].label,
			"error", err.Error(), "retry_in", wait)
		timer := s.timerAt(now.Add(wait), now)
		select {
		case <-s.ctx.Done():
			s.release(timer)
			return
		case <-timer:
		}
	}
}

// runWatch runs one call of Watch on a goroutine of its own, so a Watch that
// ignores its context delays Close by watchAbandon at most. A panic is an
// ErrLayer error naming the panic's type.
func (s *Store[T]) runWatch(i int, w Watcher) error {
	s.mu.Lock()
	ws := s.watches[i]
	ws.calls++
	ws.call = ws.calls
	call := ws.call
	s.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %s: Watch panicked (a panic of type %T)", ErrLayer, s.meta[i].label, r)
			}
		}()
		err := w.Watch(s.ctx, Watch{Schema: s.schema,
			Notify: func(ev Event) { s.notified(i, ev) },
			Report: func(r WatchReport) { s.reported(i, call, r) }})
		done <- s.withoutSecrets(i, "returned from Watch", Update{}, checkedError(s.meta[i], "returned from Watch", err))
	}()
	select {
	case err := <-done:
		return err
	case <-s.ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(watchAbandon):
		return fmt.Errorf("%w: %s: Watch did not return after the store closed", ErrLayer, s.meta[i].label)
	}
}

// notified adds a watch's event to the pending read the watches caused,
// which reads the layers they named at once, after a short wait to coalesce
// (and after the read in flight, if any).
func (s *Store[T]) notified(i int, ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.watches[i].events++
	c := s.pendingWatch
	if c == nil {
		at := s.clock.Now().Add(watchCoalesce)
		if next := s.lastWatchRead.Add(watchSpacing); next.After(at) {
			at = next
		}
		c = &refreshCall{done: make(chan struct{}), notBefore: at}
		s.pendingWatch = c
	}
	if c.events == nil {
		c.events = map[int][]Event{}
	}
	switch evs := c.events[i]; {
	case len(evs) == 1 && evs[0].Source == "":
		evs[0].At = earlier(evs[0].At, ev.At) // already every source
	case len(evs) >= maxPendingEvents:
		c.events[i] = []Event{{At: earliestAt(evs, ev.At)}}
	default:
		c.events[i] = append(evs, ev)
	}
	s.kickLocked()
}

// reported records what a watch says of itself. A watch that connects
// again after it was not may have missed events meanwhile: the store reads
// every layer once. The report of a call of Watch that has returned (from a
// goroutine it left behind) is ignored: it would show a broken watch
// connected, and stretch the poll to WatchInterval while nothing watches.
func (s *Store[T]) reported(i, call int, r WatchReport) {
	r.Err = s.withoutSecrets(i, "reported (Watch.Report)", Update{}, checkedError(s.meta[i], "reported (Watch.Report)", r.Err))
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.watches[i]
	if s.closed || !ws.active || ws.call != call {
		return
	}
	reconnected := r.Connected && !ws.report.Connected
	first := reconnected && !ws.connectedOnce
	if reconnected {
		ws.since, ws.connectedOnce = s.clock.Now(), true
	}
	ws.report = r
	if r.Connected {
		ws.report.Err = nil
	}
	s.retuneLocked()
	if reconnected {
		// A complete read: a change between Load and the first connection
		// (a queue made at start) is then not missed. After the watch was
		// away it trusts no lagging gate (OnDemand), since an event may have
		// been missed for long; the first connection, moments after Load's
		// own complete read, keeps the gate, so that a fleet that starts
		// does not read every secret twice.
		c := s.pending
		if c == nil {
			c = newCall()
			s.pending = c
		}
		c.demand = c.demand || !first
		c.full = true
		s.kickLocked()
	}
}

// retuneLocked sets the schedule's interval: WatchInterval while every
// refreshable layer watches and is connected, RefreshInterval otherwise. A shorter interval
// moves the next read earlier. s.mu must be held.
func (s *Store[T]) retuneLocked() {
	ttl := s.opts.WatchInterval
	for i, l := range s.layers {
		if _, ok := l.(Refresher); ok && !s.coveredLocked(i) {
			ttl = s.opts.RefreshInterval
		}
	}
	if ttl == s.sched.ttl {
		return
	}
	s.sched.ttl = ttl
	if due := s.sched.lastRead.Add(s.sched.jittered(ttl)); due.Before(s.sched.next) {
		s.sched.next = due
		s.rescheduledLocked()
	}
}

// measureLagLocked records, for each layer whose change the published read
// served, the time from the earliest of its events to now: a layer read
// beside it that found nothing new keeps its lag; an event dated later than
// now shows none. s.mu must be held.
func (s *Store[T]) measureLagLocked(call *refreshCall, now time.Time) {
	for _, i := range call.served {
		if at := earliestAt(call.events[i], time.Time{}); !at.IsZero() && s.watches[i] != nil {
			s.watches[i].lag = max(0, now.Sub(at)) // a source's clock may be ahead
		}
	}
}

// watchStatus describes layer i's watch, or nil if it does not watch.
func (s *Store[T]) watchStatus(i int) *WatchStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watches == nil || s.watches[i] == nil || !s.watches[i].active {
		return nil
	}
	ws := s.watches[i]
	return &WatchStatus{WatchReport: ws.report, Events: ws.events, Lag: ws.lag}
}

// earliestAt returns the earliest non-zero At of evs and at.
func earliestAt(evs []Event, at time.Time) time.Time {
	for _, ev := range evs {
		at = earlier(at, ev.At)
	}
	return at
}

// earlier returns the earlier of two times, ignoring a zero one.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// coveredLocked reports whether layer i's watch is connected, so that a
// poll of it is only the safety net. s.mu must be held.
func (s *Store[T]) coveredLocked(i int) bool {
	if i >= len(s.watches) {
		return false
	}
	ws := s.watches[i]
	return ws != nil && ws.active && ws.report.Connected
}

// pollsLayer reports whether a read of every layer reads layer i, and
// records it: a layer whose watch is connected is polled once every
// WatchInterval (less the jitter), however often the layers beside it are,
// unless the read must read it (force: on demand, after a connection); any
// other layer at each read.
func (s *Store[T]) pollsLayer(i int, force bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if force || !s.coveredLocked(i) {
		if i < len(s.watches) && s.watches[i] != nil {
			s.watches[i].lastFull = s.clock.Now()
		}
		return true
	}
	ws, now := s.watches[i], s.clock.Now()
	if now.Sub(ws.lastFull) < s.opts.WatchInterval-s.opts.WatchInterval/10 {
		return false
	}
	ws.lastFull = now
	return true
}

// repollLayer makes the next read of every layer read layer i, whose read
// failed: neither the events of a failed read a watch caused nor the
// safety-net poll that failed wait for WatchInterval.
func (s *Store[T]) repollLayer(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.watches) && s.watches[i] != nil {
		s.watches[i].lastFull = time.Time{}
	}
}

// failed reports whether err holds a failure to read, not only warnings.
func failed(err error) bool {
	for _, e := range flattenErrors(nil, err) {
		if !isLayerWarning(e) {
			return true
		}
	}
	return false
}
