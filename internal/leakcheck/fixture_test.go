package leakcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/go-playground/validator/v10"
	kjson "github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/providers/rawbytes"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/health"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/file"
	"github.com/strata-go/strata/providers/koanf"
	"github.com/strata-go/strata/providers/secretsmanager"
)

// stubAPI answers the calls the layer makes from a map of secret texts. It
// refuses BatchGetSecretValue, so the layer reads with GetSecretValue.
type stubAPI struct {
	mu       sync.Mutex
	secrets  map[string]string
	versions map[string]int
	errs     map[string]error
}

func (s *stubAPI) put(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = text
	s.versions[name]++
}

func (s *stubAPI) lookup(id string) (text, version string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.errs[id]; err != nil {
		return "", "", err
	}
	text, ok := s.secrets[id]
	if !ok {
		return "", "", &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no such secret"}
	}
	return text, fmt.Sprintf("v%d-0000-0000", s.versions[id]), nil
}

func (s *stubAPI) BatchGetSecretValue(context.Context, *sm.BatchGetSecretValueInput, ...func(*sm.Options)) (*sm.BatchGetSecretValueOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "UnknownOperationException", Message: "not here"}
}

func (s *stubAPI) GetSecretValue(_ context.Context, in *sm.GetSecretValueInput, _ ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	text, v, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	return &sm.GetSecretValueOutput{Name: aws.String(id), ARN: aws.String("arn:aws:secretsmanager:eu-west-1:000000000000:secret:" + id + "-AbCdEf"),
		SecretString: aws.String(text), VersionId: aws.String(v), VersionStages: []string{"AWSCURRENT"}}, nil
}

func (s *stubAPI) DescribeSecret(_ context.Context, in *sm.DescribeSecretInput, _ ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	id := aws.ToString(in.SecretId)
	_, v, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	return &sm.DescribeSecretOutput{Name: aws.String(id), ARN: aws.String("arn:aws:secretsmanager:eu-west-1:000000000000:secret:" + id + "-AbCdEf"),
		VersionIdsToStages: map[string][]string{v: {"AWSCURRENT"}}}, nil
}

func (s *stubAPI) ListSecrets(context.Context, *sm.ListSecretsInput, ...func(*sm.Options)) (*sm.ListSecretsOutput, error) {
	return &sm.ListSecretsOutput{}, nil
}

// panicLayer panics in Load with the canary in its message.
type panicLayer struct{}

