package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
	"github.com/strata-go/strata/tests/internal/faultproxy"
)

// smCanary is a secret value searched for in every error, log and printout.
const smCanary = "CANARY-b41d7e-never-print-me"

type smConfig struct {
	Database struct {
		Host     string
		Port     int
		User     string
		Password config.Secret
		Replica  struct {
			Host string
		}
	}
	DatabasePrevious struct {
		Password config.Secret
	}
	Payments struct {
		StripeKey config.Secret
	}
	TLS struct {
		Key  []byte
		Cert string
	}
}

// smEnv is one emulator behind one fault proxy. direct talks to the emulator
// without the proxy, for setting up secrets; cfg reaches it through the
// proxy, whose counts are what the layer under test spent.
type smEnv struct {
	proxy  *faultproxy.Proxy
	direct *sm.Client
	cfg    aws.Config
}

func newSMEnv(tb testing.TB, batchShim bool) *smEnv {
	tb.Helper()
	url := emu.Start(tb)
	p, err := faultproxy.New(url, faultproxy.Options{BatchShim: batchShim})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return &smEnv{proxy: p, direct: emu.Client(url), cfg: emu.AWSConfig(p.URL())}
}

func (e *smEnv) layer(opts secretsmanager.Options, sources ...secretsmanager.Spec) *secretsmanager.Reader {
	return secretsmanager.New(e.cfg, &opts, sources...)
}

func smSchema(tb testing.TB) *config.Schema {
	tb.Helper()
	s, err := config.SchemaFor[smConfig]("APP_")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func smRaw(t *testing.T, vals config.Values, key string) any {
	t.Helper()
	v, ok := vals[key]
	if !ok {
		t.Fatalf("no value for %s", key)
	}
	return v.Raw
}

func noSMCanary(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, smCanary) {
			t.Fatalf("secret value in output: %s", s)
		}
	}
}

func TestSecretsManagerSourceKinds(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, true)
	dbName := emu.UniqueName(t, "database")
	emu.CreateString(t, e.direct, dbName, `{"host":"db.internal","port":5432,"password":"`+smCanary+`","replica":{"host":"r.internal"}}`)
	stripe := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, stripe, "sk_live_"+smCanary)
	keyName := emu.UniqueName(t, "tls-key")
	key := []byte{0x30, 0x82, 0x04, 0xa4, 0x00, 0xff}
	emu.CreateBinary(t, e.direct, keyName, key)
	certName := emu.UniqueName(t, "tls-json")
	emu.CreateBinary(t, e.direct, certName, []byte(`{"cert":"-----BEGIN CERTIFICATE-----"}`))

	l := e.layer(secretsmanager.Options{},
		secretsmanager.JSON(dbName, "database", nil),
		secretsmanager.String(stripe, "payments.stripe_key", nil),
		secretsmanager.Binary(keyName, "tls.key", nil),
		secretsmanager.Binary(certName, "tls", nil),
	)
	vals, err := smLoad(t.Context(), l, smSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if smRaw(t, vals, "database.host") != "db.internal" || smRaw(t, vals, "database.port") != json.Number("5432") ||
		smRaw(t, vals, "database.replica.host") != "r.internal" || smRaw(t, vals, "database.password") != smCanary {
		t.Errorf("database values wrong")
	}
	if smRaw(t, vals, "payments.stripe_key") != "sk_live_"+smCanary {
		t.Error("stripe key wrong")
	}
	if b, ok := smRaw(t, vals, "tls.key").([]byte); !ok || !bytes.Equal(b, key) {
		t.Errorf("tls.key = %v", smRaw(t, vals, "tls.key"))
	}
	if smRaw(t, vals, "tls.cert") != "-----BEGIN CERTIFICATE-----" {
		t.Errorf("tls.cert = %v", smRaw(t, vals, "tls.cert"))
	}
	src := vals["database.replica.host"].Source
	if src.Layer != "secretsmanager" || src.Location != dbName+"#replica.host" || src.Version == "" || src.Stage != "AWSCURRENT" {
		t.Errorf("source = %+v", src)
	}
	if src.Version != smVersions(l)[dbName] {
		t.Errorf("source version %s, Versions %v", src.Version, smVersions(l))
	}
	// Four secrets: one BatchGetSecretValue, nothing else.
	if b, g := e.proxy.Calls("BatchGetSecretValue"), e.proxy.Calls("GetSecretValue"); b != 1 || g != 0 {
		t.Errorf("proxy saw %d batch and %d get calls, want 1 and 0", b, g)
	}
	if c := l.Calls()["BatchGetSecretValue"]; c.OK != 1 || c.Error != 0 {
		t.Errorf("Calls = %+v", l.Calls())
	}
}

