package sqlconn_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/sqlconn"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// quiet returns options with a fake clock and no log output.
func quiet(clock *configtest.Clock) *sqlconn.Options {
	return &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler)}
}

// TestNewConnectionsUseTheCurrentCredentials: each Connect reads the store at
// that moment, and a change leaves the connections already open alone.
func TestNewConnectionsUseTheCurrentCredentials(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw-1")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "pw-1")
	c := sqlconn.New(st, db.dial, quiet(configtest.NewClock(epoch)))
	first, err := c.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l.set("app", "pw-2")
	db.setPassword("app", "pw-2")
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, err := c.Connect(context.Background())
	if err != nil {
		t.Fatalf("the second connection did not use the refreshed password: %v", err)
	}
	if first.(*fakeConn).closed.Load() || second.(*fakeConn).closed.Load() {
		t.Fatal("a connection was closed")
	}
	if got := c.Stats(); got.Connects != 2 || got.Attempts != 2 || got.AuthFailures != 0 || got.Refreshes != 0 || got.Failures != 0 {
		t.Fatalf("stats %+v, want 2 connects and attempts and nothing else", got)
	}
	if db.refusals() != 0 {
		t.Fatalf("the database refused %d logins", db.refusals())
	}
	if d, ok := c.Driver().(fakeDriver); !ok || d.db != db {
		t.Fatalf("Driver is %T, want the driver of the connector dial builds", c.Driver())
	}
}

// TestAuthFailureRefreshesAndRetries: a store that serves a password the
// database no longer takes is refreshed, and the Connect succeeds with the
// new one at once, without a wait.
func TestAuthFailureRefreshesAndRetries(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw-1")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "pw-2")
	l.set("app", "pw-2") // rotated; the store has not read it yet
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, db.dial, quiet(clock))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got.Attempts != 2 || got.AuthFailures != 1 || got.Refreshes != 1 || got.Changed != 1 || got.Recovered != 1 {
		t.Fatalf("stats %+v, want 2 attempts, 1 auth failure, refresh, change and recovery", got)
	}
	if clock.Waiters() != 0 {
		t.Fatal("the connector waited although the credentials had changed")
	}
}

// TestRidesOutTheRotationWindow is single-user rotation between setSecret
// and finishSecret: the database has the new password, the secret still
// the old one. The Connect keeps trying with backoff until the secret
// moves, then succeeds.
func TestRidesOutTheRotationWindow(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new") // setSecret ran
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		Backoff: time.Second, MaxBackoff: 4 * time.Second})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	// Three waits with the old secret, then finishSecret moves it.
	var waits []time.Duration
	for range 3 {
		if err := clock.BlockUntilWaiters(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		next, _ := clock.Next()
		waits = append(waits, next.Sub(clock.Now()))
		clock.Advance(next.Sub(clock.Now()))
	}
	if err := clock.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	l.set("app", "new")
	next, _ := clock.Next()
	clock.Advance(next.Sub(clock.Now()))
	<-done
	if err != nil {
		t.Fatalf("Connect failed across the window: %v", err)
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if waits[i] < want/2 || waits[i] > want {
			t.Errorf("wait %d was %s, want a jittered %s (between half and all)", i+1, waits[i], want)
		}
	}
	got := c.Stats()
	if got.AuthFailures != 5 || got.Attempts != 6 || got.Refreshes != 5 || got.Changed != 1 || got.Recovered != 1 || got.Failures != 0 {
		t.Fatalf("stats %+v, want 5 auth failures (the first and one after each of 4 waits), 6 attempts, 5 refreshes, 1 change", got)
	}
	if db.refusals() != 5 {
		t.Fatalf("the database refused %d logins, want 5", db.refusals())
	}
}

