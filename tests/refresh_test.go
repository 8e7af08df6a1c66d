package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"go.uber.org/goleak"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// TestMain fails the package if any goroutine outlives the tests, besides the
// ones kumo keeps for the life of the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, emu.LeakOptions()...)
}

// rfWait bounds every wait for background work (a refresh, a subscriber).
const rfWait = 5 * time.Second

// rfTTL is the RefreshInterval of the stores under test; rfJitteredTTL is the
// longest wait the loop may pick (TTL + 10 %), so advancing the fake clock by
// it always fires the loop.
const (
	rfTTL         = time.Minute
	rfJitteredTTL = rfTTL + rfTTL/10
)

// rfMinInterval is the MinRefreshInterval of the stores under test;
// rfStep moves the fake clock past it, so that every Refresh calls the API.
const (
	rfMinInterval = time.Second
	rfStep        = rfMinInterval + time.Millisecond
)

// rfConfig is the configuration the refresh tests load. Its password must be
// at least 12 characters, so a rotation to a shorter one is rejected.
type rfConfig struct {
	Server struct {
		Addr string `default:":8080" validate:"required"`
	}
	Database struct {
		Host     string        `validate:"required"`
		User     string        `validate:"required"`
		Password config.Secret `validate:"required,min=12"`
	}
	Payments struct {
		StripeKey config.Secret
	}
	Cache struct {
		Token config.Secret
	}
}

// rfEnv is one emulator behind one fault proxy that answers
// BatchGetSecretValue. direct reaches the emulator without the proxy, to set
// up and rotate secrets without touching the proxy's counts.
type rfEnv struct {
	proxy  *faultproxy.Proxy
	direct *sm.Client
	cfg    aws.Config
}

