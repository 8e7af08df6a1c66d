package configcheck_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	kjson "github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/providers/rawbytes"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/dotenv"
	"github.com/strata-go/strata/providers/env"
	"github.com/strata-go/strata/providers/koanf"
	"github.com/strata-go/strata/providers/secretsmanager"
)

// setupOf returns a Setup that gives opts and layers in every environment.
func setupOf(opts *config.Options, layers ...config.Layer) configcheck.Setup {
	return func(context.Context, string) (*config.Options, []config.Layer, error) {
		return opts, layers, nil
	}
}

// environOf returns an env layer that reads environ.
func environOf(environ []string) config.Layer {
	return env.New(&env.Options{Environ: func() []string { return environ }})
}

// TestCanaryNeverPrinted runs every command in every format with the canary
// set as secrets through the environment and a .env file, and searches all
// output for it.
func TestCanaryNeverPrinted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	content := "APP_DATABASE_PASSWORD=" + canary + "\nAPP_DATABASE_USER=" + canary + "\nAPP_DATABASE_PORT=70000\n"
	if err := os.WriteFile(envFile, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	explainJSON := filepath.Join(dir, "explain.json")
	environ := []string{
		"APP_API_KEY=" + canary,
		"APP_DATABASE_HOST=db.internal",
		"APP_DATABSE_PASSWORD=" + canary, // an unknown name holding a secret
	}
	opts := &config.Options{EnvPrefix: "APP_"}
	plain := setupOf(opts, dotenv.File(envFile, nil), environOf(environ),
		config.Static("static", map[string]string{"database.user": canary}))
	withSecrets := setupOf(opts, dotenv.File(envFile, nil), environOf(environ),
		secretsmanager.NewWithClient(offlineClient("eu-west-1"), nil, secretsmanager.JSON("a", "database", nil)))
	run := func(setup configcheck.Setup, args ...string) (string, int) {
		var out bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			Setup: setup, Stdout: &out, Stderr: &out, Environ: func() []string { return nil },
		})
		return out.String(), code
	}
	out, _ := run(plain, "explain", "--format", "json")
	if err := os.WriteFile(explainJSON, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"diff", explainJSON, explainJSON},
		{"diff", "--all", "--format", "json", explainJSON, explainJSON},
		{"env"}, {"env", "--format", "dotenv"},
	}
	for _, cmd := range []string{"validate", "explain", "lint"} {
		for _, format := range []string{"text", "json", "github"} {
			if cmd == "explain" && format == "github" {
				continue
			}
			for _, extra := range [][]string{nil, {"--strict"}, {"--environment", "production"}} {
				cases = append(cases, append([]string{cmd, "--format", format}, extra...))
			}
		}
	}
	for _, args := range cases {
		out, code := run(plain, args...)
		if strings.Contains(out, canary) {
			t.Errorf("%s (exit %d) printed the canary:\n%s", strings.Join(args, " "), code, out)
		}
		if code == configcheck.ExitUsage {
			t.Errorf("%s: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
	}
	for _, args := range [][]string{{"cost"}, {"iam"}, {"env"}, {"validate"}, {"explain", "--format", "json"}} {
		if out, code := run(withSecrets, args...); strings.Contains(out, canary) {
			t.Errorf("%s (exit %d) printed the canary:\n%s", strings.Join(args, " "), code, out)
		}
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"validate", "explain", "env", "lint", "diff", "cost", "iam"} {
		var out, errOut bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), []string{cmd, "--help"},
			configcheck.Options{Stdout: &out, Stderr: &errOut, Environ: func() []string { return nil }})
		if code != configcheck.ExitOK || !strings.Contains(out.String(), "Usage: configcheck "+cmd) || errOut.Len() > 0 {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", cmd, code, out.String(), errOut.String())
		}
	}
}

