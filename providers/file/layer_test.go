package file

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

const canary = "CANARY-file-5c1e9b"

type appConfig struct {
	Version string
	Server  struct {
		Addr        string        `default:":8080"`
		ReadTimeout time.Duration `default:"5s"`
		Hosts       []string
		Ports       []int
		Labels      map[string]string
		Enabled     bool
		Ratio       float64
		Started     time.Time
		Cert        []byte
	}
	Database struct {
		Host     string
		Password config.Secret
	}
}

func schema(t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[appConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// edit writes content to path with a modification time tick seconds after
// an hour ago, as an edit by a person: old enough not to be racy.
func edit(t *testing.T, path, content string, tick int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	mt := time.Now().Add(-time.Hour).Add(time.Duration(tick) * time.Second)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

// load reads the document content as a file named name through the layer.
func load(t *testing.T, name, content string) (config.Values, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	edit(t, path, content, 0)
	return New(path, nil).Load(t.Context(), schema(t))
}

// want is the text and line of one value.
type want struct {
	raw  string
	line int
}

// TestFormats: each format maps nested tables, dotted keys, lists and maps
// onto keys, each value with the line of its key.
func TestFormats(t *testing.T) {
	cases := []struct {
		name, content string
		want          map[string]want
	}{
		{"config.yaml", `# settings
version: 1.10
server:
  addr: ":9090"
  read_timeout: 7s
  hosts: [a.internal, b.internal]
  ports:
    - 80
    - 443
  labels: {team: core, tier: "1"}
  enabled: true
server.ratio: 0.5
database:
  host: db.internal
`, map[string]want{
			"version": {"1.10", 2}, "server.addr": {":9090", 4}, "server.read_timeout": {"7s", 5},
			"server.hosts": {"[a.internal b.internal]", 6}, "server.ports": {"[80 443]", 7},
			"server.labels": {"map[team:core tier:1]", 10}, "server.enabled": {"true", 11},
			"server.ratio": {"0.5", 12}, "database.host": {"db.internal", 14},
		}},
		{"config.json", `{
  "version": "1.10",
  "server": {
    "addr": ":9090",
    "read_timeout": "7s",
    "hosts": ["a.internal", "b.internal"],
    "ports": [80, 443],
    "labels": {"team": "core", "tier": "1"},
    "enabled": true
  },
  "server.ratio": 0.5,
  "database": {"host": "db.internal"}
}
`, map[string]want{
			"version": {"1.10", 2}, "server.addr": {":9090", 4}, "server.read_timeout": {"7s", 5},
			"server.hosts": {"[a.internal b.internal]", 6}, "server.ports": {"[80 443]", 7},
			"server.labels": {"map[team:core tier:1]", 8}, "server.enabled": {"true", 9},
			"server.ratio": {"0.5", 11}, "database.host": {"db.internal", 12},
		}},
		{"config.toml", `version = "1.10"
database.host = "db.internal"

[server]
ratio = 0.5
addr = ":9090"
read_timeout = "7s"
hosts = [
  "a.internal",
  "b.internal",
]
ports = [80, 0x1bb]
labels = {team = "core", tier = "1"}
enabled = true
`, map[string]want{
			"version": {"1.10", 1}, "database.host": {"db.internal", 2}, "server.ratio": {"0.5", 5},
			"server.addr": {":9090", 6}, "server.read_timeout": {"7s", 7}, "server.hosts": {"[a.internal b.internal]", 8},
			"server.ports": {"[80 443]", 12}, "server.labels": {"map[team:core tier:1]", 13},
			"server.enabled": {"true", 14},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			vals, err := load(t, c.name, c.content)
			if err != nil {
				t.Fatal(err)
			}
			for key, w := range c.want {
				v, ok := vals[key]
				if !ok {
					t.Errorf("no value for %s", key)
					continue
				}
				if got := fmt.Sprint(v.Raw); got != w.raw {
					t.Errorf("%s = %q, want %q", key, got, w.raw)
				}
				wantSrc := filepath.Base(c.name) + ":" + fmt.Sprint(w.line)
				if got := v.Source.String(); !strings.HasSuffix(got, string(filepath.Separator)+wantSrc) || v.Source.Layer != "file" {
					t.Errorf("%s: Source %q (layer %q), want …/%s from layer file", key, got, v.Source.Layer, wantSrc)
				}
			}
			if len(vals) != len(c.want) {
				t.Errorf("%d values, want %d: %v", len(vals), len(c.want), vals)
			}
		})
	}
}

// TestTypedLoad: a store decodes each format's values into their fields,
// and reports a bad value with the file and line.
func TestTypedLoad(t *testing.T) {
	docs := map[string]string{
		"c.yaml": "server:\n  read_timeout: 250ms\n  ports: [80, 443]\n  ratio: 1e-3\n  started: 2026-01-02T15:04:05Z\n" +
			"  cert: !!binary aGVsbG8=\n  labels:\n    team: core\n",
		"c.json": `{"server": {"read_timeout": "250ms", "ports": [80, 443], "ratio": 1e-3, "started": "2026-01-02T15:04:05Z",` +
			` "cert": "hello", "labels": {"team": "core"}}}`,
		"c.toml": "[server]\nread_timeout = \"250ms\"\nports = [80, 443]\nratio = 1e-3\nstarted = 2026-01-02 15:04:05Z\n" +
			"cert = \"hello\"\nlabels.team = \"core\"\n",
	}
	for name, doc := range docs {
		path := filepath.Join(t.TempDir(), name)
		edit(t, path, doc, 0)
		st, err := config.Load[appConfig](t.Context(), &config.Options{Logger: slog.New(slog.DiscardHandler)}, New(path, nil))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := st.Get().Server
		started := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
		if s.ReadTimeout != 250*time.Millisecond || fmt.Sprint(s.Ports) != "[80 443]" || s.Ratio != 0.001 ||
			!s.Started.Equal(started) || string(s.Cert) != "hello" || s.Labels["team"] != "core" || s.Addr != ":8080" {
			t.Errorf("%s: decoded %+v", name, s)
		}
		_ = st.Close()
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	edit(t, path, "server:\n  addr: x\n  read_timeout: soon\n", 0)
	_, err := config.Load[appConfig](t.Context(), &config.Options{Logger: slog.New(slog.DiscardHandler)}, New(path, nil))
	if err == nil || !strings.Contains(err.Error(), "server.read_timeout") || !strings.Contains(err.Error(), "bad.yaml:3") {
		t.Errorf("a bad duration: %v; want it named with bad.yaml:3", err)
	}
}

// TestYAMLScalarsAreText: YAML's implicit types are not applied; the field's
// type decodes the text, as for an environment variable.
func TestYAMLScalarsAreText(t *testing.T) {
	vals, err := load(t, "c.yaml", "version: 1.10\nserver:\n  addr: 0x1F\n  hosts: [yes, no, on, 2026-01-02, ~]\n  ratio: .inf\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := vals["version"].Raw; got != "1.10" {
		t.Errorf("version = %#v, want the text 1.10", got)
	}
	if got := vals["server.addr"].Raw; got != "0x1F" {
		t.Errorf("server.addr = %#v, want the text 0x1F", got)
	}
	if got := fmt.Sprintf("%#v", vals["server.hosts"].Raw); got != `[]interface {}{"yes", "no", "on", "2026-01-02", interface {}(nil)}` {
		t.Errorf("server.hosts = %s", got)
	}
	for _, doc := range []string{"server:\n  enabled: yes\n", "server:\n  ports: [0x50]\n"} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		edit(t, path, doc, 0)
		_, err := config.Load[appConfig](t.Context(), &config.Options{Logger: slog.New(slog.DiscardHandler)}, New(path, nil))
		if !errors.Is(err, config.ErrInvalidValue) || !strings.Contains(err.Error(), "c.yaml:2") {
			t.Errorf("%q: %v; want an invalid value at c.yaml:2", doc, err)
		}
	}
}

// TestNullSetsNothing: a null leaves the field to the layers before (here
// the default); "" sets it empty.
func TestNullSetsNothing(t *testing.T) {
	for name, doc := range map[string]string{
		"c.yaml": "server:\n  addr: ~\n  read_timeout:\ndatabase:\n",
		"c.json": `{"server": {"addr": null, "read_timeout": null}, "database": null}`,
	} {
		vals, err := load(t, name, doc)
		if err != nil || len(vals) != 0 {
			t.Errorf("%s: %v, %v; want no values", name, vals, err)
		}
	}
	vals, err := load(t, "c.yaml", "server:\n  addr: \"\"\n")
	if err != nil || vals["server.addr"].Raw != "" {
		t.Errorf("an empty string: %v, %v", vals, err)
	}
}

// TestEmptyDocument: an empty file, or one of comments, has no values.
func TestEmptyDocument(t *testing.T) {
	for _, name := range []string{"c.yaml", "c.json", "c.toml"} {
		for _, doc := range []string{"", "\n \n", "# nothing\n"} {
			if name == "c.json" && doc != "" && strings.Contains(doc, "#") {
				continue
			}
			vals, err := load(t, name, doc)
			if err != nil || len(vals) != 0 {
				t.Errorf("%s %q: %v, %v", name, doc, vals, err)
			}
		}
	}
}

// TestUnknownKeys: a key that is no field is a *config.UnknownNameError
// with the closest key and the line, and the other values are read.
func TestUnknownKeys(t *testing.T) {
	docs := map[string]string{
		"c.yaml": "server:\n  addr: x\n  read_timeot: 5s\ndatabse:\n  host: h\n",
		"c.json": "{\"server\": {\"addr\": \"x\",\n \"read_timeot\": \"5s\"},\n\"databse\": {\"host\": \"h\"}}",
		"c.toml": "[server]\naddr = \"x\"\nread_timeot = \"5s\"\n[databse]\nhost = \"h\"\n",
	}
	lines := map[string][2]int{"c.yaml": {3, 4}, "c.json": {2, 3}, "c.toml": {3, 4}}
	for name, doc := range docs {
		vals, err := load(t, name, doc)
		if vals["server.addr"].Raw != "x" {
			t.Errorf("%s: the known value was not read: %v", name, vals)
		}
		var us []*config.UnknownNameError
		for _, e := range configtest.ErrorTree(err) {
			if u, ok := e.(*config.UnknownNameError); ok {
				us = append(us, u)
			}
		}
		if len(us) != 2 {
			t.Fatalf("%s: %v; want two unknown names", name, err)
		}
		got := map[string]string{}
		for _, u := range us {
			got[u.Name] = u.Suggestion + "@" + fmt.Sprint(u.Source.Line)
		}
		l := lines[name]
		if got["server.read_timeot"] != "server.read_timeout@"+fmt.Sprint(l[0]) || got["databse"] != "database@"+fmt.Sprint(l[1]) {
			t.Errorf("%s: unknown names %v", name, got)
		}
		if !strings.Contains(err.Error(), "did you mean server.read_timeout?") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestUnknownKeyUnderSecretField: a key below a secret field (a dotted key
// that goes on past database.password, as if the secret were a mapping) is
// part of the secret's value as written, so it is reported without its
// text, with the secret field as the suggestion and the line.
func TestUnknownKeyUnderSecretField(t *testing.T) {
	for name, doc := range map[string]string{
		"c.yaml": "database:\n  host: h\n  password." + canary + ": x\n",
		"c.json": "{\"database\": {\"host\": \"h\",\n \"password." + canary + "\": \"x\"}}",
	} {
		vals, err := load(t, name, doc)
		if vals["database.host"].Raw != "h" {
			t.Errorf("%s: the known value was not read: %v", name, vals)
		}
		us := configtest.UnknownNames(t, err)
		if len(us) != 1 || us[0].Name != "" || us[0].Suggestion != "database.password" || us[0].Source.Line != 2+strings.Count(name, "yaml") {
			t.Errorf("%s: %+v; want one unknown key, not shown, near database.password, with its line", name, us)
		}
		for _, e := range configtest.ErrorTree(err) {
			if s := fmt.Sprintf("%v %+v %#v", e, e, e); strings.Contains(s, canary) {
				t.Errorf("%s: the key below a secret field is shown: %s", name, s)
			}
		}
	}
	_, err := load(t, "c.yaml", "server.labels.team: core\n")
	if us := configtest.UnknownNames(t, err); len(us) != 1 || us[0].Name != "server.labels.team" {
		t.Errorf("a key below a field that is not secret: %+v; want it shown", us)
	}
}

// TestDuplicateKeys: a key set twice, in one table or through a dotted key
// and a table, is an error naming both lines; a known key is named.
func TestDuplicateKeys(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"c.yaml", "server:\n  addr: a\n  addr: b\n", "line 3: the key server.addr is set twice, here and on line 2"},
		{"c.yaml", "server:\n  addr: a\nserver.addr: b\n", "line 3: the key server.addr is set twice, here and on line 2"},
		{"c.yaml", "server:\n  labels: {x: 1, x: 2}\n", "line 2: a key is set twice, here and on line 2"},
		{"c.yaml", "a: 1\n" + canary + ": 1\n" + canary + ": 2\n", "line 3: a key is set twice, here and on line 2"},
		{"c.json", "{\"server\": {\"addr\": \"a\",\n\"addr\": \"b\"}}", "line 2: the key server.addr is set twice, here and on line 1"},
		{"c.json", "{\"" + canary + "\": 1,\n\"" + canary + "\": 2}", "line 2: a key is set twice, here and on line 1"},
		{"c.toml", "[server]\naddr = \"a\"\naddr = \"b\"\n", "line 3: the key server.addr is set twice, here and on line 2"},
		{"c.toml", "server.addr = \"a\"\n[server]\naddr = \"b\"\n", "line 2: the key server is set twice, here and on line 1"},
		{"c.toml", "[server]\n[server]\n", "line 2: the key server is set twice, here and on line 1"},
	}
	for _, c := range cases {
		vals, err := load(t, c.name, c.doc)
		if vals != nil || !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v, %v; want no values and %q", c.name, c.doc, vals, err, c.want)
		}
		noCanary(t, err)
	}
}

// noCanary fails the test if canary shows in err in any form.
func noCanary(t *testing.T, err error) {
	t.Helper()
	if how, text, ok := configtest.Reveals(err, canary); ok {
		t.Errorf("the error shows the canary (%s): %s", how, text)
	}
}

// TestMalformed: malformed input names the line (and the column where the
// parser says), gives no values, and quotes no text of the file.
func TestMalformed(t *testing.T) {
	c := canary
	cases := []struct{ name, doc, where string }{
		{"c.yaml", "server:\n  addr: \"" + c + "\n", "line 2: invalid YAML syntax: found unexpected end of stream"},
		{"c.yaml", "server:\n  addr: " + c + "\n bad: [" + c + "\n", "line 3: invalid YAML syntax: did not find expected key"},
		{"c.yaml", "server:\n  addr: [" + c + "\n", "line 2: invalid YAML syntax: did not find expected ',' or ']'"},
		{"c.yaml", "[" + c + "\n", "line 2: invalid YAML syntax: did not find expected ',' or ']'"},
		{"c.yaml", "server:\n\taddr: " + c + "\n", "line 2"},
		{"c.yaml", "server:\n  addr: *" + c + "\n", "at a line the parser does not say"},
		{"c.yaml", "server:\n  addr: !" + c + " x\n", "line 2, column 9"},
		{"c.yaml", "- " + c + "\n", "line 1, column 1: the document is not a mapping"},
		{"c.yaml", "a: 1\n---\nb: " + c + "\n", "line 2"},
		{"c.yaml", "server:\n  cert: !!binary " + c + "\n", "line 2"},
		{"c.json", "{\"server\": {\"addr\": \"" + c + "\"\n\"x\": 1}}", "line 2, column 1: invalid JSON syntax: an unexpected character after object key:value pair"},
		{"c.json", "{\"server\": {\"addr\": " + c + "}}", "line 1, column 21: invalid JSON syntax: an unexpected character looking for beginning of value"},
		{"c.json", "{\"server\": {\"addr\": \"" + c, "line 1"},
		{"c.json", "[\"" + c + "\"]", "line 1, column 1: the document is not a JSON object"},
		{"c.json", "{\"a\": 1}\n{\"" + c + "\": 2}", "line 2, column 1: invalid JSON: text follows"},
		{"c.toml", "[server]\naddr = \"" + c + "\n", "line 2"},
		{"c.toml", "[server]\naddr = " + c + "\n", "line 2, column 8"},
		{"c.toml", "[server\naddr = \"" + c + "\"\n", "line 1"},
		{"c.toml", "a = {b = 1}\na.c = \"" + c + "\"\n", "line 2"},
		{"c.toml", "x = 99999999999999999999\ny = \"" + c + "\"\n", "line 1"},
		{"c.yaml", "server:\n  addr: \"\xff" + c + "\"\n", "line 2, column 10: the file is not valid UTF-8"},
		{"c.yaml", "server:\n  addr: " + c + "\x01\n", "line 2, column 27: invalid YAML: a control character"},
	}
	for _, tc := range cases {
		vals, err := load(t, tc.name, tc.doc)
		if vals != nil || !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), tc.where) {
			t.Errorf("%s %q: %v, %v; want no values and an error at %q", tc.name, tc.doc, vals, err, tc.where)
		}
		noCanary(t, err)
	}
}

// TestLimits: a value over 1 MiB, a file over 16 MiB and a nesting too deep
// are errors naming the limit.
func TestLimits(t *testing.T) {
	big := strings.Repeat("x", maxValue+1)
	for name, doc := range map[string]string{
		"c.yaml": "server:\n  addr: " + big + "\n",
		"c.json": `{"server": {"addr": "` + big + `"}}`,
		"c.toml": "[server]\naddr = \"" + big + "\"\n",
	} {
		_, err := load(t, name, doc)
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "longer than 1048576 bytes") {
			t.Errorf("%s: a long value: %v", name, err)
		}
	}
	_, err := load(t, "c.yaml", "a: \""+strings.Repeat("x", maxFileSize)+"\"\n")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "larger than 16777216 bytes") {
		t.Errorf("a big file: %v", err)
	}
	for name, doc := range map[string]string{
		"c.yaml": "a: " + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + "\n",
		"c.json": `{"a": ` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + "}",
		"c.toml": "a = " + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + "\n",
	} {
		_, err := load(t, name, doc)
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "nested deeper than 256") {
			t.Errorf("%s: deep nesting: %v", name, err)
		}
	}
}

