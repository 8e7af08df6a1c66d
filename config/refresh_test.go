package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// rfEpoch is the fake clock's start in the refresh tests.
var rfEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Secret values used by the refresh tests. Every test checks that none of them
// appears in errors, changes or logs.
const (
	rfSecret1   = "Kq7-first-db-password"
	rfSecret2   = "Kq7-second-db-password"
	rfSecretBad = "Kq7zz" // too short for min=8
)

type rfConfig struct {
	Host     string        `default:"localhost"`
	Port     int           `default:"5432" validate:"min=1,max=65535"`
	Password config.Secret `validate:"required,min=8"`
}

// rfVals returns a complete set of values of the refreshable layer.
func rfVals(host, port, password string) map[string]any {
	return map[string]any{"host": host, "port": port, "password": password}
}

// rfFixture is a store of rfConfig over one scripted refreshing layer, driven by
// a fake clock.
type rfFixture struct {
	t     *testing.T
	ctx   context.Context // bounds the test's waits
	clock *configtest.Clock
	layer refreshingLayer
	enter chan struct{} // receives each time a refresh enters layer
	store *config.Store[rfConfig]
	logs  *configtest.LogBuffer
}

// newRFFixture loads a store whose layer first gives host db1, port 5432 and
// rfSecret1, then plays steps on Refresh. Unset intervals default to a one hour
// TTL and a one millisecond minimum refresh interval.
func newRFFixture(t *testing.T, opts config.Options, steps ...refreshStep) *rfFixture {
	t.Helper()
	f := &rfFixture{t: t, ctx: rfCtx(t), clock: configtest.NewClock(rfEpoch), logs: &configtest.LogBuffer{}}
	f.layer = refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true,
		vals: rfVals("db1", "5432", rfSecret1), refreshes: steps}}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = time.Hour
	}
	if opts.MinRefreshInterval == 0 {
		opts.MinRefreshInterval = time.Millisecond
	}
	opts.Clock = f.clock
	opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.enter = make(chan struct{}, 100_000)
	s, err := config.Load[rfConfig](context.Background(), &opts, enteringLayer{f.layer, f.enter})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f.store = s
	t.Cleanup(func() {
		s.Close()
		for _, secret := range []string{rfSecret1, rfSecret2, rfSecretBad} {
			if strings.Contains(f.logs.String(), secret) {
				t.Errorf("logs contain the secret value %q:\n%s", secret, f.logs)
			}
		}
	})
	return f
}

// refresh moves the clock one second, past the minimum interval, and forces a
// refresh.
func (f *rfFixture) refresh() error {
	f.t.Helper()
	f.clock.Advance(time.Second)
	return f.store.Refresh(f.ctx)
}

// loopWait waits until the refresh loop waits on the clock and returns how long
// it waits.
func (f *rfFixture) loopWait() time.Duration {
	f.t.Helper()
	return rfLoopWait(f.t, f.ctx, f.clock)
}

// fireLoop advances the clock to the loop's deadline and waits until the loop's
// refresh has finished. It returns the wait that passed.
func (f *rfFixture) fireLoop() time.Duration {
	f.t.Helper()
	return rfFireLoop(f.t, f.ctx, f.clock)
}

func rfLoopWait(t *testing.T, ctx context.Context, clock *configtest.Clock) time.Duration {
	t.Helper()
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatalf("the refresh loop does not wait on the clock: %v", err)
	}
	next, _ := clock.Next()
	return next.Sub(clock.Now())
}

func rfFireLoop(t *testing.T, ctx context.Context, clock *configtest.Clock) time.Duration {
	t.Helper()
	wait := rfLoopWait(t, ctx, clock)
	clock.Advance(wait)
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatalf("the refresh loop did not come back to the clock: %v", err)
	}
	return wait
}

// rfCtx bounds every synchronisation wait of a test.
func rfCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rfSubscribe collects the changes a subscriber receives.
func rfSubscribe[T any](t *testing.T, s *config.Store[T]) (<-chan config.Change[T], func()) {
	ch := make(chan config.Change[T], 1000)
	unsubscribe := s.Subscribe(func(c config.Change[T]) { ch <- c })
	t.Cleanup(unsubscribe)
	return ch, unsubscribe
}

func rfNext[T any](t *testing.T, ch <-chan config.Change[T]) config.Change[T] {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a change")
		panic("unreachable")
	}
}

// rfWithin reports whether d is within ±10 % of ttl.
func rfWithin(d, ttl time.Duration) bool {
	return d >= ttl-ttl/10 && d <= ttl+ttl/10
}

// enteringLayer is a refreshingLayer that tells each time a refresh (not the
// first read) enters it, just before the refreshingLayer counts the call.
type enteringLayer struct {
	refreshingLayer
	ch chan struct{}
}

func (l enteringLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev != nil {
		l.ch <- struct{}{}
	}
	return l.refreshingLayer.Refresh(ctx, req)
}

// entered returns a channel that receives each time a refresh enters the
// fixture's layer.
func (f *rfFixture) entered() <-chan struct{} { return f.enter }

