package koanf_test

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/knadh/koanf/parsers/json"
	"github.com/knadh/koanf/providers/rawbytes"
	kf "github.com/knadh/koanf/v2"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/koanf"
)

type koanfTestConfig struct {
	Server struct {
		Addr        string
		ReadTimeout time.Duration
	}
	Database struct {
		Host     string
		Port     int
		Password config.Secret
		Labels   map[string]string
	}
}

func koanfTestSchema(t testing.TB) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[koanfTestConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// koanfMapProvider is a koanf provider that supplies a nested map through
// Read, as providers without a parser do.
type koanfMapProvider struct {
	m   map[string]any
	err error
}

func (p koanfMapProvider) ReadBytes() ([]byte, error)    { return nil, errors.New("not supported") }
func (p koanfMapProvider) Read() (map[string]any, error) { return p.m, p.err }

var _ kf.Provider = koanfMapProvider{}

func TestKoanfValues(t *testing.T) {
	t.Parallel()
	doc := `{
		"server": {"addr": ":9090", "read_timeout": "3s"},
		"database": {"host": "db", "port": 5432, "labels": {"team": "core"}}
	}`
	layer := koanf.New("json", rawbytes.Provider([]byte(doc)), json.Parser(), nil)
	got, err := layer.Load(context.Background(), koanfTestSchema(t))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	src := func(key string) config.Source { return config.Source{Layer: "json", Location: key} }
	want := config.Values{
		"server.addr":         {Raw: ":9090", Source: src("server.addr")},
		"server.read_timeout": {Raw: "3s", Source: src("server.read_timeout")},
		"database.host":       {Raw: "db", Source: src("database.host")},
		"database.port":       {Raw: float64(5432), Source: src("database.port")},
		"database.labels":     {Raw: map[string]any{"team": "core"}, Source: src("database.labels")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestKoanfRead(t *testing.T) {
	t.Parallel()
	p := koanfMapProvider{m: map[string]any{
		"database":      map[string]any{"host": "db"},
		"server.addr":   ":80", // a flat key is a key too
		"database.hots": "typo",
	}}
	got, err := koanf.New("custom", p, nil, nil).Load(context.Background(), koanfTestSchema(t))
	want := config.Values{
		"database.host": {Raw: "db", Source: config.Source{Layer: "custom", Location: "database.host"}},
		"server.addr":   {Raw: ":80", Source: config.Source{Layer: "custom", Location: "server.addr"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	var u *config.UnknownNameError
	if !errors.As(err, &u) || u.Name != "database.hots" || u.Suggestion != "database.host" {
		t.Errorf("got error %v, want database.hots unknown with suggestion database.host", err)
	}
}

func TestKoanfUnknownKeys(t *testing.T) {
	t.Parallel()
	doc := `{"zeta": 1, "database": {"hots": "x", "port": 1, "extra": {"a": 1}}, "server": "not an object"}`
	vals, err := koanf.New("json", rawbytes.Provider([]byte(doc)), json.Parser(), nil).Load(context.Background(), koanfTestSchema(t))
	if _, ok := vals["database.port"]; !ok || len(vals) != 1 {
		t.Errorf("values %v, want database.port only", vals)
	}
	if !errors.Is(err, config.ErrUnknownName) {
		t.Fatalf("error %v is not ErrUnknownName", err)
	}
	got := configtest.UnknownNames(t, err)
	src := func(key string) config.Source { return config.Source{Layer: "json", Location: key} }
	want := []config.UnknownNameError{
		{Name: "database.extra", Source: src("database.extra")},
		{Name: "database.hots", Source: src("database.hots"), Suggestion: "database.host"},
		{Name: "server", Source: src("server"), Mount: "server", Known: []string{"addr", "read_timeout"}}, // a section given one value
		{Name: "zeta", Source: src("zeta")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unknown keys, in key order (-want +got):\n%s", diff)
	}
}

func TestKoanfErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-canary"
	tests := []struct {
		name     string
		provider kf.Provider
		parser   kf.Parser
		code     error
		is       error // also matched by errors.Is, when set
	}{
		{
			name:     "content that does not parse",
			provider: rawbytes.Provider([]byte(`{"database": {"password": "` + secret + `"`)),
			parser:   json.Parser(),
			code:     config.ErrMalformed,
		},
		{
			name:     "invalid token next to a secret",
			provider: rawbytes.Provider([]byte(`{"database": {"password": ` + secret + `}}`)),
			parser:   json.Parser(),
			code:     config.ErrMalformed,
		},
		{
			name:     "missing file",
			provider: koanfMapProvider{err: &fs.PathError{Op: "open", Path: "app.json", Err: fs.ErrNotExist}},
			code:     config.ErrNotFound,
			is:       fs.ErrNotExist,
		},
		{
			name:     "permission",
			provider: koanfMapProvider{err: &fs.PathError{Op: "open", Path: "app.json", Err: fs.ErrPermission}},
			code:     config.ErrAccessDenied,
			is:       fs.ErrPermission,
		},
		{
			name:     "other failure",
			provider: koanfMapProvider{err: errors.New("connection reset")},
			code:     config.ErrTransient,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vals, err := koanf.New("custom", tt.provider, tt.parser, nil).Load(context.Background(), koanfTestSchema(t))
			if vals != nil {
				t.Errorf("got values %v", vals)
			}
			if !errors.Is(err, tt.code) {
				t.Errorf("error %v is not %v", err, tt.code)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			var se *config.SourceError
			if !errors.As(err, &se) || se.Layer != "custom" {
				t.Errorf("error %v is not a SourceError of layer custom", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error text holds the value: %q", err)
			}
		})
	}
}

// quotingParser is a third-party parser whose errors quote the input they
// reject, as many do.
type quotingParser struct{}

func (quotingParser) Unmarshal(b []byte) (map[string]any, error) {
	return nil, fmt.Errorf("parse error near %q", b)
}
func (quotingParser) Marshal(map[string]any) ([]byte, error) { return nil, nil }

func TestKoanfParseErrorChainClean(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-koanf-5e1d"
	for _, pa := range []kf.Parser{quotingParser{}, json.Parser()} {
		_, err := koanf.New("file", rawbytes.Provider([]byte(`{"database": {"password": `+canary)), pa, nil).
			Load(context.Background(), koanfTestSchema(t))
		if !errors.Is(err, config.ErrMalformed) {
			t.Fatalf("err = %v, want ErrMalformed", err)
		}
		chain := configtest.ErrorTree(err)
		if len(chain) < 2 {
			t.Fatalf("chain of %v has no cause", err)
		}
		for _, e := range chain {
			if strings.Contains(e.Error(), canary) || strings.Contains(e.Error(), "CANARY") {
				t.Errorf("%T in the chain quotes the input: %q", e, e)
			}
		}
		if !strings.Contains(err.Error(), "parser error") {
			t.Errorf("err = %q does not say the parser failed", err)
		}
	}
}

func TestKoanfContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	layer := koanf.New("json", rawbytes.Provider([]byte(`{}`)), json.Parser(), nil)
	if _, err := layer.Load(ctx, koanfTestSchema(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}

	// A context that ends while the provider reads wins over its result.
	ctx, cancel = context.WithCancel(context.Background())
	p := koanfFuncProvider(func() (map[string]any, error) {
		cancel()
		return map[string]any{"server": map[string]any{"addr": ":80"}}, nil
	})
	if _, err := koanf.New("slow", p, nil, nil).Load(ctx, koanfTestSchema(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

type koanfFuncProvider func() (map[string]any, error)

func (f koanfFuncProvider) ReadBytes() ([]byte, error)    { return nil, errors.New("not supported") }
func (f koanfFuncProvider) Read() (map[string]any, error) { return f() }

func TestKoanfLayer(t *testing.T) {
	t.Parallel()
	p := rawbytes.Provider(nil)
	if l := koanf.New("vault", p, json.Parser(), &koanf.Options{Sensitive: true}); l.Name() != "vault" || !l.Sensitive() {
		t.Errorf("Name() = %q, Sensitive() = %v; want vault, true", l.Name(), l.Sensitive())
	}
	if l := koanf.New("file", p, json.Parser(), nil); l.Sensitive() {
		t.Error("a layer is sensitive without Options.Sensitive")
	}
}

func TestKoanfReloads(t *testing.T) {
	t.Parallel()
	n := 0
	p := koanfFuncProvider(func() (map[string]any, error) {
		n++
		return map[string]any{"database": map[string]any{"port": n}}, nil
	})
	layer := koanf.New("counter", p, nil, nil)
	schema := koanfTestSchema(t)
	for want := 1; want <= 2; want++ {
		vals, err := layer.Load(context.Background(), schema)
		if err != nil {
			t.Fatal(err)
		}
		if got := vals["database.port"].Raw; got != want {
			t.Errorf("load %d: database.port = %v, want %d", want, got, want)
		}
	}
}

func ExampleNew() {
	type AppConfig struct {
		Server struct {
			Addr string
		}
		Database struct {
			Host string
			Port int
		}
	}
	schema, err := config.SchemaFor[AppConfig]("APP_")
	if err != nil {
		panic(err)
	}

	// Any koanf provider and parser: a file, Vault, Consul, S3. This one
	// reads JSON from memory.
	doc := []byte(`{"server": {"addr": ":9090"}, "database": {"host": "db.internal", "prot": 5432}}`)
	layer := koanf.New("json", rawbytes.Provider(doc), json.Parser(), nil)

	vals, err := layer.Load(context.Background(), schema)
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		fmt.Printf("%s = %v (%s)\n", key, vals[key].Raw, vals[key].Source)
	}
	fmt.Println("warning:", err)
	// Output:
	// database.host = db.internal (json database.host)
	// server.addr = :9090 (json server.addr)
	// warning: database.prot: unknown, did you mean database.port? (json)
}

// TestConfigImportsNoKoanf checks that package config, and everything it
// imports, stays free of koanf: only programs that use this package pull it
// in.
func TestConfigImportsNoKoanf(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var walk func(path, dir string)
	walk = func(path, dir string) {
		if seen[path] {
			return
		}
		seen[path] = true
		pkg, err := build.Import(path, dir, 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		if pkg.Goroot {
			return
		}
		if strings.Contains(path, "knadh/koanf") {
			t.Errorf("package config depends on %s", path)
			return
		}
		for _, imp := range pkg.Imports {
			walk(imp, pkg.Dir)
		}
	}
	walk("github.com/strata-go/strata/config", ".")
	if len(seen) < 5 {
		t.Fatalf("walked only %d packages: the check proves nothing", len(seen))
	}
}

// TestKoanfProviderErrorChainClean checks that a provider's error, which may
// quote what it was given or read, is kept in no text and no cause, while
// the sentinels it matched still match.
func TestKoanfProviderErrorChainClean(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-koanf-9b2c"
	tests := map[string]struct {
		err  error
		code error
		is   []error
	}{
		"bad token":  {fmt.Errorf("vault: bad token %s", canary), config.ErrTransient, nil},
		"missing":    {&fs.PathError{Op: "open", Path: canary, Err: fs.ErrNotExist}, config.ErrNotFound, []error{fs.ErrNotExist}},
		"canceled":   {fmt.Errorf("vault %s: %w", canary, context.Canceled), config.ErrTransient, []error{context.Canceled}},
		"timed out":  {fmt.Errorf("vault %s: %w", canary, context.DeadlineExceeded), config.ErrTransient, []error{context.DeadlineExceeded}},
		"permission": {fmt.Errorf("%s: %w", canary, fs.ErrPermission), config.ErrAccessDenied, []error{fs.ErrPermission}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := koanf.New("vault", koanfMapProvider{err: tt.err}, nil, &koanf.Options{Sensitive: true}).
				Load(context.Background(), koanfTestSchema(t))
			if !errors.Is(err, tt.code) {
				t.Errorf("err = %v, want %v", err, tt.code)
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("err = %v does not match %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%T", tt.err)) {
				t.Errorf("err = %q does not give the provider error's type", err)
			}
			for _, e := range configtest.ErrorTree(err) {
				for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
					if strings.Contains(text, canary) {
						t.Errorf("%T in the chain quotes the provider's error: %s", e, text)
					}
				}
			}
		})
	}
}

// TestKoanfSensitiveUnknownKeys checks that a sensitive layer's unknown keys,
// part of the secret document it reads, are shown nowhere: not in the error,
// its Source, or the store's warnings.
func TestKoanfSensitiveUnknownKeys(t *testing.T) {
	t.Parallel()
	const canary = "CANARY7f3a"
	doc := `{"database": {"port": 1, "` + canary + `": "x", "hots": "y"}}`
	layer := koanf.New("vault", rawbytes.Provider([]byte(doc)), json.Parser(), &koanf.Options{Sensitive: true})
	_, err := layer.Load(context.Background(), koanfTestSchema(t))
	got := configtest.UnknownNames(t, err)
	if len(got) == 0 {
		t.Fatalf("err = %v, want the unknown keys reported", err)
	}
	var suggested bool
	for _, u := range got {
		if u.Name != "" || u.Source != (config.Source{Layer: "vault"}) {
			t.Errorf("unknown = %+v, want no name and the layer as source", u)
		}
		suggested = suggested || u.Suggestion == "database.host"
	}
	if !suggested {
		t.Errorf("unknown = %+v, want database.host suggested", got)
	}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, lerr := config.Load[koanfTestConfig](context.Background(), &config.Options{Logger: logger}, layer); lerr != nil {
		t.Fatalf("Load: %v", lerr)
	}
	if !strings.Contains(logs.String(), "vault") {
		t.Errorf("the warning does not name the layer: %s", logs.String())
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", got), logs.String()} {
		if strings.Contains(text, canary) || strings.Contains(text, "hots") {
			t.Errorf("an unknown key of a sensitive layer is shown: %s", text)
		}
	}
}

// TestLoadNilSchema calls Load outside a store with a nil schema, which has
// no fields: nothing panics and no value maps to a field.
func TestLoadNilSchema(t *testing.T) {
	l := koanf.New("file", rawbytes.Provider([]byte(`{"host":"db","db":{"port":5432}}`)), json.Parser(), nil)
	vals, _ := l.Load(context.Background(), nil)
	if len(vals) != 0 {
		t.Errorf("values for a schema without fields: %v", vals)
	}
}