// TestTOMLKeysNestedTooDeep: the parts of dotted keys and headers nest
// tables as brackets do, and count towards the same limit, so a key of many
// parts (each table holds its whole path) fails fast instead of costing
// memory of the order of its parts squared.
func TestTOMLKeysNestedTooDeep(t *testing.T) {
	parts := func(n int) string { return strings.TrimSuffix(strings.Repeat("a.", n), ".") }
	for name, doc := range map[string]string{
		"dotted":          parts(20000) + " = 1\n",
		"header":          "[" + parts(20000) + "]\nb = 1\n",
		"array of tables": "[[" + parts(20000) + "]]\nb = 1\n",
		"header and key":  "[" + parts(200) + "]\n" + parts(100) + " = 1\n",
		"inline tables":   "a = {" + parts(200) + " = {" + parts(100) + " = 1}}\n",
	} {
		_, err := load(t, "c.toml", doc)
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "nested deeper than 256") {
			t.Errorf("%s: %v", name, err)
		}
	}
	vals, err := load(t, "c.toml", "["+parts(250)+"]\n"+parts(5)+" = 1\n")
	if len(vals) != 0 || !errors.Is(err, config.ErrUnknownName) {
		t.Errorf("a key 255 tables deep: %v, %v; want an unknown key", vals, err)
	}
}