func newRFEnv(tb testing.TB) *rfEnv {
	tb.Helper()
	url := emu.Start(tb)
	p, err := faultproxy.New(url, faultproxy.Options{BatchShim: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return &rfEnv{proxy: p, direct: emu.Client(url), cfg: emu.AWSConfig(p.URL())}
}

// rfDB is the JSON value of a database secret.
func rfDB(user, password string) string {
	b, err := json.Marshal(map[string]string{"host": "db.internal", "user": user, "password": password})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// rfSecrets are the secrets of one store: a JSON database secret and two
// plain string secrets.
type rfSecrets struct {
	db, stripe, cache string
}

func (e *rfEnv) createSecrets(tb testing.TB, password string) rfSecrets {
	tb.Helper()
	s := rfSecrets{
		db:     emu.UniqueName(tb, "database"),
		stripe: emu.UniqueName(tb, "stripe"),
		cache:  emu.UniqueName(tb, "cache"),
	}
	emu.CreateString(tb, e.direct, s.db, rfDB("app", password))
	emu.CreateString(tb, e.direct, s.stripe, "sk_live_stripe-key-1")
	emu.CreateString(tb, e.direct, s.cache, "cache-token-1")
	return s
}

func (s rfSecrets) sources() []secretsmanager.Spec {
	return []secretsmanager.Spec{
		secretsmanager.JSON(s.db, "database", nil),
		secretsmanager.String(s.stripe, "payments.stripe_key", nil),
		secretsmanager.String(s.cache, "cache.token", nil),
	}
}

// rfStore loads an rfConfig store over layer with a fake clock. opts may
// set Lazy and Logger; the TTL and minimum interval are the tests' own.
func rfStore(tb testing.TB, layer config.Layer, clock *configtest.Clock, opts config.Options) *config.Store[rfConfig] {
	tb.Helper()
	opts.Clock = clock
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = rfTTL
	}
	opts.MinRefreshInterval = rfMinInterval
	if opts.RetryBackoff == 0 {
		// The first retry after a failure comes well after rfStep, so the
		// loop does not start a read of its own while a test's Refresh runs
		// (Refresh would then wait for a later read, on a clock that only
		// the test moves).
		opts.RetryBackoff = rfTTL / 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	store, err := config.Load[rfConfig](ctx, &opts, layer)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	return store
}

func rfClock() *configtest.Clock {
	return configtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

// rfSubscribe delivers every Change of store on the returned channel.
func rfSubscribe(tb testing.TB, store *config.Store[rfConfig]) <-chan config.Change[rfConfig] {
	tb.Helper()
	ch := make(chan config.Change[rfConfig], 64)
	stop := store.Subscribe(func(c config.Change[rfConfig]) { ch <- c })
	tb.Cleanup(stop)
	return ch
}

func rfNextChange(t *testing.T, ch <-chan config.Change[rfConfig]) config.Change[rfConfig] {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(rfWait):
		t.Fatalf("no Change within %v", rfWait)
		return config.Change[rfConfig]{}
	}
}

// rfNoChange fails if a Change is waiting on ch.
func rfNoChange(t *testing.T, ch <-chan config.Change[rfConfig]) {
	t.Helper()
	select {
	case c := <-ch:
		t.Fatalf("unexpected Change: keys %v, err %v", c.Keys, c.Err)
	default:
	}
}

func rfBlockUntilWaiting(t *testing.T, clock *configtest.Clock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	if err := clock.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatalf("the refresh loop did not wait on the clock within %v: %v", rfWait, err)
	}
}

func rfRefresh(t *testing.T, store *config.Store[rfConfig], clock *configtest.Clock) error {
	t.Helper()
	clock.Advance(rfStep)
	ctx, cancel := context.WithTimeout(context.Background(), rfWait)
	defer cancel()
	return store.Refresh(ctx)
}

// debugLogger logs everything, debug lines included, to w.
func debugLogger(w *configtest.LogBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRefreshRotationWithinOneTTL drives the store's own loop with the fake
// clock: one TTL with no change costs one DescribeSecret per secret and
// publishes nothing; one TTL after a rotation the new password is served, the
// subscriber is told which key changed, provenance shows the new version, and
// the changed secret cost exactly one GetSecretValue.
func TestRefreshRotationWithinOneTTL(t *testing.T) {
	t.Parallel()
	e := newRFEnv(t)
	s := e.createSecrets(t, "first-password-0001")
	layer := secretsmanager.New(e.cfg, nil, s.sources()...)
	clock := rfClock()
	store := rfStore(t, layer, clock, config.Options{})
	changes := rfSubscribe(t, store)
	if got := store.Get().Database.Password.Reveal(); got != "first-password-0001" {
		t.Fatalf("loaded password has %d bytes, want the first one", len(got))
	}
	loadedVersion := storeVersions(store.Status())[s.db]

	// One TTL with no change.
	rfBlockUntilWaiting(t, clock)
	e.proxy.ResetCalls()
	before := store.Get()
	clock.Advance(rfJitteredTTL)
	rfBlockUntilWaiting(t, clock)
	if d, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls(""); d != 3 || all != 3 {
		t.Errorf("no-change refresh: %d DescribeSecret of %d calls, want 3 of 3", d, all)
	}
	st := store.Status()
	if st.Refreshes != 1 || st.Changes != 0 || !st.Healthy || st.LastError != nil || !st.LastSuccess.Equal(clock.Now()) {
		t.Errorf("after a no-change refresh: %+v", st)
	}
	if store.Get() != before {
		t.Error("a refresh that found no change published a new snapshot")
	}
	rfNoChange(t, changes)

	// A rotation is served one TTL later.
	newVersion := emu.Rotate(t, e.direct, s.db, rfDB("app", "second-password-0002"))
	if newVersion == "" || newVersion == loadedVersion {
		t.Fatalf("Rotate returned version %q, in use %q", newVersion, loadedVersion)
	}
	e.proxy.ResetCalls()
	clock.Advance(rfJitteredTTL)
	c := rfNextChange(t, changes)
	if c.Err != nil {
		t.Fatalf("Change.Err = %v", c.Err)
	}
	if !slices.Equal(c.Keys, []string{"database.password"}) {
		t.Errorf("Change.Keys = %v, want [database.password]", c.Keys)
	}
	if c.Old != before || c.Old.Database.Password.Reveal() != "first-password-0001" {
		t.Error("Change.Old is not the snapshot served before the rotation")
	}
	cur := store.Get()
	if c.New != cur {
		t.Error("Change.New is not the snapshot Get serves")
	}
	if got := cur.Database.Password.Reveal(); got != "second-password-0002" {
		t.Errorf("password has %d bytes after the rotation, want the rotated one", len(got))
	}
	if cur.Payments.StripeKey.Reveal() != "sk_live_stripe-key-1" || cur.Cache.Token.Reveal() != "cache-token-1" || cur.Database.User != "app" {
		t.Error("values of the secrets that did not change were lost")
	}
	ki, ok := store.Explain("database.password")
	if !ok || ki.Source.Layer != "secretsmanager" || ki.Source.Location != s.db+"#password" ||
		ki.Source.Version != newVersion || ki.Source.Stage != "AWSCURRENT" {
		t.Errorf("provenance = %+v, want version %s", ki.Source, newVersion)
	}
	if ki, _ := store.Explain("payments.stripe_key"); ki.Source.Version == "" || ki.Source.Version == newVersion {
		t.Errorf("provenance of an unchanged secret = %+v", ki.Source)
	}
	rfBlockUntilWaiting(t, clock)
	if d, g, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls("GetSecretValue"), e.proxy.Calls(""); d != 3 || g != 1 || all != 4 {
		t.Errorf("changed refresh: describe %d, get %d, total %d; want 3, 1, 4", d, g, all)
	}
	st = store.Status()
	if st.Refreshes != 2 || st.Changes != 1 || !st.Healthy || !st.LastChange.Equal(clock.Now()) {
		t.Errorf("after a rotation: %+v", st)
	}
	var versions map[string]string
	for _, ls := range st.Layers {
		if ls.Name == "secretsmanager" {
			versions = ls.Versions
		}
	}
	if versions[s.db] != newVersion {
		t.Errorf("Status versions = %v, want %s for %s", versions, newVersion, s.db)
	}
}

// TestRefreshRejectsInvalidRotation rotates a secret to a value the store
// must not serve. The last good configuration stays, the store reports why
// (naming the field or secret, never the value) and turns unhealthy, and the
// rotated value appears in no error, status, change or log line.
func TestRefreshRejectsInvalidRotation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		value    func(canary string) string
		canary   string
		want     error  // the sentinel of LastError
		names    string // LastError must contain this
		reject   bool   // counted as Rejected (built, failed validation) rather than a Failure
		fieldErr bool   // LastError holds a FieldError for database.password
	}{
		{
			// Shorter than min=12: the rebuilt config fails validation.
			name:     "password too short",
			canary:   "CNRY-x7q2k", // 10 characters
			value:    func(c string) string { return rfDB("app", c) },
			want:     config.ErrValidation,
			names:    "database.password",
			reject:   true,
			fieldErr: true,
		},
		{
			// Not JSON: the secret cannot be read, which fails the layer.
			name:   "invalid JSON",
			canary: "CANARY-3e9b1d-rotated-but-truncated",
			value:  func(c string) string { return `{"host":"db.internal","user":"app","password":"` + c },
			want:   config.ErrMalformed,
			names:  "not valid JSON",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newRFEnv(t)
			s := e.createSecrets(t, "good-password-0001")
			var logs configtest.LogBuffer
			layer := secretsmanager.New(e.cfg, &secretsmanager.Options{Logger: debugLogger(&logs)}, s.sources()...)
			clock := rfClock()
			store := rfStore(t, layer, clock, config.Options{Logger: debugLogger(&logs)})
			changes := rfSubscribe(t, store)
			good := store.Get()
			goodVersion := storeVersions(store.Status())[s.db]

			emu.Rotate(t, e.direct, s.db, tc.value(tc.canary))
			err := rfRefresh(t, store, clock)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Refresh = %v, want %v", err, tc.want)
			}
			c := rfNextChange(t, changes)
			if !errors.Is(c.Err, tc.want) || c.Old != good || c.New != good || len(c.Keys) != 0 {
				t.Errorf("Change = keys %v, err %v; want the served snapshot as Old and New and Err %v", c.Keys, c.Err, tc.want)
			}
			if store.Get() != good || store.Get().Database.Password.Reveal() != "good-password-0001" {
				t.Error("Get does not serve the last good configuration")
			}
			if ki, _ := store.Explain("database.password"); ki.Source.Version != goodVersion {
				t.Errorf("provenance = %+v, want the version in use %s", ki.Source, goodVersion)
			}
			st := store.Status()
			if st.Healthy {
				t.Error("Healthy after an invalid rotation")
			}
			if tc.reject && (st.Rejected != 1 || st.Failures != 0) {
				t.Errorf("Rejected %d, Failures %d; want 1, 0", st.Rejected, st.Failures)
			}
			if !tc.reject && (st.Rejected != 0 || st.Failures != 1) {
				t.Errorf("Rejected %d, Failures %d; want 0, 1", st.Rejected, st.Failures)
			}
			if st.LastError == nil || !errors.Is(st.LastError, tc.want) || !strings.Contains(st.LastError.Error(), tc.names) {
				t.Fatalf("LastError = %v, want %v naming %q", st.LastError, tc.want, tc.names)
			}
			if !strings.Contains(st.LastError.Error(), s.db) {
				t.Errorf("LastError does not name the secret %s: %v", s.db, st.LastError)
			}
			var fe *config.FieldError
			if tc.fieldErr && (!errors.As(st.LastError, &fe) || fe.Key != "database.password" || fe.Rule != "min" || fe.Source.Location != s.db+"#password") {
				t.Errorf("FieldError = %+v", fe)
			}

			// Once more with no new rotation: nothing is rebuilt or published,
			// and the problem stays reported, by Refresh too.
			err = rfRefresh(t, store, clock)
			if tc.reject && !errors.Is(err, config.ErrValidation) {
				t.Errorf("second Refresh = %v, want the outstanding rejection", err)
			}
			st2 := store.Status()
			if st2.Healthy || st2.Rejected != st.Rejected || st2.LastError == nil || store.Get() != good {
				t.Errorf("after a second refresh: healthy %v, rejected %d, LastError %v", st2.Healthy, st2.Rejected, st2.LastError)
			}

			// Every printable output of the store, its layer and the subscriber.
			var outputs []string
			add := func(v any) {
				outputs = append(outputs, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v))
			}
			add(err)
			add(st.LastError)
			add(st2.LastError)
			add(st)
			add(st2)
			add(c)
			add(*c.New)
			add(store.Masked())
			add(store.Keys())
			outputs = append(outputs, c.Err.Error(), st.LastError.Error())
			for {
				select {
				case c := <-changes:
					add(c)
					if c.Err != nil {
						outputs = append(outputs, c.Err.Error())
					}
					continue
				default:
				}
				break
			}
			if j, err := json.Marshal(store.Masked()); err == nil {
				outputs = append(outputs, string(j))
			}
			if err := store.Close(); err != nil {
				t.Fatal(err)
			}
			log := logs.String()
			if !strings.Contains(log, "refresh failed") {
				t.Errorf("the failure was not logged:\n%s", log)
			}
			outputs = append(outputs, log)
			for _, out := range outputs {
				if strings.Contains(out, tc.canary) {
					t.Fatalf("the rotated value appears in output: %s", out)
				}
			}

		})
	}
}