// TestRetryBudgetIsKept: a secret that never moves ends the Connect once the
// budget is spent, with an error naming the secret and stage tried and
// matching ErrAuth.
func TestRetryBudgetIsKept(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		RetryBudget: 10 * time.Second, Backoff: time.Second, MaxBackoff: 2 * time.Second})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	waits := driveClock(t, clock, done)
	var e *sqlconn.Error
	if !errors.As(err, &e) || !errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want an *sqlconn.Error matching ErrAuth", err)
	}
	if e.Elapsed > 10*time.Second || e.Elapsed < 10*time.Second-2*time.Second {
		t.Errorf("gave up after %s, want within the last backoff of the 10s budget", e.Elapsed)
	}
	// 10s of waits of 1s..2s: at least 5, at most about 11.
	if waits < 5 || waits > 11 || e.Attempts != waits+1 || e.AuthFailures != e.Attempts {
		t.Errorf("%d waits and %d attempts (%d auth failures): want 5 to 11 waits and one attempt more", waits, e.Attempts, e.AuthFailures)
	}
	for _, want := range []string{"retry budget of 10s", "SQLSTATE 28P01 invalid_password", "secrets app/db#password (version v1-0000-, AWSCURRENT)",
		"*sqlconn_test.connectError wrapping *sqlconn_test.pgError"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if e.Code != "28P01" || len(e.Sources) != 2 {
		t.Errorf("Code %q and Sources %q, want 28P01 and the user's and password's sources", e.Code, e.Sources)
	}
	if got := c.Stats(); got.Failures != 1 || got.Recovered != 0 {
		t.Errorf("stats %+v, want one failure", got)
	}
}

// TestContextEndsTheRetries: a caller whose context ends while the
// connector waits gets its error at once, matching the context's error.
func TestContextEndsTheRetries(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, db.dial, quiet(clock))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Connect(ctx)
		done <- err
	}()
	if err := clock.BlockUntilWaiters(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || !errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want an error matching context.Canceled and ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "the context ended") {
		t.Errorf("the error does not say the context ended: %v", err)
	}
}

// TestContextEndsARefreshWait: a Refresh that waits out the store's minimum
// interval is cut short by the caller's context too.
func TestContextEndsARefreshWait(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Hour, nil) // the next read may start in an hour
	db := newFakeDB("app", "new")
	c := sqlconn.New(st, db.dial, quiet(configtest.NewClock(epoch)))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Connect(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want an error matching context.DeadlineExceeded and ErrAuth", err)
	}
}

// TestOtherErrorsAreNotRetried: a refused TCP connection is returned after
// one attempt, with no refresh, and stays matchable as a *net.OpError.
func TestOtherErrorsAreNotRetried(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "pw")
	db.down = &connectError{dsn: "postgres://app:pw@db.internal/app", err: &net.OpError{Op: "dial", Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5432}, Err: &osSyscallError{}}}
	c := sqlconn.New(st, db.dial, quiet(configtest.NewClock(epoch)))
	_, err := c.Connect(context.Background())
	var op *net.OpError
	if !errors.As(err, &op) || errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want an error matching *net.OpError and not ErrAuth", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "not an authentication failure") {
		t.Errorf("the error %v does not match ECONNREFUSED or does not say why it was not retried", err)
	}
	if got := c.Stats(); got.Attempts != 1 || got.Refreshes != 0 || got.Failures != 1 {
		t.Fatalf("stats %+v, want one attempt, no refresh, one failure", got)
	}

	db.down = driver.ErrBadConn
	if _, err := c.Connect(context.Background()); !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("got %v, want an error matching driver.ErrBadConn, on which database/sql retries", err)
	}
}

// osSyscallError stands for the *os.SyscallError of a refused connect.
type osSyscallError struct{}

func (*osSyscallError) Error() string { return "connect: connection refused" }
func (*osSyscallError) Unwrap() error { return syscall.ECONNREFUSED }

// TestCustomAuthDetection: Options.IsAuthError replaces the built-in one.
func TestCustomAuthDetection(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw-1")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "pw-2")
	l.set("app", "pw-2")
	never := func(error) bool { return false }
	c := sqlconn.New(st, db.dial, &sqlconn.Options{IsAuthError: never, Logger: slog.New(slog.DiscardHandler)})
	if _, err := c.Connect(context.Background()); err == nil || errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want a failure that is not ErrAuth: the custom check says no error is one", err)
	}
	if got := c.Stats(); got.Refreshes != 0 {
		t.Fatalf("%d refreshes, want none", got.Refreshes)
	}
}

