package config_test

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// attemptTimes runs a store with a 5 minute TTL and the default backoff and
// minimum interval for span of fake time, its layer failing transiently when
// fail is set, and returns when each refresh started, since Load.
func attemptTimes(t *testing.T, span time.Duration, fail bool) []time.Duration {
	t.Helper()
	clock := configtest.NewClock(rfEpoch)
	var mu sync.Mutex
	var at []time.Duration
	layer := &seqLayer{name: "secretsmanager", initial: map[string]any{"host": "db1", "password": rfSecret1},
		next: func(int64) (map[string]any, error) {
			mu.Lock()
			at = append(at, clock.Now().Sub(rfEpoch))
			mu.Unlock()
			if fail {
				return nil, &config.SourceError{Layer: "secretsmanager", Source: "app/db", Code: config.ErrTransient, Err: errors.New("503")}
			}
			return nil, nil
		}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: 5 * time.Minute}, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := rfCtx(t)
	for clock.Now().Sub(rfEpoch) < span {
		rfFireLoop(t, ctx, clock)
	}
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(at)
}

// countIn counts the times in (from, to].
func countIn(times []time.Duration, from, to time.Duration) int {
	n := 0
	for _, d := range times {
		if d > from && d <= to {
			n++
		}
	}
	return n
}

// A day-long outage costs about as many attempts as a healthy day: retries
// come quickly at first (a blip passes soon), then at the TTL.
func TestOutageAttemptRateStaysNearHealthy(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	healthy := attemptTimes(t, day+time.Hour, false)
	outage := attemptTimes(t, day+time.Hour, true)
	start := outage[0] // the outage is seen at the first check
	span := [2]time.Duration{start + time.Minute, start + day}
	h, o := countIn(healthy, span[0], span[1]), countIn(outage, span[0], span[1])
	t.Logf("attempts over a day after the first minute: healthy %d, outage %d (%.2fx)", h, o, float64(o)/float64(h))
	if h < 260 || h > 320 {
		t.Fatalf("%d healthy attempts in a day with a 5 minute TTL, want about 288", h)
	}
	if float64(o) > 1.2*float64(h) {
		t.Errorf("%d attempts in a day of outage, %d healthy: more than 1.2x", o, h)
	}
	// Early retries are quick: the minimum interval (5 s), then doubling.
	if len(outage) < 4 || outage[1]-outage[0] > 6*time.Second || outage[3]-outage[0] > time.Minute {
		t.Errorf("first retries at %v after the first failure, want quick retries", outage[1:4])
	}
}

// A Refresh that fails transiently makes the loop retry with backoff, and a
// loop turn right after a Refresh does not read again within the minimum
// interval: the loop and Refresh share one schedule.
func TestRefreshAndLoopShareTheSchedule(t *testing.T) {
	t.Parallel()
	fail := fmt.Errorf("GetSecretValue: %w", config.ErrTransient)
	f := newRFFixture(t, config.Options{MinRefreshInterval: 10 * time.Second, RetryBackoff: 20 * time.Second},
		refreshStep{}, refreshStep{err: fail}, refreshStep{})
	wait := f.loopWait()
	f.clock.Advance(wait - time.Second)
	if err := f.store.Refresh(f.ctx); err != nil { // a read one second before the loop's turn
		t.Fatal(err)
	}
	f.clock.Advance(time.Second) // the loop's old turn
	// The next read is the TTL ±10 % after the Refresh's, a second ago.
	if w := f.loopWait() + time.Second; !rfWithin(w, time.Hour) || f.layer.Calls() != 1 {
		t.Fatalf("after a Refresh the loop waits %v with %d reads, want the TTL and 1", w, f.layer.Calls())
	}
	f.clock.Advance(10 * time.Second)
	if err := f.store.Refresh(f.ctx); !errors.Is(err, fail) {
		t.Fatalf("Refresh = %v, want the failure", err)
	}
	if w := f.loopWait(); !rfWithin(w, 20*time.Second) {
		t.Fatalf("after a failed Refresh the loop waits %v, want the backoff 20s ±10 %%", w)
	}
	f.fireLoop()
	if st := f.store.Status(); f.layer.Calls() != 3 || !st.Healthy || st.Failures != 1 || st.LastError != nil {
		t.Errorf("after the retry: %d reads, Status %+v", f.layer.Calls(), st)
	}
}

// A Refresh right after Load reads again once the minimum interval has
// passed, and sees a change made after Load: "refresh after a failed login"
// gets the new password.
func TestRefreshRightAfterLoadSeesAChange(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{RefreshInterval: 5 * time.Minute, MinRefreshInterval: -1})
	f.layer.push(refreshStep{vals: rfVals("db1", "5432", rfSecret2)}) // rotated just after Load
	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(f.ctx) }()
	if err := config.WaitRefreshCallers(f.ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Second) // the default minimum interval
	if err := rfRecv(t, done, "Refresh returns"); err != nil {
		t.Fatal(err)
	}
	if got := f.store.Get().Password.Reveal(); got != rfSecret2 {
		t.Error("Refresh right after Load returned without the rotated password")
	}
}

