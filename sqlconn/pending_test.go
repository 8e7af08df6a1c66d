package sqlconn_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

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
