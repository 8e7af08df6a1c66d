package config_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// A change read from one layer is published although another layer fails in
// the same refresh: the failing layer keeps its last good values, and one
// broken source does not hold back a rotation elsewhere.
func TestChangeIsPublishedThroughAnotherLayersFailure(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	a := refreshingLayer{&fakeLayer{name: "a", sensitive: true, vals: map[string]any{"password": rfSecret1},
		refreshes: []refreshStep{{vals: map[string]any{"password": rfSecret2}}, {}}}}
	b := refreshingLayer{&fakeLayer{name: "b", sensitive: true, vals: map[string]any{"host": "db1"},
		refreshes: []refreshStep{{err: fmt.Errorf("b: %w", config.ErrTransient)}, {}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, _ := rfSubscribe(t, s)

	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrTransient) {
		t.Fatalf("Refresh = %v, want the transient failure", err)
	}
	if s.Get().Password.Reveal() != rfSecret2 || s.Get().Host != "db1" {
		t.Fatal("the change of layer a was not published with layer b's last good values")
	}
	// One refresh, one event: the change it published and the failure.
	if c := rfNext(t, changes); !errors.Is(c.Err, config.ErrTransient) || !slices.Equal(c.Keys, []string{"password"}) ||
		c.New.Password.Reveal() != rfSecret2 || c.Old.Password.Reveal() != rfSecret1 {
		t.Errorf("Change = Keys %v Err %v, want the password change with the failure", c.Keys, c.Err)
	}
	if st := s.Status(); !st.Healthy || st.Failures != 1 || st.Changes != 1 {
		t.Errorf("Status = healthy %v failures %d changes %d", st.Healthy, st.Failures, st.Changes)
	}
}

// In lazy mode a permanent failure is retried at the TTL, not on every Get
// past the minimum interval.
func TestLazyRetriesPermanentFailureAtTTL(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	l := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true, vals: rfVals("db1", "5432", rfSecret1),
		refreshes: []refreshStep{{err: fmt.Errorf("db: %w", config.ErrAccessDenied)}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(), Lazy: true,
		RefreshInterval: time.Minute, MinRefreshInterval: time.Second}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, _ := rfSubscribe(t, s)
	clock.Advance(67 * time.Second) // past the TTL +10 %
	s.Get()                         // due: starts the first refresh
	if c := rfNext(t, changes); !errors.Is(c.Err, config.ErrAccessDenied) {
		t.Fatalf("Change = %v, want the permanent failure", c.Err)
	}
	for range 53 { // 53 s of Gets, one a second, all before the TTL -10 %
		clock.Advance(time.Second)
		s.Get()
	}
	if n := l.Calls(); n != 1 {
		t.Fatalf("layer refreshed %d times in 53 s after a permanent failure; want 1 (retry at the TTL)", n)
	}
	clock.Advance(14 * time.Second)
	s.Get()
	if c := rfNext(t, changes); !errors.Is(c.Err, config.ErrAccessDenied) || l.Calls() != 2 {
		t.Fatalf("after the TTL: Change %v with %d layer calls, want the retry", c.Err, l.Calls())
	}
}

// After a rejected change the store stays unhealthy, with the rejection as
// LastError, through refreshes that find nothing new: it still serves an older
// configuration than its source holds. A valid change clears it.
func TestRejectionStaysReportedUntilAValidChange(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	l := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true, vals: rfVals("db1", "5432", rfSecret1),
		refreshes: []refreshStep{
			{vals: rfVals("db1", "not-a-port", rfSecret1)}, // rejected
			{},                                       // nothing new
			{vals: rfVals("db2", "5433", rfSecret1)}, // valid
		}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrInvalidValue) {
		t.Fatalf("first refresh: %v", err)
	}
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrInvalidValue) {
		t.Fatalf("no-change refresh = %v, want the outstanding rejection", err)
	}
	if st := s.Status(); st.Healthy || !errors.Is(st.LastError, config.ErrInvalidValue) || s.Get().Host != "db1" {
		t.Fatalf("after a no-change refresh: healthy=%v lastError=%v host=%s", st.Healthy, st.LastError, s.Get().Host)
	}
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); err != nil {
		t.Fatalf("valid change: %v", err)
	}
	if st := s.Status(); !st.Healthy || st.LastError != nil || s.Get().Port != 5433 {
		t.Fatalf("after a valid change: healthy=%v lastError=%v port=%d", st.Healthy, st.LastError, s.Get().Port)
	}
}