// TestAliasExpansionBounded: aliases that expand exponentially (a billion
// laughs) are an error soon, not a billion nodes; an alias inside its own
// anchor is an error.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("l0: &l0 [\"" + canary + "\"]\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	start := time.Now()
	_, err := load(t, "c.yaml", b.String())
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "counted after aliases expand") {
		t.Errorf("a billion laughs: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a billion laughs took %v", d)
	}
	noCanary(t, err)
	_, err = load(t, "c.yaml", "a: &x [1, *x]\n")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "refers to the node that contains it") {
		t.Errorf("an alias inside its anchor: %v", err)
	}
}

// TestYAMLMerge: merge keys take a mapping's keys, with the line where the
// anchor writes them; the mapping's own keys win.
func TestYAMLMerge(t *testing.T) {
	vals, err := load(t, "c.yaml", "base: &base\n  addr: a\n  read_timeout: 1s\nserver:\n  <<: *base\n  addr: b\n")
	var u *config.UnknownNameError
	if !errors.As(err, &u) || u.Name != "base" {
		t.Errorf("the anchor's key is unknown: %v", err)
	}
	if vals["server.addr"].Raw != "b" || vals["server.addr"].Source.Line != 6 ||
		vals["server.read_timeout"].Raw != "1s" || vals["server.read_timeout"].Source.Line != 3 {
		t.Errorf("merged values %v", vals)
	}
}