func TestSecretsManagerPrefixDiscovery(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, true)
	prefix := emu.UniqueName(t, "production")
	emu.CreateString(t, e.direct, prefix+"/database", `{"host":"h","port":6432}`)
	emu.CreateString(t, e.direct, prefix+"/database/password", smCanary)
	emu.CreateString(t, e.direct, prefix+"/payments/stripe_key", "sk")
	emu.CreateString(t, e.direct, prefix+"-other/database", `{"host":"wrong"}`)
	l := e.layer(secretsmanager.Options{}, secretsmanager.Prefix(prefix+"/", nil))
	schema := smSchema(t)
	vals, err := smLoad(t.Context(), l, schema)
	if err != nil {
		t.Fatal(err)
	}
	if smRaw(t, vals, "database.host") != "h" || smRaw(t, vals, "database.port") != json.Number("6432") ||
		smRaw(t, vals, "database.password") != smCanary || smRaw(t, vals, "payments.stripe_key") != "sk" {
		t.Errorf("values = %v", vals)
	}
	if loc := vals["database.password"].Source.Location; loc != prefix+"/database/password" {
		t.Errorf("location = %q", loc)
	}
	if e.proxy.Calls("ListSecrets") < 1 || e.proxy.Calls("BatchGetSecretValue") != 1 || e.proxy.Calls("GetSecretValue") != 0 {
		t.Errorf("calls: list %d, batch %d, get %d", e.proxy.Calls("ListSecrets"), e.proxy.Calls("BatchGetSecretValue"), e.proxy.Calls("GetSecretValue"))
	}

	// The listing carries versions: a refresh with no change lists again and
	// calls nothing else.
	e.proxy.ResetCalls()
	if _, changed, err := smRefresh(t.Context(), l, schema); err != nil || changed {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if e.proxy.Calls("ListSecrets") != e.proxy.Calls("") {
		t.Errorf("no-change refresh made %d calls besides ListSecrets", e.proxy.Calls("")-e.proxy.Calls("ListSecrets"))
	}
	// A new secret under the prefix is a change, read with one call.
	emu.CreateString(t, e.direct, prefix+"/database/user", "app")
	e.proxy.ResetCalls()
	vals, changed, err := smRefresh(t.Context(), l, schema)
	if err != nil || !changed || smRaw(t, vals, "database.user") != "app" || smRaw(t, vals, "database.host") != "h" {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if e.proxy.Calls("GetSecretValue") != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", e.proxy.Calls("GetSecretValue"))
	}
}

func TestSecretsManagerARNs(t *testing.T) {
	t.Parallel()
	for _, shim := range []bool{true, false} {
		t.Run(fmt.Sprintf("batch=%v", shim), func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, shim)
			a := emu.UniqueName(t, "a")
			arnA := emu.CreateString(t, e.direct, a, `{"host":"by-full-arn"}`)
			b := emu.UniqueName(t, "b")
			arnB := emu.CreateString(t, e.direct, b, `{"user":"by-partial-arn"}`)
			partial := arnB[:len(arnB)-7]
			if !strings.HasSuffix(partial, b) {
				t.Fatalf("unexpected ARN shape %q", arnB)
			}
			l := e.layer(secretsmanager.Options{},
				secretsmanager.JSON(arnA, "database", nil),
				secretsmanager.JSON(partial, "database", nil),
			)
			vals, err := smLoad(t.Context(), l, smSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			if smRaw(t, vals, "database.host") != "by-full-arn" || smRaw(t, vals, "database.user") != "by-partial-arn" {
				t.Errorf("values = %v", vals)
			}
			if loc := vals["database.user"].Source.Location; loc != partial+"#user" {
				t.Errorf("location = %q", loc)
			}
			// Refresh by ARN uses DescribeSecret with the same ids.
			if _, changed, err := smRefresh(t.Context(), l, smSchema(t)); err != nil || changed {
				t.Errorf("Refresh = %v, %v", changed, err)
			}
		})
	}
}