// A refresh that is rejected and fails at once is one event naming both, and
// Status and a repeated Refresh report both; the loop still backs off for the
// transient part instead of waiting a whole TTL.
func TestRejectionAndFailureTogether(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	l := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true, vals: rfVals("db1", "5432", rfSecret1),
		refreshes: []refreshStep{{vals: rfVals("db1", "5432", "short"), err: fmt.Errorf("other: %w", config.ErrTransient)}, {}}}}
	// The loop's retry after the transient failure comes long after the
	// test's second Refresh, so it starts no read of its own meanwhile (the
	// test's Refresh would then wait for a later read, on a clock only the
	// test moves).
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Minute, RetryBackoff: 20 * time.Minute}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	changes, _ := rfSubscribe(t, s)

	clock.Advance(2 * time.Minute)
	err = s.Refresh(rfCtx(t))
	if !errors.Is(err, config.ErrValidation) || !errors.Is(err, config.ErrTransient) {
		t.Fatalf("Refresh = %v, want the rejection and the failure", err)
	}
	c := rfNext(t, changes)
	if !errors.Is(c.Err, config.ErrValidation) || !errors.Is(c.Err, config.ErrTransient) {
		t.Errorf("Change.Err = %v, want both problems in one event", c.Err)
	}
	st := s.Status()
	if st.Healthy || !errors.Is(st.LastError, config.ErrValidation) || !strings.Contains(st.LastError.Error(), "password") {
		t.Errorf("Status = healthy %v, LastError %v; want unhealthy naming the rejected field", st.Healthy, st.LastError)
	}
	clock.Advance(time.Minute) // the next Refresh waits for the minimum interval
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrValidation) {
		t.Errorf("Refresh that finds nothing new = %v, want the outstanding rejection", err)
	}
}

// With Options.Strict an unknown name that comes with new values on refresh
// rejects them, as Load would; nothing is published.
func TestStrictUnknownNameOnRefreshRejects(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	unknown := &config.UnknownNameError{Name: "hots", Source: config.Source{Layer: "secretsmanager"}}
	l := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true, vals: rfVals("db1", "5432", rfSecret1),
		refreshes: []refreshStep{{vals: rfVals("db2", "5432", rfSecret1), err: unknown}, {}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(), Strict: true,
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrUnknownName) {
		t.Fatalf("Refresh = %v, want the unknown name", err)
	}
	if st := s.Status(); s.Get().Host != "db1" || st.Rejected != 1 || st.Healthy {
		t.Errorf("host %s, Status %+v: want the change rejected", s.Get().Host, st)
	}
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrUnknownName) || s.Status().Healthy {
		t.Errorf("after a no-change refresh: %v, healthy %v; want the rejection still reported", err, s.Status().Healthy)
	}
}