// TestSectionAsValue: a section written as one value is an error naming the
// section and the line.
func TestSectionAsValue(t *testing.T) {
	_, err := load(t, "c.yaml", "version: x\nserver: "+canary+"\n")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line 2: server is a section of settings") {
		t.Errorf("%v", err)
	}
	noCanary(t, err)
}

// TestFormatOption: Options.Format reads a file of any name; without it an
// unknown extension is an error at Load.
func TestFormatOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.conf")
	edit(t, path, "server:\n  addr: x\n", 0)
	vals, err := New(path, &Options{Format: YAML}).Load(t.Context(), schema(t))
	if err != nil || vals["server.addr"].Raw != "x" {
		t.Errorf("with Format: %v, %v", vals, err)
	}
	_, err = New(path, nil).Load(t.Context(), schema(t))
	if !errors.Is(err, config.ErrLayer) || !strings.Contains(err.Error(), "set Options.Format") {
		t.Errorf("without Format: %v", err)
	}
	_, err = New(path, &Options{Format: "ini"}).Load(t.Context(), schema(t))
	if !errors.Is(err, config.ErrLayer) {
		t.Errorf("an unknown Format: %v", err)
	}
	upper := filepath.Join(t.TempDir(), "C.JSON")
	edit(t, upper, `{"version": "v"}`, 0)
	if vals, err := New(upper, nil).Load(t.Context(), schema(t)); err != nil || vals["version"].Raw != "v" {
		t.Errorf(".JSON: %v, %v", vals, err)
	}
}