// rfRecv waits for a value from ch, for at most ten seconds.
func rfRecv[V any](t *testing.T, ch <-chan V, what string) V {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting until %s", what)
		panic("unreachable")
	}
}

// seqLayer is a refreshable layer whose n-th refresh (1-based) returns next(n):
// a nil map means no change.
type seqLayer struct {
	name    string
	initial map[string]any
	next    func(n int64) (map[string]any, error)
	calls   atomic.Int64
}

func (l *seqLayer) Name() string    { return l.name }
func (l *seqLayer) Sensitive() bool { return true }

func (l *seqLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return toValues(l.name, l.initial), nil
}

func (l *seqLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev == nil {
		vals, err := l.Load(ctx, req.Schema)
		return config.Update{Changed: true, Values: vals, State: int64(0)}, err
	}
	n := l.calls.Add(1)
	vals, err := l.next(n)
	if err != nil || vals == nil {
		return config.Update{}, err
	}
	return config.Update{Changed: true, Values: toValues(l.name, vals), State: n}, nil
}

func TestLoopRefreshesAfterJitteredTTL(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	f := newRFFixture(t, config.Options{RefreshInterval: ttl}, refreshStep{})
	waits := map[time.Duration]bool{}
	const cycles = 20
	for i := range cycles {
		wait := f.loopWait()
		if !rfWithin(wait, ttl) {
			t.Fatalf("cycle %d: the loop waits %v, want %v ±10 %%", i, wait, ttl)
		}
		waits[wait] = true
		f.clock.Advance(wait - time.Nanosecond)
		if n := f.clock.Waiters(); n != 1 {
			t.Fatalf("cycle %d: the loop's timer fired before its deadline (%d waiters)", i, n)
		}
		if got := f.layer.Calls(); got != i {
			t.Fatalf("cycle %d: %d layer refreshes before the TTL passed, want %d", i, got, i)
		}
		f.clock.Advance(time.Nanosecond)
		if err := f.clock.BlockUntilWaiters(f.ctx, 1); err != nil {
			t.Fatal(err)
		}
		if got := f.layer.Calls(); got != i+1 {
			t.Fatalf("cycle %d: %d layer refreshes after the TTL, want %d", i, got, i+1)
		}
	}
	if len(waits) < cycles/2 {
		t.Errorf("only %d distinct waits in %d cycles: the TTL is not jittered", len(waits), cycles)
	}
	st := f.store.Status()
	if st.Refreshes != cycles || st.Changes != 0 || !st.Healthy || st.LastError != nil {
		t.Errorf("Status = %+v, want %d refreshes, no change, healthy", st, cycles)
	}
	if !st.LastSuccess.Equal(f.clock.Now()) || !st.LastAttempt.Equal(f.clock.Now()) {
		t.Errorf("LastSuccess %v, LastAttempt %v, want both %v", st.LastSuccess, st.LastAttempt, f.clock.Now())
	}
}

func TestLoopPublishesChange(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{}, refreshStep{vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	changes, _ := rfSubscribe(t, f.store)
	old := f.store.Get()

	f.fireLoop()

	cur := f.store.Get()
	if cur == old {
		t.Fatal("Get returns the old snapshot after a change")
	}
	if cur.Host != "db2" || cur.Password.Reveal() != rfSecret2 || cur.Port != 5432 {
		t.Errorf("Get() = host %q port %d, password changed %v", cur.Host, cur.Port, cur.Password.Reveal() == rfSecret2)
	}
	if old.Host != "db1" || old.Password.Reveal() != rfSecret1 {
		t.Error("the old snapshot was modified")
	}
	c := rfNext(t, changes)
	if c.Err != nil {
		t.Errorf("Change.Err = %v", c.Err)
	}
	if c.Old != old || c.New != cur {
		t.Errorf("Change.Old/New = %p/%p, want %p/%p", c.Old, c.New, old, cur)
	}
	if diff := cmp.Diff([]string{"host", "password"}, c.Keys); diff != "" {
		t.Errorf("Change.Keys (-want +got):\n%s", diff)
	}
	if !c.At.Equal(f.clock.Now()) {
		t.Errorf("Change.At = %v, want %v", c.At, f.clock.Now())
	}
	printed := fmt.Sprintf("%v|%+v|%#v|%+v|%#v", c, *c.Old, *c.Old, *c.New, *c.New)
	for _, secret := range []string{rfSecret1, rfSecret2} {
		if strings.Contains(printed, secret) {
			t.Errorf("a printed Change shows a secret value: %s", printed)
		}
	}
	st := f.store.Status()
	if st.Changes != 1 || !st.LastChange.Equal(f.clock.Now()) || !st.Healthy {
		t.Errorf("Status = %+v, want one change at %v, healthy", st, f.clock.Now())
	}
}

// A refresh that changes nothing publishes nothing and notifies nobody. The
// final change proves it: it is the first thing the subscriber receives.
func TestNoChangeRefreshNotifiesNobody(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{},
		refreshStep{}, // the layer reports no change
		refreshStep{vals: rfVals("db1", "5432", rfSecret1)}, // a new version with the same values
		refreshStep{vals: rfVals("db1", "6432", rfSecret1)},
	)
	changes, _ := rfSubscribe(t, f.store)
	first := f.store.Get()
	lastChange := f.store.Status().LastChange

	if err := f.refresh(); err != nil {
		t.Fatalf("refresh 1: %v", err)
	}
	if f.store.Get() != first {
		t.Error("a refresh without change published a new snapshot")
	}
	if err := f.refresh(); err != nil {
		t.Fatalf("refresh 2: %v", err)
	}
	if got := f.store.Get(); *got != *first {
		t.Errorf("same values, but Get() = %+v", got)
	}
	st := f.store.Status()
	if st.Refreshes != 2 || st.Changes != 0 || !st.LastChange.Equal(lastChange) {
		t.Errorf("Status = %+v, want 2 refreshes and no change", st)
	}

	if err := f.refresh(); err != nil {
		t.Fatalf("refresh 3: %v", err)
	}
	c := rfNext(t, changes)
	if diff := cmp.Diff([]string{"port"}, c.Keys); diff != "" || c.Err != nil {
		t.Errorf("first change received: Keys %v, Err %v; want the port change (-want +got):\n%s", c.Keys, c.Err, diff)
	}
	if f.store.Get().Port != 6432 {
		t.Errorf("Port = %d, want 6432", f.store.Get().Port)
	}
}

