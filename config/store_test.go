package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/strata-go/strata/config"
)

type appCfg struct {
	Server struct {
		Addr        string        `default:":8080" validate:"required"`
		ReadTimeout time.Duration `default:"5s"`
	}
	Database struct {
		Host     string        `validate:"required,hostname"`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		Password config.Secret `validate:"required,min=12"`
		User     string        `secret:"true"`
	}
}

func load(t *testing.T, opts *config.Options, layers ...config.Layer) (*config.Store[appCfg], error) {
	t.Helper()
	if opts == nil {
		opts = &config.Options{}
	}
	if opts.Logger == nil {
		opts.Logger = discard()
	}
	opts.EnvPrefix = "APP_"
	st, err := config.Load[appCfg](context.Background(), opts, layers...)
	if st != nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

var goodSecrets = &fakeLayer{name: "secretsmanager", sensitive: true,
	vals: map[string]any{"database.password": "correct-horse-battery", "database.user": "app"}}

func TestLayersOverrideKeyByKey(t *testing.T) {
	t.Parallel()
	st, err := load(t, nil,
		&fakeLayer{name: "file", vals: map[string]any{"database.host": "from-dotenv", "server.addr": ":9000"}},
		&fakeLayer{name: "env", vals: map[string]any{"database.host": "from-env"}},
		goodSecrets,
	)
	if err != nil {
		t.Fatal(err)
	}
	c := st.Get()
	if c.Database.Host != "from-env" || c.Server.Addr != ":9000" || c.Server.ReadTimeout != 5*time.Second || c.Database.Port != 5432 {
		t.Errorf("merged config wrong: %+v", c)
	}
	for key, want := range map[string]string{
		"database.host":       "env database.host",
		"server.addr":         "file server.addr",
		"server.read_timeout": "default",
		"database.password":   "secretsmanager database.password",
	} {
		ki, ok := st.Explain(key)
		if !ok || ki.Source.String() != want {
			t.Errorf("Explain(%s).Source = %q, want %q", key, ki.Source, want)
		}
	}
	if _, ok := st.Explain("nope"); ok {
		t.Error("Explain of an unknown key succeeded")
	}
}

func TestValidationAggregate(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil,
		&fakeLayer{name: "file", vals: map[string]any{"database.port": "70000", "database.host": "not a host!"}},
		&fakeLayer{name: "secretsmanager", sensitive: true, vals: map[string]any{"database.password": "short"}},
	)
	var agg *config.AggregateError
	if !errors.As(err, &agg) {
		t.Fatalf("err = %v, want *AggregateError", err)
	}
	want := map[string]string{
		"database.port":     "database.port must be at most 65535 (from file database.port)",
		"database.host":     "database.host must be a valid hostname (from file database.host)",
		"database.password": "database.password must have at least 12 characters (from secretsmanager database.password)",
	}
	for _, e := range agg.Errs {
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("problem %v is not a FieldError", e)
			continue
		}
		if w, ok := want[fe.Key]; !ok || fe.Error() != w {
			t.Errorf("problem %q, want %q", fe.Error(), w)
		}
		if !errors.Is(fe, config.ErrValidation) || fe.Rule == "" {
			t.Errorf("problem %v lacks rule or sentinel", fe)
		}
		delete(want, fe.Key)
	}
	if len(want) != 0 {
		t.Errorf("missing problems: %v", want)
	}
	if !errors.Is(err, config.ErrValidation) {
		t.Error("errors.Is(err, ErrValidation) is false")
	}
}