func TestSecretsManagerVersionStages(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, true)
	name := emu.UniqueName(t, "database")
	emu.CreateString(t, e.direct, name, `{"password":"first-password-1"}`)
	schema := smSchema(t)
	first := e.layer(secretsmanager.Options{}, secretsmanager.String(name, "payments.stripe_key", nil))
	if _, err := smLoad(t.Context(), first, schema); err != nil {
		t.Fatal(err)
	}
	v1 := smVersions(first)[name]
	v2 := emu.Rotate(t, e.direct, name, `{"password":"second-password-2"}`)

	e.proxy.ResetCalls()
	l := e.layer(secretsmanager.Options{},
		secretsmanager.JSON(name, "database", nil),
		secretsmanager.JSON(name, "database_previous", &secretsmanager.SpecOptions{Stage: secretsmanager.StagePrevious}),
	)
	vals, err := smLoad(t.Context(), l, schema)
	if err != nil {
		t.Fatal(err)
	}
	cur, prev := vals["database.password"], vals["database_previous.password"]
	if cur.Raw != "second-password-2" || cur.Source.Version != v2 || cur.Source.Stage != "AWSCURRENT" {
		t.Errorf("current = %v from %s", cur.Raw, cur.Source)
	}
	if prev.Raw != "first-password-1" || prev.Source.Version != v1 || prev.Source.Stage != "AWSPREVIOUS" {
		t.Errorf("previous = %v from %s", prev.Raw, prev.Source)
	}
	// The pinned stage is read with GetSecretValue; the lone AWSCURRENT ref
	// too (one call either way).
	if g := e.proxy.Calls("GetSecretValue"); g != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2", g)
	}

	pinned := e.layer(secretsmanager.Options{}, secretsmanager.JSON(name, "database", &secretsmanager.SpecOptions{VersionID: v1}))
	vals, err = smLoad(t.Context(), pinned, schema)
	if err != nil || vals["database.password"].Raw != "first-password-1" {
		t.Fatalf("pinned: %v", err)
	}
	e.proxy.ResetCalls()
	emu.Rotate(t, e.direct, name, `{"password":"third-password-3"}`)
	if _, changed, err := smRefresh(t.Context(), pinned, schema); err != nil || changed {
		t.Errorf("pinned Refresh = %v, %v", changed, err)
	}
	if n := e.proxy.Calls(""); n != 0 {
		t.Errorf("a pinned version cost %d calls on refresh, want 0", n)
	}
}

