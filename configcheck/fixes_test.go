package configcheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
)

// runCheck runs configcheck with setup and returns stdout, stderr and the
// exit code.
func runCheck(t *testing.T, setup configcheck.Setup, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := configcheck.Main[testConfig](context.Background(), args, configcheck.Options{
		Setup: setup, Stdout: &out, Stderr: &errOut, Environ: func() []string { return nil },
	})
	return out.String(), errOut.String(), code
}

// TestFlagsBeforeCommand checks that flags may come before the command name.
func TestFlagsBeforeCommand(t *testing.T) {
	t.Parallel()
	setup := setupOf(&config.Options{EnvPrefix: "APP_"}, environOf([]string{"APP_DATABASE_HOST=db"}))
	for _, args := range [][]string{
		{"--environment", "prod", "validate"},
		{"--format", "json", "validate"},
		{"--environment=prod", "explain", "database.host"},
	} {
		out, errOut, code := runCheck(t, setup, args...)
		if code == configcheck.ExitUsage || strings.Contains(errOut, "unexpected argument") {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		}
	}
	out, _, _ := runCheck(t, setup, "--format", "json", "validate")
	if !json.Valid([]byte(out)) {
		t.Errorf("--format json validate did not print JSON: %s", out)
	}
	// A flag's value that names a command is the value, not the command.
	if _, errOut, code := runCheck(t, setup, "--environment", "explain"); code == configcheck.ExitUsage {
		t.Errorf("--environment explain: exit %d: %s", code, errOut)
	}
}

// keyLayer is a sensitive layer that reports a key of its content as unknown.
type keyLayer struct{ key string }

func (keyLayer) Name() string    { return "vault" }
func (keyLayer) Sensitive() bool { return true }
func (l keyLayer) Load(_ context.Context, s *config.Schema) (config.Values, error) {
	return config.Values{}, s.UnknownSecretKey(l.key, config.Source{Layer: "vault", Location: "kv/app"})
}

