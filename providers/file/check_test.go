package file

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/configcheck"
)

// The layer tells configcheck its file, that the file is shared, and where
// a key can be set.
var (
	_ configcheck.FileLister  = New("", nil).(*layer)
	_ configcheck.SharedFiler = New("", nil).(*layer)
	_ configcheck.Locator     = New("", nil).(*layer)
)

// check runs configcheck with the file layer over path.
func check(t *testing.T, path string, args ...string) (string, int) {
	t.Helper()
	setup := func(context.Context, string) (*config.Options, []config.Layer, error) {
		return &config.Options{EnvPrefix: "APP_"}, []config.Layer{New(path, nil)}, nil
	}
	var out bytes.Buffer
	code := configcheck.Main[appConfig](t.Context(), args, configcheck.Options{
		Setup: setup, Stdout: &out, Stderr: &out, Environ: func() []string { return nil },
	})
	return out.String(), code
}

// TestLintSecretInFile: lint reports a secret field the file sets, at its
// line, without the value, and does not flag the mode of a shared file.
func TestLintSecretInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("server:\n  addr: a:1\ndatabase:\n  password: "+canary+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := check(t, path, "lint")
	if code != configcheck.ExitProblems || !strings.Contains(out, "database.password is a secret but is set by "+path+":4") {
		t.Errorf("lint exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "readable by group or others") {
		t.Errorf("lint flagged the mode of a shared settings file:\n%s", out)
	}
	if strings.Contains(out, canary) {
		t.Errorf("lint printed the secret:\n%s", out)
	}
}

// TestLintUnknownKey: lint reports a misspelt key with the closest one and
// the line.
func TestLintUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[server]\nread_timeot = \"5s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := check(t, path, "lint")
	if code != configcheck.ExitProblems || !strings.Contains(out, "server.read_timeot") ||
		!strings.Contains(out, "server.read_timeout") || !strings.Contains(out, path+":2") {
		t.Errorf("lint exit %d:\n%s", code, out)
	}
}

// TestExplainAndValidate: explain shows each value with the file and line;
// validate names a malformed line and exits as for a source that does not
// parse.
func TestExplainAndValidate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte("{\n  \"server\": {\"addr\": \"a:1\"}\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := check(t, path, "explain")
	if code != configcheck.ExitOK || !strings.Contains(out, path+":2") {
		t.Errorf("explain exit %d:\n%s", code, out)
	}
	if err := os.WriteFile(path, []byte("{\n  \"server\": {\"addr\": \""+canary+"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = check(t, path, "validate")
	if code != configcheck.ExitProblems || !strings.Contains(out, "line 2") || strings.Contains(out, canary) {
		t.Errorf("validate exit %d:\n%s", code, out)
	}
}

// TestLocate: the file is where a setting can be set, but never a secret.
func TestLocate(t *testing.T) {
	l := New("config.yaml", nil).(*layer)
	s := schema(t)
	if src, ok := l.Locate(s, "server.addr"); !ok || src.String() != "file config.yaml" {
		t.Errorf("server.addr: %v, %v", src, ok)
	}
	for _, key := range []string{"database.password", "server.nope"} {
		if src, ok := l.Locate(s, key); ok {
			t.Errorf("%s located at %v", key, src)
		}
	}
}
