package configcheck_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/providers/secretsmanager"
)

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
	run := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			EnvPrefix: "APP_",
			Stdout:    &out,
			Stderr:    &out,
			Environ:   func() []string { return environ },
			AWSConfig: func(context.Context, string) (aws.Config, error) { return aws.Config{}, nil },
		})
		return out.String(), code
	}
	layers := []string{"--env-file", envFile}
	out, _ := run(append([]string{"explain", "--format", "json"}, layers...)...)
	if err := os.WriteFile(explainJSON, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"diff", explainJSON, explainJSON},
		{"diff", "--all", "--format", "json", explainJSON, explainJSON},
		{"env"}, {"env", "--format", "dotenv"},
		{"cost", "--secret", "json:a=database"},
		{"iam", "--secret", "json:a=database"},
	}
	for _, cmd := range []string{"validate", "explain", "lint"} {
		for _, format := range []string{"text", "json", "github"} {
			if cmd == "explain" && format == "github" {
				continue
			}
			for _, extra := range [][]string{nil, {"--strict"}, {"--environment", "production"}} {
				args := append([]string{cmd, "--format", format}, layers...)
				cases = append(cases, append(args, extra...))
			}
		}
	}
	for _, args := range cases {
		out, code := run(args...)
		if strings.Contains(out, canary) {
			t.Errorf("%s (exit %d) printed the canary:\n%s", strings.Join(args, " "), code, out)
		}
		if code == configcheck.ExitUsage {
			t.Errorf("%s: exit %d:\n%s", strings.Join(args, " "), code, out)
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

// TestServiceSecretSources checks that the sources a service gives in Options
// are used when no --secret flag is given, and replaced by --secret.
func TestServiceSecretSources(t *testing.T) {
	t.Parallel()
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			EnvPrefix: "APP_",
			SecretSources: []secretsmanager.Source{
				secretsmanager.JSON("my-app/production/database", "database"),
				secretsmanager.Prefix("my-app/shared/"),
			},
			Stdout:  &out,
			Stderr:  &errOut,
			Environ: func() []string { return nil },
		})
		if code != configcheck.ExitOK {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	iam := run("iam", "--region", "eu-west-1")
	for _, want := range []string{
		"arn:aws:secretsmanager:eu-west-1:*:secret:my-app/production/database-??????",
		"arn:aws:secretsmanager:eu-west-1:*:secret:my-app/shared/*",
		"secretsmanager:ListSecrets",
	} {
		if !strings.Contains(iam, want) {
			t.Errorf("iam lacks %q:\n%s", want, iam)
		}
	}
	if ref := run("env"); !strings.Contains(ref, "`secretsmanager my-app/production/database#password`") {
		t.Errorf("env does not name the service's source:\n%s", ref)
	}
	if iam := run("iam", "--secret", "string:other=api.key"); strings.Contains(iam, "my-app") || strings.Contains(iam, "ListSecrets") {
		t.Errorf("--secret did not replace the service's sources:\n%s", iam)
	}
	if help := run("validate", "--help"); !strings.Contains(help, "(default: json:my-app/production/database=database prefix:my-app/shared/)") {
		t.Errorf("help does not show the service's sources:\n%s", help)
	}
}

// With STRATA_FINGERPRINT_KEY set, explain fingerprints secrets under that
// key, as a store with the same Options.FingerprintKey does.
func TestFingerprintKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	explain := func(environ ...string) string {
		var out bytes.Buffer
		code := configcheck.Main[testConfig](context.Background(), []string{"explain", "--format", "json", "database.password"}, configcheck.Options{
			EnvPrefix: "APP_", Stdout: &out, Stderr: &out,
			Environ: func() []string { return append(environ, "APP_DATABASE_PASSWORD="+canary) },
		})
		if code != configcheck.ExitOK {
			t.Fatalf("explain: exit %d\n%s", code, out.String())
		}
		return out.String()
	}
	plain, keyed := explain(), explain(configcheck.FingerprintKeyEnv+"=deployment-key")
	if !strings.Contains(plain, `"fingerprint": "`+config.Fingerprint(canary)+`"`) {
		t.Errorf("without a key, want the default fingerprint:\n%s", plain)
	}
	if !strings.Contains(keyed, `"fingerprint": "`+config.FingerprintWithKey([]byte("deployment-key"), canary)+`"`) {
		t.Errorf("with %s, want the keyed fingerprint:\n%s", configcheck.FingerprintKeyEnv, keyed)
	}
}

// An empty --endpoint (an unset shell variable) is a usage error, not a
// silent fall-back to AWS.
func TestEmptyEndpointIsUsageError(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := configcheck.Main[testConfig](context.Background(), []string{"validate", "--endpoint", "", "--secret", "json:a=database"},
		configcheck.Options{EnvPrefix: "APP_", Stdout: &out, Stderr: &out, Environ: func() []string { return nil }})
	if code != configcheck.ExitUsage || !strings.Contains(out.String(), "empty URL") {
		t.Errorf("exit %d:\n%s", code, out.String())
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

// TestOptionsProduction: a service's own rule for production decides, and
// --production overrides it either way.
func TestOptionsProduction(t *testing.T) {
	t.Parallel()
	environ := []string{"APP_DATABASE_HOST=db.internal", "APP_DATABASE_PASSWORD=" + canary, "APP_API_KEY=" + canary}
	run := func(production func(string) bool, args ...string) int {
		var out bytes.Buffer
		return configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
			EnvPrefix:  "APP_",
			Production: production,
			Stdout:     &out,
			Stderr:     &out,
			Environ:    func() []string { return environ },
		})
	}
	live := func(env string) bool { return env == "live" }
	cases := []struct {
		name       string
		production func(string) bool
		args       []string
		want       int
	}{
		{"own rule, production", live, []string{"validate", "--environment", "live"}, configcheck.ExitProblems},
		{"own rule, not production", live, []string{"validate", "--environment", "prod"}, configcheck.ExitOK},
		{"default rule", nil, []string{"validate", "--environment", "prod"}, configcheck.ExitProblems},
		{"flag over the rule", live, []string{"validate", "--environment", "qa", "--production"}, configcheck.ExitProblems},
		{"flag false over the rule", live, []string{"validate", "--environment", "live", "--production=false"}, configcheck.ExitOK},
	}
	for _, c := range cases {
		if got := run(c.production, c.args...); got != c.want {
			t.Errorf("%s: configcheck %s: exit %d, want %d", c.name, strings.Join(c.args, " "), got, c.want)
		}
	}
}