// TestMissingFile: a missing file is config.ErrNotFound, or no values with
// Options.Optional; a directory is no file.
func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	if _, err := New(path, nil).Load(t.Context(), schema(t)); !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), path) {
		t.Errorf("missing: %v", err)
	}
	if vals, err := New(path, &Options{Optional: true}).Load(t.Context(), schema(t)); err != nil || len(vals) != 0 {
		t.Errorf("missing and optional: %v, %v", vals, err)
	}
	dir := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir, nil).Load(t.Context(), schema(t)); !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}

// TestStatePrintsNoContent: a State prints its version, never content.
func TestStatePrintsNoContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	edit(t, path, "database:\n  password: "+canary+"\n", 0)
	u, _ := New(path, nil).Refresh(t.Context(), config.RefreshRequest{Schema: schema(t)})
	if u.State == nil || u.Versions[path] == "" {
		t.Fatalf("update %v", u)
	}
	for how, text := range configtest.Renderings(u.State) {
		if !strings.Contains(text, u.Versions[path]) && how != "%x" && how != "%X" && how != "%d" && how != "%q" {
			t.Errorf("%s: %s does not show the version", how, text)
		}
		for _, form := range configtest.LeakForms(canary) {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the canary: %s", how, text)
			}
		}
	}
	b, _ := json.Marshal(u.State)
	if !strings.Contains(string(b), u.Versions[path]) {
		t.Errorf("json %s", b)
	}
}

