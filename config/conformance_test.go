package config_test

import (
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// staticHarness builds a layer with make over the values set before the
// first call of Layer; a static layer cannot change after that.
func staticHarness(newLayer func(name string, values map[string]string) config.Layer) func(*testing.T, configtest.Setup) configtest.Fixture {
	return func(t *testing.T, _ configtest.Setup) configtest.Fixture {
		values := map[string]string{}
		var layer config.Layer
		return configtest.Fixture{
			Set: func(key, value string) {
				if layer != nil {
					t.Fatal("a static layer cannot change once built")
				}
				values[key] = value
			},
			Layer: func() config.Layer {
				if layer == nil {
					layer = newLayer("static", values)
				}
				return layer
			},
		}
	}
}

func TestConformanceStatic(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: staticHarness(config.Static)})
}

func TestConformanceStaticSecrets(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: staticHarness(config.StaticSecrets)})
}
