package sqlconn

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/strata-go/strata/config"
)

// Options tunes a Connector. The zero value is valid; each field's comment
// gives its default.
type Options struct {
	// RetryBudget is how long one Connect keeps retrying after an
	// authentication failure, measured from the Connect's start; the
	// caller's context can end it sooner. A negative budget turns retrying
	// off: one attempt with the current credentials (and, with NewPending,
	// at most one with the pending ones), its error sanitized as always.
	// Default (zero): 20 seconds.
	RetryBudget time.Duration
	// IsAuthError reports whether a connection attempt's error is an
	// authentication failure, which the Connector rides out; any other error
	// is returned at once. Default: AuthError (PostgreSQL SQLSTATE 28P01 and
	// 28000, MySQL error 1045).
	IsAuthError func(error) bool
	// Backoff is the first wait before trying again with credentials that
	// did not change after a refresh; it doubles with each such attempt up
	// to MaxBackoff, and each wait is jittered to between half and all of
	// it. Default (zero or negative): 100 milliseconds.
	Backoff time.Duration
	// MaxBackoff caps the wait between attempts; one below Backoff is
	// Backoff. Default (zero or negative): 2 seconds.
	MaxBackoff time.Duration
	// Keys are the configuration keys of the credentials ("database.password",
	// "database.user"): errors and logs name where their values came from.
	// Default: every secret field of the store's schema.
	Keys []string
	// Logger receives one line per authentication failure retried (debug),
	// per Connect that succeeded after failures (info) and per Connect that
	// gave up (warn). No credential is ever logged. Default: slog.Default().
	Logger *slog.Logger
	// Clock times the waits between attempts and the retry budget; tests
	// inject a fake one (configtest.Clock). Default: the system clock.
	Clock config.Clock
}

func (o *Options) normalize() Options {
	var n Options
	if o != nil {
		n = *o
		n.Keys = slices.Clone(o.Keys)
	}
	switch {
	case n.RetryBudget == 0:
		n.RetryBudget = 20 * time.Second
	case n.RetryBudget < 0:
		n.RetryBudget = 0
	}
	if n.IsAuthError == nil {
		n.IsAuthError = AuthError
	}
	if n.Backoff <= 0 {
		n.Backoff = 100 * time.Millisecond
	}
	if n.MaxBackoff <= 0 {
		n.MaxBackoff = 2 * time.Second
	}
	if n.MaxBackoff < n.Backoff {
		n.MaxBackoff = n.Backoff
	}
	if n.Logger == nil {
		n.Logger = slog.Default()
	}
	if n.Clock == nil {
		n.Clock = systemClock{}
	}
	return n
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Connector is a driver.Connector that dials every new connection with the
// credentials its store serves at that moment. Give it to sql.OpenDB. It is
// safe for concurrent use. See the package documentation for what it does
// when the database refuses the credentials.
type Connector struct {
	get     func() (cfg any, dial func() (driver.Connector, error))
	pending func(cfg any) (driver.Connector, error) // nil without NewPending
	refresh func(ctx context.Context) error
	sources func() []string
	opts    Options
	stats   counters
	// refreshing is set while a refresh started after a pending success
	// runs, so concurrent successes share it.
	refreshing atomic.Bool
	// pendingWorked is the config snapshot whose pending credentials last
	// connected, nil when none did or they were refused since.
	pendingWorked atomic.Pointer[snapshot]
}

// snapshot boxes a config the store served, compared by identity.
type snapshot struct{ cfg any }

// pendingRefreshTimeout bounds a refresh started after a pending success;
// the store's Close ends it sooner.
const pendingRefreshTimeout = 30 * time.Second

// New returns a Connector that, for every new connection, takes the store's
// current config (store.Get), asks dial for a driver.Connector built from
// it and connects with that. dial should be cheap and must not connect
// itself; see DSN for a driver and a DSN, or use the driver's own
// constructor (pq.NewConnector, mysql.NewConnector, stdlib.GetConnector).
// A nil opts is the zero Options.
//
// A nil store or dial gives a Connector whose Connect and Driver().Open
// return an error saying so.
func New[T any](store *config.Store[T], dial func(cfg *T) (driver.Connector, error), opts *Options) *Connector {
	o := opts.normalize()
	if store == nil || dial == nil {
		err := ownError("New was given a nil store or dial function")
		return &Connector{
			get: func() (any, func() (driver.Connector, error)) {
				return nil, func() (driver.Connector, error) { return nil, err }
			},
			refresh: func(context.Context) error { return err },
			sources: func() []string { return nil },
			opts:    o,
		}
	}
	keys := o.Keys
	return &Connector{
		get: func() (any, func() (driver.Connector, error)) {
			cfg := store.Get()
			return cfg, func() (driver.Connector, error) { return dial(cfg) }
		},
		refresh: store.Refresh,
		sources: func() []string { return sourcesOf(store, keys) },
		opts:    o,
	}
}

// NewPending is New with a second dial function for single-user rotation:
// pending builds a connector from the pending credentials in cfg, the
// AWSPENDING version of the secret, which a rotation's setSecret has
// already set in the database while AWSCURRENT still holds the old
// password. It returns nil, nil when cfg holds no pending version (no
// rotation under way). Mount that version in the store with a second spec
// of the same secret:
//
//	secretsmanager.JSON("app/db", "database_pending",
//		&secretsmanager.SpecOptions{Stage: "AWSPENDING", Optional: true})
//
// After the store's current credentials were refused, the Connector tries
// the pending ones, if the store serves any then, before it refreshes or
// waits: once per Connect, and once more each time a refresh moved the
// config since the last pending try (a Connect that began with the previous
// rotation's pending version then tries the new one). Once they connected,
// later Connects try them first while the store serves the same config, so
// the rest of the window costs no refused attempt; a refusal of the pending
// credentials ends that. Success ends the Connect (Stats.PendingOK) and
// starts a store.Refresh in the background
// (one at a time per Connector, bounded by 30 seconds and by the store's
// Close; Stats.PendingRefreshes), so that once finishSecret has moved
// AWSCURRENT the store serves it and later connections are not refused
// first. Otherwise it goes on as New's Connector does. The pending
// credentials are tried on the database only: they are never served as the
// current config.
func NewPending[T any](store *config.Store[T], dial, pending func(cfg *T) (driver.Connector, error), opts *Options) *Connector {
	c := New(store, dial, opts)
	if store != nil && dial != nil && pending != nil {
		c.pending = func(cfg any) (driver.Connector, error) { return pending(cfg.(*T)) }
	}
	return c
}

// sourcesOf describes where the values of keys (by default every secret
// field) come from in the store's current snapshot. A Source holds no value.
func sourcesOf[T any](store *config.Store[T], keys []string) []string {
	var out []string
	if len(keys) == 0 {
		for _, ki := range store.Keys() {
			if ki.Secret && ki.Set {
				out = append(out, ki.Source.String())
			}
		}
		return out
	}
	for _, k := range keys {
		ki, ok := store.Explain(k)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s (no such key)", k))
		case !ki.Set:
			out = append(out, fmt.Sprintf("%s (not set)", k))
		default:
			out = append(out, ki.Source.String())
		}
	}
	return out
}

