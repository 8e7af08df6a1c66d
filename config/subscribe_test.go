package config_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// subStore loads a lazy store over a refreshable layer on a fake clock.
func subStore(t *testing.T, logger *slog.Logger) (*config.Store[appCfg], refreshingLayer, *configtest.Clock) {
	t.Helper()
	clock := configtest.NewClock(time.Unix(0, 0))
	l := refreshingLayer{&fakeLayer{name: "test", sensitive: true,
		vals: map[string]any{"database.host": "db-a", "database.password": "correct-horse-battery"}}}
	s, err := config.Load[appCfg](t.Context(), &config.Options{Logger: logger, Clock: clock, Lazy: true}, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, l, clock
}

func hostStep(host string) refreshStep {
	return refreshStep{vals: map[string]any{"database.host": host, "database.password": "correct-horse-battery"}}
}

// refreshNow moves the clock past MinRefreshInterval and refreshes.
func refreshNow(t *testing.T, s *config.Store[appCfg], clock *configtest.Clock) error {
	t.Helper()
	clock.Advance(time.Minute)
	return s.Refresh(bounded(t))
}

// TestSubscriberPanicRecovered checks that a subscriber that panics does not
// crash the process, is logged at error level by the panic's type only, and
// still gets later events.
func TestSubscriberPanicRecovered(t *testing.T) {
	t.Parallel()
	logs := &configtest.LogBuffer{}
	s, l, clock := subStore(t, slog.New(slog.NewTextHandler(logs, nil)))
	l.push(hostStep("db-b"), hostStep("db-c"))
	got := make(chan string, 2)
	first := true
	s.Subscribe(func(c config.Change[appCfg]) {
		got <- c.New.Database.Host
		if first {
			first = false
			panic("leaked panic text")
		}
	})
	if err := refreshNow(t, s, clock); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h != "db-b" {
		t.Fatalf("first event New.Database.Host = %q", h)
	}
	if err := refreshNow(t, s, clock); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h != "db-c" {
		t.Fatalf("event after the panic New.Database.Host = %q", h)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "config: subscriber panicked (a panic of type string)") {
		t.Errorf("logs = %q, want the panic logged at error level with its type", out)
	}
	if strings.Contains(out, "leaked panic text") {
		t.Errorf("logs = %q contain the panic's text", out)
	}
}

// TestMergedChangeKeepsErrors checks that events merged for a busy
// subscriber keep an earlier failure when a later refresh succeeded.
func TestMergedChangeKeepsErrors(t *testing.T) {
	t.Parallel()
	s, l, clock := subStore(t, discard())
	boom := &config.SourceError{Layer: "test", Source: "db", Code: config.ErrTransient, Message: "the backend is down"}
	l.push(hostStep("db-b"), refreshStep{err: boom}, hostStep("db-c"))
	entered, unblock := make(chan struct{}), make(chan struct{})
	got := make(chan config.Change[appCfg], 2)
	s.Subscribe(func(c config.Change[appCfg]) {
		if c.New.Database.Host == "db-b" {
			close(entered)
			<-unblock
		}
		got <- c
	})
	if err := refreshNow(t, s, clock); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := refreshNow(t, s, clock); !errors.Is(err, config.ErrTransient) {
		t.Fatalf("failing Refresh = %v", err)
	}
	if err := refreshNow(t, s, clock); err != nil {
		t.Fatal(err)
	}
	close(unblock)
	<-got
	m := <-got
	if m.New.Database.Host != "db-c" || len(m.Keys) != 1 || m.Keys[0] != "database.host" {
		t.Errorf("merged event: host %q, keys %v", m.New.Database.Host, m.Keys)
	}
	if m.Err == nil || !strings.Contains(m.Err.Error(), "the backend is down") {
		t.Errorf("merged event Err = %v, want the earlier failure kept", m.Err)
	}
}
