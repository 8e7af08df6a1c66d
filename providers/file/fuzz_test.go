package file

import (
	"strings"
	"testing"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// fuzzCanary is put into each fuzzed document: no error but an unknown
// key's name may show it.
const fuzzCanary = "QZXcanaryQZX"

// FuzzFile parses any document in each format, with a canary put anywhere
// in it. It checks that nothing panics; that a malformed document gives no
// values and errors that never show the canary; that an unknown key's error
// shows it only as the key's name; and that every value has a line of the
// document.
func FuzzFile(f *testing.F) {
	for _, seed := range []struct {
		doc    string
		format uint8
	}{
		{"server:\n  addr: a\n  hosts: [x, y]\nversion: 1.0\n", 0},
		{"a: &a {addr: x}\nserver:\n  <<: *a\n  labels: {k: v}\n", 0},
		{"server:\n  addr: \"x\n", 0},
		{`{"server": {"addr": "x", "ports": [1, 2.5e3]}, "version": null}`, 1},
		{`{"server": {"addr": "x"`, 1},
		{"version = \"v\"\n[server]\naddr = 'x'\nports = [0x10, 1_000]\n[[server.hosts]]\n", 2},
		{"[server\naddr = \"x\"\n", 2},
	} {
		f.Add(seed.doc, seed.format, uint16(5))
	}
	s, err := config.SchemaFor[appConfig]("APP_")
	if err != nil {
		f.Fatal(err)
	}
	formats := []Format{YAML, JSON, TOML}
	f.Fuzz(func(t *testing.T, doc string, format uint8, at uint16) {
		i := int(at) % (len(doc) + 1)
		in := doc[:i] + fuzzCanary + doc[i:]
		vals, err := decode("f", formats[int(format)%len(formats)], []byte(in), s)
		malformed := false
		for _, e := range configtest.ErrorTree(err) {
			switch e := e.(type) {
			case *config.SourceError:
				malformed = true
				if strings.Contains(e.Error(), fuzzCanary) {
					t.Fatalf("a malformed document's error shows its text: %v", e)
				}
			case *config.UnknownNameError:
				if strings.Contains(e.Suggestion, fuzzCanary) || strings.Contains(e.Source.String(), fuzzCanary) {
					t.Fatalf("an unknown key's error shows text beyond its name: %#v", e)
				}
			}
		}
		if malformed && vals != nil {
			t.Fatalf("a malformed document gave values: %v", vals)
		}
		lines := strings.Count(in, "\n") + 1
		for key, v := range vals {
			if v.Source.Line < 1 || v.Source.Line > lines || v.Source.Layer != "file" {
				t.Fatalf("%s has source %+v in a document of %d lines", key, v.Source, lines)
			}
		}
	})
}