// Driver returns the driver of the connector dial builds from the current
// config, or, if dial fails, a driver whose Open returns that error
// (sanitized like Connect's).
func (c *Connector) Driver() driver.Driver {
	if c == nil || c.get == nil {
		return failedDriver{zeroConnectorError()}
	}
	_, dial := c.get()
	conn, err := safeDial(dial)
	if err == nil && conn != nil {
		d, err := safeDriver(conn)
		if err == nil {
			return d
		}
		return failedDriver{&Error{Reason: "the driver.Connector's Driver method failed", Cause: err.Error()}}
	}
	if err == nil {
		err = errNilConnector
	}
	v := examine(err, nil)
	return failedDriver{&Error{Attempts: 0, Reason: "the dial function failed", Code: v.code, Cause: v.cause, match: v.match}}
}

// safeDriver is conn.Driver(), turning a panic (its value dropped) or a nil
// driver into an ownError.
func safeDriver(conn driver.Connector) (d driver.Driver, err error) {
	defer func() {
		if recover() != nil {
			d, err = nil, errDriverPanic
		}
	}()
	if d = conn.Driver(); isNilValue(d) {
		return nil, errNilDriverOf
	}
	return d, nil
}

// isNilValue reports whether v is nil or holds a nil pointer.
func isNilValue(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// zeroConnectorError is the error of a Connector not made by New.
func zeroConnectorError() error {
	return &Error{Reason: "the Connector was not made by New or NewPending", Cause: "no attempt"}
}

var errNilConnector = ownError("the dial function returned a nil driver.Connector")

// ownError is an error of this package, whose text is known to be safe, so
// an *Error quotes it.
type ownError string

func (e ownError) Error() string { return string(e) }

type failedDriver struct{ err error }

func (d failedDriver) Open(string) (driver.Conn, error) { return nil, d.err }

// Connect opens a connection with the credentials the store serves now.
// A Connector that New or NewPending did not make (a zero or nil one)
// returns an *Error.
//
// If the database refuses them as an authentication failure (see
// Options.IsAuthError), Connect asks the store to Refresh (a read that
// starts after the call, shared by every connection that asks at the same
// time) and tries again with what the store serves then: at once if the
// credentials changed, else after a jittered backoff, again refreshing after
// each failure, until an attempt succeeds, a non-authentication error comes,
// the retry budget is spent or ctx ends. Its error is then an *Error. A
// Connector made by NewPending also tries the pending credentials after a
// refusal at which the store serves some: once per config snapshot.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c == nil || c.get == nil {
		return nil, zeroConnectorError()
	}
	c.stats.connects.Add(1)
	r := &run{c: c, ctx: ctx, start: c.opts.Clock.Now()}
	r.deadline = r.start.Add(c.opts.RetryBudget)
	if ctx.Err() != nil {
		r.last = examine(ctx.Err(), nil)
		return nil, r.fail("the context ended before the first attempt")
	}
	for {
		cfg, dial := c.get()
		if r.attempts == 0 && c.pendingWorks(cfg) {
			// This snapshot's current credentials were refused and its
			// pending ones worked: the window is still open.
			if conn := r.tryPending(ctx); conn != nil {
				return conn, nil
			}
		}
		conn, ok := r.attempt(ctx, dial)
		if ok {
			r.succeeded()
			return conn, nil
		}
		if !r.last.auth {
			reason := "not an authentication failure"
			switch {
			case r.dialFailed:
				reason = "the dial function failed"
			case ctx.Err() != nil:
				reason = "the context ended"
			}
			return nil, r.fail(reason)
		}
		if conn := r.tryPending(ctx); conn != nil {
			return conn, nil
		}
		if reason := r.wait(ctx, cfg); reason != "" {
			return nil, r.fail(reason)
		}
	}
}

