package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

const redactCanary = "CANARY-redact-4b9e0d"

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func assertRedacted(t *testing.T, what string, v any, canary string) {
	t.Helper()
	if how, s, ok := configtest.Reveals(v, canary); ok {
		t.Errorf("%s printed with %s shows the canary: %s", what, how, s)
	}
}

// secretValueLayer sets database.host with a value marked secret, as a .env
// value expanded from a secret is.
type secretValueLayer struct{ host string }

func (secretValueLayer) Name() string    { return "dotenv" }
func (secretValueLayer) Sensitive() bool { return false }
func (l secretValueLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return config.Values{"database.host": {Raw: l.host, Secret: true, Source: config.Source{Layer: "dotenv", Location: ".env", Line: 2}}}, nil
}

// TestPrintingRedactsEverything prints the store, its views, its options,
// its schema and its change events every way, after loading canary secrets
// into a config.Secret field, a secret:"true" field and a value marked
// secret in a plain field.
func TestPrintingRedactsEverything(t *testing.T) {
	t.Parallel()
	c := redactCanary
	clock := configtest.NewClock(time.Unix(0, 0))
	secrets := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true,
		vals: map[string]any{"database.password": c + strings.Repeat("x", 40), "database.user": c + "@example.com", "database.pin": c}}}
	opts := &config.Options{Logger: discard(), Clock: clock, MinRefreshInterval: time.Nanosecond, FingerprintKey: []byte(c)}
	st, err := config.Load[canaryCfg](t.Context(), opts, secretValueLayer{host: c}, secrets)
	if err == nil {
		t.Fatal("want the pin that is no int to fail")
	}
	assertRedacted(t, "load error", err, c)
	secrets.vals["database.pin"] = "1234"
	secrets.vals["database.user"] = "app@example.com"
	st, err = config.Load[canaryCfg](t.Context(), opts, secretValueLayer{host: c}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := make(chan config.Change[canaryCfg], 4)
	st.Subscribe(func(ch config.Change[canaryCfg]) { events <- ch })

	if s := fmt.Sprint(st); !strings.Contains(s, "database.password=[REDACTED]") || !strings.Contains(s, "database.host=[REDACTED]") {
		t.Errorf("the store prints %q; want its masked configuration", s)
	}
	host, _ := st.Explain("database.host")
	if host.Value != config.Redacted || host.Display() == c {
		t.Errorf("Explain of a value marked secret = %+v", host)
	}
	views := map[string]any{"store": st, "masked": st.Masked(), "keys": st.Keys(), "host": host, "status": st.Status(),
		"options": *opts, "options pointer": opts, "schema": st.Schema(), "fields": st.Schema().Fields(),
		"values": toValues("x", map[string]any{"database.password": c})}
	for what, v := range views {
		assertRedacted(t, what, v, c)
	}

	// A change of every secret, then a rejected one.
	secrets.push(refreshStep{vals: map[string]any{"database.password": "new-" + c + strings.Repeat("y", 40),
		"database.user": "b@example.com", "database.pin": "99"}},
		refreshStep{vals: map[string]any{"database.password": c, "database.user": c, "database.pin": c}})
	clock.Advance(time.Second)
	if err := st.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if i == 1 { // after the first event, so the two are not merged
			clock.Advance(time.Second)
			if err := st.Refresh(t.Context()); err == nil {
				t.Fatal("want the refresh to be rejected")
			}
		}
		select {
		case ev := <-events:
			assertRedacted(t, "change", ev, c)
			assertRedacted(t, "change pointer", &ev, c)
			if s := fmt.Sprintf("%+v", ev); !strings.Contains(s, "database.password=[REDACTED]") {
				t.Errorf("the change prints %q; want its masked snapshots", s)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change event")
		}
	}
	// A Change built by hand masks its snapshots through the schema.
	cfg := *st.Get()
	assertRedacted(t, "hand-made change", config.Change[canaryCfg]{Old: &cfg, New: &cfg, Keys: []string{"database.user"}}, c)
}

