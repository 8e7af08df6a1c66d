package sqlconn_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/sqlconn"
)

// TestPendingInTheWindow: between setSecret and finishSecret, with the
// AWSPENDING version already served, a Connect refused with AWSCURRENT
// connects with AWSPENDING at once: no refresh, no wait.
func TestPendingInTheWindow(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("new")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	clock := configtest.NewClock(epoch)
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(clock))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.Stats()
	if got.Attempts != 2 || got.AuthFailures != 1 || got.PendingAttempts != 1 || got.PendingOK != 1 || got.Refreshes != 0 || got.Recovered != 1 {
		t.Fatalf("stats %+v, want 2 attempts, 1 auth failure, 1 pending attempt that worked, no refresh", got)
	}
	if clock.Waiters() != 0 {
		t.Fatal("the connector waited")
	}
}

// TestPendingReadByTheRefresh: a store that has not read the AWSPENDING
// version yet reads it in the refresh the failure asks for, and the next
// round tries it.
func TestPendingReadByTheRefresh(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	l.setPending("new") // createSecret ran after the store's last read
	db := newFakeDB("app", "new")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(configtest.NewClock(epoch)))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got.Attempts != 3 || got.AuthFailures != 2 || got.Refreshes != 1 || got.PendingOK != 1 {
		t.Fatalf("stats %+v, want AWSCURRENT refused twice around one refresh, then AWSPENDING", got)
	}
}

// TestPendingTriedOnce: a pending version the database refuses too is
// tried once per Connect; the Connect then waits for the secret to move.
func TestPendingTriedOnce(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("wrong")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	clock := configtest.NewClock(epoch)
	c := sqlconn.NewPending(st, db.dial, db.dialPending, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		RetryBudget: 5 * time.Second, Backoff: time.Second, MaxBackoff: time.Second})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	driveClock(t, clock, done)
	if err == nil {
		t.Fatal("connected with no right password anywhere")
	}
	if got := c.Stats(); got.PendingAttempts != 1 || got.PendingOK != 0 || got.AuthFailures != got.Attempts {
		t.Fatalf("stats %+v, want one pending attempt, every attempt refused", got)
	}
}

// TestNoPendingWithoutRotation: with no AWSPENDING version, NewPending's
// connector is New's.
func TestNoPendingWithoutRotation(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	l.set("app", "new")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(configtest.NewClock(epoch)))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got.PendingAttempts != 0 || got.Attempts != 2 || got.Refreshes != 1 {
		t.Fatalf("stats %+v, want no pending attempt", got)
	}
}

// TestPendingSuccessRefreshesTheStore: after finishSecret (AWSCURRENT moved
// to the password the database has, AWSPENDING gone) a store that has not
// read since still serves the old AWSCURRENT; the Connect that gets through
// with its pending credentials makes the store read, so the next Connect is
// not refused first.
func TestPendingSuccessRefreshesTheStore(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("new")
	st := newStore(t, l, time.Nanosecond, nil)
	changed := make(chan struct{}, 1)
	defer st.Subscribe(func(config.Change[dbConfig]) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})()
	db := newFakeDB("app", "new")
	l.set("app", "new") // finishSecret, after the store's last read
	l.setPending("")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(configtest.NewClock(epoch)))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got.PendingOK != 1 || got.PendingRefreshes != 1 {
		t.Fatalf("stats %+v, want one pending success and the refresh it starts", got)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the store did not read the moved secret after the pending credentials worked")
	}
	before := db.refusals()
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := db.refusals() - before; n != 0 {
		t.Fatalf("the Connect after the refresh was refused %d times, want 0", n)
	}
}

// TestPendingRefreshCoalesced: many Connects that get through with the
// pending credentials at once start one background refresh at a time, not
// one each.
func TestPendingRefreshCoalesced(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("new")
	st := newStore(t, l, time.Nanosecond, nil)
	l.gate = make(chan struct{}) // every read waits until the Connects are done
	db := newFakeDB("app", "new")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(configtest.NewClock(epoch)))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Connect(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(l.gate)
	if got := c.Stats(); got.PendingOK != 16 || got.PendingRefreshes != 1 {
		t.Fatalf("stats %+v, want 16 pending successes sharing one refresh", got)
	}
}

// TestPendingRetriedWhenItMoves: a store that still serves the previous
// rotation's AWSPENDING (now the database's old password) when the next
// rotation's setSecret has run tries it and fails; the refresh that failure
// asks for brings the new AWSPENDING, which the same Connect tries at once
// rather than waiting for finishSecret.
func TestPendingRetriedWhenItMoves(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "p0")
	l.setPending("p1") // the store read during rotation 1's window
	st := newStore(t, l, time.Nanosecond, nil)
	l.set("app", "p1")           // rotation 1's finishSecret
	l.setPending("p2")           // rotation 2's createSecret
	db := newFakeDB("app", "p2") // and setSecret
	clock := configtest.NewClock(epoch)
	c := sqlconn.NewPending(st, db.dial, db.dialPending, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		RetryBudget: 5 * time.Second, Backoff: time.Second, MaxBackoff: time.Second})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	waits := driveClock(t, clock, done)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); waits != 0 || got.PendingAttempts != 2 || got.PendingOK != 1 {
		t.Fatalf("stats %+v after %d waits, want the new pending version tried at once after the refresh", got, waits)
	}
}

// TestPendingFirstWhileItWorks: once the pending credentials connected,
// later Connects with the same config try them first, so the rest of the
// window costs no refused login; once they are refused, the current ones
// come first again.
func TestPendingFirstWhileItWorks(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("new")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, quiet(configtest.NewClock(epoch)))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		before := db.refusals()
		if _, err := c.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := db.refusals() - before; n != 0 {
			t.Fatalf("Connect %d after the pending credentials worked was refused %d times, want 0", i+2, n)
		}
	}
	db.setPassword("app", "old") // the rotation was undone
	before := db.refusals()
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := db.refusals() - before; n != 1 {
		t.Fatalf("%d refusals after the pending credentials stopped working, want 1 (then the current ones first)", n)
	}
	if got := c.Stats(); got.PendingOK != 4 || got.Recovered != 2 || got.PendingAttempts != 5 {
		t.Fatalf("stats %+v, want 5 pending attempts, 4 successes; 2 recoveries (the first, and the one after the refused pending try)", got)
	}
}