// run is the state of one Connect.
type run struct {
	c          *Connector
	ctx        context.Context
	start      time.Time
	deadline   time.Time
	attempts   int
	authFails  int
	unchanged  int     // attempts in a row with credentials a refresh did not change
	last       verdict // what the last attempt's error was (with the current credentials)
	dialFailed bool    // the last attempt's dial function failed
	// pendingTried is set once the pending credentials were tried, with
	// the config snapshot pendingCfg.
	pendingTried bool
	pendingCfg   any
	sources      []string
	refreshErr   error
}

// attempt dials once; when it fails, r.last says how (the error itself is
// not kept).
func (r *run) attempt(ctx context.Context, dial func() (driver.Connector, error)) (driver.Conn, bool) {
	r.attempts++
	r.c.stats.attempts.Add(1)
	r.last, r.dialFailed = verdict{}, false
	connector, err := safeDial(dial)
	if err == nil && connector == nil {
		err = errNilConnector
	}
	if err != nil {
		r.dialFailed = true
		r.last = examine(err, nil)
		return nil, false
	}
	conn, err := connectOnce(ctx, connector)
	if err == nil {
		return conn, true
	}
	// conn is not touched: lib/pq returns a nil *conn in a non-nil
	// driver.Conn with its error, whose Close panics.
	r.addSources()
	r.last = examine(err, r.c.opts.IsAuthError)
	if r.last.auth {
		r.authFails++
		r.c.stats.authFailures.Add(1)
	}
	return nil, false
}

// tryPending tries the pending credentials the store serves now, once per
// config snapshot in a Connect, and returns the connection if they worked.
func (r *run) tryPending(ctx context.Context) driver.Conn {
	c := r.c
	if c.pending == nil || ctx.Err() != nil {
		return nil
	}
	cfg, _ := c.get()
	if r.pendingTried && cfg == r.pendingCfg {
		return nil // tried with these credentials already
	}
	connector, err := safeDial(func() (driver.Connector, error) { return c.pending(cfg) })
	if err != nil || connector == nil {
		return nil // no pending version, or one the dial function cannot use
	}
	r.pendingTried, r.pendingCfg = true, cfg
	r.attempts++
	c.stats.attempts.Add(1)
	c.stats.pendingAttempts.Add(1)
	conn, err := connectOnce(ctx, connector)
	if err == nil {
		c.stats.pendingOK.Add(1)
		c.pendingWorked.Store(&snapshot{cfg})
		if r.authFails > 0 {
			c.stats.recovered.Add(1)
			c.opts.Logger.InfoContext(ctx, "sqlconn: connected with the pending credentials after the current ones were refused",
				"attempts", r.attempts, "credentials", r.sources)
		}
		c.refreshInBackground()
		return conn
	}
	if w := c.pendingWorked.Load(); w != nil && w.cfg == cfg {
		c.pendingWorked.CompareAndSwap(w, nil)
	}
	v := examine(err, c.opts.IsAuthError)
	if v.auth {
		r.authFails++
		c.stats.authFailures.Add(1)
	}
	c.opts.Logger.DebugContext(ctx, "sqlconn: the pending credentials failed too", "code", v.code, "cause", v.cause)
	return nil
}

