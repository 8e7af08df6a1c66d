package tests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/ssm"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// ssmCanary is a SecureString value searched for in every output.
const ssmCanary = "CANARY-ssm-3e9d1f-never-print-me"

type ssmConfig struct {
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
}

// ssmEnv is one emulator behind one fault proxy: direct puts parameters,
// cfg reaches the emulator through the proxy, whose counts are what the
// layer under test spent.
type ssmEnv struct {
	proxy  *faultproxy.Proxy
	direct *awsssm.Client
	cfg    aws.Config
}

func newSSMEnv(tb testing.TB) *ssmEnv {
	tb.Helper()
	url := emu.Start(tb)
	p, err := faultproxy.New(url, faultproxy.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return &ssmEnv{proxy: p, direct: awsssm.NewFromConfig(emu.AWSConfig(url)), cfg: emu.AWSConfig(p.URL())}
}

// root returns a path no other test uses: kumo's parameters are shared.
func (e *ssmEnv) root(tb testing.TB) string {
	tb.Helper()
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune("+=@", r) {
			return '-'
		}
		return r
	}, emu.UniqueName(tb, ""))
	return "/strata-tests/" + name
}

// put creates or overwrites a parameter.
func (e *ssmEnv) put(tb testing.TB, name string, typ types.ParameterType, value string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := e.direct.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true)})
	if err != nil {
		tb.Fatalf("PutParameter %s: %v", name, err)
	}
}

func (e *ssmEnv) layer(opts ssm.Options, specs ...ssm.Spec) *ssm.Reader {
	return ssm.New(e.cfg, &opts, specs...)
}

// TestConformanceSSM runs the layer contract, refresh rules included, on the
// Parameter Store layer against the emulator through the SDK: one Path per
// section, tokens as SecureStrings. A fault rule matched on the section's
// path makes that source alone fail: a 500 (transient), a denied call
// (permanent), or an answer whose parameters carry the text under a type
// that is none (malformed).
func TestConformanceSSM(t *testing.T) {
	t.Parallel()
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		e := newSSMEnv(t)
		root := e.root(t)
		current := map[string]string{}
		var specs []ssm.Spec
		for _, section := range configtest.Sections {
			specs = append(specs, ssm.Path(root+"/"+section, section, nil))
		}
		layer := e.layer(ssm.Options{Logger: s.Logger}, specs...)
		put := func(key, value string) {
			typ := types.ParameterTypeString
			if strings.Contains(key, ".tok") {
				typ = types.ParameterTypeSecureString
			}
			e.put(t, root+"/"+strings.ReplaceAll(key, ".", "/"), typ, value)
		}
		return configtest.Fixture{
			Set: func(key, value string) {
				current[key] = value
				put(key, value)
			},
			Layer: func() config.Layer { return layer },
			Fail: func(section string, f configtest.Failure, text string) bool {
				match := root + "/" + section
				if section == "" {
					match = root
				}
				e.proxy.ClearRules()
				switch f {
				case configtest.Transient:
					e.proxy.Add(faultproxy.Rule{Match: match, Fault: faultproxy.InternalError})
				case configtest.Permanent:
					e.proxy.Add(faultproxy.Rule{Match: match, Fault: faultproxy.AccessDenied})
				case configtest.Malformed, configtest.Healthy:
					if f == configtest.Malformed {
						e.proxy.Add(faultproxy.Rule{Match: match, Fault: faultproxy.BreakParameterType})
					}
					for key, v := range current {
						if section == "" || strings.HasPrefix(key, section+".") {
							if f == configtest.Malformed {
								v = text
							}
							put(key, v) // a new version, which a refresh reads
						}
					}
				}
				return true
			},
			Reads: func() int { return e.proxy.Calls(ssm.OpGetParameters) + e.proxy.Calls(ssm.OpGetParametersByPath) },
		}
	}})
}