func TestSecretsManagerErrorClasses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		rule    *faultproxy.Rule
		missing bool // the secret does not exist
		deleted bool // the secret is scheduled for deletion
		want    error
		texts   []string
	}{
		{name: "not found", missing: true, want: config.ErrNotFound, texts: []string{"region us-east-1", "no secret"}},
		{name: "deleted", deleted: true, want: config.ErrDeleted, texts: []string{"scheduled for deletion"}},
		{name: "access denied", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.AccessDenied}, want: config.ErrAccessDenied, texts: []string{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:"}},
		{name: "kms", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.DecryptionFailure}, want: config.ErrDecryption, texts: []string{"kms:Decrypt"}},
		{name: "throttle", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Throttle}, want: config.ErrThrottled, texts: []string{"throttled"}},
		{name: "internal error", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.InternalError}, want: config.ErrTransient, texts: []string{"internal error"}},
		{name: "latency past deadline", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Latency, Delay: 3 * time.Second}, want: config.ErrTransient, texts: []string{"no answer within 300ms"}},
		{name: "reset", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Reset}, want: config.ErrTransient, texts: []string{"after 3 attempts", "connection failed"}},
		{name: "hang", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Hang}, want: config.ErrTransient, texts: []string{"no answer within 300ms (Options.Timeout"}},
		{name: "truncated body", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.TruncateBody}, want: config.ErrTransient, texts: []string{"cut short or could not be parsed"}},
		{name: "short body", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.ShortBody}, want: config.ErrTransient, texts: []string{"cut short or could not be parsed"}},
		{name: "expired token", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.ExpiredToken}, want: config.ErrCredentials, texts: []string{"ExpiredTokenException", "aws sso login"}},
		{name: "unavailable", rule: &faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.Unavailable}, want: config.ErrTransient, texts: []string{"HTTP 503", "after 3 attempts"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, false)
			name := emu.UniqueName(t, "secret")
			if !tc.missing {
				emu.CreateString(t, e.direct, name, `{"password":"`+smCanary+`"}`)
			}
			if tc.deleted {
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				_, err := e.direct.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)})
				cancel()
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.rule != nil {
				e.proxy.Add(*tc.rule)
			}
			l := e.layer(secretsmanager.Options{Timeout: 300 * time.Millisecond}, secretsmanager.JSON(name, "database", nil))
			start := time.Now()
			_, err := smLoad(t.Context(), l, smSchema(t))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var se *config.SourceError
			if !errors.As(err, &se) || se.Layer != "secretsmanager" || se.Source != name {
				t.Fatalf("SourceError = %+v", se)
			}
			for _, s := range tc.texts {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message lacks %q: %v", s, err)
				}
			}
			if config.IsTransient(err) != (tc.want == config.ErrTransient || tc.want == config.ErrThrottled) {
				t.Errorf("IsTransient = %v for %v", config.IsTransient(err), tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Load took %v; the per-call deadline did not hold", d)
			}
			if c := l.Calls()["GetSecretValue"]; c.Error != 1 || c.OK != 0 {
				t.Errorf("Calls = %+v", c)
			}
			noSMCanary(t, err.Error(), fmt.Sprintf("%+v", err))
		})
	}
}

// TestSecretsManagerRefreshUnderOutage measures what a refresh costs during a
// 503 outage: one request per secret per attempt (the store's backoff is the
// only retry), while the first read keeps the SDK's 3 attempts.
func TestSecretsManagerRefreshUnderOutage(t *testing.T) {
	t.Parallel()
	const n = 5
	e := newSMEnv(t, true)
	l := e.layer(secretsmanager.Options{}, smCreateN(t, e.direct, n)...)
	schema := smSchema(t)
	if _, err := smLoad(t.Context(), l, schema); err != nil {
		t.Fatal(err)
	}
	e.proxy.Add(faultproxy.Rule{Fault: faultproxy.Unavailable})
	for attempt := 1; attempt <= 3; attempt++ {
		e.proxy.ResetCalls()
		_, changed, err := smRefresh(t.Context(), l, schema)
		if changed || !errors.Is(err, config.ErrTransient) {
			t.Fatalf("refresh %d = %v, %v", attempt, changed, err)
		}
		if d, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls(""); d != n || all != n {
			t.Errorf("refresh %d under a 503 outage: %d DescribeSecret of %d requests, want %d of %d (1 per secret)", attempt, d, all, n, n)
		}
	}
	// A first read (Prev == nil) keeps the SDK's retries.
	e.proxy.ResetCalls()
	name := emu.UniqueName(t, "first")
	fresh := e.layer(secretsmanager.Options{}, secretsmanager.String(name, "payments.stripe_key", nil))
	if _, err := smLoad(t.Context(), fresh, schema); !errors.Is(err, config.ErrTransient) {
		t.Fatalf("first read err = %v", err)
	}
	if got := e.proxy.Calls("GetSecretValue"); got != 3 {
		t.Errorf("first read under a 503 outage: %d requests, want 3", got)
	}
}

