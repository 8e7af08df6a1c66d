package sqlconn_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// dbConfig is the configuration a service keeps its database settings in.
type dbConfig struct {
	Database struct {
		Host     string `default:"db.internal"`
		User     string `secret:"true"`
		Password config.Secret
	}
	// DatabasePending holds the AWSPENDING version of the secret during a
	// single-user rotation.
	DatabasePending struct {
		User     string `secret:"true"`
		Password config.Secret
	}
}

// secretLayer is a refreshable layer standing for a database secret: the
// test moves it with set, and each Refresh reports the move once. gate, when
// set, holds every Refresh until it is closed.
type secretLayer struct {
	mu      sync.Mutex
	user    string
	pw      string
	pending string // the AWSPENDING password, when not ""
	version int
	reads   atomic.Int64
	gate    chan struct{}
	entered chan struct{} // when set, told of each Refresh that waits at gate
}

type layerState struct{ version int }

func (l *secretLayer) set(user, pw string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.user, l.pw = user, pw
	l.version++
}

// setPending sets (or, with "", removes) the AWSPENDING password.
func (l *secretLayer) setPending(pw string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = pw
	l.version++
}

func (l *secretLayer) Name() string    { return "secrets" }
func (l *secretLayer) Sensitive() bool { return true }
func (l *secretLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	v, _ := l.values()
	return v, nil
}

func (l *secretLayer) values() (config.Values, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	src := func(key string) config.Source {
		return config.Source{Layer: "secrets", Location: "app/db#" + key, Version: fmt.Sprintf("v%d-0000-0000", l.version), Stage: "AWSCURRENT"}
	}
	v := config.Values{
		"database.user":     {Raw: l.user, Source: src("username")},
		"database.password": {Raw: l.pw, Source: src("password")},
	}
	if l.pending != "" {
		pending := config.Source{Layer: "secrets", Location: "app/db#password", Version: "pending-v", Stage: "AWSPENDING"}
		v["database_pending.user"] = config.Value{Raw: l.user, Source: pending}
		v["database_pending.password"] = config.Value{Raw: l.pending, Source: pending}
	}
	return v, l.version
}

func (l *secretLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	l.reads.Add(1)
	if l.gate != nil {
		if l.entered != nil {
			select {
			case l.entered <- struct{}{}:
			default:
			}
		}
		select {
		case <-l.gate:
		case <-ctx.Done():
			return config.Update{}, fmt.Errorf("secrets: %w", config.ErrTransient)
		}
	}
	v, version := l.values()
	if prev, ok := req.Prev.(layerState); ok && prev.version == version {
		return config.Update{}, nil
	}
	return config.Update{Changed: true, Values: v, State: layerState{version}}, nil
}

// newStore loads a store over l whose reads may follow each other after
// minInterval, with its logs in logs.
func newStore(t *testing.T, l *secretLayer, minInterval time.Duration, logs io.Writer) *config.Store[dbConfig] {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	st, err := config.Load[dbConfig](context.Background(), &config.Options{
		MinRefreshInterval: minInterval, RefreshInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fakeDB is a database that accepts one user and password at a time, and
// counts the logins it refused. Its errors quote the password tried, as
// careless drivers' errors do.
type fakeDB struct {
	mu      sync.Mutex
	user    string
	pw      string
	refused int
	down    error // when set, every attempt fails with it
	open    map[*fakeConn]bool
	closes  chan string // the user of each connection closed, when not full
}

func newFakeDB(user, pw string) *fakeDB {
	return &fakeDB{user: user, pw: pw, open: map[*fakeConn]bool{}, closes: make(chan string, 64)}
}

func (db *fakeDB) setPassword(user, pw string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.user, db.pw = user, pw
}

func (db *fakeDB) refusals() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.refused
}

func (db *fakeDB) openConns() []*fakeConn {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []*fakeConn
	for c := range db.open {
		out = append(out, c)
	}
	return out
}

// dialPending is the pending dial function a service gives
// sqlconn.NewPending.
func (db *fakeDB) dialPending(cfg *dbConfig) (driver.Connector, error) {
	p := cfg.DatabasePending
	if p.Password.IsZero() {
		return nil, nil
	}
	return &fakeConnector{db: db, user: p.User, pw: p.Password.Reveal()}, nil
}

// dial is the function a service gives sqlconn.New: it builds a connector
// from the config.
func (db *fakeDB) dial(cfg *dbConfig) (driver.Connector, error) {
	return &fakeConnector{db: db, user: cfg.Database.User, pw: cfg.Database.Password.Reveal()}, nil
}

type fakeConnector struct {
	db       *fakeDB
	user, pw string
}

func (c *fakeConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db := c.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.down != nil {
		return nil, db.down
	}
	if c.user != db.user || c.pw != db.pw {
		db.refused++
		return nil, &connectError{dsn: "postgres://" + c.user + ":" + c.pw + "@db.internal/app",
			err: &pgError{Code: "28P01", Message: "password authentication failed for user " + c.user + " with " + c.pw}}
	}
	conn := &fakeConn{db: db, user: c.user}
	db.open[conn] = true
	return conn, nil
}

func (c *fakeConnector) Driver() driver.Driver { return fakeDriver{c.db} }

type fakeDriver struct{ db *fakeDB }

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("fake: use a connector") }

// connectError wraps a server error with the DSN tried, as
// *pgconn.ConnectError holds the whole connection config.
type connectError struct {
	dsn string
	err error
}

func (e *connectError) Error() string { return "failed to connect to " + e.dsn + ": " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// pgError has the method PostgreSQL drivers' errors have.
type pgError struct {
	Code    string
	Message string
}

func (e *pgError) Error() string    { return e.Message + " (SQLSTATE " + e.Code + ")" }
func (e *pgError) SQLState() string { return e.Code }

type fakeConn struct {
	db     *fakeDB
	user   string
	closed atomic.Bool
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fake: no statements")
}
func (c *fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("fake: no transactions") }
func (c *fakeConn) Close() error {
	c.closed.Store(true)
	c.db.mu.Lock()
	delete(c.db.open, c)
	c.db.mu.Unlock()
	select {
	case c.db.closes <- c.user:
	default:
	}
	return nil
}

// Ping lets database/sql's PingContext use the connection.
func (c *fakeConn) Ping(context.Context) error { return nil }

// driveClock advances clock past each wait of the connector until done is
// closed, and returns how many waits it released.
func driveClock(t *testing.T, clock *configtest.Clock, done <-chan struct{}) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-done
		cancel()
	}()
	n := 0
	for {
		if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
			return n
		}
		next, ok := clock.Next()
		if !ok {
			continue
		}
		clock.Advance(next.Sub(clock.Now()))
		n++
	}
}
