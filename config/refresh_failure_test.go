package config_test

import (
	"errors"
	"fmt"
	"slices"
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
	if c := rfNext(t, changes); c.Err != nil || !slices.Equal(c.Keys, []string{"password"}) {
		t.Errorf("first Change = Keys %v Err %v, want the password change", c.Keys, c.Err)
	}
	if c := rfNext(t, changes); !errors.Is(c.Err, config.ErrTransient) {
		t.Errorf("second Change = %v, want the failure", c.Err)
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
	clock.Advance(61 * time.Second)
	s.Get() // due: starts the first refresh
	rfEventually(t, "the first refresh", func() bool { return s.Status().Failures == 1 })
	for range 30 { // 30 s of Gets, one a second, all before the next TTL
		clock.Advance(time.Second)
		s.Get()
	}
	if n := l.Calls(); n != 1 {
		t.Fatalf("layer refreshed %d times in 30 s after a permanent failure; want 1 (retry at the TTL)", n)
	}
	clock.Advance(31 * time.Second)
	s.Get()
	rfEventually(t, "the retry at the TTL", func() bool { return l.Calls() == 2 })
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
	if err := s.Refresh(rfCtx(t)); err != nil {
		t.Fatalf("no-change refresh: %v", err)
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