// TestSecretsManagerAnswerWithoutValue: a GetSecretValue answer stripped of
// its value during a rotation is ErrMalformed; the layer keeps serving the
// previous version and reads the new one at the next refresh.
func TestSecretsManagerAnswerWithoutValue(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, false)
	name := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, name, "sk-1")
	l := e.layer(secretsmanager.Options{}, secretsmanager.String(name, "payments.stripe_key", nil))
	schema := smSchema(t)
	if _, err := smLoad(t.Context(), l, schema); err != nil {
		t.Fatal(err)
	}
	old := smVersions(l)[name]
	v2 := emu.Rotate(t, e.direct, name, smCanary)
	e.proxy.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.StripValue, Times: 1})
	vals, changed, err := smRefresh(t.Context(), l, schema)
	if changed || vals != nil || !errors.Is(err, config.ErrMalformed) {
		t.Fatalf("refresh = %v, %v, %v; want no change and ErrMalformed", vals, changed, err)
	}
	if smVersions(l)[name] != old {
		t.Errorf("versions = %v, want %s kept", smVersions(l), old)
	}
	noSMCanary(t, err.Error())
	vals, changed, err = smRefresh(t.Context(), l, schema)
	if err != nil || !changed || fmt.Sprint(smRaw(t, vals, "payments.stripe_key")) != smCanary || smVersions(l)[name] != v2 {
		t.Fatalf("next refresh = %v, %v, versions %v", changed, err, smVersions(l))
	}
}

func TestSecretsManagerTransientFaultRecovers(t *testing.T) {
	t.Parallel()
	for _, f := range []faultproxy.Fault{faultproxy.Throttle, faultproxy.InternalError, faultproxy.Reset} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, false)
			name := emu.UniqueName(t, "secret")
			emu.CreateString(t, e.direct, name, "value")
			e.proxy.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: f, Times: 1})
			l := e.layer(secretsmanager.Options{}, secretsmanager.String(name, "payments.stripe_key", nil))
			if _, err := smLoad(t.Context(), l, smSchema(t)); err != nil {
				t.Fatal(err)
			}
			// The SDK retried once on the wire; the layer made one call.
			if got := e.proxy.Calls("GetSecretValue"); got != 2 {
				t.Errorf("wire calls = %d, want 2", got)
			}
			if c := l.Calls()["GetSecretValue"]; c.OK != 1 || c.Error != 0 {
				t.Errorf("Calls = %+v", c)
			}
		})
	}
}

// smCreateN creates n JSON secrets and returns JSON sources for them.
func smCreateN(tb testing.TB, c *sm.Client, n int) []secretsmanager.Spec {
	tb.Helper()
	sources := make([]secretsmanager.Spec, n)
	for i := range n {
		name := emu.UniqueName(tb, fmt.Sprintf("s%03d", i))
		emu.CreateString(tb, c, name, fmt.Sprintf(`{"port":%d,"password":"%s"}`, i, smCanary))
		sources[i] = secretsmanager.JSON(name, "database", nil)
	}
	return sources
}

func TestSecretsManagerBatchPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ secrets, batches int }{{20, 1}, {100, 5}, {45, 3}} {
		t.Run(fmt.Sprint(tc.secrets), func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, true)
			sources := smCreateN(t, e.direct, tc.secrets)
			l := e.layer(secretsmanager.Options{}, sources...)
			vals, err := smLoad(t.Context(), l, smSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := e.proxy.Calls("BatchGetSecretValue"); got != tc.batches {
				t.Errorf("BatchGetSecretValue calls = %d, want %d", got, tc.batches)
			}
			if got := e.proxy.Calls(""); got != tc.batches {
				t.Errorf("total calls = %d, want %d", got, tc.batches)
			}
			if smRaw(t, vals, "database.port") != json.Number(strconv.Itoa(tc.secrets-1)) || len(smVersions(l)) != tc.secrets {
				t.Errorf("port = %v, %d versions", smRaw(t, vals, "database.port"), len(smVersions(l)))
			}
		})
	}
}

