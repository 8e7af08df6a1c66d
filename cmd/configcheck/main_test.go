package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
	"github.com/strata-go/strata/examples/service/appconfig"
	"github.com/strata-go/strata/providers/secretsmanager"
	"github.com/strata-go/strata/providers/ssm"
)

var update = flag.Bool("update", false, "rewrite docs/reference/configcheck-service-env.md")

// referencePath is the generated reference of the example service's settings.
var referencePath = filepath.Join("..", "..", "docs", "reference", "configcheck-service-env.md")

// referenceArgs generate the reference: the example service's secrets in
// production, a JSON secret for the database and a string for the API key.
var referenceArgs = []string{
	"env", "--title", "Example service: configuration reference", "--environment", "production",
}

// run runs configcheck offline: with the service's own setup, its .env file
// replaced by an empty one, the environment by environ, and without its
// Secrets Manager layer, which tests/configcheck_test.go covers on the
// emulator.
func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	opts := options()
	own := appconfig.Setup{EnvFile: os.DevNull, Environ: func() []string { return environ }}
	opts.Setup = func(ctx context.Context, environment string) (*config.Options, []config.Layer, error) {
		o, layers, err := own.Layers(ctx, environment)
		return o, slices.DeleteFunc(layers, func(l config.Layer) bool {
			_, secrets := l.(*secretsmanager.Reader)
			_, params := l.(*ssm.Reader)
			return secrets || params // remote: the test reads no AWS
		}), err
	}
	return runWith(t, opts, environ, args...)
}

func runWith(t *testing.T, opts configcheck.Options, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	opts.Stdout, opts.Stderr = &out, &errOut
	opts.Environ = func() []string { return environ }
	code = configcheck.Main[ServiceConfig](context.Background(), args, opts)
	return out.String(), errOut.String(), code
}

// TestReferenceIsCurrent regenerates the reference and compares it with the
// file in docs/reference; go test -update rewrites the file.
func TestReferenceIsCurrent(t *testing.T) {
	got, stderr, code := runWith(t, options(), nil, referenceArgs...)
	if code != configcheck.ExitOK {
		t.Fatalf("configcheck %s: exit %d: %s", strings.Join(referenceArgs, " "), code, stderr)
	}
	if *update {
		if err := os.WriteFile(referencePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/configcheck -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s is out of date; run go test ./cmd/configcheck -update\n--- generated\n%s", referencePath, got)
	}
}

// TestServiceConfig checks the example service's configuration through the
// command: its defaults, names and rules.
func TestServiceConfig(t *testing.T) {
	const canary = "CANARY-9f8e7d6c5b4a"
	environ := []string{
		"APP_DATABASE_HOST=db.internal",
		"APP_DATABASE_USER=app",
		"APP_DATABASE_PASSWORD=" + canary,
		"APP_API_KEY=" + canary,
	}
	out, stderr, code := run(t, environ, "validate")
	if code != configcheck.ExitOK || !strings.Contains(out, "ok: 10 settings checked, 2 warnings") {
		t.Errorf("validate: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = run(t, environ, "validate", "--environment", "production")
	if code != configcheck.ExitProblems || !strings.Contains(out, "2 errors") {
		t.Errorf("validate in production: exit %d\n%s%s", code, out, stderr)
	}
	out, _, _ = run(t, environ, "explain")
	for _, want := range []string{
		"server.addr           127.0.0.1:8080",
		"server.read_timeout   5s",
		"database.port         5432",
		"log.level             info",
		"database.password     [REDACTED] fp:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	out, _, code = run(t, []string{"APP_DATABASE_PORT=0", "APP_LOG_LEVEL=trace", "APP_DATABASE_PASSWORD=short"},
		"validate")
	for _, want := range []string{
		"database.host is required",
		"database.port must be at least 1",
		"database.password must have at least 12 characters",
		"api.key is required",
		"log.level must be one of: debug, info, warn, error",
	} {
		if code != configcheck.ExitProblems || !strings.Contains(out, want) {
			t.Errorf("validate: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	for _, o := range []string{out, stderr} {
		if strings.Contains(o, canary) || strings.Contains(o, "short") {
			t.Errorf("a secret value was printed:\n%s", o)
		}
	}
}