// TestServiceLayers checks that iam, cost and env ask the service's own
// layers, for the environment checked, and nothing else.
func TestServiceLayers(t *testing.T) {
	t.Parallel()
	var asked []string
	setup := func(_ context.Context, environment string) (*config.Options, []config.Layer, error) {
		asked = append(asked, environment)
		sources := []secretsmanager.Spec{
			secretsmanager.JSON("my-app/"+environment+"/database", "database", nil),
			secretsmanager.Prefix("my-app/shared/", nil),
		}
		return &config.Options{EnvPrefix: "APP_", RefreshInterval: time.Hour}, []config.Layer{
			environOf(nil),
			secretsmanager.NewWithClient(offlineClient("eu-west-1"), nil, sources...),
		}, nil
	}
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			Setup: setup, Environment: "production", Stdout: &out, Stderr: &errOut, Environ: func() []string { return nil },
		})
		if code != configcheck.ExitOK {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	iam := run("iam")
	for _, want := range []string{
		"arn:aws:secretsmanager:eu-west-1:*:secret:my-app/production/database-??????",
		"arn:aws:secretsmanager:eu-west-1:*:secret:my-app/shared/*",
		"secretsmanager:ListSecrets",
	} {
		if !strings.Contains(iam, want) {
			t.Errorf("iam lacks %q:\n%s", want, iam)
		}
	}
	if iam := run("iam", "--environment", "staging"); !strings.Contains(iam, "my-app/staging/database") {
		t.Errorf("iam --environment staging does not ask the setup for staging:\n%s", iam)
	}
	ref := run("env")
	for _, want := range []string{"`secretsmanager my-app/production/database#password`", "`env APP_DATABASE_PASSWORD`"} {
		if !strings.Contains(ref, want) {
			t.Errorf("env does not name %s:\n%s", want, ref)
		}
	}
	// The service's refresh interval is the default TTL.
	if cost := run("cost"); !strings.Contains(cost, "TTL 1h0m0s") {
		t.Errorf("cost does not use the service's refresh interval:\n%s", cost)
	}
	if strings.Join(asked, " ") != "production staging production production" {
		t.Errorf("setup asked for %q", asked)
	}
}

// TestExplainsKoanfAndStaticLayers checks that layers configcheck knows nothing of (a
// koanf provider wrapped by koanf.New, config.Static) are read, merged,
// explained, validated, linted and diffed like the providers' own, and that
// iam and cost say clearly that no layer describes itself.
func TestExplainsKoanfAndStaticLayers(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"database": {"host": "db.from-koanf", "port": 6432, "pasword": "x"}, "log": {"level": "debug"}}`)
	secrets := map[string]string{"database.password": canary, "api.key": canary}
	setup := setupOf(&config.Options{EnvPrefix: "APP_"},
		koanf.New("settings", rawbytes.Provider(doc), kjson.Parser(), nil),
		config.StaticSecrets("vault", secrets),
		config.Static("overrides", map[string]string{"server.addr": "0.0.0.0:9000"}),
	)
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			Setup: setup, Stdout: &out, Stderr: &errOut, Environ: func() []string { return nil },
		})
		if strings.Contains(out.String()+errOut.String(), canary) {
			t.Errorf("%s printed the canary", strings.Join(args, " "))
		}
		return out.String(), errOut.String(), code
	}
	out, stderr, code := run("explain")
	for _, want := range []string{
		`database.host +db.from-koanf +settings database.host`,
		`database.port +6432 +settings database.port`,
		`database.password +\[REDACTED\] fp:\w{8} +vault database.password`,
		`server.addr +0.0.0.0:9000 +overrides server.addr`,
		`log.level +debug +settings log.level`,
	} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(out) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	if code != configcheck.ExitOK {
		t.Errorf("explain: exit %d\n%s", code, stderr)
	}
	out, _, code = run("validate")
	if code != configcheck.ExitOK || !strings.Contains(out, "warning: database.pasword: unknown, did you mean database.password?") {
		t.Errorf("validate: exit %d\n%s", code, out)
	}
	out, _, code = run("lint", "--format", "json")
	if code != configcheck.ExitProblems || !strings.Contains(out, `"key": "database.pasword"`) || !strings.Contains(out, `"kind": "unknown_name"`) {
		t.Errorf("lint: exit %d\n%s", code, out)
	}
	out, _, _ = run("explain", "--format", "json")
	if !strings.Contains(out, `"layer": "settings"`) || !strings.Contains(out, `"layer": "vault"`) {
		t.Errorf("explain --format json lacks the custom layers:\n%s", out)
	}
	for _, cmd := range []string{"iam", "cost"} {
		if _, stderr, code := run(cmd); code != configcheck.ExitUsage || !strings.Contains(stderr, "no layer of the service") {
			t.Errorf("%s: exit %d\n%s", cmd, code, stderr)
		}
	}
}

// TestSetupFailures: a setup that fails, or gives a nil layer, ends every
// command that needs it with ExitUsage and says so.
func TestSetupFailures(t *testing.T) {
	t.Parallel()
	failing := func(context.Context, string) (*config.Options, []config.Layer, error) {
		return nil, nil, errors.New("no AWS region")
	}
	for _, c := range []struct {
		setup configcheck.Setup
		want  string
	}{
		{failing, `the service's setup for environment "qa" failed: no AWS region`},
		{setupOf(nil, environOf(nil), nil), "the service's setup returned a nil layer at position 2"},
	} {
		for _, cmd := range []string{"validate", "explain", "lint", "env", "cost", "iam"} {
			var out bytes.Buffer
			code := configcheck.Main[testConfig](context.Background(), []string{cmd, "--environment", "qa"}, configcheck.Options{
				Setup: c.setup, Stdout: &out, Stderr: &out, Environ: func() []string { return nil },
			})
			if code != configcheck.ExitUsage || !strings.Contains(out.String(), c.want) {
				t.Errorf("%s: exit %d, want %d and %q:\n%s", cmd, code, configcheck.ExitUsage, c.want, out.String())
			}
		}
	}
}

