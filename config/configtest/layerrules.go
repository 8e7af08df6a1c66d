package configtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

func testFirstRead(t *testing.T, e *env) {
	e.seed("r1")
	vals, _, err := e.firstRead(t, t.Context())
	if err != nil {
		t.Fatalf("the first read of sources that hold only valid, known values failed: %v", err)
	}
	e.wantValues(t, "first read", vals, e.want)
	if _, ok := e.layer(t).(config.Refresher); !ok {
		return
	}
	// The store calls Refresh only, but a Refresher is a Layer too and may be
	// loaded by other code (configcheck, a one-off read).
	loaded, err := bounded(t, "Load", func() (config.Values, error) { return e.layer(t).Load(t.Context(), e.schema) })
	if err != nil {
		t.Fatalf("Load of a Refresher failed where its first Refresh did not: %v", err)
	}
	e.wantValues(t, "Load of a Refresher (it must read what its first Refresh reads)", loaded, e.want)
}

func testDoneContext(t *testing.T, e *env) {
	e.seed("r1")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, _, err := e.firstRead(t, ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the first read took %v on a done ctx; it must return promptly", d)
	}
	if err == nil {
		t.Fatal("the first read on a done ctx returned no error; it must report the interruption " +
			"(an error matching context.Canceled), so that the store does not take an interrupted read for a complete one")
	}
	wantInterrupted(t, "the first read", err)
	if _, ok := e.layer(t).(config.Refresher); !ok {
		return
	}
	state := e.firstState(t)
	e.set("alpha.host", "alpha-r2.internal")
	start = time.Now()
	_, err = e.refresh(t, ctx, state)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a Refresh took %v on a done ctx; it must return promptly", d)
	}
	if err == nil {
		t.Fatal("a Refresh on a done ctx returned no error; it must report the interruption (an error matching context.Canceled)")
	}
	wantInterrupted(t, "a Refresh", err)
}

func wantInterrupted(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "cancel") && !strings.Contains(err.Error(), "interrupt") {
		t.Errorf("%s on a done ctx returned %q, which neither matches context.Canceled nor names the interruption", what, err)
	}
}

func testUnknownNames(t *testing.T, e *env) {
	e.seed("r1")
	e.f.Set("alpha.hots", "typo.internal")
	vals, _, err := e.firstRead(t, t.Context())
	if err == nil {
		t.Fatal(`a name that is no field ("alpha.hots", a typo of "alpha.host") was not reported; ` +
			"it must be a *config.UnknownNameError joined to the read's error")
	}
	names := UnknownNames(t, err)
	if len(names) != 1 {
		t.Fatalf("one unknown name was set, the error holds %d *config.UnknownNameError: %v", len(names), err)
	}
	u := names[0]
	switch {
	case u.Name == "" && e.f.Layer().Sensitive():
		// A sensitive layer may withhold a name that is part of a secret's
		// content (config.Schema.UnknownSecretKey); it must not show it.
		if strings.Contains(strings.ToLower(u.Error()), "hots") {
			t.Errorf("UnknownNameError with Name \"\" shows the name: %q", u.Error())
		}
	case !strings.Contains(strings.ToLower(u.Name), "hots"):
		t.Errorf("UnknownNameError.Name = %q; it must be the name as the source spells it (the key or env name of \"alpha.hots\")", u.Name)
	}
	if u.Source.Layer != e.f.Layer().Name() {
		t.Errorf("UnknownNameError.Source.Layer = %q, want the layer's Name %q", u.Source.Layer, e.f.Layer().Name())
	}
	e.wantValues(t, "a read with an unknown name", vals, e.want)
}

func testFailingSourceKeepsOthers(t *testing.T, e *env) {
	if e.f.Fail == nil {
		t.Skip("the fixture's sources cannot fail")
	}
	for _, f := range []Failure{Transient, Permanent, Malformed} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, e.h)
			e.seed("r1")
			e.f.Set("alpha.hots", "typo.internal")
			if e.f.Fail("beta", f, "{"+Canary) {
				vals, _, err := e.firstRead(t, t.Context())
				e.wantValues(t, "a read with the source of beta failing ("+f.String()+")", vals, without(e.want, "beta"))
				checkFailure(t, err, f, 1)
				return
			}
			// One source holds every section: it fails as a whole.
			if !e.f.Fail("", f, "{"+Canary) {
				t.Skipf("the fixture cannot make its sources fail (%s)", f)
			}
			vals, _, err := e.firstRead(t, t.Context())
			e.wantValues(t, "a read with every source failing ("+f.String()+")", vals, nil)
			checkFailure(t, err, f, 0)
		})
	}
}

