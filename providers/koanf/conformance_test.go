package koanf_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"

	koanfjson "github.com/knadh/koanf/parsers/json"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/koanf"
)

// docProvider is a koanf.Provider over a JSON document the test controls,
// which can fail to read.
type docProvider struct {
	mu   sync.Mutex
	doc  map[string]map[string]string // by section
	text string                       // what ReadBytes returns when set
	err  error
}

func (p *docProvider) ReadBytes() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	if p.text != "" {
		return []byte(p.text), nil
	}
	return json.Marshal(p.doc)
}

func (p *docProvider) Read() (map[string]any, error) {
	return nil, errors.New("docProvider: use ReadBytes")
}

// koanfHarness builds a koanf layer over a docProvider with the JSON
// parser. The document is one source.
func koanfHarness(*testing.T, configtest.Setup) configtest.Fixture {
	return koanfFixture(nil)
}

// koanfFixture is koanfHarness's fixture, with opts for the layer.
func koanfFixture(opts *koanf.Options) configtest.Fixture {
	p := &docProvider{doc: map[string]map[string]string{}}
	layer := koanf.New("koanf", p, koanfjson.Parser(), opts)
	return configtest.Fixture{
		Set: func(key, value string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			section, name, _ := strings.Cut(key, ".")
			if p.doc[section] == nil {
				p.doc[section] = map[string]string{}
			}
			p.doc[section][name] = value
		},
		Layer: func() config.Layer { return layer },
		Fail: func(section string, f configtest.Failure, text string) bool {
			if section != "" {
				return false
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			p.err, p.text = nil, ""
			switch f {
			case configtest.Transient:
				p.err = errors.New("connection reset")
			case configtest.Permanent:
				p.err = fs.ErrNotExist
			case configtest.Malformed:
				p.text = text
			}
			return true
		},
	}
}

func TestConformance(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: koanfHarness})
}

// TestConformanceSensitive runs the suite on a sensitive layer, whose unknown
// keys are never shown.
func TestConformanceSensitive(t *testing.T) {
	configtest.TestLayer(t, configtest.Harness{New: func(*testing.T, configtest.Setup) configtest.Fixture {
		return koanfFixture(&koanf.Options{Sensitive: true})
	}})
}
