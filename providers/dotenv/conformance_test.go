package dotenv_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/dotenv"
)

// TestConformance runs the layer contract on the .env layer, over a file the
// test writes. The file is one source: it can go missing or be malformed as
// a whole, not one section at a time.
func TestConformance(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		path := filepath.Join(t.TempDir(), ".env")
		var mu sync.Mutex
		vars := map[string]string{}
		write := func(content string) {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Error(err)
			}
		}
		render := func() string {
			var b strings.Builder
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for n := range vars {
					if !yield(n) {
						return
					}
				}
			}) {
				b.WriteString(name + "=" + dotenv.Quote(vars[name]) + "\n")
			}
			return b.String()
		}
		layer := dotenv.File(path, nil)
		return configtest.Fixture{
			Set: func(key, value string) {
				mu.Lock()
				defer mu.Unlock()
				vars[envName(s.Schema, key)] = value
				write(render())
			},
			Layer: func() config.Layer { return layer },
			Fail: func(section string, f configtest.Failure, text string) bool {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case section != "":
					return false // one file holds every section
				case f == configtest.Permanent:
					if err := os.Remove(path); err != nil {
						t.Error(err)
					}
				case f == configtest.Malformed:
					write("CT_ALPHA_HOST=\"" + text + "\n")
				case f == configtest.Healthy:
					write(render())
				default:
					return false
				}
				return true
			},
		}
	}})
}

// envName is the environment name of key: the field's, or the name a field
// of that key would have.
func envName(s *config.Schema, key string) string {
	if f := s.Field(key); f != nil {
		return f.Env
	}
	return s.EnvPrefix() + config.EnvName(key)
}