// TestRefreshRecoversAfterValidRotation checks that a rejected rotation stays
// reported until a valid one arrives, which is then served and clears it.
func TestRefreshRecoversAfterValidRotation(t *testing.T) {
	t.Parallel()
	e := newRFEnv(t)
	s := e.createSecrets(t, "good-password-0001")
	layer := secretsmanager.New(e.cfg, nil, s.sources()...)
	clock := rfClock()
	store := rfStore(t, layer, clock, config.Options{})

	emu.Rotate(t, e.direct, s.db, rfDB("app", "short"))
	if err := rfRefresh(t, store, clock); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("Refresh = %v, want a validation error", err)
	}
	if st := store.Status(); st.Healthy || st.Rejected != 1 {
		t.Fatalf("after a short password: healthy %v, rejected %d", st.Healthy, st.Rejected)
	}
	// The store did not accept the rejected version, so the State it keeps
	// still names the version served: the next check reads the rejected one
	// again (one GetSecretValue), finds the same values and reports the same
	// rejection, without counting it twice.
	e.proxy.ResetCalls()
	if err := rfRefresh(t, store, clock); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("Refresh = %v, want the outstanding rejection", err)
	}
	if g, d := e.proxy.Calls("GetSecretValue"), e.proxy.Calls("DescribeSecret"); g != 1 || d != 3 {
		t.Errorf("refresh after a rejection: get %d, describe %d; want 1, 3", g, d)
	}
	if st := store.Status(); st.Rejected != 1 {
		t.Errorf("the same rejected version counted %d times", st.Rejected)
	}
	if st := store.Status(); st.Healthy || st.LastError == nil {
		t.Errorf("the rejection stopped being reported before a valid change: %+v", st)
	}

	v := emu.Rotate(t, e.direct, s.db, rfDB("app", "fixed-password-0003"))
	if err := rfRefresh(t, store, clock); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	st := store.Status()
	if !st.Healthy || st.LastError != nil || st.Rejected != 1 || st.Changes != 1 {
		t.Errorf("after a valid rotation: %+v", st)
	}
	if store.Get().Database.Password.Reveal() != "fixed-password-0003" {
		t.Error("the valid rotation is not served")
	}
	if ki, _ := store.Explain("database.password"); ki.Source.Version != v {
		t.Errorf("provenance = %+v, want version %s", ki.Source, v)
	}
}

