package secretdir

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

// The layer lists its files for configcheck lint.
var _ configcheck.FileLister = Dir("", nil).(*layer)

// TestLintFlagsWorldReadable: configcheck lint flags a secret file that
// others may read (the kubelet's default mode 0644), by its visible path,
// and does not flag one of mode 0600.
func TestLintFlagsWorldReadable(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o600} {
		dir := filepath.Join(t.TempDir(), "secrets")
		k := newKube(t, dir)
		k.mode = mode
		k.files["APP_DATABASE_PASSWORD"] = canary
		k.swap()
		path := filepath.Join(dir, "APP_DATABASE_PASSWORD")
		if got := Dir(dir, nil).(*layer).Files(); len(got) != 1 || got[0] != path {
			t.Fatalf("Files() = %v, want [%s]", got, path)
		}
		setup := func(context.Context, string) (*config.Options, []config.Layer, error) {
			return &config.Options{EnvPrefix: "APP_"}, []config.Layer{Dir(dir, nil)}, nil
		}
		var out bytes.Buffer
		code := configcheck.Main[appConfig](context.Background(), []string{"lint"}, configcheck.Options{
			Setup: setup, Stdout: &out, Stderr: &out, Environ: func() []string { return nil },
		})
		flagged := strings.Contains(out.String(), path+" is readable by group or others")
		if flagged != (mode == 0o644) || (mode == 0o644 && code != configcheck.ExitProblems) {
			t.Errorf("mode %#o: lint exit %d, flagged %v:\n%s", mode, code, flagged, out.String())
		}
		if strings.Contains(out.String(), canary) {
			t.Errorf("lint printed the secret:\n%s", out.String())
		}
	}
}