func TestRejectedRefreshKeepsLastGood(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		vals    map[string]any
		wantIs  error
		wantKey string
	}{
		{"value does not decode", rfVals("db2", "eighty", rfSecret2), config.ErrInvalidValue, "port"},
		{"value breaks a rule", rfVals("db2", "70000", rfSecret2), config.ErrValidation, "port"},
		{"secret breaks a rule", rfVals("db2", "5432", rfSecretBad), config.ErrValidation, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRFFixture(t, config.Options{},
				refreshStep{vals: tc.vals},
				refreshStep{}, // the layer still holds the bad values, and says nothing changed
				refreshStep{vals: rfVals("db3", "5433", rfSecret2)},
			)
			changes, _ := rfSubscribe(t, f.store)
			good := f.store.Get()

			err := f.refresh()
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("Refresh = %v, want %v", err, tc.wantIs)
			}
			checkRejection := func(step string, err error) {
				t.Helper()
				if !strings.Contains(err.Error(), tc.wantKey) {
					t.Errorf("%s: the error does not name %q: %v", step, tc.wantKey, err)
				}
				for _, secret := range []string{rfSecret1, rfSecret2, rfSecretBad} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: the error shows a secret value: %v", step, err)
					}
				}
			}
			checkRejection("Refresh", err)
			if f.store.Get() != good || f.store.Get().Host != "db1" {
				t.Error("a rejected refresh replaced the snapshot")
			}
			st := f.store.Status()
			if st.Rejected != 1 || st.Healthy || st.LastError == nil {
				t.Fatalf("Status = %+v, want one rejection, unhealthy, LastError set", st)
			}
			checkRejection("Status.LastError", st.LastError)
			c := rfNext(t, changes)
			if !errors.Is(c.Err, tc.wantIs) || c.Old != good || c.New != good || c.Keys != nil {
				t.Errorf("Change = %+v, want Err %v, Old = New = the good snapshot, no keys", c, tc.wantIs)
			}

			// The layer reports no change: the rejected values are not rebuilt
			// (a rebuild would be rejected again and counted), and nobody is
			// notified; the change below is the next thing subscribers receive.
			_ = f.refresh()
			if got := f.layer.Calls(); got != 2 {
				t.Errorf("%d layer refreshes, want 2", got)
			}
			if st := f.store.Status(); st.Rejected != 1 || st.Refreshes != 2 {
				t.Errorf("Status = %+v, want 2 refreshes and still one rejection", st)
			}
			if f.store.Get() != good {
				t.Error("a refresh without change replaced the snapshot")
			}

			// The layer changes again, to valid values.
			if err := f.refresh(); err != nil {
				t.Fatalf("Refresh to valid values: %v", err)
			}
			if got := f.store.Get(); got.Host != "db3" || got.Port != 5433 || got.Password.Reveal() != rfSecret2 {
				t.Errorf("Get() = %+v after a valid change", got)
			}
			st = f.store.Status()
			if !st.Healthy || st.LastError != nil || st.Changes != 1 || st.Rejected != 1 {
				t.Errorf("Status = %+v, want healthy with one change", st)
			}
			c = rfNext(t, changes)
			if c.Err != nil || c.Old != good || c.New != f.store.Get() {
				t.Errorf("next Change = %+v, want the valid change", c)
			}
		})
	}
}

