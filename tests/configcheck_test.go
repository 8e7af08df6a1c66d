package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/koanf"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/tests/internal/emu"
)

// ccCanary is the value of every secret in these tests; no output of
// configcheck may contain it.
const ccCanary = "CANARY-9f8e7d6c5b4a"

// ccConfig has the shape of the example service's configuration.
type ccConfig struct {
	Server struct {
		Addr        string        `default:"127.0.0.1:8080"`
		ReadTimeout time.Duration `default:"5s"`
	}
	Database struct {
		Host     string        `validate:"required,hostname"`
		Port     int           `default:"5432" validate:"min=1,max=65535"`
		User     string        `secret:"true"`
		Password config.Secret `validate:"required,min=12"`
	}
	API struct {
		Key config.Secret `validate:"required"`
	}
}

// ccRun runs configcheck for ccConfig as a service would embed it: its setup
// reads environ under APP_, then Secrets Manager at endpoint with the
// emulator's credentials, from sources. The environment is production by
// configcheck.IsProduction.
func ccRun(t *testing.T, endpoint string, sources []secretsmanager.Spec, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return ccRunSetup(t, func(_ context.Context, environment string) (*config.Options, []config.Layer, error) {
		layers := []config.Layer{env.New(&env.Options{Environ: func() []string { return environ }})}
		if len(sources) > 0 {
			layers = append(layers, secretsmanager.New(emu.AWSConfig(endpoint), nil, sources...))
		}
		return &config.Options{EnvPrefix: "APP_", Production: configcheck.IsProduction(environment)}, layers, nil
	}, args...)
}

func ccRunSetup(t *testing.T, setup configcheck.Setup, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = configcheck.Main[ccConfig](context.Background(), args, configcheck.Options{
		Setup:   setup,
		Stdout:  &out,
		Stderr:  &errOut,
		Environ: func() []string { return nil },
	})
	for _, s := range []string{out.String(), errOut.String()} {
		if strings.Contains(s, ccCanary) {
			t.Errorf("configcheck %s printed a secret value:\n%s", strings.Join(args, " "), s)
		}
	}
	return out.String(), errOut.String(), code
}

// ccSecrets creates a JSON secret for the database and a string secret for
// the API key, and returns their names.
func ccSecrets(t *testing.T, url string) (db, apiKey string) {
	t.Helper()
	client := emu.Client(url)
	db = emu.UniqueName(t, "database")
	apiKey = emu.UniqueName(t, "api-key")
	emu.CreateString(t, client, db, `{"user":"`+ccCanary+`","password":"`+ccCanary+`","port":6432}`)
	emu.CreateString(t, client, apiKey, ccCanary)
	return db, apiKey
}

func TestConfigcheckValidateWithSecretsManager(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	db, apiKey := ccSecrets(t, url)
	environ := []string{"APP_DATABASE_HOST=db.internal"}
	sources := []secretsmanager.Spec{secretsmanager.JSON(db, "database", nil), secretsmanager.String(apiKey, "api.key", nil)}

	out, stderr, code := ccRun(t, url, sources, environ, "validate", "--environment", "production", "--strict")
	if code != configcheck.ExitOK || out != "ok: 7 settings checked\n" {
		t.Errorf("validate: exit %d\n%s%s", code, out, stderr)
	}

	// A secret also set by the environment breaks the policy even though
	// Secrets Manager overrides it; in production that is an error.
	withPlain := append(environ, "APP_API_KEY="+ccCanary)
	out, _, code = ccRun(t, url, sources, withPlain, "validate", "--format", "github")
	if code != configcheck.ExitOK || strings.Contains(out, "::error") {
		t.Errorf("validate with a plain secret overridden by Secrets Manager: exit %d\n%s", code, out)
	}
	out, _, code = ccRun(t, url, sources, withPlain, "lint")
	if code != configcheck.ExitProblems || !strings.Contains(out, "api.key is a secret but is set by env APP_API_KEY") {
		t.Errorf("lint: exit %d\n%s", code, out)
	}
}