func TestSecretsManagerBatchFallback(t *testing.T) {
	t.Parallel()
	t.Run("InvalidAction", func(t *testing.T) {
		t.Parallel()
		e := newSMEnv(t, false) // kumo answers InvalidAction
		l := e.layer(secretsmanager.Options{}, smCreateN(t, e.direct, 20)...)
		if _, err := smLoad(t.Context(), l, smSchema(t)); err != nil {
			t.Fatal(err)
		}
		if b, g := e.proxy.Calls("BatchGetSecretValue"), e.proxy.Calls("GetSecretValue"); b != 1 || g != 20 {
			t.Errorf("batch %d, get %d; want 1, 20", b, g)
		}
		// The refusal is remembered.
		e.proxy.ResetCalls()
		if _, err := smLoad(t.Context(), l, smSchema(t)); err != nil {
			t.Fatal(err)
		}
		if b, g := e.proxy.Calls("BatchGetSecretValue"), e.proxy.Calls("GetSecretValue"); b != 0 || g != 20 {
			t.Errorf("second load: batch %d, get %d; want 0, 20", b, g)
		}
	})
	for _, f := range []faultproxy.Fault{faultproxy.AccessDenied, faultproxy.Throttle} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			e := newSMEnv(t, true)
			e.proxy.Add(faultproxy.Rule{Op: "BatchGetSecretValue", Fault: f})
			l := e.layer(secretsmanager.Options{}, smCreateN(t, e.direct, 5)...)
			if _, err := smLoad(t.Context(), l, smSchema(t)); err != nil {
				t.Fatal(err)
			}
			if g := e.proxy.Calls("GetSecretValue"); g != 5 {
				t.Errorf("GetSecretValue calls = %d, want 5", g)
			}
		})
	}
}

func TestSecretsManagerRefresh(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, true)
	sources := smCreateN(t, e.direct, 3)
	stripe := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, stripe, "sk-1")
	l := e.layer(secretsmanager.Options{}, append(sources, secretsmanager.String(stripe, "payments.stripe_key", nil))...)
	schema := smSchema(t)
	if _, err := smLoad(t.Context(), l, schema); err != nil {
		t.Fatal(err)
	}

	e.proxy.ResetCalls()
	vals, changed, err := smRefresh(t.Context(), l, schema)
	if err != nil || changed || vals != nil {
		t.Fatalf("Refresh = %v, %v, %v", vals, changed, err)
	}
	if d, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls(""); d != 4 || all != 4 {
		t.Errorf("no-change refresh: %d DescribeSecret of %d calls, want 4 of 4", d, all)
	}

	v := emu.Rotate(t, e.direct, stripe, "sk-2")
	e.proxy.ResetCalls()
	vals, changed, err = smRefresh(t.Context(), l, schema)
	if err != nil || !changed {
		t.Fatalf("Refresh = %v, %v", changed, err)
	}
	if d, g, all := e.proxy.Calls("DescribeSecret"), e.proxy.Calls("GetSecretValue"), e.proxy.Calls(""); d != 4 || g != 1 || all != 5 {
		t.Errorf("changed refresh: describe %d, get %d, total %d; want 4, 1, 5", d, g, all)
	}
	if smRaw(t, vals, "payments.stripe_key") != "sk-2" || smRaw(t, vals, "database.port") != json.Number("2") {
		t.Error("refresh did not return the full value set")
	}
	if smVersions(l)[stripe] != v {
		t.Errorf("Versions = %v, want %s for %s", smVersions(l), v, stripe)
	}

	// A transient failure keeps the versions, and the next refresh sees the
	// change again.
	emu.Rotate(t, e.direct, stripe, "sk-3")
	e.proxy.Add(faultproxy.Rule{Op: "GetSecretValue", Fault: faultproxy.InternalError})
	if _, _, err := smRefresh(t.Context(), l, schema); !config.IsTransient(err) {
		t.Fatalf("err = %v, want transient", err)
	}
	e.proxy.ClearRules()
	if vals, changed, err := smRefresh(t.Context(), l, schema); err != nil || !changed || smRaw(t, vals, "payments.stripe_key") != "sk-3" {
		t.Fatalf("retry Refresh = %v, %v", changed, err)
	}
}

type smAppConfig struct {
	Server struct {
		Addr        string        `default:":8080" validate:"required"`
		ReadTimeout time.Duration `default:"5s"`
	}
	Database struct {
		Host     string        `validate:"required"`
		Port     int           `default:"5432"`
		User     string        `validate:"required"`
		Password config.Secret `validate:"required,min=12"`
	}
	Payments struct {
		StripeKey config.Secret `validate:"required"`
	}
	LogLevel string `default:"info"`
}

