package secretdir

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// TestConformance runs the layer contract over a directory laid out and
// updated like the kubelet's Secret volume: each Set publishes a new
// generation through the atomic swap of ..data. A section fails on its own
// when its files are directories, and the whole layer when the directory is
// removed.
func TestConformance(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, s configtest.Setup) configtest.Fixture {
		dir := filepath.Join(t.TempDir(), "secrets")
		k := newKube(t, dir)
		var reads atomic.Int64
		l := Dir(dir, nil).(*layer)
		l.readHook = func(string) { reads.Add(1) }
		sectionNames := func(section string) []string {
			var out []string
			for name := range k.files {
				if f := s.Schema.FieldByEnv(name); f != nil && strings.HasPrefix(f.Key, section+".") {
					out = append(out, name)
				} else if strings.HasPrefix(name, configtest.EnvPrefix+strings.ToUpper(section)+"_") {
					out = append(out, name)
				}
			}
			return out
		}
		return configtest.Fixture{
			Set:   func(key, value string) { k.set(envName(s.Schema, key), value+"\n") },
			Layer: func() config.Layer { return l },
			Reads: func() int { return int(reads.Load()) },
			Fail: func(section string, f configtest.Failure, _ string) bool {
				k.mu.Lock()
				defer k.mu.Unlock()
				switch {
				case f == configtest.Permanent && section == "":
					if err := os.RemoveAll(dir); err != nil {
						t.Error(err)
					}
					return true
				case f == configtest.Permanent:
					for _, n := range sectionNames(section) {
						k.broken[n] = true
					}
				case f == configtest.Healthy:
					clear(k.broken)
				default:
					return false // a file's content is never malformed, and no failure is transient
				}
				k.swapLocked()
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