// TestManyNodesBounded: a document of very many small values is refused
// when the limit is reached, in each format: YAML by a scan before the
// parser builds them (at the real limit), the others as they are read (at a
// lowered limit, to keep the test fast).
func TestManyNodesBounded(t *testing.T) {
	_, err := load(t, "c.yaml", strings.Repeat("- a\n", maxNodes+10))
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "more than the 262144 this layer parses") {
		t.Errorf("yaml: %v", err)
	}
	defer func(n int) { nodeLimit = n }(nodeLimit)
	nodeLimit = 1000
	n := nodeLimit + 10
	for name, doc := range map[string]string{
		"c.yaml":  "a: [" + strings.Repeat("1,", n) + "1]\n",
		"c.json":  `{"a": [` + strings.Repeat("1,", n) + "1]}",
		"c.toml":  strings.Repeat("[[a]]\n", n),
		"c2.toml": "a = [" + strings.Repeat("1,", n) + "1]\n",
	} {
		_, err := load(t, name, doc)
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "more than 1000 keys and values") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestLimitReportedOnce: a document far past the node limit is one
// problem, not one for each node past it (which, for a TOML array of
// millions of items, took a minute to build and print).
func TestLimitReportedOnce(t *testing.T) {
	defer func(n int) { nodeLimit = n }(nodeLimit)
	nodeLimit = 1000
	n := 10 * nodeLimit
	for name, doc := range map[string]string{
		"c.yaml":  "a: [" + strings.Repeat("1,", n) + "1]\nb: {x: 1}\n",
		"c.json":  `{"a": [` + strings.Repeat("1,", n) + "1]}",
		"c.toml":  "a = [" + strings.Repeat("1,", n) + "1]\n",
		"c2.toml": "a = [" + strings.Repeat("{b = 1},", n) + "{b = 1}]\n",
		"c3.toml": "a = {b = [1, 2], d = [" + strings.Repeat("1,", n) + "1]}\n",
	} {
		_, err := load(t, name, doc)
		var leaves []error
		for _, e := range configtest.ErrorTree(err) {
			if _, ok := e.(*config.SourceError); ok {
				leaves = append(leaves, e)
			}
		}
		if !errors.Is(err, config.ErrMalformed) || len(leaves) != 1 {
			t.Errorf("%s: %d problems; want one: %.300v", name, len(leaves), err)
		}
	}
}