// TestValidatorFailuresNameFieldAndRule covers rules the validator cannot
// run: the failure names the field and the rule, never the panic's text, and
// the other fields are still checked.
func TestValidatorFailuresNameFieldAndRule(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Token    string `validate:"leaky"`
		Port     int    `validate:"min=abc"`
		Host     string `validate:"required"`
		Database struct {
			Name string
		} `validate:"required"`
	}
	v := validator.New(validator.WithRequiredStructEnabled())
	if err := v.RegisterValidation("leaky", func(fl validator.FieldLevel) bool {
		panic("leaky rule saw " + fl.Field().String())
	}); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load[cfg](t.Context(), &config.Options{Logger: discard(), Validator: v, EnvPrefix: "APP_"},
		config.Static("env", map[string]string{"token": redactCanary, "port": "1"}))
	if err == nil {
		t.Fatal("want errors")
	}
	assertRedacted(t, "validation error", err, redactCanary)
	msg := err.Error()
	for _, want := range []string{`token has a validate rule "leaky"`, `port has a validate rule "min=abc"`,
		"host is required (APP_HOST)", "database is required"} {
		if !strings.Contains(msg, want) {
			t.Errorf("err = %v\nwant it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "Database") {
		t.Errorf("err = %v names a Go field instead of its key", msg)
	}
	var agg *config.AggregateError
	if !errors.As(err, &agg) {
		t.Fatalf("err = %T", err)
	}
	for _, e := range agg.Errs {
		var fe *config.FieldError
		if errors.As(e, &fe) && fe.Key == "token" && (fe.Rule != "leaky" || !errors.Is(fe, config.ErrSchema)) {
			t.Errorf("token: Rule %q, err %v; want rule leaky and ErrSchema", fe.Rule, fe)
		}
	}
}

// derefLayer is a layer whose methods use its fields, so a nil *derefLayer
// panics in every method.
type derefLayer struct{ name string }

func (l *derefLayer) Name() string    { return l.name }
func (l *derefLayer) Sensitive() bool { return l.name == "" }
func (l *derefLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return config.Values{}, nil
}

// panicLayer panics with a message quoting a value, in the method named by at.
type panicLayer struct{ at string }

func (l panicLayer) Name() string {
	if l.at == "Name" {
		panic("Name saw " + redactCanary)
	}
	return "boom"
}
func (l panicLayer) Sensitive() bool { return true }
func (l panicLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	if l.at == "Load" {
		panic(fmt.Errorf("Load saw %s", redactCanary))
	}
	return config.Values{"server.addr": {Raw: ":1", Source: config.Source{Layer: "boom"}}}, nil
}
func (l panicLayer) Refresh(ctx context.Context, req config.RefreshRequest) (config.Update, error) {
	if req.Prev == nil {
		vals, err := l.Load(ctx, req.Schema)
		return config.Update{Changed: true, Values: vals, State: true}, err
	}
	if l.at == "Refresh" {
		panic("Refresh saw " + redactCanary)
	}
	return config.Update{}, nil
}

// oldRefresher has a Refresh of another signature than config.Refresher's.
type oldRefresher struct{}

func (oldRefresher) Name() string    { return "old" }
func (oldRefresher) Sensitive() bool { return false }
func (oldRefresher) Load(context.Context, *config.Schema) (config.Values, error) {
	return nil, nil
}
func (oldRefresher) Refresh(context.Context, *config.Schema) (config.Values, bool, error) {
	return nil, false, nil
}

// onlyLayer hides every method of a layer but those of config.Layer, so a
// Refresher is read with Load.
type onlyLayer struct{ config.Layer }

// TestUnusableLayersAreErrors checks that nil layers and layers that panic
// make Load (and Refresh) return an error naming the layer's position, with
// the panic's type and never its text.
func TestUnusableLayersAreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		layers []config.Layer
		want   string
	}{
		{"nil", []config.Layer{nil}, "layer 1 is nil"},
		{"typed nil", []config.Layer{config.Static("env", nil), (*derefLayer)(nil)}, "layer 2 is a nil *config_test.derefLayer"},
		{"panic in Load", []config.Layer{onlyLayer{panicLayer{at: "Load"}}}, "layer 1 (boom) panicked in Load (a panic of type *errors.errorString)"},
		{"panic in the first Refresh", []config.Layer{panicLayer{at: "Load"}}, "layer 1 (boom) panicked in Refresh (a panic of type *errors.errorString)"},
		{"old Refresh", []config.Layer{oldRefresher{}}, "layer 1 (old) has a Refresh method, but not config.Refresher's"},
		{"panic in Name", []config.Layer{config.Static("env", nil), panicLayer{at: "Name"}}, "layer 2 panicked in Name or Sensitive (a panic of type string)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load[appCfg](t.Context(), &config.Options{Logger: discard()}, tt.layers...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, config.ErrLayer) {
				t.Errorf("err = %v, want %q matching ErrLayer", err, tt.want)
			}
			assertRedacted(t, "layer error", err, redactCanary)
		})
	}

	t.Run("panic in Refresh", func(t *testing.T) {
		t.Parallel()
		clock := configtest.NewClock(time.Unix(0, 0))
		st, err := config.Load[appCfg](t.Context(), &config.Options{Logger: discard(), Clock: clock, MinRefreshInterval: time.Nanosecond},
			config.StaticSecrets("secrets", map[string]string{"database.host": "db", "database.password": "0123456789abc"}),
			panicLayer{at: "Refresh"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clock.Advance(time.Second)
		err = st.Refresh(t.Context())
		if err == nil || !strings.Contains(err.Error(), "layer 2 (boom) panicked in Refresh (a panic of type string)") {
			t.Errorf("Refresh err = %v", err)
		}
		assertRedacted(t, "refresh error", err, redactCanary)
		if st.Get().Database.Host != "db" {
			t.Error("the store lost its snapshot")
		}
	})
}

// perSourceLayer fails each of its sources with the context's error once
// ctx is done, as a layer that reads several secrets does.
type perSourceLayer struct{}

func (perSourceLayer) Name() string    { return "vault" }
func (perSourceLayer) Sensitive() bool { return true }
func (perSourceLayer) Load(ctx context.Context, _ *config.Schema) (config.Values, error) {
	var errs []error
	for _, src := range []string{"db", "api"} {
		errs = append(errs, &config.SourceError{Layer: "vault", Source: src, Err: ctx.Err(), Keys: []string{"database"}})
	}
	return nil, errors.Join(errs...)
}

func TestInterruptedLayerNamedOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := config.Load[appCfg](ctx, &config.Options{Logger: discard()}, perSourceLayer{})
	msg := errText(err)
	if strings.Count(msg, "context canceled") != 1 || !strings.Contains(msg, "vault: interrupted (the context given to Load): context canceled") {
		t.Errorf("err = %v, want the vault layer interrupted, once", err)
	}
	if strings.Contains(msg, "database.host is required") || !strings.Contains(msg, "database.host, database.password are unset") {
		t.Errorf("err = %v, want the fields the layer would have set named once as unset", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v is not context.Canceled", err)
	}
}

// TestFailedLoadKeepsWarnings checks that a load that fails still reports
// (and logs) its warnings, such as the typo that left a field unset.
func TestFailedLoadKeepsWarnings(t *testing.T) {
	t.Parallel()
	schema, err := config.SchemaFor[appCfg]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	typo := schema.UnknownEnv("APP_DATABSE_HOST", config.Source{Layer: "env", Location: "APP_DATABSE_HOST"})
	logs := &configtest.LogBuffer{}
	_, err = config.Load[appCfg](t.Context(), &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.NewTextHandler(logs, nil))},
		&fakeLayer{name: "env", err: typo},
		config.StaticSecrets("secrets", map[string]string{"database.password": "0123456789abc"}))
	var agg *config.AggregateError
	if !errors.As(err, &agg) || len(agg.Errs) != 1 || len(agg.Warnings) != 1 {
		t.Fatalf("err = %#v, want one error and one warning", err)
	}
	want := "config: database.host is required; APP_DATABSE_HOST is set, which may be a misspelling of APP_DATABASE_HOST (APP_DATABASE_HOST)\n" +
		"  warning: APP_DATABSE_HOST: unknown, did you mean APP_DATABASE_HOST? (env)"
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	if !errors.Is(err, config.ErrValidation) || errors.Is(err, config.ErrUnknownName) {
		t.Error("errors.Is must match the errors, not the warnings")
	}
	if !strings.Contains(logs.String(), "APP_DATABSE_HOST") {
		t.Errorf("the warning was not logged: %q", logs.String())
	}
}