// pendingWorks reports whether the pending credentials of cfg connected
// the last time they were tried.
func (c *Connector) pendingWorks(cfg any) bool {
	w := c.pendingWorked.Load()
	return c.pending != nil && w != nil && w.cfg == cfg
}

// refreshInBackground asks the store for a read after the pending
// credentials worked while the current ones did not: the store serves stale
// current credentials (finishSecret may have moved AWSCURRENT already), and
// no refusal will ask for that read, since the pending try succeeds. One
// such refresh runs at a time per Connector; the store coalesces it with
// any other and spaces reads by its MinRefreshInterval.
func (c *Connector) refreshInBackground() {
	if !c.refreshing.CompareAndSwap(false, true) {
		return
	}
	c.stats.pendingRefreshes.Add(1)
	go func() {
		defer c.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), pendingRefreshTimeout)
		defer cancel()
		_ = c.refresh(ctx) // a failed read changes nothing; the next refusal asks again
	}()
}

var (
	errDialPanic    = ownError("the dial function panicked")
	errConnectPanic = ownError("the driver's Connect panicked")
	errNoConn       = ownError("the driver's Connect returned neither a connection nor an error")
	errDriverPanic  = ownError("the driver.Connector's Driver method panicked")
	errNilDriverOf  = ownError("the driver.Connector's Driver method returned a nil driver")
)

// safeDial calls a dial function, turning a panic into errDialPanic: the
// panic's value, which may quote a DSN, is dropped.
func safeDial(dial func() (driver.Connector, error)) (connector driver.Connector, err error) {
	defer func() {
		if recover() != nil {
			connector, err = nil, errDialPanic
		}
	}()
	return dial()
}

// connectOnce is connector.Connect(ctx) for drivers of any behaviour: a
// panic becomes errConnectPanic (its value dropped), a nil connection with
// a nil error becomes errNoConn, and a Connect that ignores ctx is left
// behind when ctx ends (ctx's error is returned; a connection it returns
// later is closed).
func connectOnce(ctx context.Context, connector driver.Connector) (driver.Conn, error) {
	type result struct {
		conn driver.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if recover() != nil {
				r = result{err: errConnectPanic}
			}
			done <- r
		}()
		r.conn, r.err = connector.Connect(ctx)
	}()
	select {
	case r := <-done:
		if r.err == nil && r.conn == nil {
			r.err = errNoConn
		}
		return r.conn, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil && r.conn != nil {
				closeQuietly(r.conn)
			}
		}()
		return nil, ctx.Err()
	}
}

// closeQuietly closes a connection no one will use. A panic of its Close
// is dropped: on this goroutine it would end the process.
func closeQuietly(conn driver.Conn) {
	defer func() { _ = recover() }()
	_ = conn.Close()
}

func (r *run) addSources() {
	for _, s := range r.c.sources() {
		if !slices.Contains(r.sources, s) {
			r.sources = append(r.sources, s)
		}
	}
}

// wait follows an authentication failure with credentials cfg: it asks the
// store to refresh and, when the credentials did not change, waits out a
// jittered backoff. It returns why to give up, or "" to try again.
func (r *run) wait(ctx context.Context, cfg any) string {
	c := r.c
	if ctx.Err() != nil {
		return "the context ended"
	}
	if !c.opts.Clock.Now().Before(r.deadline) {
		return r.spent()
	}
	if now, _ := c.get(); now != cfg {
		// Another connection's refresh (or the schedule) moved the
		// credentials since this attempt began: try them without a read.
		r.unchanged = 0
		c.stats.changed.Add(1)
		return ""
	}
	c.stats.refreshes.Add(1)
	// The budget is on c's Clock; the context's timer runs on real time.
	rctx, cancel := context.WithTimeout(ctx, r.deadline.Sub(c.opts.Clock.Now()))
	r.refreshErr = c.refresh(rctx)
	budgetEnded := rctx.Err() != nil
	cancel()
	if ctx.Err() != nil {
		return "the context ended"
	}
	if budgetEnded {
		// The budget, not the caller's context, ended the wait: the error
		// would match context.DeadlineExceeded as if the caller's had.
		r.refreshErr = nil
	}
	if errors.Is(r.refreshErr, config.ErrClosed) {
		return "the store is closed, so the credentials cannot change"
	}
	if now, _ := c.get(); now != cfg {
		r.unchanged = 0
		c.stats.changed.Add(1)
		c.opts.Logger.DebugContext(ctx, "sqlconn: authentication failed; the refreshed credentials changed, trying them",
			"attempt", r.attempts, "credentials", r.sources)
		return ""
	}
	d := r.backoff()
	if left := r.deadline.Sub(c.opts.Clock.Now()); left <= 0 {
		return r.spent()
	} else if d > left {
		d = left
	}
	c.opts.Logger.DebugContext(ctx, "sqlconn: authentication failed; the credentials did not change, trying again",
		"attempt", r.attempts, "wait", d, "credentials", r.sources)
	select {
	case <-ctx.Done():
		return "the context ended"
	case <-c.opts.Clock.After(d):
	}
	return ""
}

