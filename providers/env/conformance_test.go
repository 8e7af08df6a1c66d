package env_test

import (
	"sync"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/env"
)

// TestConformance runs the layer contract on the environment layer, over an
// environment the test controls through Options.Environ.
func TestConformance(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: func(_ *testing.T, s configtest.Setup) configtest.Fixture {
		var mu sync.Mutex
		vars := map[string]string{}
		layer := env.New(&env.Options{Environ: func() []string {
			mu.Lock()
			defer mu.Unlock()
			out := make([]string, 0, len(vars))
			for name, v := range vars {
				out = append(out, name+"="+v)
			}
			return out
		}})
		return configtest.Fixture{
			Set: func(key, value string) {
				mu.Lock()
				defer mu.Unlock()
				vars[envName(s.Schema, key)] = value
			},
			Layer: func() config.Layer { return layer },
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
