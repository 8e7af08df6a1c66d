package config_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// canaryCfg has a secret of each kind and rules each of them can break.
type canaryCfg struct {
	Database struct {
		Host     string        `validate:"required"`
		Password config.Secret `validate:"required,min=40"`
		User     string        `secret:"true" validate:"email"`
		Pin      int           `secret:"true"`
	}
}

// TestCanaryNeverAppears drives every path that produces text (load errors,
// warnings, logs, masked forms, provenance, refresh failures and change events)
// with a unique secret value and searches everything for it.
func TestCanaryNeverAppears(t *testing.T) {
	const canary = "CANARY-7f3e9a1b2c4d"
	out := &configtest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	record := func(v ...any) { fmt.Fprintln(out, v...) }

	// Secrets set by plain layers and breaking rules and types: every error path.
	_, err := config.Load[canaryCfg](context.Background(), &config.Options{Logger: logger, Production: true},
		&fakeLayer{name: "env", vals: map[string]any{"database.password": canary, "database.user": canary, "database.pin": canary}})
	if err == nil {
		t.Fatal("want errors")
	}
	record(err, fmt.Sprintf("%+v %#v", err, err))

	// A good load that warns about policy, then a refresh that is rejected.
	clock := configtest.NewClock(time.Unix(0, 0))
	secrets := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true,
		vals: map[string]any{"database.password": canary + strings.Repeat("x", 40), "database.user": "app@example.com", "database.pin": "1234"}}}
	st, err := config.Load[canaryCfg](context.Background(), &config.Options{Logger: logger, Clock: clock, MinRefreshInterval: time.Nanosecond},
		&fakeLayer{name: "env", vals: map[string]any{"database.host": "db", "database.user": canary}}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := make(chan config.Change[canaryCfg], 4)
	st.Subscribe(func(c config.Change[canaryCfg]) { events <- c })
	record(st.Warnings(), st.Masked(), st.Masked().String(), st.Keys())
	js, _ := json.Marshal(st.Masked())
	record(string(js))
	logger.Info("config", "cfg", st.Masked(), "raw", *st.Get())
	record(fmt.Sprintf("%v %+v %#v", *st.Get(), st.Get(), *st.Get()))

	secrets.push(refreshStep{vals: map[string]any{"database.password": canary, "database.user": canary, "database.pin": canary}})
	clock.Advance(time.Second)
	err = st.Refresh(context.Background())
	record(err, st.Status(), st.Status().LastError)
	select {
	case ev := <-events:
		record(ev.Err, ev.Keys, fmt.Sprintf("%+v", ev))
	case <-time.After(5 * time.Second):
		t.Fatal("no change event for the rejected refresh")
	}

	st.Close() // no more log lines after this
	if strings.Contains(out.String(), canary) {
		t.Fatalf("the canary secret appears in output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "database.password") {
		t.Fatal("the output names no field; the test is not looking at real messages")
	}
}