func TestMissingRequired(t *testing.T) {
	t.Parallel()
	_, err := load(t, nil)
	for _, want := range []string{"database.host is required (APP_DATABASE_HOST)", "database.password is required (a secret: expected from a secret source, and none set it)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

type customCfg struct {
	Color string `default:"mauve" validate:"primary"`
}

func TestCustomValidator(t *testing.T) {
	t.Parallel()
	v := validator.New()
	if err := v.RegisterValidation("primary", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return s == "red" || s == "green" || s == "blue"
	}); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load[customCfg](context.Background(), &config.Options{Validator: v, Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "color must satisfy primary (COLOR from default)") {
		t.Errorf("err = %v", err)
	}
}

func TestSecretPolicy(t *testing.T) {
	t.Parallel()
	plain := &fakeLayer{name: "env", vals: map[string]any{"database.host": "db", "database.password": "correct-horse-battery", "database.user": "app"}}

	var logs bytes.Buffer
	st, err := load(t, &config.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, plain)
	if err != nil {
		t.Fatal(err)
	}
	w := st.Warnings()
	if len(w) != 2 || !errors.Is(w[0], config.ErrSecretPolicy) {
		t.Fatalf("warnings = %v", w)
	}
	if !strings.Contains(logs.String(), "database.password is a secret but was set by a layer that is not sensitive") {
		t.Errorf("warning not logged: %s", logs.String())
	}

	_, err = load(t, &config.Options{Production: true}, plain)
	if !errors.Is(err, config.ErrSecretPolicy) || !strings.Contains(err.Error(), "APP_DATABASE_USER from env database.user") {
		t.Errorf("production: err = %v", err)
	}

	// A secret that a sensitive layer overrides is fine.
	st, err = load(t, &config.Options{Production: true}, plain, goodSecrets)
	if err != nil || len(st.Warnings()) != 0 {
		t.Errorf("overridden by secrets layer: err = %v, warnings = %v", err, st.Warnings())
	}
}

type unknownLayer struct{ fakeLayer }

func (l *unknownLayer) Load(ctx context.Context, s *config.Schema) (config.Values, error) {
	vals, _ := l.fakeLayer.Load(ctx, s)
	src := config.Source{Layer: "env", Location: "APP_DATABSE_HOST"}
	return vals, errors.Join(s.UnknownEnv("APP_DATABSE_HOST", src))
}

func TestUnknownNamesWarnOrFail(t *testing.T) {
	t.Parallel()
	l := &unknownLayer{fakeLayer{name: "env", vals: map[string]any{"database.host": "db"}}}
	st, err := load(t, nil, l, goodSecrets)
	if err != nil {
		t.Fatal(err)
	}
	if w := st.Warnings(); len(w) != 1 || w[0].Error() != "APP_DATABSE_HOST: unknown, did you mean APP_DATABASE_HOST? (env)" {
		t.Errorf("warnings = %v", w)
	}
	_, err = load(t, &config.Options{Strict: true}, l, goodSecrets)
	if !errors.Is(err, config.ErrUnknownName) {
		t.Errorf("strict: err = %v", err)
	}
}

func TestLayerErrorsAreListedWithFieldProblems(t *testing.T) {
	t.Parallel()
	broken := &fakeLayer{name: "secretsmanager", sensitive: true, err: &config.SourceError{
		Layer: "secretsmanager", Source: "my-app/db", Code: config.ErrAccessDenied, Message: "missing IAM permission secretsmanager:GetSecretValue"}}
	_, err := load(t, nil, broken, &fakeLayer{name: "env", vals: map[string]any{"database.port": "x"}})
	if !errors.Is(err, config.ErrAccessDenied) || !errors.Is(err, config.ErrInvalidValue) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "secretsmanager my-app/db: access denied: missing IAM permission secretsmanager:GetSecretValue") {
		t.Errorf("message = %v", err)
	}
}

func TestTwoStoresCoexist(t *testing.T) {
	t.Parallel()
	a, err := load(t, nil, &fakeLayer{name: "env", vals: map[string]any{"database.host": "alpha.internal"}}, goodSecrets)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(t, nil, &fakeLayer{name: "env", vals: map[string]any{"database.host": "beta.internal"}}, goodSecrets)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load[customCfg](context.Background(), &config.Options{Logger: discard(), Validator: validator.New()})
	if err == nil {
		c.Close()
	}
	if a.Get().Database.Host != "alpha.internal" || b.Get().Database.Host != "beta.internal" || a.Get() == b.Get() {
		t.Error("stores share state")
	}
}

func TestMaskedForms(t *testing.T) {
	t.Parallel()
	st, err := load(t, nil, &fakeLayer{name: "env", vals: map[string]any{"database.host": "db"}}, goodSecrets)
	if err != nil {
		t.Fatal(err)
	}
	m := st.Masked()
	text := m.String()
	for _, want := range []string{"database.host = db\n", "database.password = [REDACTED] fp:", "database.user = [REDACTED] fp:", "server.read_timeout = 5s\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("String() lacks %q:\n%s", want, text)
		}
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"database":{"host":"db","password":"[REDACTED]","port":"5432","user":"[REDACTED]"}`) {
		t.Errorf("JSON = %s", js)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", m)
	if !strings.Contains(buf.String(), "cfg.database.password=[REDACTED]") || !strings.Contains(buf.String(), "cfg.database.host=db") {
		t.Errorf("slog = %s", buf.String())
	}
	ki, _ := st.Explain("database.password")
	if !ki.Secret || ki.Value != config.Redacted || ki.Fingerprint != config.Fingerprint("correct-horse-battery") || len(ki.Fingerprint) != 8 {
		t.Errorf("Explain(secret) = %+v", ki)
	}
	if keys := st.Keys(); len(keys) != 6 || keys[0].Key != "server.addr" {
		t.Errorf("Keys = %v", keys)
	}
}

func TestGetIsStableAndNeverNil(t *testing.T) {
	t.Parallel()
	st, err := load(t, nil, &fakeLayer{name: "env", vals: map[string]any{"database.host": "db"}}, goodSecrets)
	if err != nil {
		t.Fatal(err)
	}
	p := st.Get()
	if p == nil || st.Get() != p {
		t.Fatal("Get is nil or not stable without a refresh")
	}
	st.Close()
	if st.Get() != p {
		t.Error("Get after Close changed")
	}
	if err := st.Refresh(context.Background()); !errors.Is(err, config.ErrClosed) {
		t.Errorf("Refresh after Close = %v", err)
	}
}

// valuesLayer is a layer that is not sensitive and returns vals as they are.
type valuesLayer struct{ vals config.Values }

func (valuesLayer) Name() string    { return "params" }
func (valuesLayer) Sensitive() bool { return false }
func (l valuesLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	return l.vals, nil
}

// A layer that is not sensitive may hold some values that are, such as SSM
// SecureStrings among String parameters: those may set secrets, and no message
// quotes them; the layer's other values still break the policy.
func TestPerValueSensitivity(t *testing.T) {
	t.Parallel()
	const canary = "canary-securestring-7f3a"
	src := func(name string) config.Source { return config.Source{Layer: "params", Location: name} }
	mixed := valuesLayer{vals: config.Values{
		"database.password": {Raw: canary, Source: src("/app/password"), Sensitive: true},
		"database.user":     {Raw: "app", Source: src("/app/user")},
		"database.port":     {Raw: canary, Source: src("/app/port"), Sensitive: true},
		"database.host":     {Raw: "db.internal", Source: src("/app/host")},
	}}
	_, err := load(t, &config.Options{Production: true}, mixed)
	if err == nil {
		t.Fatal("an invalid port loaded")
	}
	if errors.Is(err, config.ErrSecretPolicy) != true || strings.Count(err.Error(), "is a secret") != 1 ||
		!strings.Contains(err.Error(), "database.user") {
		t.Errorf("only the plain database.user should break the policy: %v", err)
	}
	if strings.Contains(err.Error(), canary) || strings.Contains(fmt.Sprintf("%+v", err), canary) {
		t.Errorf("a sensitive value was quoted: %v", err)
	}
	mixed.vals["database.port"] = config.Value{Raw: "5432", Source: src("/app/port"), Sensitive: true}
	mixed.vals["database.user"] = config.Value{Raw: "app", Source: src("/app/user"), Sensitive: true}
	if _, err := load(t, &config.Options{Production: true}, mixed); err != nil {
		t.Errorf("every secret from a sensitive value: %v", err)
	}
}