func (r *run) spent() string {
	return fmt.Sprintf("the retry budget of %s was spent while the credentials did not work", r.c.opts.RetryBudget)
}

// backoff is the jittered wait before the next attempt with unchanged
// credentials: Backoff doubled per such attempt, capped at MaxBackoff, then
// a random part of it between half and all.
func (r *run) backoff() time.Duration {
	d, ceiling := r.c.opts.Backoff, r.c.opts.MaxBackoff
	for i := 0; i < r.unchanged && d < ceiling; i++ {
		if d > ceiling/2 { // doubling would pass the ceiling, or overflow
			d = ceiling
			break
		}
		d *= 2
	}
	d = min(d, ceiling)
	r.unchanged++
	half := d / 2
	return half + rand.N(d-half+1)
}

func (r *run) succeeded() {
	if r.authFails == 0 {
		return
	}
	r.c.stats.recovered.Add(1)
	r.c.opts.Logger.Info("sqlconn: connected after authentication failures",
		"attempts", r.attempts, "auth_failures", r.authFails,
		"elapsed", r.c.opts.Clock.Now().Sub(r.start), "credentials", r.sources)
}

// fail builds the error of a Connect that gave up after the error r.last
// describes: only its code, Go types and the sentinels kept returns.
func (r *run) fail(reason string) error {
	c := r.c
	c.stats.failures.Add(1)
	if len(r.sources) == 0 {
		r.addSources()
	}
	v := r.last
	e := &Error{Attempts: r.attempts, AuthFailures: r.authFails, Elapsed: c.opts.Clock.Now().Sub(r.start),
		Reason: reason, Code: v.code, Cause: v.cause, Sources: r.sources, Refresh: r.refreshErr, auth: v.auth,
		match: slices.Clone(v.match)}
	if ctxErr := r.ctx.Err(); ctxErr != nil && !slices.Contains(e.match, ctxErr) {
		e.match = append(e.match, ctxErr)
	}
	c.opts.Logger.WarnContext(r.ctx, "sqlconn: connect failed", "error", e.Error())
	return e
}

// Stats counts what a Connector did since it was made.
type Stats struct {
	// Connects counts calls of Connect, and Failures those that returned an
	// error.
	Connects, Failures int64
	// Attempts counts connection attempts (dials), AuthFailures those the
	// database refused as authentication failures.
	Attempts, AuthFailures int64
	// Refreshes counts the Store.Refresh calls asked after an
	// authentication failure (the store coalesces them into fewer reads).
	Refreshes int64
	// Changed counts refreshes after which the store served new credentials.
	Changed int64
	// Recovered counts Connects that succeeded after one or more
	// authentication failures.
	Recovered int64
	// PendingAttempts counts attempts with the pending credentials (see
	// NewPending), PendingOK those that succeeded. Both are in Attempts,
	// and a pending attempt refused as an authentication failure is in
	// AuthFailures.
	PendingAttempts, PendingOK int64
	// PendingRefreshes counts the Store.Refresh calls started in the
	// background after a pending attempt succeeded (see NewPending).
	PendingRefreshes int64
}

type counters struct {
	connects, failures, attempts, authFailures, refreshes, changed, recovered atomic.Int64
	pendingAttempts, pendingOK, pendingRefreshes                              atomic.Int64
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	s := &c.stats
	return Stats{Connects: s.connects.Load(), Failures: s.failures.Load(), Attempts: s.attempts.Load(),
		AuthFailures: s.authFailures.Load(), Refreshes: s.refreshes.Load(), Changed: s.changed.Load(),
		Recovered: s.recovered.Load(), PendingAttempts: s.pendingAttempts.Load(), PendingOK: s.pendingOK.Load(),
		PendingRefreshes: s.pendingRefreshes.Load()}
}

var _ driver.Connector = (*Connector)(nil)