// TestFailedSourceExplainsUnsetFields checks that fields a failed source
// would have set are reported once, with the source, not each as required.
func TestFailedSourceExplainsUnsetFields(t *testing.T) {
	t.Parallel()
	denied := &config.SourceError{Layer: "secretsmanager", Source: "app/db", Code: config.ErrAccessDenied,
		Message: "missing IAM permission secretsmanager:GetSecretValue", Keys: []string{"database"}}
	_, err := load(t, nil, &fakeLayer{name: "secretsmanager", sensitive: true, err: denied})
	want := "config: secretsmanager app/db: access denied: missing IAM permission secretsmanager:GetSecretValue; so database.host, database.password are unset"
	if errText(err) != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, config.ErrAccessDenied) {
		t.Error("err is not ErrAccessDenied")
	}
	if len(denied.Error()) >= len(want) {
		t.Error("Load changed the layer's own error")
	}
}

// TestMessagesNameTheOrigin checks the origin part of field messages: the
// environment name once, a secret store by its source alone, and no
// environment name for an unset secret.
func TestMessagesNameTheOrigin(t *testing.T) {
	t.Parallel()
	sm := config.Source{Layer: "secretsmanager", Location: "my-app/db#password", Version: "3f2a9c1e77aa", Stage: "AWSCURRENT"}
	tests := []struct {
		src  config.Source
		want string
	}{
		{config.Source{Layer: "env", Location: "APP_X"}, "x is bad (env APP_X)"},
		{config.Source{Layer: "dotenv", Location: ".env", Line: 3}, "x is bad (APP_X from .env:3)"},
		{config.Source{Layer: "default"}, "x is bad (APP_X from default)"},
		{config.Source{}, "x is bad (APP_X)"},
		{sm, "x is bad (from secretsmanager my-app/db#password (version 3f2a9c1e, AWSCURRENT))"},
	}
	for _, tt := range tests {
		e := &config.FieldError{Key: "x", Env: "APP_X", Source: tt.src, Message: "is bad"}
		if e.Error() != tt.want {
			t.Errorf("%+v: %q, want %q", tt.src, e.Error(), tt.want)
		}
	}
	_, err := load(t, nil, config.StaticSecrets("secretsmanager", map[string]string{"database.host": "db"}))
	if msg := errText(err); !strings.Contains(msg, "database.password is required (a secret: expected from a secret source") ||
		strings.Contains(msg, "APP_DATABASE_PASSWORD") {
		t.Errorf("err = %v; an unset secret must not point at the environment", err)
	}
}

