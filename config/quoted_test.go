package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// quotingSecret is the value of a secret field that a contract-breaking
// layer quotes in its errors.
const quotingSecret = "Kq7-quoted-by-a-layer"

// noQuotedSecret fails if any rendering of v shows quotingSecret.
func noQuotedSecret(t *testing.T, what string, v any) {
	t.Helper()
	if how, out, ok := configtest.Reveals(v, quotingSecret); ok {
		t.Fatalf("%s shows the secret (%s): %s", what, how, out)
	}
}

// A layer whose error quotes the value of a secret field breaks the Layer
// contract; the store still never shows it: not in Load's error, Refresh's,
// Status, the log or a watch's report. The replacement keeps what the
// store needs: the layer, transient or not, a warning or not.
func TestLayerErrorsQuotingSecretsAreNotShown(t *testing.T) {
	t.Parallel()
	vals := map[string]any{"host": "db1", "password": quotingSecret}
	t.Run("Load", func(t *testing.T) {
		t.Parallel()
		l := &fakeLayer{name: "vault", sensitive: true, vals: vals,
			err: fmt.Errorf("vault: token %s refused: %w", quotingSecret, config.ErrAccessDenied)}
		_, err := config.Load[rfConfig](context.Background(), nil, l)
		if err == nil || !strings.Contains(err.Error(), "holds the value of a secret field") {
			t.Fatalf("Load = %v, want the quoting error replaced", err)
		}
		noQuotedSecret(t, "Load's error", err)
	})
	t.Run("Refresh", func(t *testing.T) {
		t.Parallel()
		var logs configtest.LogBuffer
		fail := fmt.Errorf("GetSecretValue: %w (last good %q)", config.ErrTransient, quotingSecret)
		l := refreshingLayer{&fakeLayer{name: "vault", sensitive: true, vals: vals, refreshes: []refreshStep{{err: fail}}}}
		s, err := config.Load[rfConfig](context.Background(), &config.Options{MinRefreshInterval: 1,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, l)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Refresh(rfCtx(t))
		if !errors.Is(err, config.ErrTransient) {
			t.Fatalf("Refresh = %v, want a transient error still", err)
		}
		if s.Get().Password.Reveal() != quotingSecret {
			t.Error("the failed refresh replaced the configuration")
		}
		noQuotedSecret(t, "Refresh's error", err)
		noQuotedSecret(t, "Status", s.Status())
		noQuotedSecret(t, "the log", logs.String())
	})
	t.Run("cannot be examined", func(t *testing.T) {
		t.Parallel()
		l := &fakeLayer{name: "vault", sensitive: true, vals: vals,
			err: wrapsPanicking{}}
		_, err := config.Load[rfConfig](context.Background(), nil, l)
		if err == nil || !strings.Contains(err.Error(), "cannot be examined") {
			t.Fatalf("Load = %v, want the error replaced as one that cannot be examined", err)
		}
	})
	t.Run("warning", func(t *testing.T) {
		t.Parallel()
		l := &fakeLayer{name: "vault", sensitive: true, vals: vals,
			err: &config.UnknownNameError{Name: "x." + quotingSecret, Source: config.Source{Layer: "vault"}}}
		s, err := config.Load[rfConfig](context.Background(), &config.Options{Logger: slog.New(slog.DiscardHandler)}, l)
		if err != nil {
			t.Fatalf("Load = %v, want the warning to stay a warning", err)
		}
		defer s.Close()
		if w := s.Warnings(); len(w) != 1 || !errors.Is(w[0], config.ErrUnknownName) {
			t.Fatalf("Warnings = %v, want one unknown name", w)
		}
		noQuotedSecret(t, "Warnings", s.Warnings())
	})
	t.Run("Watch", func(t *testing.T) {
		t.Parallel()
		f := newWatchFixtureOf(t, config.Options{}, nil, false)
		w := f.watch(t)
		w.Report(config.WatchReport{Err: fmt.Errorf("queue: %s: %w", rfSecret1, config.ErrTransient)})
		ws := f.watchStatus(t)
		if ws == nil || ws.Err == nil {
			t.Fatalf("watch status = %+v, want the reported error", ws)
		}
		if how, out, ok := configtest.Reveals(ws, rfSecret1); ok {
			t.Fatalf("the watch's status shows the secret (%s): %s", how, out)
		}
	})
}

// wrapsPanicking is an error whose cause's Error panics.
type wrapsPanicking struct{}

func (wrapsPanicking) Error() string { return "vault: refused" }
func (wrapsPanicking) Unwrap() error { return panicsInError{} }

// panicsInError is an error whose Error panics.
type panicsInError struct{}

func (panicsInError) Error() string { panic("token " + quotingSecret) }