// TestUnknownKeyPrintable: an unknown key with a line break or over 200
// bytes is shown quoted and cut, so it cannot forge a log line.
func TestUnknownKeyPrintable(t *testing.T) {
	long := strings.Repeat("k", 300)
	_, err := load(t, "c.json", `{"a\nlevel=ERROR msg=forged": 1, "`+long+`": 2}`)
	if err == nil || strings.Contains(err.Error(), "\nlevel=ERROR") || !strings.Contains(err.Error(), `"a\nlevel=ERROR msg=forged"`) {
		t.Errorf("%v", err)
	}
	if strings.Contains(err.Error(), long) || !strings.Contains(err.Error(), `"`+strings.Repeat("k", 200)+`"…`) {
		t.Errorf("the long key is not cut: %.300v", err)
	}
}

// TestTOMLTables: TOML's rules of tables, from the specification's own
// examples: sub-tables may extend a table that dotted keys made, but the
// table may not be opened again by a header.
func TestTOMLTables(t *testing.T) {
	vals, err := load(t, "c.toml", "[server]\nlabels.team = \"core\"\n\n[server.labels2]\n\n[[server.hosts]]\n[[server.hosts]]\n")
	var u *config.UnknownNameError
	if !errors.As(err, &u) || u.Name != "server.labels2" || fmt.Sprint(vals["server.labels"].Raw) != "map[team:core]" ||
		fmt.Sprint(vals["server.hosts"].Raw) != "[map[] map[]]" || vals["server.hosts"].Source.Line != 6 {
		t.Errorf("%v, %v", vals, err)
	}
	for doc, want := range map[string]string{
		"[server]\nlabels.team = \"core\"\n[server.labels]\n":            "line 3: the key server.labels is set twice, here and on line 2",
		"[server]\nlabels = {team = \"core\"}\n[server.labels]\nx = 1\n": "line 3: the key server.labels is set twice, here and on line 2",
		"[server]\nlabels = {team = \"core\"}\nlabels.tier = \"1\"\n":    "line 3: the key server.labels extends an inline table",
		"[[server.hosts]]\n[server.hosts]\n":                             "line 2: the key server.hosts is set twice, here and on line 1",
	} {
		_, err := load(t, "c.toml", doc)
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", doc, err, want)
		}
	}
}

// TestManyUnknownKeys: past 100 unknown keys, one more warning counts the
// rest.
func TestManyUnknownKeys(t *testing.T) {
	var b strings.Builder
	for i := range 150 {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	b.WriteString("version: v\n")
	vals, err := load(t, "c.yaml", b.String())
	var n int
	for _, e := range configtest.ErrorTree(err) {
		if _, ok := e.(*config.UnknownNameError); ok {
			n++
		}
	}
	if vals["version"].Raw != "v" || n != 100 || !errors.Is(err, config.ErrUnknownName) || !strings.Contains(err.Error(), "50 more keys map to no field") {
		t.Errorf("%d unknown names, %v", n, err)
	}
}