// TestRefreshFaults injects every fault of the proxy into a refresh, on
// DescribeSecret (nothing rotated) and on GetSecretValue (after a rotation).
// Get keeps serving the last good snapshot; transient faults leave the store
// healthy, permanent ones do not; once the fault is gone a refresh recovers.
func TestRefreshFaults(t *testing.T) {
	t.Parallel()
	// Long enough that a healthy call under a busy machine's load does not
	// time out, which would hide the fault the subtest injects.
	const callTimeout = 2 * time.Second
	faults := []struct {
		fault     faultproxy.Fault
		delay     time.Duration
		want      error
		permanent bool
	}{
		{fault: faultproxy.Throttle, want: config.ErrThrottled},
		{fault: faultproxy.InternalError, want: config.ErrTransient},
		{fault: faultproxy.Latency, delay: 10 * callTimeout, want: config.ErrTransient},
		{fault: faultproxy.Reset, want: config.ErrTransient},
		{fault: faultproxy.Hang, want: config.ErrTransient},
		{fault: faultproxy.DecryptionFailure, want: config.ErrDecryption, permanent: true},
		{fault: faultproxy.AccessDenied, want: config.ErrAccessDenied, permanent: true},
		{fault: faultproxy.NotFound, want: config.ErrNotFound, permanent: true},
	}
	for _, f := range faults {
		for _, op := range []string{"DescribeSecret", "GetSecretValue"} {
			t.Run(f.fault.String()+"/"+op, func(t *testing.T) {
				t.Parallel()
				e := newRFEnv(t)
				s := e.createSecrets(t, "good-password-0001")
				layer := secretsmanager.New(e.cfg, &secretsmanager.Options{Timeout: callTimeout}, s.sources()...)
				clock := rfClock()
				store := rfStore(t, layer, clock, config.Options{})
				changes := rfSubscribe(t, store)
				good := store.Get()

				rotated := op == "GetSecretValue" // GetSecretValue is called only for a changed secret
				var newVersion string
				if rotated {
					newVersion = emu.Rotate(t, e.direct, s.db, rfDB("app", "rotated-password-0002"))
				}
				e.proxy.Add(faultproxy.Rule{Op: op, Fault: f.fault, Delay: f.delay})
				start := time.Now()
				err := rfRefresh(t, store, clock)
				if d := time.Since(start); d > 3*callTimeout {
					t.Errorf("the faulted refresh took %v; the per-call timeout did not hold", d)
				}
				if !errors.Is(err, f.want) {
					t.Fatalf("Refresh = %v, want %v", err, f.want)
				}
				if config.IsTransient(err) == f.permanent {
					t.Errorf("IsTransient = %v for %v", config.IsTransient(err), f.fault)
				}
				if n := e.proxy.Calls(op); n == 0 {
					t.Fatalf("the proxy saw no %s call; the fault was not exercised", op)
				}
				if store.Get() != good || store.Get().Database.Password.Reveal() != "good-password-0001" {
					t.Error("Get does not serve the last good snapshot")
				}
				st := store.Status()
				if st.Healthy == f.permanent {
					t.Errorf("Healthy = %v after %v, want %v", st.Healthy, f.fault, !f.permanent)
				}
				if st.Failures != 1 || st.Rejected != 0 || !errors.Is(st.LastError, f.want) {
					t.Errorf("Failures %d, Rejected %d, LastError %v", st.Failures, st.Rejected, st.LastError)
				}
				if c := rfNextChange(t, changes); !errors.Is(c.Err, f.want) || c.New != good {
					t.Errorf("Change: err %v, keys %v", c.Err, c.Keys)
				}

				// The fault clears; the next refresh recovers.
				e.proxy.ClearRules()
				if err := rfRefresh(t, store, clock); err != nil {
					t.Fatalf("Refresh after the fault cleared = %v", err)
				}
				st = store.Status()
				if !st.Healthy || st.LastError != nil || !st.LastSuccess.Equal(clock.Now()) {
					t.Errorf("after recovery: %+v", st)
				}
				cur := store.Get()
				if !rotated {
					if cur != good {
						t.Error("a no-change recovery published a new snapshot")
					}
					return
				}
				if cur.Database.Password.Reveal() != "rotated-password-0002" {
					t.Error("the rotation is not served after recovery")
				}
				if ki, _ := store.Explain("database.password"); ki.Source.Version != newVersion {
					t.Errorf("provenance = %+v, want version %s", ki.Source, newVersion)
				}
				if c := rfNextChange(t, changes); c.Err != nil || !slices.Equal(c.Keys, []string{"database.password"}) {
					t.Errorf("Change after recovery: err %v, keys %v", c.Err, c.Keys)
				}
			})
		}
	}
}

