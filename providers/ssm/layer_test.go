package ssm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

const canary = "CANARY-ssm-layer-91c4"

type appConfig struct {
	Server struct {
		Addr        string
		ReadTimeout time.Duration
		AllowedIPs  []string `config:"allowed_ips"`
	}
	Database struct {
		Host     string
		Port     int
		Password config.Secret
	}
	Payments struct {
		StripeKey config.Secret
	}
}

func schemaOf(t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[appConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const root = "/my-app/production"

// first does the first read of specs over api.
func first(t *testing.T, api *fakeAPI, opts *Options, specs ...Spec) (*Reader, config.Update, error) {
	t.Helper()
	l := NewWithClient(api, opts, specs...)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t)})
	return l, u, err
}

// Path segments map to keys: as written, or with hyphens and CamelCase read
// the way keys are derived from Go names; the Source names the parameter and
// its version and prints as the docs say.
func TestPathNaming(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/server/read-timeout", types.ParameterTypeString, "7s")
	api.put(root+"/server/Addr", types.ParameterTypeString, ":9090")
	api.put(root+"/Database/HOST", types.ParameterTypeString, "db.internal")
	for range 6 {
		api.put(root+"/database/port", types.ParameterTypeString, "5432")
	}
	_, u, err := first(t, api, nil, Path(root, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"server.read_timeout": "7s", "server.addr": ":9090", "database.host": "db.internal", "database.port": "5432"}
	for k, w := range want {
		if v, ok := u.Values[k]; !ok || v.Raw != w {
			t.Errorf("%s = %v, want %q", k, u.Values[k].Raw, w)
		}
	}
	if got := u.Values["database.port"].Source.String(); got != "ssm /my-app/production/database/port (version 6)" {
		t.Errorf("Source = %q", got)
	}
	if u.Versions[root+"/database/port"] != "6" {
		t.Errorf("Versions = %v", u.Versions)
	}
}

// A parameter under a path that maps to no field is an unknown name: it
// names the parameter and suggests the parameter name that would map.
func TestUnknownParameterSuggestsName(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/hots", types.ParameterTypeString, "db")
	api.put(root+"/database/port", types.ParameterTypeString, "5432")
	_, u, err := first(t, api, nil, Path(root, "", nil))
	names := configtest.UnknownNames(t, err)
	if len(names) != 1 {
		t.Fatalf("unknown names: %v", err)
	}
	if names[0].Name != root+"/database/hots" || names[0].Suggestion != root+"/database/host" {
		t.Errorf("unknown = %+v", names[0])
	}
	if !strings.Contains(err.Error(), "did you mean /my-app/production/database/host?") {
		t.Errorf("message: %v", err)
	}
	if _, ok := u.Values["database.port"]; !ok {
		t.Error("the known parameter was not read")
	}
	_, _, err = first(t, api, &Options{StrictKeys: true}, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) {
		t.Errorf("StrictKeys: %v", err)
	}
}

// Two parameters of one spec that map to one key are an error naming both,
// and neither sets it.
func TestTwoParametersOneKey(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/server/read-timeout", types.ParameterTypeString, "7s")
	api.put(root+"/server/read_timeout", types.ParameterTypeString, "9s")
	_, u, err := first(t, api, nil, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "read-timeout and /my-app/production/server/read_timeout") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := u.Values["server.read_timeout"]; ok {
		t.Error("an ambiguous key was set")
	}
}

// Names and Parameter read by name, ten a call, the calls in parallel and
// at most Options.Concurrency at once; a later spec overrides an earlier one.
func TestNamesBatchedInParallel(t *testing.T) {
	t.Parallel()
	api := newFake()
	var names []string
	for i := range 25 {
		n := fmt.Sprintf("unused/p%02d", i)
		api.put(root+"/"+n, types.ParameterTypeString, "x")
		names = append(names, n)
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	api.put("/shared/stripe-key", types.ParameterTypeSecureString, canary)
	var running, most atomic.Int32
	gate := make(chan struct{})
	var once sync.Once
	api.hook = func(ctx context.Context, op string) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if n >= 2 {
			once.Do(func() { close(gate) })
		}
		select { // hold the first call until a second one runs beside it
		case <-gate:
		case <-time.After(2 * time.Second):
		}
		return ctx.Err()
	}
	specs := []Spec{
		Names(root, "", append(names, "database/host"), nil),
		Parameter("/shared/stripe-key", "payments.stripe_key", nil),
		Parameter(root+"/database/host", "database.host", nil),
	}
	_, u, err := first(t, api, &Options{Concurrency: 2}, specs...)
	if got := api.count(OpGetParameters); got != 4 {
		t.Errorf("GetParameters calls = %d, want 3 for the 26 names of Names and 1 for the other spec", got)
	}
	if most.Load() != 2 {
		t.Errorf("at most %d calls ran at once, want 2 (Concurrency)", most.Load())
	}
	if len(configtest.UnknownNames(t, err)) != 25 {
		t.Errorf("the 25 unused names should be unknown: %v", err)
	}
	if v := u.Values["payments.stripe_key"]; !v.Sensitive || !v.Secret || v.Source.Location != "/shared/stripe-key" {
		t.Errorf("stripe key = %+v", v.Source)
	}
	if u.Values["database.host"].Raw != "db.internal" {
		t.Errorf("database.host = %v", u.Values["database.host"].Raw)
	}
}

// A GetParameters call holds the names of one spec: a spec whose call is
// denied does not hold back the others.
func TestDeniedSpecKeepsOthers(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put("/a/database/host", types.ParameterTypeString, "db.internal")
	api.put("/b/database/port", types.ParameterTypeString, "5432")
	api.fail["/b"] = apiErr("AccessDeniedException", "not authorized to perform: ssm:GetParameters")
	_, u, err := first(t, api, nil, Names("/a", "", []string{"database/host"}, nil), Names("/b", "", []string{"database/port"}, nil))
	if !errors.Is(err, config.ErrAccessDenied) || !strings.Contains(err.Error(), `ssm:GetParameters on "/b/database/port"`) {
		t.Errorf("err = %v", err)
	}
	if u.Values["database.host"].Raw != "db.internal" {
		t.Errorf("the other spec was held back: %v", u.Values)
	}
	var se *config.SourceError
	if !errors.As(err, &se) || len(se.Keys) != 1 || se.Keys[0] != "database.port" {
		t.Errorf("the error should name the key it leaves unset: %+v", se)
	}
}

// A StringList fills a list field item by item; into a string field it is
// its text.
func TestStringList(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/server/allowed_ips", types.ParameterTypeStringList, "10.0.0.1,10.0.0.2")
	api.put(root+"/server/addr", types.ParameterTypeStringList, "a,b")
	_, u, err := first(t, api, nil, Path(root, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(u.Values["server.allowed_ips"].Raw); got != "[10.0.0.1 10.0.0.2]" {
		t.Errorf("allowed_ips = %s", got)
	}
	if u.Values["server.addr"].Raw != "a,b" {
		t.Errorf("addr = %v", u.Values["server.addr"].Raw)
	}
}

// loadStore loads appConfig from the layer with the production secret policy.
func loadStore(t *testing.T, l config.Layer, logs *configtest.LogBuffer) (*config.Store[appConfig], error) {
	t.Helper()
	opts := &config.Options{EnvPrefix: "APP_", Production: true, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	s, err := config.Load[appConfig](t.Context(), opts, l)
	if s != nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// A SecureString is a proper home for a secret and a String parameter is
// not: the policy judges per value. A SecureString in a field that is not
// secret is never shown either.
func TestSecretPolicyPerValue(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/password", types.ParameterTypeSecureString, canary+"-password")
	api.put(root+"/database/host", types.ParameterTypeSecureString, canary+"-host")
	api.put(root+"/payments/stripe_key", types.ParameterTypeString, canary+"-plain")
	logs := &configtest.LogBuffer{}
	_, err := loadStore(t, NewWithClient(api, &Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}, Path(root, "", nil)), logs)
	if !errors.Is(err, config.ErrSecretPolicy) || !strings.Contains(err.Error(), "payments.stripe_key") || strings.Contains(err.Error(), "database.password") {
		t.Fatalf("only the String parameter should break the policy: %v", err)
	}
	api.put(root+"/payments/stripe_key", types.ParameterTypeSecureString, canary+"-secure")
	s, err := loadStore(t, NewWithClient(api, nil, Path(root, "", nil)), logs)
	if err != nil {
		t.Fatalf("every secret from a SecureString: %v", err)
	}
	for _, k := range s.Keys() {
		if k.Key == "database.host" && k.Value != config.Redacted {
			t.Errorf("a SecureString in database.host shows as %q", k.Value)
		}
	}
	noCanary(t, logs.String(), s.Masked(), s.Keys(), err)
}

// A SecureString that does not decode into its field is reported without
// its value.
func TestSecureStringNeverQuoted(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.put(root+"/database/port", types.ParameterTypeSecureString, canary)
	logs := &configtest.LogBuffer{}
	l := NewWithClient(api, &Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, Path(root, "", nil))
	_, err := loadStore(t, l, logs)
	if err == nil || !strings.Contains(err.Error(), "database.port") {
		t.Fatalf("err = %v", err)
	}
	u, _ := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t)})
	noCanary(t, err, logs.String(), l, u.State, u)
}

func noCanary(t *testing.T, vs ...any) {
	t.Helper()
	for _, v := range vs {
		if how, text, ok := configtest.Reveals(v, canary); ok {
			t.Fatalf("%T printed with %s shows the SecureString: %s", v, how, text)
		}
	}
}

// A refresh with nothing changed costs DescribeParameters only: one page
// per 50 parameters of a path and one call per 50 named parameters. A change
// reads the changed parameter alone.
func TestRefreshCost(t *testing.T) {
	t.Parallel()
	api := newFake()
	for i := range 60 {
		api.put(fmt.Sprintf("%s/unused/p%02d", root, i), types.ParameterTypeString, "x")
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	api.put("/shared/stripe", types.ParameterTypeSecureString, canary)
	l, u, _ := first(t, api, nil, Path(root, "", nil), Parameter("/shared/stripe", "payments.stripe_key", nil))
	before := l.Calls()
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if err != nil || u2.Changed {
		t.Fatalf("no change: %v %v", u2.Changed, err)
	}
	after := l.Calls()
	if d := after[OpDescribeParameters].Total() - before[OpDescribeParameters].Total(); d != 3 {
		t.Errorf("DescribeParameters calls = %d, want 2 pages of the path and 1 for the name", d)
	}
	if after[OpGetParameters] != before[OpGetParameters] || after[OpGetParametersByPath] != before[OpGetParametersByPath] {
		t.Errorf("a refresh with no change read values: %v -> %v", before, after)
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db2.internal")
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u.State})
	if !u3.Changed || u3.Values["database.host"].Raw != "db2.internal" {
		t.Fatalf("change: %v %v", u3.Changed, err)
	}
	if d := l.Calls()[OpGetParameters].Total() - after[OpGetParameters].Total(); d != 1 {
		t.Errorf("GetParameters calls for one change = %d, want 1", d)
	}
	if u3.Versions[root+"/database/host"] != "2" || u3.Values["database.host"].Source.Version != "2" {
		t.Errorf("versions = %v", u3.Versions)
	}
	api.remove(root + "/unused/p00")
	if u4, _ := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: u3.State}); !u4.Changed {
		t.Error("a parameter gone from the path is a change")
	}
}

// Paths are paged and the pages bounded.
func TestPaging(t *testing.T) {
	t.Parallel()
	api := newFake()
	api.pageSize = 2
	for i := range 7 {
		api.put(fmt.Sprintf("%s/unused/p%d", root, i), types.ParameterTypeString, "x")
	}
	api.put(root+"/database/host", types.ParameterTypeString, "db.internal")
	_, u, _ := first(t, api, nil, Path(root, "", nil))
	if api.count(OpGetParametersByPath) != 4 || u.Values["database.host"].Raw != "db.internal" {
		t.Errorf("pages = %d, values %v", api.count(OpGetParametersByPath), u.Values)
	}
	_, _, err := first(t, api, &Options{MaxPages: 3}, Path(root, "", nil))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "MaxPages") {
		t.Errorf("over MaxPages: %v", err)
	}
}