// TestRefreshesAreShared: a pool dialling many connections at once after a
// rotation asks the store to refresh from each, and the store reads the
// secret at most twice (the read the first caller started, and one shared
// by every caller that came while it ran).
func TestRefreshesAreShared(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, 300*time.Millisecond, nil)
	before := l.reads.Load()
	db := newFakeDB("app", "new")
	l.set("app", "new")
	c := sqlconn.New(st, db.dial, quiet(configtest.NewClock(epoch)))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Connect(context.Background())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := c.Stats()
	if reads := l.reads.Load() - before; reads < 1 || reads > 2 {
		t.Fatalf("%d connects asked %d refreshes and the layer was read %d times, want 1 or 2", n, got.Refreshes, reads)
	}
	if got.AuthFailures != n || got.Recovered != n || got.Refreshes > n {
		t.Fatalf("stats %+v, want %d auth failures and recoveries and at most as many refreshes", got, n)
	}
}

// TestWithDatabaseSQL: through sql.OpenDB, queries keep working across a
// rotation, new connections use the new password and old ones stay open.
func TestWithDatabaseSQL(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw-1")
	st := newStore(t, l, time.Nanosecond, nil)
	fdb := newFakeDB("app", "pw-1")
	db := sql.OpenDB(sqlconn.New(st, fdb.dial, quiet(configtest.NewClock(epoch))))
	defer db.Close()
	ctx := context.Background()
	held, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	fdb.setPassword("app", "pw-2") // the database moved first
	l.set("app", "pw-2")
	fresh, err := db.Conn(ctx) // a second connection: a new dial
	if err != nil {
		t.Fatalf("a new connection failed across the rotation: %v", err)
	}
	defer fresh.Close()
	if err := held.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(fdb.openConns()); n != 2 {
		t.Fatalf("%d connections open, want the old and the new", n)
	}
}

// typedNilConnector fails the way lib/pq does: a nil *fakeConn in a non-nil
// driver.Conn, with the error. Touching the connection panics.
type typedNilConnector struct{ err error }

func (c typedNilConnector) Connect(context.Context) (driver.Conn, error) {
	var conn *fakeConn
	return conn, c.err
}
func (c typedNilConnector) Driver() driver.Driver { return fakeDriver{} }

// TestFailedConnectionIsNotTouched: the connection value a driver returns
// with an error is ignored, as database/sql ignores it.
func TestFailedConnectionIsNotTouched(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	for _, err := range []error{&pgError{Code: "28P01"}, &pgError{Code: "3D000"}} {
		c := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) { return typedNilConnector{err}, nil },
			&sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: time.Nanosecond})
		if conn, got := c.Connect(context.Background()); got == nil || conn != nil {
			t.Fatalf("got %v, %v: want no connection and an error", conn, got)
		}
	}
}