// rfGeneration returns the N of a user "uN" and the N of a password
// "pN-...", and whether the password has the expected shape.
func rfGeneration(cfg *rfConfig) (user, password int, ok bool) {
	u, err := strconv.Atoi(strings.TrimPrefix(cfg.Database.User, "u"))
	if err != nil {
		return -1, -1, false
	}
	pw := cfg.Database.Password.Reveal()
	head, _, found := strings.Cut(pw, "-")
	p, err := strconv.Atoi(strings.TrimPrefix(head, "p"))
	if !found || err != nil || !strings.HasPrefix(head, "p") {
		return u, -1, false
	}
	return u, p, true
}

func rfGenerationValue(n int) string {
	return rfDB(fmt.Sprintf("u%d", n), fmt.Sprintf("p%d-rotation-long-enough", n))
}

// TestRefreshNoTornReads rotates a JSON secret whose user and password carry
// the same generation number while readers loop on Get: every snapshot a
// reader sees holds one generation in both fields. It does not run in
// parallel: its readers keep the CPUs busy, which would push the round trips
// of other tests past their per-call timeouts.
func TestRefreshNoTornReads(t *testing.T) {
	const (
		rotations = 30
		readers   = 4
	)
	e := newRFEnv(t)
	name := emu.UniqueName(t, "database")
	emu.CreateString(t, e.direct, name, rfGenerationValue(0))
	layer := secretsmanager.New(e.cfg, nil, secretsmanager.JSON(name, "database", nil))
	clock := rfClock()
	store := rfStore(t, layer, clock, config.Options{})

	var (
		torn        atomic.Int64
		reads       atomic.Int64
		transitions atomic.Int64 // a reader saw a newer generation than its previous read
		firstTorn   atomic.Value
		ready       sync.WaitGroup
		wg          sync.WaitGroup
	)
	done := make(chan struct{})
	deadline := time.Now().Add(3 * rfWait)
	ready.Add(readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			tornRead := func(format string, args ...any) {
				if torn.Add(1) == 1 {
					firstTorn.Store(fmt.Sprintf(format, args...))
				}
			}
			check := func() {
				cfg := store.Get()
				u, p, ok := rfGeneration(cfg)
				reads.Add(1)
				if !ok || u != p {
					tornRead("user generation %d with password generation %d", u, p)
					return
				}
				// Read the same snapshot again after letting the rotation
				// run: a published snapshot is never modified.
				runtime.Gosched()
				if u2, p2, _ := rfGeneration(cfg); u2 != u || p2 != p {
					tornRead("a snapshot of generation %d changed to %d/%d", u, u2, p2)
				}
				if u < last {
					tornRead("generation %d served after %d", u, last)
				}
				if last >= 0 && u > last {
					transitions.Add(1)
				}
				last = u
			}
			check()
			ready.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if time.Now().After(deadline) {
					return
				}
				check()
				if i%20 == 19 {
					// Leave CPU time to the rotation and to the other tests'
					// HTTP round trips on small machines.
					time.Sleep(20 * time.Microsecond)
				}
			}
		}()
	}
	ready.Wait()

	for n := 1; n <= rotations; n++ {
		emu.Rotate(t, e.direct, name, rfGenerationValue(n))
		if err := rfRefresh(t, store, clock); err != nil {
			close(done)
			wg.Wait()
			t.Fatalf("Refresh %d = %v", n, err)
		}
		if u, p, ok := rfGeneration(store.Get()); !ok || u != n || p != n {
			t.Errorf("after rotation %d Get serves generation %d/%d", n, u, p)
		}
	}
	close(done)
	wg.Wait()

	if n := torn.Load(); n != 0 {
		t.Fatalf("%d torn reads of %d; first: %v", n, reads.Load(), firstTorn.Load())
	}
	if st := store.Status(); st.Changes != rotations || st.Rejected != 0 || st.Failures != 0 {
		t.Errorf("Status: %d changes, %d rejected, %d failures; want %d, 0, 0", st.Changes, st.Rejected, st.Failures, rotations)
	}
	// The readers were running while snapshots were swapped.
	if tr := transitions.Load(); tr < rotations/3 {
		t.Errorf("readers saw %d swaps in %d reads; they did not overlap the rotations", tr, reads.Load())
	}
	t.Logf("%d reads, %d swaps observed by %d readers over %d rotations", reads.Load(), transitions.Load(), readers, rotations)
}

