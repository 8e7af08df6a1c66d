package env_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/env"
)

type testConfig struct {
	Server struct {
		Addr        string
		ReadTimeout time.Duration
	}
	Database struct {
		Host     string
		Port     int
		Password config.Secret
		URL      string `env:"DATABASE_URL"`
	}
}

func testSchema(t testing.TB, prefix string) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[testConfig](prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func environ(entries ...string) *env.Options {
	return &env.Options{Environ: func() []string { return entries }}
}

func TestValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prefix  string
		environ []string
		want    config.Values
	}{
		{
			name:    "names of fields",
			prefix:  "APP_",
			environ: []string{"APP_SERVER_ADDR=:9090", "APP_SERVER_READ_TIMEOUT=5s", "HOME=/root"},
			want: config.Values{
				"server.addr":         {Raw: ":9090", Source: config.Source{Layer: "env", Location: "APP_SERVER_ADDR"}},
				"server.read_timeout": {Raw: "5s", Source: config.Source{Layer: "env", Location: "APP_SERVER_READ_TIMEOUT"}},
			},
		},
		{
			name:    "env tag names a field outside the prefix",
			prefix:  "APP_",
			environ: []string{"DATABASE_URL=postgres://db/app?sslmode=require"},
			want: config.Values{
				"database.url": {Raw: "postgres://db/app?sslmode=require", Source: config.Source{Layer: "env", Location: "DATABASE_URL"}},
			},
		},
		{
			name:    "the value keeps every = after the first",
			prefix:  "APP_",
			environ: []string{"APP_DATABASE_PASSWORD=a=b=="},
			want: config.Values{
				"database.password": {Raw: "a=b==", Source: config.Source{Layer: "env", Location: "APP_DATABASE_PASSWORD"}},
			},
		},
		{
			name:    "an empty value sets the field",
			prefix:  "APP_",
			environ: []string{"APP_DATABASE_HOST="},
			want: config.Values{
				"database.host": {Raw: "", Source: config.Source{Layer: "env", Location: "APP_DATABASE_HOST"}},
			},
		},
		{
			name:    "the first of a repeated name wins",
			prefix:  "APP_",
			environ: []string{"APP_DATABASE_HOST=first", "APP_DATABASE_HOST=second"},
			want: config.Values{
				"database.host": {Raw: "first", Source: config.Source{Layer: "env", Location: "APP_DATABASE_HOST"}},
			},
		},
		{
			name:    "names are case-sensitive",
			prefix:  "APP_",
			environ: []string{"app_database_host=db"},
			want:    config.Values{},
		},
		{
			name:    "entries that are not NAME=value are skipped",
			prefix:  "APP_",
			environ: []string{"APP_DATABASE_HOST", "=C:=C:\\dir", "", "=", "APP_DATABASE_PORT=5432"},
			want: config.Values{
				"database.port": {Raw: "5432", Source: config.Source{Layer: "env", Location: "APP_DATABASE_PORT"}},
			},
		},
		{
			name:    "no prefix",
			prefix:  "",
			environ: []string{"DATABASE_HOST=db", "HOME=/root", "DATABSE_PORT=1"},
			want: config.Values{
				"database.host": {Raw: "db", Source: config.Source{Layer: "env", Location: "DATABASE_HOST"}},
			},
		},
		{
			name:    "empty environment",
			prefix:  "APP_",
			environ: nil,
			want:    config.Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := env.New(environ(tt.environ...)).Load(context.Background(), testSchema(t, tt.prefix))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownNames(t *testing.T) {
	t.Parallel()
	layer := env.New(environ(
		"APP_DATABSE_HOST=db",
		"APP_SERVER_ADDR=:80",
		"OTHER_DATABASE_HOST=ignored",
		"APP_DATABSE_HOST=again",
		"APP_ZZZZZZZZZZZZZZ=1",
	))
	got, err := layer.Load(context.Background(), testSchema(t, "APP_"))
	want := config.Values{
		"server.addr": {Raw: ":80", Source: config.Source{Layer: "env", Location: "APP_SERVER_ADDR"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if !errors.Is(err, config.ErrUnknownName) {
		t.Fatalf("error %v is not ErrUnknownName", err)
	}
	unknown := configtest.UnknownNames(t, err)
	wantUnknown := []config.UnknownNameError{
		{Name: "APP_DATABSE_HOST", Source: config.Source{Layer: "env", Location: "APP_DATABSE_HOST"}, Suggestion: "APP_DATABASE_HOST"},
		{Name: "APP_ZZZZZZZZZZZZZZ", Source: config.Source{Layer: "env", Location: "APP_ZZZZZZZZZZZZZZ"}},
	}
	if diff := cmp.Diff(wantUnknown, unknown); diff != "" {
		t.Errorf("unknown names (-want +got):\n%s", diff)
	}
	// The message names the layer, as a .env name says its file.
	if msg := err.Error(); strings.Contains(msg, "again") || !strings.Contains(msg, "did you mean APP_DATABASE_HOST? (env)") {
		t.Errorf("error text %q", msg)
	}
}

// TestProcessEnvironment checks that the default reads the real environment.
// It cannot run in parallel, because it sets a variable of the process.
func TestProcessEnvironment(t *testing.T) {
	t.Setenv("APP_DATABASE_HOST", "from-process")
	// nil and the zero Options are the same: Environ defaults to os.Environ.
	for _, opts := range []*env.Options{nil, {}} {
		vals, err := env.New(opts).Load(context.Background(), testSchema(t, "APP_"))
		if err != nil && !errors.Is(err, config.ErrUnknownName) {
			t.Fatal(err)
		}
		if got := vals["database.host"].Raw; got != "from-process" {
			t.Errorf("New(%v): database.host = %v, want from-process", opts, got)
		}
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := env.New(environ("APP_DATABASE_HOST=db")).Load(ctx, testSchema(t, "APP_"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestLayer(t *testing.T) {
	t.Parallel()
	l := env.New(nil)
	if l.Name() != "env" || l.Sensitive() {
		t.Errorf("Name() = %q, Sensitive() = %v; want env, false", l.Name(), l.Sensitive())
	}
}

// FuzzEnvName checks that any environment loads without a panic and that
// names map consistently: an entry sets a field exactly when FieldByEnv knows
// its name, with the first value given for that name, and only unknown names
// under the prefix are reported.
func FuzzEnvName(f *testing.F) {
	f.Add("APP_DATABASE_HOST", "db", "APP_DATABSE_HOST=x")
	f.Add("DATABASE_URL", "postgres://a=b", "=C:=C:\\")
	f.Add("APP_", "", "APP_DATABASE_HOST")
	f.Add("", "=", "APP_SERVER_ADDR=:1")
	schema := testSchema(f, "APP_")
	f.Fuzz(func(t *testing.T, name, value, other string) {
		entries := []string{name + "=" + value, other, name + "=second"}
		vals, err := env.New(environ(entries...)).Load(context.Background(), schema)

		want := config.Values{}
		for _, e := range entries {
			n, v, ok := strings.Cut(e, "=")
			if !ok {
				continue
			}
			field := schema.FieldByEnv(n)
			if field == nil {
				continue
			}
			if _, set := want[field.Key]; !set {
				want[field.Key] = config.Value{Raw: v, Source: config.Source{Layer: "env", Location: n}}
			}
		}
		if diff := cmp.Diff(want, vals); diff != "" {
			t.Errorf("values (-want +got):\n%s", diff)
		}

		if err == nil {
			return
		}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var u *config.UnknownNameError
			if !errors.As(e, &u) {
				t.Fatalf("unexpected error %v", e)
			}
			if !strings.HasPrefix(u.Name, "APP_") || schema.FieldByEnv(u.Name) != nil || u.Source.Location != u.Name {
				t.Errorf("reported %q as unknown", u.Name)
			}
		}
	})
}

// TestLoadNilSchema calls Load outside a store with a nil schema, which has
// no fields: every name is unknown, and nothing panics.
func TestLoadNilSchema(t *testing.T) {
	t.Setenv("NILSCHEMA_HOST", "db")
	vals, _ := env.New(nil).Load(context.Background(), nil)
	if len(vals) != 0 {
		t.Errorf("values for a schema without fields: %v", vals)
	}
}