// A rejected change in one layer does not hold back a valid change in
// another; the rejection stays reported until its own layer changes again.
func TestRejectionDoesNotHoldBackAnotherLayer(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	a := refreshingLayer{&fakeLayer{name: "a", sensitive: true, vals: map[string]any{"password": rfSecret1},
		refreshes: []refreshStep{{vals: map[string]any{"password": "short"}}, {}, {vals: map[string]any{"password": rfSecret2}}, {}}}}
	b := refreshingLayer{&fakeLayer{name: "b", sensitive: true, vals: map[string]any{"host": "db1"},
		refreshes: []refreshStep{{}, {vals: map[string]any{"host": "db2"}}, {}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	step := func() error {
		clock.Advance(time.Second)
		return s.Refresh(rfCtx(t))
	}
	if err := step(); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("a's bad rotation: %v", err)
	}
	if err := step(); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("b's change = %v, want a's outstanding rejection", err)
	}
	if st := s.Status(); s.Get().Host != "db2" || s.Get().Password.Reveal() != rfSecret1 || st.Healthy || !errors.Is(st.LastError, config.ErrValidation) {
		t.Fatalf("after b's change: host %s, healthy %v, LastError %v; want b published, a's rejection still reported",
			s.Get().Host, st.Healthy, st.LastError)
	}
	if err := step(); err != nil {
		t.Fatalf("a's good rotation: %v", err)
	}
	if st := s.Status(); s.Get().Password.Reveal() != rfSecret2 || !st.Healthy || st.LastError != nil {
		t.Errorf("after a's good rotation: healthy %v, LastError %v", st.Healthy, st.LastError)
	}
}

// When two layers change in one refresh and one change is rejected, the other
// is published at once; the rejection stays reported until its layer changes.
func TestOneRejectedChangeDoesNotSinkAnotherInTheSameRefresh(t *testing.T) {
	t.Parallel()
	clock := configtest.NewClock(rfEpoch)
	a := refreshingLayer{&fakeLayer{name: "a", sensitive: true, vals: map[string]any{"password": rfSecret1},
		refreshes: []refreshStep{{vals: map[string]any{"password": "short"}}, {vals: map[string]any{"password": rfSecret2}}, {}}}}
	b := refreshingLayer{&fakeLayer{name: "b", sensitive: true, vals: map[string]any{"host": "db1"},
		refreshes: []refreshStep{{vals: map[string]any{"host": "db2"}}, {}}}}
	s, err := config.Load[rfConfig](t.Context(), &config.Options{Clock: clock, Logger: discard(),
		RefreshInterval: time.Hour, MinRefreshInterval: time.Millisecond}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); !errors.Is(err, config.ErrValidation) {
		t.Fatalf("Refresh = %v, want a's rejection", err)
	}
	if st := s.Status(); s.Get().Host != "db2" || s.Get().Password.Reveal() != rfSecret1 || st.Healthy || st.Changes != 1 {
		t.Fatalf("host %s, healthy %v, changes %d: want b's change published beside a's last good password",
			s.Get().Host, st.Healthy, st.Changes)
	}
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); err != nil {
		t.Fatalf("a's fix: %v", err)
	}
	if st := s.Status(); s.Get().Host != "db2" || s.Get().Password.Reveal() != rfSecret2 || !st.Healthy {
		t.Errorf("after a's fix: host %s, healthy %v", s.Get().Host, st.Healthy)
	}
}

// The log of a refresh says whether anything was published: a read that
// brought a change together with a failure of another source published the
// change, and a read that only failed serves the last good configuration.
func TestRefreshFailureLogSaysWhatWasPublished(t *testing.T) {
	t.Parallel()
	fail := fmt.Errorf("GetSecretValue: %w", config.ErrTransient)
	f := newRFFixture(t, config.Options{},
		refreshStep{vals: rfVals("db2", "5432", rfSecret2), err: fail}, refreshStep{err: fail})
	if err := f.refresh(); !errors.Is(err, fail) {
		t.Fatalf("Refresh = %v, want the failure", err)
	}
	if got := f.store.Get().Host; got != "db2" {
		t.Fatalf("Host = %q, want the change published", got)
	}
	if log := f.logs.String(); !strings.Contains(log, "refresh failed in part; published what was read") ||
		strings.Contains(log, "serving the last good configuration") {
		t.Errorf("log of a refresh that published a change:\n%s", log)
	}
	if err := f.refresh(); !errors.Is(err, fail) {
		t.Fatalf("Refresh = %v, want the failure", err)
	}
	if log := f.logs.String(); !strings.Contains(log, "refresh failed; serving the last good configuration") {
		t.Errorf("log of a refresh that only failed:\n%s", log)
	}
}