// TestRefreshSoak runs many refresh cycles through the emulator, with a
// rotation every tenth, and checks that every one is served and counted, that
// no goroutine outlives Close and that the heap does not grow. It does not run
// in parallel, so that goroutine and heap counts are its own.
func TestRefreshSoak(t *testing.T) {
	const (
		cycles      = 300
		rotateEvery = 10
		warmup      = 50
		maxGrowth   = 8 << 20
	)
	// Registered first, so it runs after the emulator and proxy have closed.
	baseline := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, baseline) })

	e := newRFEnv(t)
	s := e.createSecrets(t, "p0-soak-password-long")
	layer := secretsmanager.New(e.cfg, nil, s.sources()...)
	clock := rfClock()
	afterSetup := goleak.IgnoreCurrent()
	// RefreshInterval far beyond the clock's advance, so only Refresh calls.
	store := rfStore(t, layer, clock, config.Options{RefreshInterval: 24 * time.Hour})
	// Changes that come while the subscriber is busy reach it merged, so it
	// sees at most one event per rotation and always the last.
	seen := make(chan string, cycles)
	stop := store.Subscribe(func(c config.Change[rfConfig]) {
		if c.Err == nil {
			seen <- c.New.Database.Password.Reveal()
		}
	})
	defer stop()

	e.proxy.ResetCalls()
	var heapBefore uint64
	password := "p0-soak-password-long"
	for i := 1; i <= cycles; i++ {
		if i%rotateEvery == 0 {
			password = fmt.Sprintf("p%d-soak-password-long", i)
			emu.Rotate(t, e.direct, s.db, rfDB("app", password))
		}
		if err := rfRefresh(t, store, clock); err != nil {
			t.Fatalf("cycle %d: Refresh = %v", i, err)
		}
		if got := store.Get().Database.Password.Reveal(); got != password {
			t.Fatalf("cycle %d: Get serves a password of %d bytes, want %q's generation", i, len(got), password[:3])
		}
		if i == warmup {
			heapBefore = rfHeap()
		}
	}
	heapAfter := rfHeap()

	st := store.Status()
	if st.Refreshes != cycles || st.Changes != cycles/rotateEvery || st.Failures != 0 || st.Rejected != 0 || !st.Healthy {
		t.Errorf("Status after the soak: %+v", st)
	}
	if d, g, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls("GetSecretValue"), e.proxy.Calls(""); d != 3*cycles || g != cycles/rotateEvery || all != d+g {
		t.Errorf("calls: describe %d, get %d, total %d; want %d, %d, %d", d, g, all, 3*cycles, cycles/rotateEvery, 3*cycles+cycles/rotateEvery)
	}
	timeout := time.After(rfWait)
	for n := 1; ; n++ {
		select {
		case got := <-seen:
			if n > cycles/rotateEvery {
				t.Errorf("subscriber got %d changes for %d rotations", n, cycles/rotateEvery)
			}
			if got != password {
				continue
			}
		case <-timeout:
			t.Fatalf("the subscriber did not get the last rotation within %v", rfWait)
		}
		break
	}

	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	// The store's own goroutines are gone at once; idle HTTP connections to
	// the proxy are the emulator's and close with it.
	goleak.VerifyNone(t, afterSetup,
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	)
	growth := int64(heapAfter) - int64(heapBefore)
	t.Logf("heap after %d cycles: %d bytes (growth %+d since cycle %d)", cycles, heapAfter, growth, warmup)
	if growth > maxGrowth {
		t.Errorf("heap grew by %d bytes over %d refresh cycles, bound %d", growth, cycles-warmup, maxGrowth)
	}
}

func rfHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRefreshLazy checks stale-while-revalidate through the emulator: no
// refresh before the TTL; after it, a Get returns the old snapshot at once
// and starts exactly one background refresh, and a later Get sees the
// rotation.
func TestRefreshLazy(t *testing.T) {
	t.Parallel()
	e := newRFEnv(t)
	s := e.createSecrets(t, "lazy-password-0001")
	layer := secretsmanager.New(e.cfg, nil, s.sources()...)
	clock := rfClock()
	store := rfStore(t, layer, clock, config.Options{Lazy: true})
	changes := rfSubscribe(t, store)
	if n := clock.Waiters(); n != 0 {
		t.Errorf("a lazy store waits on the clock (%d waiters); it must run no loop", n)
	}
	old := store.Get()
	v := emu.Rotate(t, e.direct, s.db, rfDB("app", "lazy-password-0002"))
	e.proxy.ResetCalls()

	// Before the TTL -10 % (the earliest the jittered schedule is due): no refresh.
	clock.Advance(rfTTL - rfTTL/10 - time.Nanosecond)
	for range 10 {
		if store.Get() != old {
			t.Fatal("Get changed the snapshot before the TTL")
		}
	}
	if st, n := store.Status(), e.proxy.Calls(""); st.Refreshes != 0 || n != 0 {
		t.Fatalf("before the TTL: %d refreshes, %d calls; want 0, 0", st.Refreshes, n)
	}

	// Hold the refresh's DescribeSecret calls, so the Get below would be
	// seen waiting for it.
	e.proxy.Add(faultproxy.Rule{Op: "DescribeSecret", Fault: faultproxy.Latency, Delay: 300 * time.Millisecond, Times: 3})
	clock.Advance(rfTTL/5 + time.Nanosecond) // past the TTL +10 %: due whatever the jitter
	got := store.Get()
	st := store.Status()
	if got != old || got.Database.Password.Reveal() != "lazy-password-0001" {
		t.Error("the Get that found the snapshot stale did not return it")
	}
	if st.Refreshes != 1 || st.Changes != 0 || !st.LastSuccess.Before(clock.Now()) {
		t.Errorf("the stale Get waited for the refresh or started none: %+v", st)
	}
	c := rfNextChange(t, changes)
	if c.Err != nil || !slices.Equal(c.Keys, []string{"database.password"}) || c.Old != old {
		t.Errorf("Change: err %v, keys %v", c.Err, c.Keys)
	}
	cur := store.Get()
	if cur.Database.Password.Reveal() != "lazy-password-0002" {
		t.Error("a Get after the background refresh does not see the rotation")
	}
	if ki, _ := store.Explain("database.password"); ki.Source.Version != v {
		t.Errorf("provenance = %+v, want version %s", ki.Source, v)
	}
	st = store.Status()
	if st.Refreshes != 1 || st.Changes != 1 || !st.Healthy {
		t.Errorf("after the background refresh: %+v", st)
	}
	if d, g, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls("GetSecretValue"), e.proxy.Calls(""); d != 3 || g != 1 || all != 4 {
		t.Errorf("one background refresh: describe %d, get %d, total %d; want 3, 1, 4", d, g, all)
	}
	// Fresh again: further Gets within the TTL start nothing.
	clock.Advance(rfTTL / 2)
	for range 10 {
		store.Get()
	}
	if n := store.Status().Refreshes; n != 1 {
		t.Errorf("Gets within the TTL started %d more refreshes", n-1)
	}
}

