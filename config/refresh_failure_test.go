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

// A change read from one layer is not lost when another layer fails in the
// same refresh: the next successful refresh publishes it, although the layer
// that changed has nothing new to report by then.
func TestChangeIsKeptThroughAnotherLayersFailure(t *testing.T) {
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
	if s.Get().Password.Reveal() != rfSecret1 {
		t.Fatal("a failed refresh published a change")
	}
	if c := rfNext(t, changes); c.Err == nil {
		t.Fatalf("Change = %+v, want the failure", c)
	}
	clock.Advance(time.Second)
	if err := s.Refresh(rfCtx(t)); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if s.Get().Password.Reveal() != rfSecret2 {
		t.Error("the change read during the failed refresh was lost")
	}
	if c := rfNext(t, changes); c.Err != nil || !slices.Equal(c.Keys, []string{"password"}) {
		t.Errorf("Change = Keys %v Err %v, want the password change", c.Keys, c.Err)
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
