package configtest

import (
	"context"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// testRefreshWithEvents checks the reads a watch causes: an event that names
// every source ("") finds a change as a scheduled read would, an event for a
// source the layer does not have changes and breaks nothing, and on-demand
// reads find changes too.
func testRefreshWithEvents(t *testing.T, e *env) {
	e.seed("r1")
	s1 := e.firstState(t)
	unknown := []config.Event{{Source: "configtest-no-such-source", Version: "v1", At: time.Now()}}
	u, err := e.refreshWith(t, t.Context(), config.RefreshRequest{Prev: s1, Events: unknown})
	if err != nil || u.Changed {
		t.Errorf("Refresh with an event for a source the layer does not have gave Changed %v, error %v; "+
			"want no change and no error (the event is for another layer's source)", u.Changed, err)
	}
	e.set("alpha.host", "alpha-r2.internal")
	u, err = e.refreshWith(t, t.Context(), config.RefreshRequest{Prev: s1, Events: []config.Event{{At: time.Now()}}})
	if err != nil || !u.Changed {
		t.Fatalf("Refresh with an event for every source (Source \"\") after alpha.host changed gave Changed %v, error %v; "+
			"want the change", u.Changed, err)
	}
	e.wantValues(t, "a refresh an event for every source caused (the complete set of values)", u.Values, e.want)
	e.set("beta.host", "beta-r2.internal")
	u, err = e.refreshWith(t, t.Context(), config.RefreshRequest{Prev: u.State, OnDemand: true})
	if err != nil || !u.Changed {
		t.Fatalf("an on-demand Refresh after beta.host changed gave Changed %v, error %v; want the change", u.Changed, err)
	}
	e.wantValues(t, "an on-demand refresh", u.Values, e.want)
}

// testWatchEndsWithContext checks that a Watcher's Watch returns soon after
// its context ends, whether or not it has anything to watch.
func testWatchEndsWithContext(t *testing.T, e *env) {
	w, ok := e.f.Layer().(config.Watcher)
	if !ok {
		t.Skip("the layer is not a config.Watcher")
	}
	e.seed("r1")
	e.firstState(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, config.Watch{Schema: e.schema, Notify: func(config.Event) {}, Report: func(config.WatchReport) {}})
	}()
	cancel()
	select {
	case err := <-done:
		noCanaryInError(t, "the error of Watch", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return within 5s after its context ended; the store's Close waits for it")
	}
}