// TestBadInputs: a nil store or dial, a negative budget, a done context and
// a closed store each end the Connect with an error that says why, and
// nothing panics.
func TestBadInputs(t *testing.T) {
	ctx := context.Background()
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	discard := slog.New(slog.DiscardHandler)

	for _, c := range []*sqlconn.Connector{sqlconn.New[dbConfig](nil, db.dial, nil), sqlconn.New(st, nil, nil)} {
		if _, err := c.Connect(ctx); err == nil || !strings.Contains(err.Error(), "New was given a nil store or dial function") {
			t.Errorf("got %v, want an error saying what was wrong", err)
		}
		if _, err := c.Driver().Open(""); err == nil {
			t.Error("Driver().Open of a connector without a store succeeded")
		}
	}

	var zero sqlconn.Connector
	if _, err := zero.Connect(ctx); err == nil || !strings.Contains(err.Error(), "not made by New") {
		t.Errorf("a zero Connector: got %v, want an error saying it was not made by New", err)
	}
	if _, err := zero.Driver().Open(""); err == nil {
		t.Error("a zero Connector's Driver().Open succeeded")
	}

	once := sqlconn.New(st, db.dial, &sqlconn.Options{RetryBudget: -1, Logger: discard})
	if _, err := once.Connect(ctx); !errors.Is(err, sqlconn.ErrAuth) || once.Stats().Attempts != 1 || once.Stats().Refreshes != 0 {
		t.Errorf("a negative budget: got %v after %+v, want ErrAuth after one attempt and no refresh", err, once.Stats())
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Logger: discard})
	if _, err := c.Connect(done); !errors.Is(err, context.Canceled) || c.Stats().Attempts != 0 ||
		!strings.Contains(err.Error(), "before the first attempt") {
		t.Errorf("a done context: got %v after %d attempts, want context.Canceled before any", err, c.Stats().Attempts)
	}

	closed := newStore(t, l, time.Nanosecond, nil)
	_ = closed.Close()
	c = sqlconn.New(closed, db.dial, &sqlconn.Options{Logger: discard})
	_, err := c.Connect(ctx)
	if !errors.Is(err, sqlconn.ErrAuth) || !strings.Contains(err.Error(), "the store is closed") || c.Stats().Attempts != 1 {
		t.Errorf("a closed store: got %v after %d attempts, want ErrAuth after one, saying the store is closed", err, c.Stats().Attempts)
	}
}

// TestStaticStore: a store with no refreshable layer cannot move, so the
// Connect retries with backoff until its budget is spent, and does not spin.
func TestStaticStore(t *testing.T) {
	st, err := config.Load[dbConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler), MinRefreshInterval: time.Nanosecond},
		config.StaticSecrets("secrets", map[string]string{"database.user": "app", "database.password": "old"}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, newFakeDB("app", "new").dial, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		RetryBudget: 5 * time.Second, Backoff: time.Second, MaxBackoff: time.Second})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	waits := driveClock(t, clock, done)
	if !errors.Is(err, sqlconn.ErrAuth) || waits < 5 || waits > 10 {
		t.Fatalf("got %v after %d waits, want ErrAuth after 5 to 10", err, waits)
	}
}

// TestBudgetEndingARefreshIsNotTheCallersDeadline: a budget that runs out
// while a Refresh waits gives an error that does not match
// context.DeadlineExceeded: the caller's context did not end.
func TestBudgetEndingARefreshIsNotTheCallersDeadline(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Hour, nil) // the next read may start in an hour
	c := sqlconn.New(st, newFakeDB("app", "new").dial, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: 50 * time.Millisecond})
	_, err := c.Connect(context.Background())
	if !errors.Is(err, sqlconn.ErrAuth) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "retry budget") {
		t.Fatalf("got %v, want ErrAuth after the budget, not context.DeadlineExceeded", err)
	}
}

// TestHugeBackoffDoesNotOverflow: a Backoff and MaxBackoff near the largest
// duration double up to MaxBackoff without overflowing into a negative
// wait (which made the jitter panic).
func TestHugeBackoffDoesNotOverflow(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	var attempts atomic.Int64
	clock := configtest.NewClock(epoch)
	c := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) {
		return hostileConnector{func(context.Context) (driver.Conn, error) {
			if attempts.Add(1) < 4 {
				return nil, &pgError{Code: "28P01"}
			}
			return &fakeConn{db: newFakeDB("app", "pw")}, nil
		}}, nil
	}, &sqlconn.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler),
		RetryBudget: math.MaxInt64, Backoff: 1 << 61, MaxBackoff: math.MaxInt64})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("Connect panicked: %v", p)
			}
		}()
		_, err = c.Connect(context.Background())
	}()
	if waits := driveClock(t, clock, done); err != nil || waits != 3 {
		t.Fatalf("got %v after %d waits, want a connection after 3", err, waits)
	}
}
