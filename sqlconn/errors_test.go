package sqlconn_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/sqlconn"
)

// MySQLError has the shape of go-sql-driver/mysql's error type, which
// AuthError recognises by name and field. The tests module checks the
// driver's own type.
type MySQLError struct {
	Number   uint16
	SQLState [5]byte
	Message  string
}

func (e *MySQLError) Error() string { return fmt.Sprintf("Error %d: %s", e.Number, e.Message) }

// otherNumber has a Number but is not a MySQLError.
type otherNumber struct{ Number uint16 }

func (e *otherNumber) Error() string { return "other" }

// TestAuthErrorKinds: the built-in detection finds PostgreSQL's and MySQL's
// authentication failures anywhere in a chain and nothing else.
func TestAuthErrorKinds(t *testing.T) {
	var nilPG *pgError
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"28P01", &pgError{Code: "28P01"}, true},
		{"28000", &pgError{Code: "28000"}, true},
		{"wrapped by %w", fmt.Errorf("connect: %w", &pgError{Code: "28P01"}), true},
		{"in a ConnectError", &connectError{err: &pgError{Code: "28000"}}, true},
		{"joined", errors.Join(errors.New("tls refused"), &connectError{err: &pgError{Code: "28P01"}}), true},
		{"MySQL 1045", &MySQLError{Number: 1045, Message: "Access denied"}, true},
		{"MySQL 1045 wrapped", fmt.Errorf("x: %w", &MySQLError{Number: 1045}), true},
		{"too many connections", &pgError{Code: "53300"}, false},
		{"database does not exist", &pgError{Code: "3D000"}, false},
		{"MySQL 1044 (no access to the database)", &MySQLError{Number: 1044}, false},
		{"MySQL 1040 (too many connections)", &MySQLError{Number: 1040}, false},
		{"a Number that is not MySQL's", &otherNumber{Number: 1045}, false},
		{"text that looks like one", errors.New("SQLSTATE 28P01 password authentication failed"), false},
		{"nil", nil, false},
		{"a nil *pgError", nilPG, false},
		{"a context error", context.DeadlineExceeded, false},
		{"ErrBadConn", driver.ErrBadConn, false},
	}
	for _, tc := range cases {
		if got := sqlconn.AuthError(tc.err); got != tc.want {
			t.Errorf("%s: AuthError = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// cyclic unwraps to itself.
type cyclic struct{}

func (c *cyclic) Error() string { return "cyclic" }
func (c *cyclic) Unwrap() error { return c }

// TestAuthErrorEndsOnACyclicChain: a chain that never ends does not hang
// the detection.
func TestAuthErrorEndsOnACyclicChain(t *testing.T) {
	if sqlconn.AuthError(&cyclic{}) {
		t.Fatal("a cyclic chain is not an authentication failure")
	}
}

const canary = "CANARY-sqlconn-5e1d0b"

// TestNoCredentialInErrorsOrLogs: a driver whose errors quote the password
// (and the DSN, and the user) gives a Connect error and logs from which the
// password shows in no rendering, in no form; the user does not show either.
func TestNoCredentialInErrorsOrLogs(t *testing.T) {
	l := &secretLayer{}
	l.set(canary+"-user", canary)
	logs := &configtest.LogBuffer{}
	st := newStore(t, l, time.Nanosecond, logs)
	db := newFakeDB("someone-else", "other")
	clock := configtest.NewClock(epoch)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Clock: clock, Logger: logger, RetryBudget: 3 * time.Second})
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Connect(context.Background())
	}()
	driveClock(t, clock, done)
	if err == nil || db.refusals() < 2 {
		t.Fatalf("got %v after %d refusals, want a failure after retries", err, db.refusals())
	}
	// A driver error that is not an authentication failure, and a dial
	// function that fails, quoting the password too.
	db.down = fmt.Errorf("cannot reach postgres://u:%s@db: %w", canary, driver.ErrBadConn)
	_, downErr := c.Connect(context.Background())
	dialErr := sqlconn.New(st, func(*dbConfig) (driver.Connector, error) {
		return nil, errors.New("bad DSN host=db password=" + canary)
	}, &sqlconn.Options{Logger: logger})
	_, dialFailed := dialErr.Connect(context.Background())
	_, openErr := dialErr.Driver().Open("")
	values := []any{err, downErr, dialFailed, openErr, c, c.Stats(), sqlconn.DSN(fakeDriver{}, "postgres://u:"+canary+"@db/app")}
	for i, v := range values {
		for how, text := range configtest.Renderings(v) {
			for _, form := range configtest.LeakForms(canary) {
				if strings.Contains(text, form) {
					t.Errorf("value %d (%T) printed with %s shows the canary (%q):\n%s", i, v, how, form, text)
				}
			}
		}
	}
	for _, form := range configtest.LeakForms(canary) {
		if strings.Contains(logs.String(), form) {
			t.Fatalf("the logs show the canary (%q):\n%s", form, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "sqlconn: connect failed") || !strings.Contains(logs.String(), "trying again") {
		t.Fatalf("the logs do not report the retries and the failure; the check would prove little:\n%s", logs.String())
	}
	if !errors.Is(downErr, driver.ErrBadConn) || dialFailed == nil || openErr == nil {
		t.Fatalf("got %v, %v, %v: want errors, the first matching driver.ErrBadConn", downErr, dialFailed, openErr)
	}
}

// TestErrorNamesWhatWasTried: Options.Keys chooses which sources an error
// names, and an unknown key is said to be one.
func TestErrorNamesWhatWasTried(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "old")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "new")
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Keys: []string{"database.password", "database.pasword"},
		Logger: slog.New(slog.DiscardHandler), RetryBudget: time.Nanosecond})
	_, err := c.Connect(context.Background())
	var e *sqlconn.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *sqlconn.Error", err)
	}
	want := []string{"secrets app/db#password (version v1-0000-, AWSCURRENT)", "database.pasword (no such key)"}
	if fmt.Sprint(e.Sources) != fmt.Sprint(want) {
		t.Fatalf("Sources %q, want %q", e.Sources, want)
	}
}