// TestUnknownSecretKeyRendering checks that an unknown key whose name is
// hidden is rendered in every format without the key and with a title.
func TestUnknownSecretKeyRendering(t *testing.T) {
	t.Parallel()
	key := "database." + canary
	setup := setupOf(&config.Options{EnvPrefix: "APP_"}, environOf([]string{"APP_DATABASE_HOST=db"}), keyLayer{key})
	for _, format := range []string{"text", "json", "github"} {
		out, errOut, code := runCheck(t, setup, "validate", "--format", format)
		if strings.Contains(out+errOut, canary) {
			t.Errorf("%s: printed the key:\n%s%s", format, out, errOut)
		}
		if code == configcheck.ExitUsage {
			t.Errorf("%s: exit %d: %s", format, code, errOut)
		}
		if !strings.Contains(out, "kv/app") {
			t.Errorf("%s: the source is not named:\n%s", format, out)
		}
		switch format {
		case "github":
			if !strings.Contains(out, "::warning title=vault kv/app::") {
				t.Errorf("github: the annotation has no title naming the source:\n%s", out)
			}
		case "json":
			var doc struct {
				Findings []map[string]any `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range doc.Findings {
				if f["kind"] == "unknown_name" {
					found = true
					if _, ok := f["key"]; ok {
						t.Errorf("json: the finding has a key: %v", f)
					}
					if f["source"] != "vault kv/app" {
						t.Errorf("json: source %v, want vault kv/app", f["source"])
					}
				}
			}
			if !found {
				t.Errorf("json: no unknown_name finding:\n%s", out)
			}
		}
	}
}

// TestUnknownSecretKeyNoSource: with no source either, the finding still
// reads sensibly and has a title.
func TestUnknownSecretKeyNoSource(t *testing.T) {
	t.Parallel()
	setup := setupOf(&config.Options{EnvPrefix: "APP_"}, environOf(nil), bareKeyLayer{})
	out, _, _ := runCheck(t, setup, "validate", "--format", "github")
	if strings.Contains(out, canary) || !strings.Contains(out, "::warning title=unknown name::a key of a sensitive source maps to no field") {
		t.Errorf("github:\n%s", out)
	}
}

type bareKeyLayer struct{}

func (bareKeyLayer) Name() string    { return "vault" }
func (bareKeyLayer) Sensitive() bool { return true }
func (bareKeyLayer) Load(_ context.Context, s *config.Schema) (config.Values, error) {
	return config.Values{}, s.UnknownSecretKey(canary, config.Source{})
}

// TestExplainUndecodableValue: explain masks a value that does not decode
// and exits 1 for it, in text and JSON.
func TestExplainUndecodableValue(t *testing.T) {
	t.Parallel()
	secret := config.StaticSecrets("vault", map[string]string{"database.port": canary, "database.host": "db"})
	setup := setupOf(&config.Options{EnvPrefix: "APP_"}, secret)
	for _, format := range []string{"text", "json"} {
		out, errOut, code := runCheck(t, setup, "explain", "--format", format)
		if strings.Contains(out+errOut, canary) {
			t.Errorf("%s: printed the value:\n%s%s", format, out, errOut)
		}
		if code != configcheck.ExitProblems {
			t.Errorf("%s: exit %d, want %d\n%s", format, code, configcheck.ExitProblems, errOut)
		}
		if !strings.Contains(out, config.Redacted) || !strings.Contains(errOut, "database.port has an invalid value") {
			t.Errorf("%s: stdout:\n%s\nstderr:\n%s", format, out, errOut)
		}
	}
}

// perValueLayer is a layer that is not sensitive and holds one value that
// is: a SecureString among String parameters.
type perValueLayer struct{}

func (perValueLayer) Name() string    { return "params" }
func (perValueLayer) Sensitive() bool { return false }
func (perValueLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	src := func(n string) config.Source { return config.Source{Layer: "params", Location: n} }
	return config.Values{
		"database.password": {Raw: "a-long-password-1", Source: src("/app/password"), Sensitive: true, Secret: true},
		"api.key":           {Raw: "plain-key", Source: src("/app/api-key")},
	}, nil
}

// TestLintPerValueSensitivity checks that lint judges the secret policy per
// value, as the store does: a value its layer marked Sensitive may set a
// secret, and the layer's other values may not.
func TestLintPerValueSensitivity(t *testing.T) {
	t.Parallel()
	out, errOut, _ := runCheck(t, setupOf(&config.Options{EnvPrefix: "APP_"}, perValueLayer{}), "lint")
	if strings.Contains(out, "database.password is a secret") || !strings.Contains(out, "api.key is a secret") {
		t.Errorf("lint must flag api.key only:\n%s%s", out, errOut)
	}
}

// locatingPerValueLayer is a perValueLayer that says where it reads keys and
// that it holds secrets value by value.
type locatingPerValueLayer struct{ perValueLayer }

func (locatingPerValueLayer) HoldsSecrets() bool { return true }
func (locatingPerValueLayer) Locate(_ *config.Schema, key string) (config.Source, bool) {
	return config.Source{Layer: "params", Location: "/app/" + strings.ReplaceAll(key, ".", "/")}, true
}

// TestEnvNamesSecretHolders checks that env names a SecretHolder as where a
// deployed environment reads a secret, not as a place for local development.
func TestEnvNamesSecretHolders(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCheck(t, setupOf(&config.Options{EnvPrefix: "APP_"}, locatingPerValueLayer{}), "env")
	if code != configcheck.ExitOK || !strings.Contains(out, "| `database.password` | `params /app/database/password` | - |") {
		t.Errorf("env must name the layer as the secret's source:\n%s%s", out, errOut)
	}
}

// mixedLayer is a layer that is not sensitive and marks the secrets it reads
// from a proper home for them Sensitive, as SSM does for a SecureString.
type mixedLayer struct{}

func (mixedLayer) Name() string    { return "ssm" }
func (mixedLayer) Sensitive() bool { return false }
func (mixedLayer) Load(context.Context, *config.Schema) (config.Values, error) {
	src := config.Source{Layer: "ssm", Location: "/app/database/password"}
	return config.Values{
		"database.host":     {Raw: "db", Source: config.Source{Layer: "ssm", Location: "/app/database/host"}},
		"database.password": {Raw: "a-long-password-1", Source: src, Sensitive: true},
		"api.key":           {Raw: "k", Source: config.Source{Layer: "ssm", Location: "/app/api/key"}},
	}, nil
}

// TestLintSensitiveValue checks that lint, like the store, lets a value its
// layer marked Sensitive set a secret field, and still reports a secret set
// by a value of that layer that is not.
func TestLintSensitiveValue(t *testing.T) {
	t.Parallel()
	out, errOut, _ := runCheck(t, setupOf(&config.Options{EnvPrefix: "APP_"}, mixedLayer{}), "--format", "json", "lint")
	if strings.Contains(out, "database.password is a secret") {
		t.Errorf("lint reports the Sensitive value of a secret field:\n%s%s", out, errOut)
	}
	if !strings.Contains(out, "api.key is a secret") {
		t.Errorf("lint does not report the secret set by a plain value:\n%s%s", out, errOut)
	}
}
