package sqlconn_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/sqlconn"
)

// hostileConnector is a driver.Connector that misbehaves as connect says.
type hostileConnector struct {
	connect func(ctx context.Context) (driver.Conn, error)
}

func (h hostileConnector) Connect(ctx context.Context) (driver.Conn, error) { return h.connect(ctx) }
func (hostileConnector) Driver() driver.Driver                              { return fakeDriver{} }

// checkNoCanary fails t if err, rendered in any way, or logs show the canary.
func checkNoCanary(t *testing.T, err error, logs string) {
	t.Helper()
	if how, text, ok := configtest.Reveals(err, canary); ok {
		t.Errorf("the error printed with %s shows the canary: %s", how, text)
	}
	for _, form := range configtest.LeakForms(canary) {
		if strings.Contains(logs, form) {
			t.Errorf("the logs show the canary: %s", logs)
		}
	}
}

// TestHostileDrivers: a dial function or a driver that panics (with the
// password in the panic's value), or a Connect that returns neither a
// connection nor an error, gives an *Error saying so, with no secret, and
// no panic reaches database/sql.
func TestHostileDrivers(t *testing.T) {
	for _, c := range []struct {
		name, want string
		dial       func(*dbConfig) (driver.Connector, error)
	}{
		{"dial panics", "the dial function panicked", func(cfg *dbConfig) (driver.Connector, error) {
			panic("bad DSN postgres://app:" + cfg.Database.Password.Reveal() + "@db")
		}},
		{"Connect panics", "the driver's Connect panicked", func(cfg *dbConfig) (driver.Connector, error) {
			return hostileConnector{func(context.Context) (driver.Conn, error) {
				panic(fmt.Errorf("driver bug with %s", cfg.Database.Password.Reveal()))
			}}, nil
		}},
		{"nil conn, nil error", "neither a connection nor an error", func(*dbConfig) (driver.Connector, error) {
			return hostileConnector{func(context.Context) (driver.Conn, error) { return nil, nil }}, nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &secretLayer{}
			l.set("app", canary)
			logs := &configtest.LogBuffer{}
			st := newStore(t, l, time.Nanosecond, logs)
			conn := sqlconn.New(st, c.dial, &sqlconn.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			db := sql.OpenDB(conn)
			defer db.Close()
			err := db.PingContext(context.Background())
			var e *sqlconn.Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) || e.Attempts != 1 {
				t.Fatalf("got %v, want an *sqlconn.Error after 1 attempt saying %q", err, c.want)
			}
			checkNoCanary(t, err, logs.String())
		})
	}
}

// TestPendingDialPanics: a pending dial function that panics counts as no
// pending version: the Connect goes on with the current credentials.
func TestPendingDialPanics(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	l.set("app", "new")
	c := sqlconn.NewPending(st, db.dial, func(*dbConfig) (driver.Connector, error) { panic(canary) },
		quiet(configtest.NewClock(epoch)))
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got.PendingAttempts != 0 || got.Attempts != 2 {
		t.Fatalf("stats %+v, want 2 attempts with the current credentials", got)
	}
}

// TestConnectIgnoringTheContext: a driver whose Connect ignores ctx does
// not hold the caller past its context; a connection it returns late is
// closed.
func TestConnectIgnoringTheContext(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	release, entered := make(chan struct{}), make(chan struct{})
	late := &lateConn{closed: make(chan struct{})}
	c := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) {
		return hostileConnector{func(context.Context) (driver.Conn, error) {
			close(entered)
			<-release
			return late, nil
		}}, nil
	}, quiet(configtest.NewClock(epoch)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Connect(ctx)
		done <- err
	}()
	<-entered
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Connect still waits for a driver that ignores its context")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an error matching context.Canceled", err)
	}
	close(release)
	select {
	case <-late.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection the driver returned after the context ended was not closed")
	}
}

type lateConn struct {
	fakeConn
	closed chan struct{}
}

func (c *lateConn) Close() error {
	close(c.closed)
	return nil
}

// TestStoreClosedDuringTheRetry: a store closed while a Connect waits for
// the refresh its authentication failure asked for ends that Connect at
// once, saying so, instead of waiting out the retry budget.
func TestStoreClosedDuringTheRetry(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	l.gate, l.entered = make(chan struct{}), make(chan struct{}, 1)
	defer close(l.gate)
	db := newFakeDB("app", "new")
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, err := c.Connect(context.Background())
		done <- err
	}()
	<-l.entered
	_ = st.Close()
	select {
	case err := <-done:
		if !errors.Is(err, sqlconn.ErrAuth) || !strings.Contains(err.Error(), "the store is closed") {
			t.Fatalf("got %v, want ErrAuth saying the store is closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Connect still waits after the store was closed")
	}
}

// TestNoRetryWithPending: a negative RetryBudget makes one attempt with the
// current credentials and, with NewPending in a window, one with the
// pending ones; no refresh, no wait.
func TestNoRetryWithPending(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("wrong")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	c := sqlconn.NewPending(st, db.dial, db.dialPending, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: -1})
	_, err := c.Connect(context.Background())
	if got := c.Stats(); !errors.Is(err, sqlconn.ErrAuth) || got.Attempts != 2 || got.PendingAttempts != 1 || got.Refreshes != 0 {
		t.Fatalf("got %v, stats %+v: want ErrAuth after one current and one pending attempt, no refresh", err, got)
	}
}

// unwrapPanics is a driver error whose Unwrap panics with the DSN.
type unwrapPanics struct{}

func (unwrapPanics) Error() string { return "x" }
func (unwrapPanics) Unwrap() error { panic("postgres://app:" + canary + "@db") }

// statePanics is a driver error whose SQLState panics with the password.
type statePanics struct{}