// panicky panics when decoded, with the text in its message.
type panicky struct{}

func (*panicky) UnmarshalText(b []byte) error { panic("decoding " + string(b)) }

func TestDecoderPanicIsAnError(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Mode panicky
	}
	_, err := config.Load[cfg](t.Context(), &config.Options{Logger: discard()},
		config.StaticSecrets("secrets", map[string]string{"mode": redactCanary}))
	if err == nil || !strings.Contains(err.Error(), "mode has an invalid value: expected a valid config_test.panicky (its UnmarshalText panicked)") {
		t.Errorf("err = %v", err)
	}
	assertRedacted(t, "decode error", err, redactCanary)
}

// TestRejectedRefreshKeepsWarnings checks that a rejected refresh reports the
// warnings of the rejected values with its errors.
func TestRejectedRefreshKeepsWarnings(t *testing.T) {
	t.Parallel()
	schema, err := config.SchemaFor[appCfg]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	clock := configtest.NewClock(time.Unix(0, 0))
	secrets := refreshingLayer{&fakeLayer{name: "secretsmanager", sensitive: true,
		vals: map[string]any{"database.host": "db", "database.password": "0123456789abc"}}}
	st, err := config.Load[appCfg](t.Context(), &config.Options{Logger: discard(), Clock: clock, MinRefreshInterval: time.Nanosecond}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	typo := schema.UnknownKey("database.hots", config.Source{Layer: "secretsmanager", Location: "app/db#hots"})
	secrets.push(refreshStep{vals: map[string]any{"database.password": "0123456789abc"}, err: typo})
	clock.Advance(time.Second)
	err = st.Refresh(t.Context())
	if msg := errText(err); !strings.Contains(msg, "database.host is required") || !strings.Contains(msg, "warning: database.hots: unknown, did you mean database.host?") {
		t.Errorf("Refresh err = %v, want the rejection with its warning", err)
	}
	if st.Get().Database.Host != "db" {
		t.Error("the rejected values were published")
	}
}