func TestTransientErrorsRetryWithBackoff(t *testing.T) {
	t.Parallel()
	const (
		ttl     = time.Minute
		backoff = time.Second
	)
	transient := []error{
		&config.SourceError{Layer: "secretsmanager", Source: "app/db", Code: config.ErrTransient, Err: errors.New("503")},
		fmt.Errorf("DescribeSecret: %w", config.ErrThrottled),
	}
	var steps []refreshStep
	for i := range 8 {
		steps = append(steps, refreshStep{err: transient[i%2]})
	}
	steps = append(steps, refreshStep{vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	f := newRFFixture(t, config.Options{RefreshInterval: ttl, RetryBackoff: backoff}, steps...)
	changes, _ := rfSubscribe(t, f.store)
	good := f.store.Get()

	if wait := f.fireLoop(); !rfWithin(wait, ttl) {
		t.Fatalf("first wait %v, want the TTL", wait)
	}
	for i := 1; i <= 8; i++ {
		st := f.store.Status()
		if !st.Healthy || st.Failures != i || !config.IsTransient(st.LastError) {
			t.Fatalf("after %d transient failures Status = %+v, want healthy, %d failures, a transient LastError", i, st, i)
		}
		if f.store.Get() != good {
			t.Fatal("a failed refresh replaced the snapshot")
		}
		if c := rfNext(t, changes); !config.IsTransient(c.Err) || c.New != good {
			t.Errorf("failure %d: Change = %+v, want the transient error", i, c)
		}
		// 1s, 2s, 4s, ... until the TTL, each ±10 %.
		wait := f.loopWait()
		if want := min(backoff<<(i-1), ttl); !rfWithin(wait, want) {
			t.Fatalf("after %d transient failures the loop waits %v, want %v ±10 %%", i, wait, want)
		}
		f.fireLoop()
	}
	// The ninth attempt succeeded: the loop is back to the TTL.
	if got := f.store.Get(); got.Host != "db2" {
		t.Errorf("Host = %q after recovery, want db2", got.Host)
	}
	if st := f.store.Status(); !st.Healthy || st.LastError != nil || st.Failures != 8 || st.Changes != 1 {
		t.Errorf("Status = %+v after recovery", st)
	}
	if wait := f.loopWait(); !rfWithin(wait, ttl) {
		t.Errorf("after a success the loop waits %v, want the TTL", wait)
	}
}

func TestPermanentErrorsMarkUnhealthyAndRetryAtTTL(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	for _, code := range []error{config.ErrNotFound, config.ErrAccessDenied, config.ErrDecryption} {
		t.Run(code.Error(), func(t *testing.T) {
			t.Parallel()
			perm := &config.SourceError{Layer: "secretsmanager", Source: "app/db", Code: code,
				Message: "missing IAM permission secretsmanager:GetSecretValue"}
			f := newRFFixture(t, config.Options{RefreshInterval: ttl, RetryBackoff: time.Second},
				refreshStep{err: perm}, refreshStep{err: perm}, refreshStep{})
			good := f.store.Get()
			for i := 1; i <= 2; i++ {
				f.fireLoop()
				st := f.store.Status()
				if st.Healthy || !errors.Is(st.LastError, code) || st.Failures != i {
					t.Fatalf("after %d failures Status = %+v, want unhealthy with %v", i, st, code)
				}
				if f.store.Get() != good {
					t.Fatal("a failed refresh replaced the snapshot")
				}
				if wait := f.loopWait(); !rfWithin(wait, ttl) {
					t.Fatalf("after a permanent failure the loop waits %v, want the TTL", wait)
				}
			}
			f.fireLoop()
			if st := f.store.Status(); !st.Healthy || st.LastError != nil {
				t.Errorf("after a successful refresh Status = %+v, want healthy", st)
			}
		})
	}
}

// One permanent failure makes the store unhealthy even when another layer's
// failure in the same refresh is transient.
func TestPermanentAndTransientErrorsTogetherAreUnhealthy(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	a := refreshingLayer{&fakeLayer{name: "a", sensitive: true, vals: map[string]any{"password": rfSecret1},
		refreshes: []refreshStep{{err: fmt.Errorf("a: %w", config.ErrThrottled)}}}}
	b := refreshingLayer{&fakeLayer{name: "b", sensitive: true, vals: map[string]any{"host": "db1"},
		refreshes: []refreshStep{{err: fmt.Errorf("b: %w", config.ErrAccessDenied)}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(time.Second)
	err = s.Refresh(rfCtx(t))
	if !errors.Is(err, config.ErrAccessDenied) || !errors.Is(err, config.ErrThrottled) {
		t.Fatalf("Refresh = %v, want both failures", err)
	}
	if st := s.Status(); st.Healthy {
		t.Errorf("Status = %+v, want unhealthy after access denied", st)
	}
}

func TestMaxStalenessMakesUnhealthy(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{MaxStaleness: 10 * time.Minute},
		refreshStep{err: fmt.Errorf("GetSecretValue: %w", config.ErrTransient)}, refreshStep{})
	f.clock.Advance(10 * time.Minute)
	if st := f.store.Status(); !st.Healthy || st.Staleness != 10*time.Minute {
		t.Fatalf("at the limit Status = %+v, want healthy with 10m staleness", st)
	}
	f.clock.Advance(time.Nanosecond)
	if st := f.store.Status(); st.Healthy {
		t.Fatalf("past the limit Status = %+v, want unhealthy", st)
	}
	if err := f.refresh(); !config.IsTransient(err) {
		t.Fatalf("Refresh = %v, want the transient failure", err)
	}
	if st := f.store.Status(); st.Healthy || st.Staleness != 10*time.Minute+time.Second+time.Nanosecond {
		t.Errorf("after a failed refresh Status = %+v, want unhealthy and still stale", st)
	}
	if err := f.refresh(); err != nil {
		t.Fatal(err)
	}
	if st := f.store.Status(); !st.Healthy || st.Staleness != 0 {
		t.Errorf("after a successful refresh Status = %+v, want healthy and fresh", st)
	}
}

// Callers that arrive before a read starts share it: ten callers within the
// minimum interval of Load wait for one read, and all get its error.
func TestConcurrentRefreshesShareOne(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	fail := fmt.Errorf("GetSecretValue: %w", config.ErrTransient)
	f := newRFFixture(t, config.Options{MinRefreshInterval: time.Second},
		refreshStep{blockOn: gate, err: fail}, refreshStep{})

	const callers = 10
	errs := make(chan error, callers)
	for range callers {
		go func() { errs <- f.store.Refresh(rfCtx(t)) }()
	}
	if err := config.WaitRefreshCallers(f.ctx, f.store, callers); err != nil {
		t.Fatal(err)
	}
	if got := f.layer.Calls(); got != 0 {
		t.Fatalf("the layer was refreshed %d times within the minimum interval of Load", got)
	}
	f.clock.Advance(time.Second) // the read may start now
	close(gate)
	for range callers {
		if err := <-errs; !errors.Is(err, fail) {
			t.Errorf("Refresh = %v, want the shared refresh's error", err)
		}
	}
	if got := f.layer.Calls(); got != 1 {
		t.Errorf("the layer was refreshed %d times, want 1", got)
	}
	if st := f.store.Status(); st.Refreshes != 1 || st.Failures != 1 {
		t.Errorf("Status = %+v, want one refresh", st)
	}
}

// The loop's turn coming while a forced refresh is in flight waits for that
// refresh instead of starting another.
func TestLoopJoinsRefreshInFlight(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	f := newRFFixture(t, config.Options{}, refreshStep{blockOn: gate, vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	entered := f.entered()
	wait := f.loopWait()
	f.clock.Advance(time.Second) // past the minimum interval since Load
	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(f.ctx) }()
	rfRecv(t, entered, "the layer is refreshing")
	f.clock.Advance(wait - time.Second) // the loop's turn
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w := f.loopWait(); !rfWithin(w, time.Hour) {
		t.Errorf("after the shared refresh the loop waits %v, want the TTL", w)
	}
	if got := f.layer.Calls(); got != 1 {
		t.Errorf("the layer was refreshed %d times, want 1", got)
	}
	if st := f.store.Status(); st.Refreshes != 1 || st.Changes != 1 {
		t.Errorf("Status = %+v, want one refresh with one change", st)
	}
}

// A Refresh that finds a read in flight, which started before it was called
// and may have missed the change it looks for, waits for the next read.
func TestRefreshWaitsForAReadThatStartsAfterIt(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	f := newRFFixture(t, config.Options{MinRefreshInterval: time.Second},
		refreshStep{blockOn: gate}, refreshStep{vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	entered := f.entered()
	f.clock.Advance(time.Second)
	first := make(chan error, 1)
	go func() { first <- f.store.Refresh(f.ctx) }()
	rfRecv(t, entered, "the first read started")

	second := make(chan error, 1)
	go func() { second <- f.store.Refresh(f.ctx) }()
	if err := config.WaitRefreshCallers(f.ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second:
		t.Fatalf("Refresh returned %v with a read that started before it was called", err)
	default:
	}
	if f.store.Get().Host != "db1" || f.layer.Calls() != 1 {
		t.Fatalf("a second read ran within the minimum interval")
	}
	f.clock.Advance(time.Second) // a second after the first read started
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if got := f.store.Get().Host; got != "db2" || f.layer.Calls() != 2 {
		t.Errorf("after Refresh Host = %q with %d reads, want db2 from a second read", got, f.layer.Calls())
	}
}

// The read a Refresh waits for starts no earlier than the minimum interval
// after the previous one, so Refresh right after Load waits rather than
// returning what Load read.
func TestRefreshMinInterval(t *testing.T) {
	t.Parallel()
	fail := fmt.Errorf("GetSecretValue: %w", config.ErrThrottled)
	f := newRFFixture(t, config.Options{MinRefreshInterval: 10 * time.Second},
		refreshStep{err: fail}, refreshStep{vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	ctx := rfCtx(t)

	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(ctx) }()
	if err := config.WaitRefreshCallers(ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10*time.Second - time.Nanosecond)
	if f.layer.Calls() != 0 {
		t.Fatal("a read started within the minimum interval of Load")
	}
	f.clock.Advance(time.Nanosecond)
	if err := <-done; !errors.Is(err, fail) || f.layer.Calls() != 1 {
		t.Fatalf("Refresh = %v with %d layer calls, want the failure and 1", err, f.layer.Calls())
	}
	f.clock.Advance(9 * time.Second)
	go func() { done <- f.store.Refresh(ctx) }()
	if err := config.WaitRefreshCallers(ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	if st := f.store.Status(); st.Refreshes != 1 || f.layer.Calls() != 1 {
		t.Errorf("Status.Refreshes = %d with %d layer calls within the interval, want 1", st.Refreshes, f.layer.Calls())
	}
	f.clock.Advance(time.Second)
	if err := <-done; err != nil || f.layer.Calls() != 2 {
		t.Fatalf("Refresh after the interval = %v with %d layer calls, want nil and 2", err, f.layer.Calls())
	}
	if f.store.Get().Host != "db2" {
		t.Error("Refresh did not publish the change")
	}
}

func TestRefreshAfterClose(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{}, refreshStep{vals: rfVals("db2", "5432", rfSecret2)})
	last := f.store.Get()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := f.refresh(); !errors.Is(err, config.ErrClosed) {
		t.Errorf("Refresh after Close = %v, want ErrClosed", err)
	}
	f.clock.Advance(24 * time.Hour)
	if f.store.Get() != last || f.layer.Calls() != 0 {
		t.Error("the store refreshed after Close")
	}
	unsubscribe := f.store.Subscribe(func(config.Change[rfConfig]) { t.Error("a subscriber was called after Close") })
	unsubscribe()
}

func TestRefreshContextEndsEarly(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	f := newRFFixture(t, config.Options{},
		refreshStep{blockOn: gate, vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	changes, _ := rfSubscribe(t, f.store)
	f.clock.Advance(time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(ctx) }()
	rfRecv(t, f.entered(), "the layer is refreshing")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Refresh = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Refresh did not return when its context ended")
	}
	if f.store.Get().Host != "db1" {
		t.Fatal("the change was published before the layer returned")
	}
	close(gate)
	if c := rfNext(t, changes); c.New.Host != "db2" || f.store.Get().Host != "db2" {
		t.Fatalf("Change to %q, want the refresh to complete with db2", c.New.Host)
	}
	if st := f.store.Status(); st.Changes != 1 || !st.Healthy {
		t.Errorf("Status = %+v, want the change published", st)
	}
}

// Not parallel: it counts goroutines.
func TestLazyRevalidate(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	gate := make(chan struct{})
	const ttl = time.Hour
	f := newRFFixture(t, config.Options{Lazy: true, RefreshInterval: ttl, MinRefreshInterval: time.Second},
		refreshStep{blockOn: gate, vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	goleak.VerifyNone(t, ignore) // Load started no goroutine
	if n := f.clock.Waiters(); n != 0 {
		t.Errorf("a lazy store waits on the clock (%d waiters)", n)
	}

	changes, unsubscribe := rfSubscribe(t, f.store)
	f.clock.Advance(ttl - ttl/10 - time.Nanosecond)
	old := f.store.Get()
	if f.layer.Calls() != 0 || f.store.Status().Refreshes != 0 {
		t.Fatal("a Get before the TTL -10 % started a refresh")
	}

	f.clock.Advance(ttl/5 + time.Nanosecond) // past the TTL +10 %
	// The layer blocks until the gate opens, so Get returning at all shows it
	// does not wait for the refresh.
	if got := f.store.Get(); got != old {
		t.Fatal("Get after the TTL did not return the current snapshot")
	}
	rfRecv(t, f.entered(), "the background refresh starts")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if f.store.Get() != old {
					t.Error("Get returned a new snapshot before the refresh ended")
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(f.enter); n != 0 || f.store.Status().Refreshes != 1 {
		t.Errorf("%d more layer refreshes and %d attempts while one was in flight, want 0 and 1", n, f.store.Status().Refreshes)
	}

	close(gate)
	if c := rfNext(t, changes); c.New.Host != "db2" || f.store.Get().Host != "db2" {
		t.Fatalf("Change to %q, want a Get to see db2", c.New.Host)
	}
	f.clock.Advance(ttl - ttl/10 - time.Nanosecond)
	f.store.Get()
	if f.layer.Calls() != 1 || f.store.Status().Refreshes != 1 {
		t.Errorf("a Get within the TTL of the refresh started another")
	}
	unsubscribe()
	f.store.Close()
	goleak.VerifyNone(t, ignore)
}

// Many Gets that find the snapshot stale at once start one refresh.
func TestLazyConcurrentGetsStartOneRefresh(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	for round := range 20 {
		f := newRFFixture(t, config.Options{Lazy: true, RefreshInterval: ttl, MinRefreshInterval: time.Second}, refreshStep{})
		f.clock.Advance(ttl + ttl/10)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 50 {
					f.store.Get()
				}
			}()
		}
		close(start)
		wg.Wait()
		// Every Get has returned, so every refresh that will start has started.
		if got := f.store.Status().Refreshes; got != 1 {
			t.Fatalf("round %d: %d refreshes started, want 1", round, got)
		}
		rfRecv(t, f.entered(), "the refresh starts")
		f.store.Close()
		if got := f.layer.Calls(); got != 1 {
			t.Fatalf("round %d: the layer was refreshed %d times, want 1", round, got)
		}
	}
}

// Not parallel: it checks for leaked goroutines.
//
// The changes that come while the slow subscriber is busy reach it merged,
// in one call.
func TestSlowSubscriber(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var steps []refreshStep
	for port := 1; port <= 4; port++ {
		steps = append(steps, refreshStep{vals: rfVals("db1", strconv.Itoa(port), rfSecret1)})
	}
	f := newRFFixture(t, config.Options{}, append(steps, refreshStep{})...)

	block := make(chan struct{})
	slow := make(chan config.Change[rfConfig], 10)
	f.store.Subscribe(func(c config.Change[rfConfig]) {
		slow <- c
		<-block
	})
	fast, unsubscribeFast := rfSubscribe(t, f.store)

	for port := 1; port <= 3; port++ {
		// rfCtx bounds Refresh: a Refresh held up by the slow subscriber fails.
		if err := f.refresh(); err != nil {
			t.Fatalf("Refresh %d: %v", port, err)
		}
		if got := f.store.Get().Port; got != port {
			t.Fatalf("Get().Port = %d, want %d", got, port)
		}
		if c := rfNext(t, fast); c.New.Port != port {
			t.Fatalf("the fast subscriber received port %d, want %d", c.New.Port, port)
		}
		if port == 1 { // the slow subscriber is in its first call from now on
			if c := rfNext(t, slow); c.New.Port != 1 {
				t.Fatalf("the slow subscriber received port %d first, want 1", c.New.Port)
			}
		}
	}

	unsubscribeFast()
	late, _ := rfSubscribe(t, f.store)
	if err := f.refresh(); err != nil {
		t.Fatal(err)
	}
	if c := rfNext(t, late); c.New.Port != 4 {
		t.Fatalf("the new subscriber received port %d, want 4", c.New.Port)
	}
	if len(fast) != 0 {
		t.Errorf("an unsubscribed subscriber received %d more changes", len(fast))
	}

	// Close waits for the slow subscriber's call to return, then delivers it
	// nothing more.
	// A Refresh waiting for the next read (the clock stands still within the
	// minimum interval) returns ErrClosed once Close has begun.
	waiting := make(chan error, 1)
	go func() { waiting <- f.store.Refresh(t.Context()) }()
	if err := config.WaitRefreshCallers(f.ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		f.store.Close()
		close(closed)
	}()
	if err := rfRecv(t, waiting, "Close begins"); !errors.Is(err, config.ErrClosed) {
		t.Fatalf("a waiting Refresh returned %v on Close, want ErrClosed", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a subscriber was still running")
	default:
	}
	close(block)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the subscriber did")
	}
	if len(slow) != 0 {
		t.Errorf("the slow subscriber received %d changes after Close", len(slow))
	}
	goleak.VerifyNone(t, ignore)
}

// Not parallel: it checks for leaked goroutines.
func TestCloseWaitsForInFlightRefresh(t *testing.T) {
	for _, via := range []string{"loop", "Refresh"} {
		t.Run(via, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			gate := make(chan struct{}) // never opened: only Close ends the refresh
			f := newRFFixture(t, config.Options{}, refreshStep{blockOn: gate, vals: rfVals("db2", "5432", rfSecret2)})
			refreshErr := make(chan error, 1)
			if via == "loop" {
				f.clock.Advance(f.loopWait())
			} else {
				f.clock.Advance(time.Second)
				go func() { refreshErr <- f.store.Refresh(t.Context()) }()
			}
			rfRecv(t, f.entered(), "the layer is refreshing")

			if err := f.store.Close(); err != nil {
				t.Fatal(err)
			}
			// Close returned, so the refresh has ended; being cut short by Close
			// is not a failure of the source and is not recorded as one.
			st := f.store.Status()
			if st.Failures != 0 || st.LastError != nil || !st.Healthy {
				t.Errorf("Status after Close = %+v, want the closed refresh not counted as a failure", st)
			}
			if f.store.Get().Host != "db1" {
				t.Error("a cancelled refresh published a change")
			}
			if via == "Refresh" {
				select {
				case err := <-refreshErr:
					if !errors.Is(err, config.ErrClosed) {
						t.Errorf("Refresh = %v, want ErrClosed", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Refresh did not return after Close")
				}
			}
			goleak.VerifyNone(t, ignore)
		})
	}
}

type rfCreds struct {
	User     string
	Password config.Secret
}

// rfCredsLayer returns a layer whose n-th refresh publishes user-n and
// password-n, which always change together.
func rfCredsLayer() *seqLayer {
	return &seqLayer{name: "secretsmanager",
		initial: map[string]any{"user": "user-0", "password": "password-0"},
		next: func(n int64) (map[string]any, error) {
			v := strconv.FormatInt(n, 10)
			return map[string]any{"user": "user-" + v, "password": "password-" + v}, nil
		},
	}
}

func TestNoTornReads(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	layer := rfCredsLayer()
	s, err := config.Load[rfCreds](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: 1000 * time.Hour, MinRefreshInterval: time.Nanosecond}, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const (
		readers   = 8
		minReads  = 1000
		refreshes = 300
		overlaps  = 5 // swaps that the writer holds back until a reader saw the version before
	)
	var writerDone atomic.Bool
	var torn atomic.Int64
	seen := make(chan int, readers*(refreshes+1)) // each reader sends each version it sees once
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for i := 0; i < minReads || !writerDone.Load(); i++ {
				c := s.Get()
				user := strings.TrimPrefix(c.User, "user-")
				if pass := strings.TrimPrefix(c.Password.Reveal(), "password-"); user != pass {
					torn.Add(1)
				}
				if v, _ := strconv.Atoi(user); v != last {
					seen <- v
					last = v
				}
			}
		}()
	}
	ctx := rfCtx(t)
	// waitSeen waits until a reader reports version k, so the next swap
	// happens while readers read: reads overlap swaps without relying on
	// scheduling.
	waitSeen := func(k int) {
		for {
			select {
			case v := <-seen:
				if v >= k {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no reader saw version %d", k)
			}
		}
	}
	for k := range refreshes {
		if k < overlaps {
			waitSeen(k)
		}
		clock.Advance(time.Millisecond)
		if err := s.Refresh(ctx); err != nil {
			t.Error(err)
			break
		}
	}
	writerDone.Store(true)
	wg.Wait()
	if n := torn.Load(); n != 0 {
		t.Errorf("%d torn reads: a user and a password of different versions", n)
	}
	if got := s.Get().User; got != "user-"+strconv.Itoa(refreshes) {
		t.Errorf("User = %q after %d refreshes", got, refreshes)
	}
}

// Not parallel: it measures the heap and counts goroutines.
func TestRefreshSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	ignore := goleak.IgnoreCurrent()
	clock := configtest.NewClock(rfEpoch)
	layer := rfCredsLayer()
	next := layer.next
	var notices atomic.Int64 // changes and failures, which subscribers are told of
	layer.next = func(n int64) (map[string]any, error) {
		if n%4 == 1 {
			return nil, nil // no change
		}
		notices.Add(1)
		if n%4 == 2 {
			return nil, fmt.Errorf("GetSecretValue: %w", config.ErrTransient)
		}
		return next(n)
	}
	const ttl = time.Hour
	s, err := config.Load[rfCreds](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: ttl, MinRefreshInterval: time.Nanosecond}, layer)
	if err != nil {
		t.Fatal(err)
	}
	var events atomic.Int64
	s.Subscribe(func(config.Change[rfCreds]) { events.Add(1) })
	// The goroutines a settled store keeps: the loop and the subscriber.
	keep := []goleak.Option{ignore, goleak.IgnoreTopFunction("github.com/strata-go/strata/config.(*Store[...]).loop"),
		goleak.IgnoreTopFunction("github.com/strata-go/strata/config.(*Store[...]).deliver")}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// Half the cycles are forced refreshes, half are the loop's, fired by the clock.
	cycle := func(i int) {
		if i%2 == 0 {
			clock.Advance(time.Nanosecond)
			if err := s.Refresh(ctx); err != nil && !config.IsTransient(err) {
				t.Fatalf("cycle %d: %v", i, err)
			}
			return
		}
		// After a forced refresh the loop's timer may fire early: it then
		// waits again, for the time the schedule moved to.
		for calls := layer.calls.Load(); layer.calls.Load() == calls; {
			rfFireLoop(t, ctx, clock)
		}
	}
	// settle waits until the goroutines of finished refreshes have exited,
	// then returns the live heap and the goroutine count.
	settle := func() (heap uint64, goroutines int) {
		if err := goleak.Find(keep...); err != nil {
			t.Fatalf("goroutines left besides the loop and the subscriber: %v", err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, runtime.NumGoroutine()
	}

	for i := range 1000 {
		cycle(i)
	}
	heap0, goroutines0 := settle()
	start := time.Now()
	const cycles = 10_000
	for i := range cycles {
		cycle(i)
	}
	elapsed := time.Since(start)
	heap1, goroutines1 := settle()

	if n := events.Load(); n == 0 || n > notices.Load() {
		t.Errorf("the subscriber was called %d times for %d changes and failures", n, notices.Load())
	}
	if got := layer.calls.Load(); got != 11_000 {
		t.Errorf("%d layer refreshes, want 11000", got)
	}
	if goroutines1 > goroutines0 {
		t.Errorf("goroutines grew from %d to %d over %d refreshes", goroutines0, goroutines1, cycles)
	}
	const slack = 1 << 20
	if heap1 > heap0+slack {
		t.Errorf("live heap grew from %d to %d bytes over %d refreshes", heap0, heap1, cycles)
	}
	t.Logf("%d refreshes in %v; live heap %d -> %d bytes; goroutines %d -> %d", cycles, elapsed, heap0, heap1, goroutines0, goroutines1)
	if st := s.Status(); st.Refreshes != 11_000 {
		t.Errorf("Status.Refreshes = %d, want 11000", st.Refreshes)
	}
	s.Close()
	goleak.VerifyNone(t, ignore)
}