func (panicLayer) Name() string    { return "boom" }
func (panicLayer) Sensitive() bool { return true }
func (panicLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	panic("boom: " + canary)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{logs: &configtest.LogBuffer{}}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := &stubAPI{secrets: map[string]string{}, versions: map[string]int{}, errs: map[string]error{
		"app/quoting": &smithy.GenericAPIError{Code: "ValidationException", Message: "rejected " + canary},
	}}
	api.put("app/db", `{"host": "db", "password": "`+canary+`-ok", "user": "`+canary+`"}`)
	api.put("app/stripe", canary)
	api.put("app/bad", `{"password": `+canary)
	f.sm = secretsmanager.NewWithClient(api, &secretsmanager.Options{Logger: logger}, secretsmanager.JSON("app/db", "database", nil),
		secretsmanager.String("app/stripe", "payments.stripe_key", nil))

	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	if err := os.WriteFile(envFile, []byte("APP_DATABASE_PORT=5433\nAPP_DATABSE_NAME="+canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := &env.Options{Environ: func() []string { return []string{"APP_DATABASE_HOST=db", "APP_PAYMENTS_STRIPE_KYE=" + canary} }}
	clock := configtest.NewClock(time.Unix(0, 0))
	f.opts = &config.Options{EnvPrefix: "APP_", Logger: logger, FingerprintKey: []byte(canary), Clock: clock, MinRefreshInterval: time.Nanosecond}
	dotenvLayer, envLayer := dotenv.File(envFile, nil), env.New(environ)
	st, err := config.Load[appCfg](ctx, f.opts, dotenvLayer, envLayer, f.sm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	if c := st.Get(); !strings.Contains(c.Database.Password.Reveal(), canary) || c.Database.User != canary ||
		c.Payments.StripeKey.Reveal() != canary {
		t.Fatal("the store does not hold the canary; the check would prove nothing")
	}
	f.extra = append(f.extra, dotenvLayer, envLayer, st.Get().Payments)
	if f.update, err = f.sm.Refresh(ctx, config.RefreshRequest{Schema: st.Schema()}); err != nil || f.update.State == nil {
		t.Fatalf("a Secrets Manager read gave no State: %v", err)
	}
	f.extra = append(f.extra, f.update.State)
	f.changes = changesOf(t, f, api, clock)
	f.extra = append(f.extra, healthDocument(t, f.store))
	if f.defaults, err = config.SchemaFor[withDefault]("APP_"); err != nil {
		t.Fatal(err)
	}
	f.errs = loadErrors(t, f, api)
	return f
}

// changesOf makes the store publish a change of secrets and then reject one,
// and returns both events and a Change built by hand.
func changesOf(t *testing.T, f *fixture, api *stubAPI, clock *configtest.Clock) []any {
	t.Helper()
	events := make(chan config.Change[appCfg], 4)
	unsubscribe := f.store.Subscribe(func(c config.Change[appCfg]) { events <- c })
	defer unsubscribe()
	var out []any
	// Each event is taken before the next refresh: events queued for a busy
	// subscriber are merged into one.
	next := func() {
		select {
		case c := <-events:
			out = append(out, c, &c)
		case <-time.After(30 * time.Second):
			t.Fatal("no change event")
		}
	}
	api.put("app/stripe", canary+"-rotated")
	clock.Advance(time.Second)
	if err := f.store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	next()
	api.put("app/db", `{"host": "db", "password": "`+canary+`-too-long-for-the-max-rule", "user": "`+canary+`"}`)
	clock.Advance(time.Second)
	rejected := f.store.Refresh(context.Background())
	if rejected == nil {
		t.Fatal("the refresh was not rejected")
	}
	f.errs = append(f.errs, rejected)
	next()
	cur := f.store.Get()
	return append(out, config.Change[appCfg]{Old: cur, New: cur, Keys: []string{"payments.stripe_key"}})
}

// loadErrors returns errors of loads fed the canary in every way that must
// not show it: secrets from plain layers, a malformed secret, an SDK error
// quoting its input, a parser error, unknown names, a panicking validator
// and a panicking layer.
func loadErrors(t *testing.T, f *fixture, api *stubAPI) []error {
	t.Helper()
	ctx := context.Background()
	quiet := &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Production: true, Strict: true}
	v := validator.New()
	if err := v.RegisterValidation("leaky", func(fl validator.FieldLevel) bool { panic(fl.Field().String()) }); err != nil {
		t.Fatal(err)
	}
	type leakyCfg struct {
		Token string `secret:"true" validate:"leaky"`
	}
	var errs []error
	add := func(err error) {
		if err == nil {
			t.Fatal("a load fed bad input succeeded")
		}
		errs = append(errs, err)
	}
	_, err := config.Load[appCfg](ctx, quiet, config.Static("env", map[string]string{"database.password": canary,
		"database.user": canary, "payments.stripe_key": canary, "database.port": "x", "database.hots": canary}))
	add(err)
	_, err = config.Load[appCfg](ctx, quiet, secretsmanager.NewWithClient(api, nil, secretsmanager.JSON("app/bad", "database", nil),
		secretsmanager.JSON("app/quoting", "payments", nil), secretsmanager.String("app/db", "database.user", nil)))
	add(err)
	_, err = config.Load[appCfg](ctx, quiet, koanf.New("file", rawbytes.Provider([]byte(`{"database": `+canary)), kjson.Parser(), nil))
	add(err)
	_, err = config.Load[leakyCfg](ctx, &config.Options{Logger: quiet.Logger, Validator: v},
		config.StaticSecrets("secrets", map[string]string{"token": canary}))
	add(err)
	_, err = config.Load[appCfg](ctx, quiet, panicLayer{})
	add(err)
	warned := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(warned, []byte("APP_DATABASE_PASSWORD="+canary+"$NOPE\nAPP_DATABASE_USER=\""+canary+"\nAPP_DATABASE_HOST="+canary+"\n\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load[appCfg](ctx, quiet, dotenv.File(warned, nil))
	add(err)
	if len(errorsOf[*dotenv.Warning](errs[len(errs)-1:])) < 2 {
		t.Fatalf("the .env load found %v, not both warnings; the check would prove little", err)
	}
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"bad.yaml": "database:\n  host: db\n  user: \"" + canary + "\n", "bad.json": `{"database": {"user": "` + canary + "\n",
		"bad.toml": "[database]\nuser = \"" + canary + "\n",
		"set.yaml": "database:\n  password: " + canary + "\n  user: " + canary + "\n  port: x\npayments:\n  stripe_key: " + canary + "\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = config.Load[appCfg](ctx, quiet, file.New(path, nil))
		add(err)
	}
	var agg *config.AggregateError
	if !errors.As(errs[0], &agg) || len(agg.Errs) < 4 {
		t.Fatalf("the first load found %v; the check would prove little", errs[0])
	}
	return errs
}

// healthDocument is the body health.Handler serves for the store, which has a
// rejected change of a canary secret outstanding.
func healthDocument(t *testing.T, st health.StatusSource) string {
	t.Helper()
	rec := httptest.NewRecorder()
	health.Handler(st).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, "database.password") {
		t.Fatalf("/healthz = %d %s; want the outstanding rejection, or the check would prove little", rec.Code, body)
	}
	return rec.Body.String()
}
