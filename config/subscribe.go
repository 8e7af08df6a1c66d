package config

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
)

type subscriber[T any] struct {
	fn      func(Change[T])
	queued  *Change[T] // the events not yet delivered, merged into one
	wake    chan struct{}
	cancel  chan struct{}
	done    chan struct{} // closed when the goroutine exits
	routine uint64        // the id of the goroutine that calls fn
}

// Subscribe calls fn after every refresh that publishes a snapshot in which a
// value changed, and after every refresh that fails or is rejected (Change.Err
// set); a refresh that publishes only new versions of unchanged values calls
// no one. Each subscriber has its own goroutine, so a slow one delays neither
// readers nor the refresh loop nor other subscribers.
//
// While fn runs, the events that come are merged into one: Old of the first,
// New, At and Warnings of the last, the union of their Keys, and as Err the
// distinct errors of all of them joined (errors.Join), earliest first, so an
// earlier failure is not hidden by a later success. So a slow subscriber is
// never behind by more than one call, and holds at most two snapshots besides
// the one it is handling.
//
// A panic of fn does not crash the process: the store recovers it, logs
// "config: subscriber panicked (a panic of type T)" at error level (the
// panic's text is not logged, as it may quote a value) and keeps delivering
// later events to fn.
//
// The returned function unsubscribes; Close unsubscribes everyone. fn may
// call Close and unsubscribe.
func (s *Store[T]) Subscribe(fn func(Change[T])) (unsubscribe func()) {
	if s.current() == nil {
		return func() {}
	}
	sub := &subscriber[T]{fn: fn, wake: make(chan struct{}, 1), cancel: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return func() {}
	}
	if s.subs == nil {
		s.subs = map[int]*subscriber[T]{}
		s.live = map[*subscriber[T]]bool{}
	}
	id := s.nextSub
	s.nextSub++
	s.subs[id] = sub
	s.live[sub] = true
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

// notify queues ev for every subscriber, merged with what is queued. s.mu
// must be held.
func (s *Store[T]) notify(ev Change[T]) {
	for _, sub := range s.subs {
		if sub.queued == nil {
			e := ev
			sub.queued = &e
		} else {
			*sub.queued = mergeChanges(s.schema, *sub.queued, ev)
		}
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

// mergeChanges is one Change for a and the later b: a's Old, b's New, At and
// Warnings, the keys either changed, in schema order, and the errors of both.
func mergeChanges[T any](schema *Schema, a, b Change[T]) Change[T] {
	m := b
	m.Old, m.old = a.Old, a.old
	m.Err = joinDistinct(a.Err, b.Err)
	m.Keys = nil
	for _, f := range schema.fields {
		if slices.Contains(a.Keys, f.Key) || slices.Contains(b.Keys, f.Key) {
			m.Keys = append(m.Keys, f.Key)
		}
	}
	return m
}

func (s *Store[T]) deliver(sub *subscriber[T]) {
	s.mu.Lock()
	sub.routine = goroutineID()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.live, sub)
		s.mu.Unlock()
		close(sub.done)
	}()
	for {
		select {
		case <-sub.cancel:
			return
		case <-sub.wake:
		}
		s.mu.Lock()
		q := sub.queued
		sub.queued = nil // let the snapshots it holds go once delivered
		s.mu.Unlock()
		if q == nil {
			continue
		}
		select {
		case <-sub.cancel:
			return
		default:
		}
		ev := *q
		if ev.old != nil && ev.new != nil {
			ev.view = s.changeView(ev.old, ev.new)
		}
		ev.old, ev.new = nil, nil
		s.call(sub, ev)
	}
}

// call hands ev to sub. A panic of fn is logged by its type only (its text
// may quote a value) and does not end the subscription.
func (s *Store[T]) call(sub *subscriber[T], ev Change[T]) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error(fmt.Sprintf("config: subscriber panicked (a panic of type %T)", r))
		}
	}()
	sub.fn(ev)
}

// Close stops the refresh loop and subscribers and waits for them to exit. Get
// keeps returning the last snapshot after Close; Refresh returns ErrClosed,
// and so do the calls of Refresh waiting for a read. Close is safe to call
// more than once and from a subscriber: called from a subscriber's fn, it
// waits for everything but that subscriber's own goroutine, which exits as
// soon as fn returns.
//
// Close does not wait for a layer that ignores its context: a call that has
// not returned shortly after its context ended is abandoned (see
// Options.RefreshTimeout), and its goroutine runs until the layer returns. It
// is the only goroutine of a store that Close cannot stop.
func (s *Store[T]) Close() error {
	if s.current() == nil {
		return nil
	}
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
	var wait []chan struct{}
	var me uint64
	if len(s.live) > 0 {
		me = goroutineID() // only a subscriber's own Close needs telling apart
	}
	for sub := range s.live {
		if sub.routine != me {
			wait = append(wait, sub.done)
		}
	}
	for _, c := range []*refreshCall{s.pending, s.pendingWatch} {
		if c != nil {
			c.err = ErrClosed
			close(c.done)
		}
	}
	s.pending, s.pendingWatch = nil, nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	for _, done := range wait {
		<-done
	}
	return nil
}

// goroutineID returns the id of the calling goroutine, which the first line of
// its stack trace gives ("goroutine 18 [running]:"). Close uses it to tell
// whether a subscriber calls it.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// joinDistinct is the errors of a (which may itself be a join made here) and
// b, each distinct one once, earliest first: nil if both are nil, the one
// error if there is one.
func joinDistinct(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	errs := []error{a}
	if j, ok := a.(*joinedErrors); ok {
		errs = j.errs
	}
	for _, e := range errs {
		if e == b || e.Error() == b.Error() {
			return a
		}
	}
	return &joinedErrors{errs: append(slices.Clip(errs), b)}
}

// joinedErrors is the Err of a merged Change: the distinct errors of the
// events merged, as errors.Join makes them.
type joinedErrors struct{ errs []error }

func (j *joinedErrors) Error() string   { return errors.Join(j.errs...).Error() }
func (j *joinedErrors) Unwrap() []error { return j.errs }
