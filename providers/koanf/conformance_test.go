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
func koanfHarness(t *testing.T, _ configtest.Setup) configtest.Fixture {
	p := &docProvider{doc: map[string]map[string]string{}}
	layer := koanf.New("koanf", p, koanfjson.Parser(), nil)
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