func TestSecretsManagerConfigLoad(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, true)
	db := emu.UniqueName(t, "database")
	emu.CreateString(t, e.direct, db, `{"host":"db.prod.internal","password":"`+smCanary+`"}`)
	stripe := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, stripe, "sk_live_"+smCanary)

	sml := e.layer(secretsmanager.Options{},
		secretsmanager.JSON(db, "database", nil),
		secretsmanager.String(stripe, "payments.stripe_key", nil),
	)
	var logs smLogBuffer
	ctx := t.Context()
	store, err := config.Load[smAppConfig](ctx,
		&config.Options{
			EnvPrefix:          "APP_",
			Logger:             slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			RefreshInterval:    time.Hour,
			MinRefreshInterval: time.Nanosecond,
		},
		dotenv.File(filepath.Join("testdata", "secretsmanager_app.env"), nil),
		env.New(&env.Options{Environ: func() []string { return []string{"APP_SERVER_ADDR=:9090", "APP_DATABASE_PORT=6432"} }}),
		sml,
	)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := store.Get()
	if cfg.Server.Addr != ":9090" || cfg.Server.ReadTimeout != 5*time.Second || cfg.Database.Port != 6432 ||
		cfg.Database.User != "app_dev" || cfg.LogLevel != "debug" {
		t.Errorf("plain values = %+v", cfg)
	}
	// Secrets Manager comes last, so it wins over .env for database.host.
	if cfg.Database.Host != "db.prod.internal" || cfg.Database.Password.Reveal() != smCanary || cfg.Payments.StripeKey.Reveal() != "sk_live_"+smCanary {
		t.Error("secret values wrong")
	}
	ki, _ := store.Explain("database.password")
	if ki.Source.Layer != "secretsmanager" || ki.Source.Location != db+"#password" || ki.Source.Version != storeVersions(store.Status())[db] {
		t.Errorf("provenance = %s", ki.Source)
	}
	if ki, _ := store.Explain("database.user"); ki.Source.Layer != "dotenv" {
		t.Errorf("database.user from %s", ki.Source)
	}
	st := store.Status()
	var found bool
	for _, ls := range st.Layers {
		if ls.Name == "secretsmanager" {
			found = ls.Versions[db] != "" && ls.Calls["BatchGetSecretValue"] == (config.CallCount{OK: 1})
		}
	}
	if !found {
		t.Errorf("Status().Layers = %+v", st.Layers)
	}

	// Rotation reaches the store through Refresh.
	emu.Rotate(t, e.direct, db, `{"host":"db.prod.internal","password":"rotated-password-2"}`)
	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := store.Get().Database.Password.Reveal(); got != "rotated-password-2" {
		t.Errorf("after refresh password has %d bytes, want the rotated one", len(got))
	}
	cfg = store.Get()
	masked := store.Masked().String()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	noSMCanary(t, logs.String(), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", *cfg), masked)
}

// smLogBuffer is a bytes.Buffer safe for the store's goroutines to log to.
type smLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *smLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *smLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretsManagerEndpointFromEnvironment checks that the standard
// environment variable reaches the emulator with no code change.
func TestSecretsManagerEndpointFromEnvironment(t *testing.T) {
	e := newSMEnv(t, true)
	name := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, name, "sk-env")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": e.proxy.URL(),
		"AWS_REGION":                       emu.Region,
		"AWS_ACCESS_KEY_ID":                "test",
		"AWS_SECRET_ACCESS_KEY":            "test",
		"AWS_CONFIG_FILE":                  empty,
		"AWS_SHARED_CREDENTIALS_FILE":      empty,
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "") // restored when the test ends
		_ = os.Unsetenv(k)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	l := secretsmanager.New(awsCfg, nil, secretsmanager.String(name, "payments.stripe_key", nil))
	vals, err := smLoad(t.Context(), l, smSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if smRaw(t, vals, "payments.stripe_key") != "sk-env" || e.proxy.Calls("GetSecretValue") != 1 {
		t.Errorf("value or calls wrong: %d calls", e.proxy.Calls(""))
	}
}

// storeVersions returns the versions a store serves from its Secrets Manager
// layer, as its Status reports them.
func storeVersions(st config.Status) map[string]string {
	for _, l := range st.Layers {
		if l.Name == "secretsmanager" {
			return l.Versions
		}
	}
	return nil
}