// The layer reads String, StringList and SecureString parameters through
// the real SDK, names them in provenance with their version, and refreshes
// by version: DescribeParameters when nothing changed, one GetParameters
// for a change.
func TestSSMThroughSDK(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/server/read-timeout", types.ParameterTypeString, "7s")
	e.put(t, root+"/server/allowed_ips", types.ParameterTypeStringList, "10.0.0.1,10.0.0.2")
	e.put(t, root+"/database/host", types.ParameterTypeString, "db.internal")
	e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
	e.put(t, root+"/database/hots", types.ParameterTypeString, "typo")
	logs := &configtest.LogBuffer{}
	layer := e.layer(ssm.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, ssm.Path(root, "", nil))
	clock := configtest.NewClock(time.Unix(0, 0))
	opts := &config.Options{EnvPrefix: "APP_", Production: true, Clock: clock, RefreshInterval: time.Hour, MinRefreshInterval: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	store, err := config.Load[ssmConfig](t.Context(), opts, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := store.Get()
	if cfg.Server.ReadTimeout != 7*time.Second || fmt.Sprint(cfg.Server.AllowedIPs) != "[10.0.0.1 10.0.0.2]" || cfg.Database.Password.Reveal() != ssmCanary {
		t.Fatalf("cfg = %+v", cfg.Server)
	}
	if w := errors.Join(store.Warnings()...); w == nil || !strings.Contains(w.Error(), root+"/database/hots: unknown, did you mean "+root+"/database/host?") {
		t.Errorf("warnings: %v", w)
	}
	src := map[string]string{}
	for _, k := range store.Keys() {
		src[k.Key] = k.Source.String()
	}
	if src["server.read_timeout"] != "ssm "+root+"/server/read-timeout (version 1)" {
		t.Errorf("sources = %v", src)
	}
	if n := e.proxy.Calls(ssm.OpGetParametersByPath); n != 1 {
		t.Errorf("GetParametersByPath calls = %d, want 1 page", n)
	}
	e.proxy.ResetCalls()
	clock.Advance(time.Second)
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, desc := e.proxy.Calls(""), e.proxy.Calls(ssm.OpDescribeParameters); got != desc || desc == 0 {
		t.Errorf("a refresh with no change made %d calls, %d of them DescribeParameters", got, desc)
	}
	e.put(t, root+"/database/host", types.ParameterTypeString, "db2.internal")
	e.proxy.ResetCalls()
	clock.Advance(time.Second)
	if err := store.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if store.Get().Database.Host != "db2.internal" || e.proxy.Calls(ssm.OpGetParameters) != 1 {
		t.Errorf("host %q after %d GetParameters", store.Get().Database.Host, e.proxy.Calls(ssm.OpGetParameters))
	}
	st := store.Status()
	if st.Layers[0].Versions[root+"/database/host"] != "2" || st.Layers[0].Calls[ssm.OpDescribeParameters].Total() == 0 {
		t.Errorf("status = %+v", st.Layers[0])
	}
	noSSMCanary(t, logs.String(), store.Masked(), store.Keys(), store.Status(), layer)
}

// noSSMCanary fails if any rendering of vs shows the SecureString canary in
// any form.
func noSSMCanary(t *testing.T, vs ...any) {
	t.Helper()
	for _, v := range vs {
		if how, text, ok := configtest.Reveals(v, ssmCanary); ok {
			t.Fatalf("%T printed with %s shows the SecureString: %s", v, how, text)
		}
	}
}

// Faults of the API become the sentinels and messages the docs promise,
// through the real SDK and its retries; none shows a SecureString.
func TestSSMFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		rules   []faultproxy.Rule
		code    error
		message string
	}{
		{"throttled", []faultproxy.Rule{{Fault: faultproxy.Throttle}}, config.ErrThrottled, "throttled"},
		{"5xx", []faultproxy.Rule{{Fault: faultproxy.InternalError}}, config.ErrTransient, "HTTP 500"},
		{"unavailable", []faultproxy.Rule{{Fault: faultproxy.Unavailable}}, config.ErrTransient, "GetParametersByPath failed"},
		{"latency", []faultproxy.Rule{{Fault: faultproxy.Latency, Delay: 2 * time.Second}}, config.ErrTransient, "Options.Timeout"},
		{"truncated", []faultproxy.Rule{{Fault: faultproxy.TruncateBody}}, config.ErrTransient, "cut short"},
		{"no value", []faultproxy.Rule{{Fault: faultproxy.StripParameterValues}}, config.ErrMalformed, "without a value"},
		{"bad type", []faultproxy.Rule{{Fault: faultproxy.BreakParameterType}}, config.ErrMalformed, "type is not"},
		{"denied", []faultproxy.Rule{{Fault: faultproxy.AccessDenied}}, config.ErrAccessDenied, "missing IAM permission ssm:GetParametersByPath"},
		{"kms", []faultproxy.Rule{{Fault: faultproxy.KMSAccessDenied}}, config.ErrDecryption, "kms:Decrypt"},
		{"kms key", []faultproxy.Rule{{Fault: faultproxy.InvalidKeyID}}, config.ErrDecryption, "not valid"},
		{"refused", []faultproxy.Rule{{Fault: faultproxy.ValidationError}}, config.ErrLayer, "as invalid (ValidationException)"},
		{"stale token", []faultproxy.Rule{{Fault: faultproxy.InvalidNextToken}}, config.ErrTransient, "InvalidNextToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSSMEnv(t)
			root := e.root(t)
			e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
			e.proxy.Add(c.rules...)
			logs := &configtest.LogBuffer{}
			layer := e.layer(ssm.Options{Timeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
				ssm.Path(root, "", nil))
			_, err := layer.Load(t.Context(), ssmSchema(t))
			if !errors.Is(err, c.code) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want %v with %q", err, c.code, c.message)
			}
			noSSMCanary(t, err, logs.String())
		})
	}
}