// The default minimum interval never exceeds the TTL; an explicit one above
// an explicit TTL is an error naming both.
func TestMinRefreshIntervalAndTTL(t *testing.T) {
	t.Parallel()
	f := newRFFixture(t, config.Options{RefreshInterval: 100 * time.Millisecond, MinRefreshInterval: -1})
	done := make(chan error, 1)
	go func() { done <- f.store.Refresh(f.ctx) }()
	if err := config.WaitRefreshCallers(f.ctx, f.store, 1); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(100 * time.Millisecond)
	if err := rfRecv(t, done, "Refresh returns a TTL after Load"); err != nil || f.layer.Calls() != 1 {
		t.Fatalf("Refresh = %v with %d reads", err, f.layer.Calls())
	}

	_, err := config.Load[rfConfig](t.Context(), &config.Options{RefreshInterval: time.Second,
		MinRefreshInterval: 10 * time.Second}, refreshingLayer{&fakeLayer{name: "sm", sensitive: true, vals: rfVals("db1", "1", rfSecret1)}})
	if !errors.Is(err, config.ErrOptions) || !strings.Contains(err.Error(), "MinRefreshInterval") ||
		!strings.Contains(err.Error(), "RefreshInterval (1s)") {
		t.Errorf("Load = %v, want ErrOptions naming both options", err)
	}
}