// leakyState is a driver error whose SQLState is not a SQLSTATE but text.
type leakyState struct{}

func (leakyState) Error() string    { return "x" }
func (leakyState) SQLState() string { return "pw=" + canary }

// fakeAddr is a net.Addr whose text is the canary.
type fakeAddr struct{}

func (fakeAddr) Network() string { return "tcp" }
func (fakeAddr) String() string  { return canary }

// TestHostileDriverErrors: driver errors that carry the password where an
// error is usually safe (a DNS name from a badly escaped DSN, a socket
// path, a custom address, an error text under a *net.OpError, a "SQLSTATE"
// that is text) and a chain that never ends give a Connect error without
// the password, and the Connect returns.
func TestHostileDriverErrors(t *testing.T) {
	l := &secretLayer{}
	l.set("app", "pw")
	st := newStore(t, l, time.Nanosecond, nil)
	db := newFakeDB("app", "pw")
	c := sqlconn.New(st, db.dial, &sqlconn.Options{Logger: slog.New(slog.DiscardHandler), RetryBudget: time.Nanosecond})
	hostile := []error{
		&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ss@" + canary + ".db", IsNotFound: true}},
		&net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: "/tmp/" + canary, Net: "unix"}, Err: syscall.ENOENT},
		&net.OpError{Op: "dial", Net: "tcp", Addr: fakeAddr{}, Source: fakeAddr{}, Err: errors.New(canary)},
		&net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "missing port", Addr: canary}},
		&net.OpError{Op: "dial", Net: "x" + canary, Err: net.UnknownNetworkError("x" + canary)}, // mysql: "proto(addr)" from the DSN
		&net.OpError{Op: canary, Net: "tcp", Err: syscall.ECONNREFUSED},
		&connectError{dsn: canary, err: leakyState{}},
		// An IPv6 zone is text from the DSN's host.
		&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 5432, Zone: canary},
			Source: &net.UDPAddr{IP: net.ParseIP("fe80::2"), Zone: canary}, Err: syscall.ECONNREFUSED},
		&net.OpError{Op: "dial", Net: "ip6", Addr: &net.IPAddr{IP: net.ParseIP("fe80::1"), Zone: canary}, Err: syscall.ECONNREFUSED},
		&cyclic{},
		errors.Join(&cyclic{}, fmt.Errorf("%s: %w", canary, &cyclic{})),
	}
	for i, h := range hostile {
		db.down = h
		_, err := c.Connect(context.Background())
		if err == nil {
			t.Fatalf("case %d connected", i)
		}
		for how, text := range configtest.Renderings(err) {
			for _, form := range configtest.LeakForms(canary) {
				if strings.Contains(text, form) {
					t.Errorf("case %d printed with %s shows the canary (%q):\n%s", i, how, form, text)
				}
			}
		}
	}
	db.down = &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "db", IsNotFound: true}}
	_, err := c.Connect(context.Background())
	var dns *net.DNSError
	if !errors.As(err, &dns) || !dns.IsNotFound {
		t.Fatalf("got %v, want a *net.DNSError that says the host was not found", err)
	}
	db.down = &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 5432, Zone: "3"}, Err: syscall.ECONNREFUSED}
	_, err = c.Connect(context.Background())
	var op *net.OpError
	if !errors.As(err, &op) || op.Addr.String() != "[fe80::1%3]:5432" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want the address with its numeric zone and ECONNREFUSED", err)
	}
	db.down = &connectError{err: leakyState{}}
	_, err = c.Connect(context.Background())
	var e *sqlconn.Error
	if !errors.As(err, &e) || e.Code != "?????" {
		t.Fatalf("got %v, want Code ????? for a SQLSTATE that is not one", err)
	}
}
