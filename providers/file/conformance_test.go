package file

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// TestConformance runs the layer contract over a file in each format that
// the test rewrites on each Set. Each write moves the modification time on
// by a second, from an hour ago, as edits by a person do: the cheap stat
// check then sees every change, and nothing is racy. The file is one
// source: it can go missing or be malformed as a whole, not one section at
// a time.
func TestConformance(t *testing.T) {
	for _, format := range []Format{YAML, JSON, TOML} {
		t.Run(string(format), func(t *testing.T) {
			configtest.TestLayer(t, configtest.Harness{Refresher: true, New: func(t *testing.T, _ configtest.Setup) configtest.Fixture {
				return newFixture(t, format)
			}})
		})
	}
}

func newFixture(t *testing.T, format Format) configtest.Fixture {
	path := filepath.Join(t.TempDir(), "config."+string(format))
	var (
		mu    sync.Mutex
		vals  = map[string]string{}
		reads atomic.Int64
		tick  int
	)
	base := time.Now().Add(-time.Hour)
	write := func(content string) {
		tick++
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Error(err)
		}
		mt := base.Add(time.Duration(tick) * time.Second)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Error(err)
		}
	}
	l := New(path, nil).(*layer)
	l.readHook = func() { reads.Add(1) }
	return configtest.Fixture{
		Set: func(key, value string) {
			mu.Lock()
			defer mu.Unlock()
			vals[key] = value
			write(render(format, vals))
		},
		Layer: func() config.Layer { return l },
		Reads: func() int { return int(reads.Load()) },
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
				write(broken(format, text))
			case f == configtest.Healthy:
				write(render(format, vals))
			default:
				return false
			}
			return true
		},
	}
}

// render writes vals, keyed "section.name", as a document of format: one
// table per section, every value a string.
func render(format Format, vals map[string]string) string {
	sections := map[string][]string{}
	for k := range vals {
		sec, _, _ := strings.Cut(k, ".")
		sections[sec] = append(sections[sec], k)
	}
	var b strings.Builder
	quote := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	secs := slices.Sorted(func(yield func(string) bool) {
		for s := range sections {
			if !yield(s) {
				return
			}
		}
	})
	if format == JSON {
		b.WriteString("{\n")
	}
	for i, sec := range secs {
		keys := sections[sec]
		slices.Sort(keys)
		switch format {
		case YAML:
			b.WriteString(sec + ":\n")
		case TOML:
			b.WriteString("[" + sec + "]\n")
		case JSON:
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("  " + quote(sec) + ": {\n")
		}
		for j, k := range keys {
			name := strings.TrimPrefix(k, sec+".")
			switch format {
			case YAML:
				b.WriteString("  " + name + ": " + quote(vals[k]) + "\n")
			case TOML:
				b.WriteString(name + " = " + quote(vals[k]) + "\n")
			case JSON:
				if j > 0 {
					b.WriteString(",\n")
				}
				b.WriteString("    " + quote(name) + ": " + quote(vals[k]))
			}
		}
		if format == JSON {
			b.WriteString("\n  }")
		}
	}
	if format == JSON {
		b.WriteString("\n}\n")
	}
	return b.String()
}

// broken returns a document of format that holds text and does not parse:
// a quoted value never closed.
func broken(format Format, text string) string {
	switch format {
	case YAML:
		return "alpha:\n  port: 1\n  host: \"" + text + "\n"
	case JSON:
		return "{\"alpha\": {\"port\": \"1\",\n\"host\": \"" + text + "\n"
	}
	return "[alpha]\nport = 1\nhost = \"" + text + "\n"
}