func TestConfigcheckExplainShowsSecretsManagerProvenance(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	db, apiKey := ccSecrets(t, url)
	environ := []string{"APP_DATABASE_HOST=db.internal"}
	sources := []secretsmanager.Spec{secretsmanager.JSON(db, "database", nil), secretsmanager.String(apiKey, "api.key", nil)}

	out, stderr, code := ccRun(t, url, sources, environ, "explain")
	if code != configcheck.ExitOK {
		t.Fatalf("explain: exit %d\n%s%s", code, out, stderr)
	}
	for _, re := range []string{
		`database\.password +\[REDACTED\] fp:[0-9a-f]{8} +secretsmanager ` + regexp.QuoteMeta(db) + `#password \(version \S+, AWSCURRENT\)`,
		`database\.port +6432 +secretsmanager ` + regexp.QuoteMeta(db) + `#port`,
		`api\.key +\[REDACTED\] fp:[0-9a-f]{8} +secretsmanager ` + regexp.QuoteMeta(apiKey) + ` \(version`,
		`database\.host +db\.internal +env APP_DATABASE_HOST`,
		`server\.addr +127\.0\.0\.1:8080 +default`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("explain does not match %s:\n%s", re, out)
		}
	}

	out, _, code = ccRun(t, url, sources, environ, "explain", "--format", "json", "database.password")
	var doc struct {
		Keys []struct {
			Key, Value, Fingerprint, Layer, Location, Version, Stage string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != configcheck.ExitOK || len(doc.Keys) != 1 {
		t.Fatalf("explain json: exit %d, %v\n%s", code, err, out)
	}
	k := doc.Keys[0]
	if k.Value != config.Redacted || k.Fingerprint != config.Fingerprint(ccCanary) || k.Layer != "secretsmanager" ||
		k.Location != db+"#password" || k.Version == "" || k.Stage != "AWSCURRENT" {
		t.Errorf("explain json = %+v", k)
	}
}

// A missing secret is a problem of the environment being checked (exit 1),
// reported with every other problem; an endpoint that does not answer is not an
// answer about the environment at all (exit 2).
func TestConfigcheckMissingSecret(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	missing := emu.UniqueName(t, "missing")
	out, stderr, code := ccRun(t, url, []secretsmanager.Spec{secretsmanager.JSON(missing, "database", nil)},
		[]string{"APP_DATABASE_HOST=db.internal"}, "validate", "--format", "json")
	if code != configcheck.ExitProblems {
		t.Fatalf("validate with a missing secret: exit %d, want %d\n%s%s", code, configcheck.ExitProblems, out, stderr)
	}
	if !strings.Contains(out, `"kind": "source"`) || !strings.Contains(out, "no secret "+strconvQuote(missing)) {
		t.Errorf("validate does not name the missing secret:\n%s", out)
	}
	// The fields the secret would have set are named with it, once; the
	// other problems are reported in the same run.
	if !strings.Contains(out, "so database.password is unset") || strings.Contains(out, "database.password is required") {
		t.Errorf("validate does not name the field the missing secret left unset, once:\n%s", out)
	}
	if !strings.Contains(out, "api.key is required") {
		t.Errorf("validate stopped at the first problem:\n%s", out)
	}
}

func TestConfigcheckUnreachableEndpoint(t *testing.T) {
	t.Parallel()
	dead := emu.UniqueName(t, "dead")
	out, stderr, code := ccRun(t, "http://127.0.0.1:1", []secretsmanager.Spec{secretsmanager.JSON(dead, "database", nil)},
		[]string{"APP_DATABASE_HOST=db.internal"}, "validate")
	if code != configcheck.ExitUsage {
		t.Fatalf("validate against a closed port: exit %d, want %d\n%s%s", code, configcheck.ExitUsage, out, stderr)
	}
}

// strconvQuote quotes s as the layer's messages do, with JSON escaping on top.
func strconvQuote(s string) string { return `\"` + s + `\"` }

func TestConfigcheckPrefixSourceAndDiff(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	client := emu.Client(url)
	dir := t.TempDir()
	for i, env := range []string{"staging", "production"} {
		prefix := emu.UniqueName(t, env)
		emu.CreateString(t, client, prefix+"/database", `{"password":"`+ccCanary+`-`+env+`"}`)
		emu.CreateString(t, client, prefix+"/api/key", ccCanary)
		environ := []string{"APP_DATABASE_HOST=" + []string{"db.staging", "db.production"}[i]}
		out, stderr, code := ccRun(t, url, []secretsmanager.Spec{secretsmanager.Prefix(prefix+"/", nil)}, environ,
			"explain", "--format", "json", "--environment", env)
		if code != configcheck.ExitOK {
			t.Fatalf("explain %s: exit %d\n%s%s", env, code, out, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, env+".json"), []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := ccRun(t, url, nil, nil, "diff", filepath.Join(dir, "staging.json"), filepath.Join(dir, "production.json"))
	if code != configcheck.ExitProblems {
		t.Fatalf("diff: exit %d\n%s%s", code, out, stderr)
	}
	for _, re := range []string{
		`database\.host +db\.staging +db\.production`,
		`database\.password +\[REDACTED\] fp:\w{8} +\[REDACTED\] fp:\w{8} +secrets differ`,
		`2 differences between staging and production`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("diff does not match %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "api.key") {
		t.Errorf("diff lists api.key, which is the same in both:\n%s", out)
	}
}

// TestConfigcheckExplainFailsWhenASourceFails: explain prints what it could
// read, but a secret that is missing is a problem found (exit 1) and an
// endpoint that does not answer is no answer at all (exit 2), as for
// validate; the source is named on stderr.
func TestConfigcheckExplainFailsWhenASourceFails(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	missing := emu.UniqueName(t, "missing")
	environ := []string{"APP_DATABASE_HOST=db.internal"}
	for _, c := range []struct {
		name     string
		endpoint string
		want     int
		stderr   string
	}{
		{"missing secret", url, configcheck.ExitProblems, "configcheck: error: secretsmanager " + missing + ": not found"},
		{"closed port", "http://127.0.0.1:1", configcheck.ExitUsage, "configcheck: error: secretsmanager " + missing},
	} {
		for _, format := range []string{"text", "json"} {
			out, stderr, code := ccRun(t, c.endpoint, []secretsmanager.Spec{secretsmanager.JSON(missing, "database", nil)}, environ,
				"explain", "--format", format)
			if code != c.want || !strings.Contains(stderr, c.stderr) {
				t.Errorf("%s, %s: exit %d, want %d with %q on stderr\n%s%s", c.name, format, code, c.want, c.stderr, out, stderr)
			}
			if !strings.Contains(out, "database.host") {
				t.Errorf("%s, %s: explain printed no table:\n%s", c.name, format, out)
			}
		}
	}
}

// TestConfigcheckKoanfWrappedSecretsManager: the Secrets Manager layer used as
// a plain koanf provider, wrapped by koanf.New, is a layer configcheck
// knows nothing of; explain and validate still show and check its values, and
// iam says that no layer describes its permissions.
func TestConfigcheckKoanfWrappedSecretsManager(t *testing.T) {
	t.Parallel()
	url := emu.Start(t)
	db, apiKey := ccSecrets(t, url)
	setup := func(ctx context.Context, _ string) (*config.Options, []config.Layer, error) {
		sm := secretsmanager.New(emu.AWSConfig(url), nil, secretsmanager.JSON(db, "database", nil), secretsmanager.String(apiKey, "api.key", nil))
		return &config.Options{EnvPrefix: "APP_"}, []config.Layer{
			config.Static("static", map[string]string{"database.host": "db.internal"}),
			koanf.New("vault", sm.Provider(nil), nil, &koanf.Options{Sensitive: true}),
		}, nil
	}
	out, stderr, code := ccRunSetup(t, setup, "explain")
	if code != configcheck.ExitOK {
		t.Fatalf("explain: exit %d\n%s%s", code, out, stderr)
	}
	for _, re := range []string{
		`(?m)^database\.password +\[REDACTED\] fp:[0-9a-f]{8} +vault database\.password$`,
		`(?m)^api\.key +\[REDACTED\] fp:[0-9a-f]{8} +vault api\.key$`,
		`(?m)^database\.host +db\.internal +static database\.host$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("explain does not match %s:\n%s", re, out)
		}
	}
	if out, stderr, code := ccRunSetup(t, setup, "validate", "--production"); code != configcheck.ExitOK {
		t.Errorf("validate: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := ccRunSetup(t, setup, "iam"); code != configcheck.ExitUsage || !strings.Contains(stderr, "no layer of the service needs IAM permissions") {
		t.Errorf("iam: exit %d\n%s", code, stderr)
	}
}