// checkFailure checks the error of a read where one source failed with f and
// unknown names were set.
func checkFailure(t *testing.T, err error, f Failure, unknown int) {
	t.Helper()
	if err == nil {
		t.Fatalf("a read with a failing source (%s) returned no error", f)
	}
	if n := len(unknownNames(err)); n != unknown {
		t.Errorf("the error holds %d unknown names, want %d: a failing source must not hide the other problems "+
			"(join them with errors.Join): %v", n, unknown, err)
	}
	if len(failures(err)) == 0 {
		t.Errorf("the error holds only unknown names, not the failure of the source (%s): %v", f, err)
	}
	switch f {
	case Transient:
		if !config.IsTransient(err) {
			t.Errorf("a transient failure must match config.ErrTransient or config.ErrThrottled (config.IsTransient), so that the store retries it: %v", err)
		}
	case Permanent, Malformed:
		if config.IsTransient(failuresOnly(err)) {
			t.Errorf("a %s failure matches config.IsTransient; the store would retry it in vain: %v", f, err)
		}
	}
	if f == Malformed && !errors.Is(err, config.ErrMalformed) {
		t.Errorf("a malformed answer must match config.ErrMalformed: %v", err)
	}
}

func failuresOnly(err error) error { return errors.Join(failures(err)...) }

func testNoSecretInOutput(t *testing.T, e *env) {
	e.seed("r1")
	e.f.Set("alpha.tokn", Canary+"-typo")
	vals, state, err := e.firstRead(t, t.Context())
	if len(unknownNames(err)) == 0 {
		t.Fatalf("an unknown name was set, but the read's error holds no *config.UnknownNameError: %v", err)
	}
	noCanaryInError(t, "a read with an unknown name holding secret text", err)
	for key, v := range vals {
		if s := fmt.Sprintf("%+v", v.Source); strings.Contains(s, Canary) {
			t.Errorf("the Source of %q holds a secret value: a Source is printed in every message", key)
		}
	}
	if s := fmt.Sprintf("%v %+v %s", state, state, state); strings.Contains(s, Canary) {
		t.Error("the State prints secret values; print a redacted form (fmt.Formatter), as whoever prints an Update must not see them")
	}
	noCanaryInStore(t, e)
	if e.f.Fail == nil {
		return
	}
	text := `{"token":"` + Canary
	if !e.f.Fail("beta", Malformed, text) && !e.f.Fail("", Malformed, text) {
		return
	}
	_, _, err = e.firstRead(t, t.Context())
	if err == nil {
		t.Fatal("a read of malformed content returned no error")
	}
	noCanaryInError(t, "a read of malformed content holding secret text", err)
	if state != nil {
		_, err := e.refresh(t, t.Context(), state)
		noCanaryInError(t, "a refresh with malformed content holding secret text", err)
	}
	noCanaryInStore(t, e)
}

// noCanaryInStore loads the layer into a store and checks its error, its
// warnings and its logs.
func noCanaryInStore(t *testing.T, e *env) {
	t.Helper()
	logs := &LogBuffer{}
	opts := &config.Options{
		EnvPrefix: EnvPrefix,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:     NewClock(time.Unix(0, 0)),
	}
	store, err := config.Load[suiteConfig](t.Context(), opts, e.layer(t))
	noCanaryInError(t, "config.Load", err)
	if store != nil {
		noCanaryInError(t, "the store's warnings", errors.Join(store.Warnings()...))
		_ = store.Close()
	}
	if strings.Contains(logs.String(), Canary) {
		t.Errorf("a store logged a secret value the layer read:\n%s", logs.String())
	}
}

// noCanaryInError checks every error of err's Unwrap tree, printed with
// every verb and through slog, for Canary.
func noCanaryInError(t *testing.T, what string, err error) {
	t.Helper()
	for _, e := range ErrorTree(err) {
		var b strings.Builder
		fmt.Fprintf(&b, "%v\n%+v\n%#v\n%s\n%q\n", e, e, e, e, e)
		slog.New(slog.NewJSONHandler(&b, nil)).Error("x", "err", e)
		slog.New(slog.NewTextHandler(&b, nil)).Error("x", "err", e)
		if strings.Contains(b.String(), Canary) {
			t.Errorf("%s: an error in the Unwrap tree (%T) holds a secret value (configtest.Canary) in one of its printed forms "+
				"(%%v, %%+v, %%#v, %%s, %%q, slog); never quote the content of a source or a value", what, e)
		}
	}
}