// explain fingerprints secrets under the service's FingerprintKey, and under
// STRATA_FINGERPRINT_KEY when it is set, as a store with that key does.
func TestFingerprintKey(t *testing.T) {
	t.Parallel()
	explain := func(serviceKey []byte, environ ...string) string {
		var out bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), []string{"explain", "--format", "json", "database.password"}, configcheck.Options{
			Setup:  setupOf(&config.Options{EnvPrefix: "APP_", FingerprintKey: serviceKey}, environOf([]string{"APP_DATABASE_PASSWORD=" + canary})),
			Stdout: &out, Stderr: &out,
			Environ: func() []string { return environ },
		})
		if code != configcheck.ExitOK {
			t.Fatalf("explain: exit %d\n%s", code, out.String())
		}
		return out.String()
	}
	fp := func(key string) string {
		if key == "" {
			return `"fingerprint": "` + config.Fingerprint(canary) + `"`
		}
		return `"fingerprint": "` + config.FingerprintWithKey([]byte(key), canary) + `"`
	}
	if got := explain(nil); !strings.Contains(got, fp("")) {
		t.Errorf("without a key, want the default fingerprint:\n%s", got)
	}
	if got := explain([]byte("service-key")); !strings.Contains(got, fp("service-key")) {
		t.Errorf("with the service's key, want its fingerprint:\n%s", got)
	}
	if got := explain([]byte("service-key"), configcheck.FingerprintKeyEnv+"=deployment-key"); !strings.Contains(got, fp("deployment-key")) {
		t.Errorf("with %s, want the keyed fingerprint:\n%s", configcheck.FingerprintKeyEnv, got)
	}
}

func TestIsProduction(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"production", "Production", "PROD", "prod", "prd", "PRD",
		"prod-eu", "prod-us-east-1", "eu-prod", "eu-west-1-production", "orders_production",
		"us.prd", "app/prod", "production-blue",
	} {
		if !configcheck.IsProduction(name) {
			t.Errorf("IsProduction(%q) = false, want true", name)
		}
	}
	for _, name := range []string{
		"", " ", "staging", "dev", "demo", "test", "product", "prodigy", "reproduction",
		"pre-prod", "non-prod", "preprod", "nonprod", "PRE_PROD", "staging-eu", "prod1",
	} {
		if configcheck.IsProduction(name) {
			t.Errorf("IsProduction(%q) = true, want false", name)
		}
	}
}

// TestServiceProduction: the service's own Production for the environment
// decides, --production overrides it either way, and the service's Strict
// makes warnings errors.
func TestServiceProduction(t *testing.T) {
	t.Parallel()
	environ := []string{"APP_DATABASE_HOST=db.internal", "APP_DATABASE_PASSWORD=" + canary, "APP_API_KEY=" + canary}
	run := func(production func(string) bool, strict bool, args ...string) int {
		var out bytes.Buffer
		return configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			Setup: func(_ context.Context, environment string) (*config.Options, []config.Layer, error) {
				return &config.Options{EnvPrefix: "APP_", Production: production(environment), Strict: strict},
					[]config.Layer{environOf(environ)}, nil
			},
			Stdout:  &out,
			Stderr:  &out,
			Environ: func() []string { return nil },
		})
	}
	live := func(env string) bool { return env == "live" }
	cases := []struct {
		name       string
		production func(string) bool
		strict     bool
		args       []string
		want       int
	}{
		{"own rule, production", live, false, []string{"validate", "--environment", "live"}, configcheck.ExitProblems},
		{"own rule, not production", live, false, []string{"validate", "--environment", "prod"}, configcheck.ExitOK},
		{"IsProduction", configcheck.IsProduction, false, []string{"validate", "--environment", "prod"}, configcheck.ExitProblems},
		{"flag over the rule", live, false, []string{"validate", "--environment", "qa", "--production"}, configcheck.ExitProblems},
		{"flag false over the rule", live, false, []string{"validate", "--environment", "live", "--production=false"}, configcheck.ExitOK},
		{"service strict", live, true, []string{"validate", "--environment", "qa"}, configcheck.ExitProblems},
	}
	for _, c := range cases {
		if got := run(c.production, c.strict, c.args...); got != c.want {
			t.Errorf("%s: configcheck %s: exit %d, want %d", c.name, strings.Join(c.args, " "), got, c.want)
		}
	}
}