// BenchmarkNoChangeRefreshEmulator measures a forced store refresh with 20
// secrets when none changed, through the SDK, the fault proxy and the
// emulator. The goal is one DescribeSecret per secret and no GetSecretValue.
func BenchmarkNoChangeRefreshEmulator(b *testing.B) {
	const n = 20
	e := newRFEnv(b)
	sources := make([]secretsmanager.Spec, n)
	for i := range n {
		name := emu.UniqueName(b, fmt.Sprintf("s%02d", i))
		emu.CreateString(b, e.direct, name, rfDB("app", fmt.Sprintf("bench-password-%04d", i)))
		sources[i] = secretsmanager.JSON(name, "database", nil)
	}
	clock := rfClock()
	store := rfStore(b, secretsmanager.New(e.cfg, nil, sources...), clock, config.Options{RefreshInterval: 1000 * time.Hour})
	ctx := context.Background()
	e.proxy.ResetCalls()
	refreshes := 0
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(rfStep)
		if err := store.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		refreshes++
	}
	b.StopTimer()
	describe, get, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls("GetSecretValue"), e.proxy.Calls("")
	b.ReportMetric(float64(describe)/float64(refreshes), "DescribeSecret/refresh")
	b.ReportMetric(float64(get)/float64(refreshes), "GetSecretValue/refresh")
	b.ReportMetric(float64(all)/float64(refreshes), "calls/refresh")
	if describe != n*refreshes || get != 0 || all != describe {
		b.Errorf("%d refreshes made %d DescribeSecret, %d GetSecretValue, %d calls; want %d DescribeSecret per refresh and nothing else",
			refreshes, describe, get, all, n)
	}
	if st := store.Status(); st.Changes != 0 || st.Refreshes != refreshes {
		b.Errorf("Status: %d changes, %d refreshes", st.Changes, st.Refreshes)
	}
}