func (statePanics) Error() string    { return "x" }
func (statePanics) SQLState() string { panic(canary) }

// isPanics is a driver error whose Is panics with the password.
type isPanics struct{}

func (isPanics) Error() string { return "x" }
func (isPanics) Is(error) bool { panic(fmt.Errorf("no match for %s", canary)) }

type mysqlInner struct{ Number uint16 }

// nilEmbeddedMySQLError is named MySQLError, with its Number promoted from
// a nil embedded pointer: reading it by reflection panics.
func nilEmbeddedMySQLError() error {
	type MySQLError struct {
		*mysqlInner
		unwrapPanics
	}
	return &MySQLError{}
}

// TestHostileErrorMethods: a driver error whose methods panic (Unwrap,
// SQLState, Is; a MySQLError whose Number sits behind a nil pointer), or an
// Options.IsAuthError that panics, with the DSN or the password as the
// panic's value, gives an *Error saying so, through database/sql too, with
// no secret and no panic; the same for the pending credentials.
func TestHostileErrorMethods(t *testing.T) {
	isAuthPanics := func(error) bool { panic("pw=" + canary) }
	for _, c := range []struct {
		name   string
		err    error
		isAuth func(error) bool
	}{
		{"Unwrap panics", unwrapPanics{}, nil},
		{"SQLState panics", &connectError{dsn: canary, err: statePanics{}}, nil},
		{"Is panics", fmt.Errorf("w: %w", isPanics{}), nil},
		{"MySQLError with a nil embedded pointer", nilEmbeddedMySQLError(), nil},
		{"IsAuthError panics", &connectError{dsn: canary, err: &pgError{Code: "28P01"}}, isAuthPanics},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &secretLayer{}
			l.set("app", "pw")
			st := newStore(t, l, time.Nanosecond, nil)
			db := newFakeDB("app", "pw")
			db.down = c.err
			logs := &configtest.LogBuffer{}
			opts := &sqlconn.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				RetryBudget: time.Nanosecond, IsAuthError: c.isAuth}
			conn := sqlconn.New(st, db.dial, opts)
			sdb := sql.OpenDB(conn)
			defer sdb.Close()
			err := sdb.PingContext(context.Background())
			var e *sqlconn.Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), "an error that cannot be examined") || e.Attempts != 1 {
				t.Fatalf("got %v, want an *sqlconn.Error after 1 attempt saying the error cannot be examined", err)
			}
			checkNoCanary(t, err, logs.String())
		})
	}
	l := &secretLayer{}
	l.set("app", "old")
	l.setPending("new")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	c := sqlconn.NewPending(st, db.dial, func(*dbConfig) (driver.Connector, error) {
		return hostileConnector{func(context.Context) (driver.Conn, error) { return nil, unwrapPanics{} }}, nil
	}, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: -1})
	if _, err := c.Connect(context.Background()); !errors.Is(err, sqlconn.ErrAuth) {
		t.Fatalf("got %v, want ErrAuth from the current credentials after the pending attempt's error", err)
	}
}

// TestNilConnector: a nil *Connector answers like a zero one.
func TestNilConnector(t *testing.T) {
	var c *sqlconn.Connector
	if _, err := c.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "not made by New") {
		t.Fatalf("Connect: got %v, want an error saying the Connector was not made by New", err)
	}
	if _, err := c.Driver().Open(""); err == nil {
		t.Fatal("Driver().Open succeeded")
	}
	if got := c.Stats(); got != (sqlconn.Stats{}) {
		t.Fatalf("Stats %+v, want zero", got)
	}
}

// driverConnector is a connector whose Driver method is driver.
type driverConnector struct {
	hostileConnector
	driver func() driver.Driver
}

func (c driverConnector) Driver() driver.Driver { return c.driver() }

// TestDriverMethodPanics: Connector.Driver when the dial function's
// connector's Driver panics (with the DSN) or returns nil gives a driver
// whose Open says so, with no secret and no panic.
func TestDriverMethodPanics(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	for want, d := range map[string]func() driver.Driver{
		"Driver method panicked":    func() driver.Driver { panic("postgres://app:" + canary + "@db") },
		"returned a nil driver":     func() driver.Driver { return nil },
		"returned a nil driver (2)": func() driver.Driver { return (*nilDriver)(nil) },
	} {
		c := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) { return driverConnector{driver: d}, nil }, nil)
		_, err := c.Driver().Open("")
		if err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(want, " (2)")) {
			t.Fatalf("got %v, want an error saying the %s", err, want)
		}
		checkNoCanary(t, err, "")
	}
}

type nilDriver struct{}

func (*nilDriver) Open(string) (driver.Conn, error) { return nil, nil }

// panickyConn is a connection whose Close tells closing, then panics with
// the password.
type panickyConn struct {
	fakeConn
	closing chan struct{}
}

func (c *panickyConn) Close() error {
	close(c.closing)
	panic(canary)
}

// TestLateConnectionWhoseClosePanics: a connection a driver returns after
// the Connect's context ended is closed on a goroutine of the Connector's;
// a panic of its Close does not end the process there.
func TestLateConnectionWhoseClosePanics(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	before := goleak.IgnoreCurrent()
	release, entered := make(chan struct{}), make(chan struct{})
	late := &panickyConn{closing: make(chan struct{})}
	c := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) {
		return hostileConnector{func(context.Context) (driver.Conn, error) {
			close(entered)
			<-release
			return late, nil
		}}, nil
	}, quiet(configtest.NewClock(epoch)))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	if _, err := c.Connect(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an error matching context.Canceled", err)
	}
	close(release)
	<-late.closing
	// Without the recovery the process ends here, on the closing goroutine.
	if err := goleak.Find(before); err != nil {
		t.Fatal(err)
	}
}
