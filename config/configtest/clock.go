// Package configtest provides helpers for testing code that uses a
// config.Store (a fake clock that moves only when the test says so, a locked
// log buffer) and the conformance suite every layer runs: TestLayer, which
// states the contract of config.Layer and config.Refresher as named subtests.
package configtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/strata-go/strata/config"
)

var _ config.Clock = (*Clock)(nil)

// Clock is a fake config.Clock. Its time changes only through Advance, so a test
// can step a store's refresh schedule (TTL, jitter, backoff) without sleeping.
// Pass it as config.Options.Clock.
//
// Every channel returned by After is pending until Advance moves the clock to or
// past its deadline; Advance then sends the clock's time on it. Waiters and
// BlockUntilWaiters let a test wait until the refresh loop is waiting on the
// clock again, which is how a test knows that a refresh has finished.
//
// All methods are safe for concurrent use. The zero value is not usable; call
// NewClock.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
	// added is closed, and replaced, each time a waiter is added, so that
	// BlockUntilWaiters can wait without polling.
	added chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a fake clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, added: make(chan struct{})}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once Advance has moved
// it d or more past the current time. A d of zero or less fires at once. The
// channel is buffered, so Advance never blocks on a waiter that stopped
// listening.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.atLocked(c.now.Add(d))
}

// At returns a channel that receives the clock's time once Advance has moved
// it to t or past it; a t not after the current time fires at once. A store
// on this clock sets its timers with At, so a test that advances the clock
// while the store is setting a timer cannot make the timer fire late.
func (c *Clock) At(t time.Time) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.atLocked(t)
}

func (c *Clock) atLocked(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, &waiter{at: t, ch: ch})
	close(c.added)
	c.added = make(chan struct{})
	return ch
}

// Advance moves the clock forward by d and fires, in deadline order, every
// pending After channel whose deadline is not after the new time. A negative d
// is treated as zero.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	var due []*waiter
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			due = append(due, w)
		}
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
	// Deadline order, stable for equal deadlines. There are few waiters, so
	// insertion sort is enough.
	for i := 1; i < len(due); i++ {
		for j := i; j > 0 && due[j].at.Before(due[j-1].at); j-- {
			due[j], due[j-1] = due[j-1], due[j]
		}
	}
	for _, w := range due {
		w.ch <- c.now
	}
}

// Stop releases ch, a channel returned by After that has not fired: it no
// longer counts as a waiter and never fires. It reports whether ch was
// pending. A store calls it for a wait it gives up, such as the loop's timer
// when a failed Refresh brought the next attempt forward.
func (c *Clock) Stop(ch <-chan time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.waiters {
		if w.ch == ch {
			c.waiters = slices.Delete(c.waiters, i, i+1)
			return true
		}
	}
	return false
}

// Waiters returns how many channels returned by After have not fired yet. A
// waiter whose receiver gave up (a loop that exited) still counts until the
// clock reaches its deadline.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Next returns the earliest deadline of the pending waiters, and false when
// there are none. A test advances by Next().Sub(Now()) to fire exactly the next
// timer of a refresh loop.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return time.Time{}, false
	}
	next := c.waiters[0].at
	for _, w := range c.waiters[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	return next, true
}

// BlockUntilWaiters waits until at least n After channels are pending, and
// returns ctx.Err() if ctx is done first. A store's refresh loop holds one
// pending channel while it waits, so after Advance fires it,
// BlockUntilWaiters(ctx, 1) returns once the refresh has finished and the loop
// waits for its next turn.
func (c *Clock) BlockUntilWaiters(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		pending, added := len(c.waiters), c.added
		c.mu.Unlock()
		if pending >= n {
			return nil
		}
		select {
		case <-added:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