func ssmSchema(tb testing.TB) *config.Schema {
	tb.Helper()
	s, err := config.SchemaFor[ssmConfig]("APP_")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// A refresh is sent once per call: under throttling the store keeps
// serving, and the refresh after it recovers reads the change.
func TestSSMRefreshThroughFaults(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/database/host", types.ParameterTypeString, "db.internal")
	e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
	layer := e.layer(ssm.Options{}, ssm.Path(root, "", nil))
	clock := configtest.NewClock(time.Unix(0, 0))
	logs := &configtest.LogBuffer{}
	store, err := config.Load[ssmConfig](t.Context(), &config.Options{EnvPrefix: "APP_", Clock: clock, RefreshInterval: time.Hour,
		MinRefreshInterval: time.Second, RetryBackoff: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil))}, layer)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e.put(t, root+"/database/host", types.ParameterTypeString, "db2.internal")
	e.proxy.ResetCalls()
	e.proxy.Add(faultproxy.Rule{Fault: faultproxy.Throttle, Times: 1})
	clock.Advance(time.Second)
	if err := store.Refresh(t.Context()); !errors.Is(err, config.ErrThrottled) {
		t.Errorf("refresh under throttling: %v", err)
	}
	if n := e.proxy.Calls(""); n != 1 {
		t.Errorf("a throttled refresh sent %d requests, want 1 (no SDK retries on refresh)", n)
	}
	if store.Get().Database.Host != "db.internal" {
		t.Error("the last good snapshot was not kept")
	}
	clock.Advance(time.Second)
	if err := store.Refresh(t.Context()); err != nil || store.Get().Database.Host != "db2.internal" {
		t.Errorf("after recovery: %v, host %q", err, store.Get().Database.Host)
	}
	noSSMCanary(t, logs.String(), store.Status())
}

// Through the emulator, a secret field set by a String parameter breaks the
// production secret policy, and the same value as a SecureString does not.
func TestSSMSecretPolicy(t *testing.T) {
	t.Parallel()
	e := newSSMEnv(t)
	root := e.root(t)
	e.put(t, root+"/database/password", types.ParameterTypeString, ssmCanary)
	opts := &config.Options{EnvPrefix: "APP_", Production: true, Logger: slog.New(slog.DiscardHandler)}
	_, err := config.Load[ssmConfig](t.Context(), opts, e.layer(ssm.Options{}, ssm.Path(root, "", nil)))
	if !errors.Is(err, config.ErrSecretPolicy) || !strings.Contains(err.Error(), "database.password") {
		t.Fatalf("a String parameter set a secret: %v", err)
	}
	noSSMCanary(t, err)
	e.put(t, root+"/database/password", types.ParameterTypeSecureString, ssmCanary)
	store, err := config.Load[ssmConfig](t.Context(), opts, e.layer(ssm.Options{}, ssm.Path(root, "", nil)))
	if err != nil {
		t.Fatalf("a SecureString: %v", err)
	}
	defer store.Close()
	if store.Get().Database.Password.Reveal() != ssmCanary {
		t.Error("the SecureString was not read")
	}
}