// Events that come while a subscriber is busy reach it as one: the first
// Old, the last New and Err, every key.
func TestQueuedChangesMerge(t *testing.T) {
	t.Parallel()
	fail := fmt.Errorf("GetSecretValue: %w", config.ErrTransient)
	f := newRFFixture(t, config.Options{},
		refreshStep{vals: rfVals("db1", "1", rfSecret1)}, refreshStep{vals: rfVals("db2", "2", rfSecret1)},
		refreshStep{vals: rfVals("db2", "3", rfSecret2)}, refreshStep{err: fail}, refreshStep{})
	block := make(chan struct{})
	got := make(chan config.Change[rfConfig], 10)
	f.store.Subscribe(func(c config.Change[rfConfig]) {
		got <- c
		<-block
	})
	if err := f.refresh(); err != nil {
		t.Fatal(err)
	}
	first := rfRecv(t, got, "the first change")
	for range 2 {
		if err := f.refresh(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.refresh(); !errors.Is(err, fail) {
		t.Fatal(err)
	}
	close(block)
	c := rfRecv(t, got, "the merged change")
	if c.Old != first.New || c.Old.Port != 1 || c.New.Port != 3 || c.New != f.store.Get() {
		t.Errorf("merged change from port %d to %d, want from the first change's New to the last", c.Old.Port, c.New.Port)
	}
	if !slices.Equal(c.Keys, []string{"host", "port", "password"}) || !errors.Is(c.Err, fail) {
		t.Errorf("merged change Keys %v Err %v, want every key and the last error", c.Keys, c.Err)
	}
	f.store.Close()
	if len(got) != 0 {
		t.Errorf("%d more events, want the three merged into one", len(got))
	}
}

// A subscriber may call Close: Close returns, and no goroutine is left.
// Not parallel: it checks for leaked goroutines.
func TestCloseFromASubscriber(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := newRFFixture(t, config.Options{}, refreshStep{vals: rfVals("db2", "5432", rfSecret2)}, refreshStep{})
	closed := make(chan error, 1)
	f.store.Subscribe(func(config.Change[rfConfig]) { closed <- f.store.Close() })
	other := make(chan struct{})
	f.store.Subscribe(func(config.Change[rfConfig]) { close(other) })
	if err := f.refresh(); err != nil {
		t.Fatal(err)
	}
	if err := rfRecv(t, closed, "Close called by a subscriber returns"); err != nil {
		t.Fatal(err)
	}
	if err := f.refresh(); !errors.Is(err, config.ErrClosed) {
		t.Errorf("Refresh after Close = %v", err)
	}
	goleak.VerifyNone(t, ignore)
}

// One validator shared by stores, one loading while another refreshes, is
// never modified, so the race detector finds nothing; custom rules and
// Strata's types work on it.
func TestStoresShareAValidator(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"NewValidator", "validator.New"} {
		t.Run(name, func(t *testing.T) {
			v := config.NewValidator()
			if name == "validator.New" {
				v = validator.New()
			}
			if err := v.RegisterValidation("dbhost", func(fl validator.FieldLevel) bool {
				return strings.HasPrefix(fl.Field().String(), "db")
			}); err != nil {
				t.Fatal(err)
			}
			type cfg struct {
				Host     string        `validate:"dbhost"`
				Password config.Secret `validate:"required,min=8"`
			}
			clock := configtest.NewClock(rfEpoch)
			opts := &config.Options{Clock: clock, Logger: discard(), Validator: v, RefreshInterval: time.Hour, MinRefreshInterval: time.Nanosecond}
			layer := &seqLayer{name: "secretsmanager", initial: map[string]any{"host": "db1", "password": rfSecret1},
				next: func(n int64) (map[string]any, error) {
					return map[string]any{"host": fmt.Sprintf("db%d", n), "password": rfSecret1}, nil
				}}
			s, err := config.Load[cfg](t.Context(), opts, layer)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range 50 {
					clock.Advance(time.Nanosecond)
					if err := s.Refresh(t.Context()); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for range 10 {
				bad := config.StaticSecrets("sm", map[string]string{"host": "web1", "password": "short"})
				_, err := config.Load[cfg](t.Context(), opts, bad)
				var rules []string
				for _, e := range err.(*config.AggregateError).Errs {
					if fe, ok := e.(*config.FieldError); ok {
						rules = append(rules, fe.Key+" "+fe.Rule)
					}
				}
				slices.Sort(rules)
				if !slices.Equal(rules, []string{"host dbhost", "password min"}) || strings.Contains(err.Error(), "short") {
					t.Fatalf("Load = %v (rules %v), want the custom rule and min=8 to fail, by key", err, rules)
				}
			}
			<-done
		})
	}
}

// Warnings that come with a refreshed layer's new values are logged once
// with each change (not on refreshes that find nothing new), shown in Status
// and given to subscribers.
func TestRotationWarnings(t *testing.T) {
	t.Parallel()
	warn := &config.UnknownNameError{Name: "database.pasword", Suggestion: "password", Source: config.Source{Layer: "secretsmanager"}}
	f := newRFFixture(t, config.Options{},
		refreshStep{vals: rfVals("db2", "5432", rfSecret1), err: warn}, refreshStep{vals: rfVals("db3", "5432", rfSecret1), err: warn}, refreshStep{})
	changes, _ := rfSubscribe(t, f.store)
	for i := range 2 {
		if err := f.refresh(); err != nil {
			t.Fatal(err)
		}
		c := rfNext(t, changes)
		if c.Err != nil || len(c.Warnings) != 1 || !errors.Is(c.Warnings[0], config.ErrUnknownName) {
			t.Errorf("change %d: Err %v Warnings %v, want the unknown name", i, c.Err, c.Warnings)
		}
	}
	for range 2 { // nothing new: nothing more logged
		if err := f.refresh(); err != nil {
			t.Fatal(err)
		}
	}
	st := f.store.Status()
	if len(st.Warnings) != 1 || !errors.Is(st.Warnings[0], config.ErrUnknownName) {
		t.Errorf("Status.Warnings = %v, want the unknown name", st.Warnings)
	}
	if n := strings.Count(f.logs.String(), "database.pasword"); n != 2 {
		t.Errorf("the warning was logged %d times over two changes and two refreshes, want once per change:\n%s", n, f.logs)
	}
}

// racingClock is a fake clock that a test advances, on another goroutine,
// just as the store sets a timer: between the store's reading of the time
// and its call of After or At.
type racingClock struct {
	*configtest.Clock
	by time.Duration
}

func (c racingClock) After(d time.Duration) <-chan time.Time {
	c.Advance(c.by)
	return c.Clock.After(d)
}

func (c racingClock) At(t time.Time) <-chan time.Time {
	c.Advance(c.by)
	return c.Clock.At(t)
}

// A timer fires when the schedule says, even if the clock moved on while the
// store was setting it: the store gives a clock that can take one the
// deadline, not a duration from a time already past.
func TestTimerIsNotLateWhenTheClockMoves(t *testing.T) {
	ctx := rfCtx(t)
	clock := racingClock{configtest.NewClock(rfEpoch), 2 * time.Minute}
	l := refreshingLayer{&fakeLayer{name: "db", sensitive: true, vals: map[string]any{"password": rfSecret1}}}
	s, err := config.Load[rfConfig](ctx, &config.Options{Clock: clock, RefreshInterval: 5 * time.Minute,
		Logger: slog.New(slog.DiscardHandler)}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The first read is due 5 minutes ±10 % after Load; a timer set as a
	// duration after the clock moved 2 minutes would fire 2 minutes late.
	if next, _ := clock.Next(); next.Sub(rfEpoch) > 5*time.Minute+30*time.Second {
		t.Errorf("the first read's timer fires %v after Load, want at most 5m30s", next.Sub(rfEpoch))
	}
}