// smCachingClient answers GetSecretValue from what the real client returned
// before, whatever its ctx, as a caching wrapper may.
type smCachingClient struct {
	*sm.Client
	mu    sync.Mutex
	cache map[string]*sm.GetSecretValueOutput
	calls int
}

func (c *smCachingClient) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput, optFns ...func(*sm.Options)) (*sm.GetSecretValueOutput, error) {
	c.mu.Lock()
	c.calls++
	out, ok := c.cache[aws.ToString(in.SecretId)]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	out, err := c.Client.GetSecretValue(ctx, in, optFns...)
	if err == nil {
		c.mu.Lock()
		c.cache[aws.ToString(in.SecretId)] = out
		c.mu.Unlock()
	}
	return out, err
}

// TestSecretsManagerDoneContextSendsNothing checks that a read on a done ctx
// asks the client nothing, even a caching one that would answer, and that the
// store reports the interruption once, naming the field left unset.
func TestSecretsManagerDoneContextSendsNothing(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, false)
	stripe := emu.UniqueName(t, "stripe")
	emu.CreateString(t, e.direct, stripe, "sk_live_"+smCanary)
	c := &smCachingClient{Client: sm.NewFromConfig(e.cfg), cache: map[string]*sm.GetSecretValueOutput{}}
	l := secretsmanager.NewWithClient(c, nil, secretsmanager.String(stripe, "payments.stripe_key", nil))
	if _, err := l.Load(t.Context(), smSchema(t)); err != nil {
		t.Fatal(err)
	}
	c.calls = 0
	e.proxy.ResetCalls()

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	type required struct {
		Payments struct {
			StripeKey config.Secret `validate:"required"`
		}
	}
	_, err := config.Load[required](ctx, &config.Options{Logger: slog.New(slog.DiscardHandler)}, l)
	if c.calls != 0 || e.proxy.Calls("GetSecretValue") != 0 {
		t.Errorf("%d client calls, %d requests on a done ctx", c.calls, e.proxy.Calls("GetSecretValue"))
	}
	if !errors.Is(err, context.Canceled) || strings.Count(err.Error(), "context canceled") != 1 ||
		!strings.Contains(err.Error(), "secretsmanager: interrupted") || strings.Contains(err.Error(), "is required") {
		t.Errorf("err = %v, want one interruption of the secretsmanager layer", err)
	}
	noSMCanary(t, fmt.Sprintf("%v %+v", err, err))
}

// TestSecretsManagerUnknownKeyNotShown checks that a key of a JSON secret
// that maps to no field is part of the secret: the warning names the secret,
// never the key, in the error, its Source, the store's logs and Status.
func TestSecretsManagerUnknownKeyNotShown(t *testing.T) {
	t.Parallel()
	e := newSMEnv(t, false)
	db := emu.UniqueName(t, "database")
	emu.CreateString(t, e.direct, db, `{"host":"h","`+smCanary+`":"x"}`)
	var logs smLogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := config.Load[smConfig](t.Context(), &config.Options{Logger: logger},
		e.layer(secretsmanager.Options{Logger: logger}, secretsmanager.JSON(db, "database", nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	warns := store.Warnings()
	var u *config.UnknownNameError
	if len(warns) != 1 || !errors.As(warns[0], &u) || u.Name != "" || u.Source.Location != db {
		t.Fatalf("warnings = %v, want one unknown key of %s", warns, db)
	}
	if !strings.Contains(warns[0].Error(), db) || !strings.Contains(logs.String(), db) {
		t.Errorf("warning %q (logged: %s) does not name the secret", warns[0], logs.String())
	}
	noSMCanary(t, warns[0].Error(), fmt.Sprintf("%+v", u), logs.String(), fmt.Sprint(store.Status()), store.Masked().String())
	_, err = config.Load[smConfig](t.Context(), &config.Options{Logger: logger},
		e.layer(secretsmanager.Options{StrictKeys: true}, secretsmanager.JSON(db, "database", nil)))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), db) {
		t.Errorf("StrictKeys: err = %v, want ErrMalformed naming %s", err, db)
	}
	noSMCanary(t, fmt.Sprintf("%v %+v", err, err))
}
