package dotenv_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
	"github.com/strata-go/strata/providers/dotenv"
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

func testSchema(t testing.TB) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[testConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFile writes content to a file in a new temporary directory and
// returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// value is a loaded value in a form that is easy to compare: the raw value and
// the line of its source.
type value struct {
	Raw  string
	Line string
}

func load(t *testing.T, content string) (map[string]value, string, error) {
	t.Helper()
	path := writeFile(t, content)
	vals, err := dotenv.File(path, nil).Load(context.Background(), testSchema(t))
	got := map[string]value{}
	for k, v := range vals {
		if v.Source.Layer != "dotenv" {
			t.Errorf("%s: source layer %q, want dotenv", k, v.Source.Layer)
		}
		if v.Source.Location != path || v.Source.Line < 1 {
			t.Errorf("%s: source %+v, want location %q and a line", k, v.Source, path)
		}
		line := strconv.Itoa(v.Source.Line)
		raw, ok := v.Raw.(string)
		if !ok {
			t.Errorf("%s: raw value is %T, want string", k, v.Raw)
		}
		got[k] = value{Raw: raw, Line: line}
	}
	return got, path, err
}

func TestFileValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    map[string]value
	}{
		{
			name:    "plain",
			content: "APP_SERVER_ADDR=:9090\nAPP_DATABASE_PORT=5432\n",
			want: map[string]value{
				"server.addr":   {":9090", "1"},
				"database.port": {"5432", "2"},
			},
		},
		{
			name:    "no final newline",
			content: "APP_SERVER_ADDR=:9090",
			want:    map[string]value{"server.addr": {":9090", "1"}},
		},
		{
			name:    "comments and blank lines",
			content: "# database\n\n   # indented comment\nAPP_DATABASE_HOST=db # trailing comment\n\n",
			want:    map[string]value{"database.host": {"db", "4"}},
		},
		{
			name:    "hash without space is part of the value",
			content: "APP_DATABASE_PASSWORD=abc#def\n",
			want:    map[string]value{"database.password": {"abc#def", "1"}},
		},
		{
			name:    "blank space around name and value",
			content: "  APP_DATABASE_HOST =  db  \n",
			want:    map[string]value{"database.host": {"db", "1"}},
		},
		{
			name:    "double quotes",
			content: `APP_DATABASE_HOST="db host # not a comment"` + "\n",
			want:    map[string]value{"database.host": {"db host # not a comment", "1"}},
		},
		{
			name:    "single quotes are literal",
			content: `APP_DATABASE_PASSWORD='a\nb $HOME'` + "\n",
			want:    map[string]value{"database.password": {`a\nb $HOME`, "1"}},
		},
		{
			name:    "escapes in double quotes",
			content: `APP_DATABASE_PASSWORD="a\nb\"c\\d"` + "\n",
			want:    map[string]value{"database.password": {"a\nb\"c\\d", "1"}},
		},
		{
			name:    "empty values",
			content: "APP_DATABASE_HOST=\nAPP_SERVER_ADDR=\"\"\n",
			want: map[string]value{
				"database.host": {"", "1"},
				"server.addr":   {"", "2"},
			},
		},
		{
			name:    "export",
			content: "export APP_DATABASE_PORT=5432\nexport\tAPP_DATABASE_HOST=db\n",
			want: map[string]value{
				"database.port": {"5432", "1"},
				"database.host": {"db", "2"},
			},
		},
		{
			name:    "colon separator",
			content: "APP_DATABASE_HOST: db\n",
			want:    map[string]value{"database.host": {"db", "1"}},
		},
		{
			name:    "multi-line value",
			content: "APP_DATABASE_PASSWORD=\"line one\nline two\nline three\"\nAPP_DATABASE_HOST=db\n",
			want: map[string]value{
				"database.password": {"line one\nline two\nline three", "1"},
				"database.host":     {"db", "4"},
			},
		},
		{
			name:    "CRLF line endings",
			content: "# comment\r\nAPP_DATABASE_HOST=db\r\nAPP_DATABASE_PORT=5432\r\n",
			want: map[string]value{
				"database.host": {"db", "2"},
				"database.port": {"5432", "3"},
			},
		},
		{
			name:    "byte order mark",
			content: "\uFEFFAPP_DATABASE_HOST=db\n",
			want:    map[string]value{"database.host": {"db", "1"}},
		},
		{
			name:    "the last of a repeated name wins",
			content: "APP_DATABASE_HOST=first\nAPP_DATABASE_PORT=1\nAPP_DATABASE_HOST=second\n",
			want: map[string]value{
				"database.host": {"second", "3"},
				"database.port": {"1", "2"},
			},
		},
		{
			name:    "variables expand from earlier lines of the file",
			content: "DOMAIN=example.com\nAPP_DATABASE_HOST=db.${DOMAIN}\n",
			want:    map[string]value{"database.host": {"db.example.com", "2"}},
		},
		{
			name:    "env tag names a field outside the prefix",
			content: "DATABASE_URL=postgres://db:5432/app\n",
			want:    map[string]value{"database.url": {"postgres://db:5432/app", "1"}},
		},
		{
			name:    "names outside the prefix are ignored",
			content: "PATH=/usr/bin\nOTHER_APP_DATABASE_HOST=x\napp_database_host=lower\n",
			want:    map[string]value{},
		},
		{
			name:    "empty file",
			content: "",
			want:    map[string]value{},
		},
		{
			name:    "only comments",
			content: "# nothing here\n#APP_DATABASE_HOST=db\n",
			want:    map[string]value{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := load(t, tt.content)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileMalformed(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-canary"
	tests := []struct {
		name    string
		content string
		wantMsg string
	}{
		{"no separator", "APP_DATABASE_HOST=db\nAPP_DATABASE_PASSWORD " + secret + "\n", "line 2: expected NAME=value"},
		{"no separator on the last line", "APP_DATABASE_HOST=db\n\n" + secret, "line 3: expected NAME=value"},
		{"empty name", "\n=" + secret + "\n", "line 2: expected NAME=value"},
		{"blank space in the name", "APP DATABASE=" + secret + "\n", "line 1: expected NAME=value"},
		{"bad character in the name", "# c\nAPP/DATABASE/PASSWORD=" + secret + "\n", "line 2: expected NAME=value"},
		{"quote in the name", "APP_DATABASE\"PASSWORD=" + secret + "\n", "line 1: expected NAME=value"},
		{"unclosed double quote", "APP_SERVER_ADDR=:80\nAPP_DATABASE_PASSWORD=\"" + secret + "\nAPP_DATABASE_HOST=db\n", "line 2: expected NAME=value, the quoted value is not closed"},
		{"unclosed single quote", "APP_DATABASE_PASSWORD='" + secret, "line 1: expected NAME=value, the quoted value is not closed"},
		{"text after a quoted value", "APP_DATABASE_PASSWORD=\"x\" " + secret + "\n", "line 1: expected NAME=value, only a # comment may follow the closing quote"},
		{"text after a multi-line quoted value", "APP_DATABASE_PASSWORD='x\ny'" + secret + "\n", "line 2: expected NAME=value, only a # comment may follow the closing quote"},
		{"invalid substitution", "APP_DATABASE_PASSWORD=" + secret + "${\n", "line 1: a ${ starts no valid substitution such as ${NAME} or ${NAME:-default}; write $$ for a literal $"},
		{"unclosed substitution", "APP_DATABASE_HOST=\"${X:-" + secret + "\"\n", "line 1: a ${ starts no valid substitution such as ${NAME} or ${NAME:-default}; write $$ for a literal $"},
		{"required variable", "APP_DATABASE_HOST=${DB_HOST?" + secret + "}\n", "line 1: the value requires ${DB_HOST}, which is not set"},
		{"required non-empty variable", "DB_HOST=\nAPP_DATABASE_HOST=\"\n${DB_HOST:?" + secret + "}\"\n", "line 3: the value requires ${DB_HOST}, which is not set or is empty"},
		{"required variable of a secret", "APP_DATABASE_PASSWORD=x${S3CR3T_CANARY?}\n", "line 1: the value requires a variable, which is not set"},
		{"export alone", "export " + secret + "\n", "line 1: expected NAME=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vals, path, err := load(t, tt.content)
			if len(vals) != 0 {
				t.Errorf("got values %v with a malformed file", vals)
			}
			if !errors.Is(err, config.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			var se *config.SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *config.SourceError", err)
			}
			if se.Layer != "dotenv" || se.Source != path || se.Message != tt.wantMsg {
				t.Errorf("got SourceError{Layer: %q, Source: %q, Message: %q}, want {dotenv, %q, %q}",
					se.Layer, se.Source, se.Message, path, tt.wantMsg)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "S3CR3T") {
				t.Errorf("error text holds the value: %q", err)
			}
		})
	}
}

func TestFileUnknownNames(t *testing.T) {
	t.Parallel()
	got, path, err := load(t, "APP_DATABSE_HOST=db\nAPP_SERVER_ADDR=:80\nAPP_NOTHING_LIKE_IT=1\n")
	if diff := cmp.Diff(map[string]value{"server.addr": {":80", "2"}}, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if !errors.Is(err, config.ErrUnknownName) {
		t.Fatalf("error %v is not ErrUnknownName", err)
	}
	unknown := configtest.UnknownNames(t, err)
	want := []config.UnknownNameError{
		{Name: "APP_DATABSE_HOST", Source: config.Source{Layer: "dotenv", Location: path, Line: 1}, Suggestion: "APP_DATABASE_HOST"},
		{Name: "APP_NOTHING_LIKE_IT", Source: config.Source{Layer: "dotenv", Location: path, Line: 3}},
	}
	if diff := cmp.Diff(want, unknown); diff != "" {
		t.Errorf("unknown names (-want +got):\n%s", diff)
	}
	if msg := err.Error(); !strings.Contains(msg, "did you mean APP_DATABASE_HOST?") {
		t.Errorf("error %q has no suggestion", msg)
	}
}

func TestFileMissing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing.env")
	schema := testSchema(t)

	vals, err := dotenv.File(path, &dotenv.Options{Optional: true}).Load(context.Background(), schema)
	if err != nil || len(vals) != 0 {
		t.Errorf("optional missing file: got %v, %v; want no values and no error", vals, err)
	}

	// The zero Options are the defaults: a missing file is an error.
	if _, err := dotenv.File(path, &dotenv.Options{}).Load(context.Background(), schema); !errors.Is(err, config.ErrNotFound) {
		t.Errorf("zero Options, missing file: error %v is not ErrNotFound", err)
	}
	vals, err = dotenv.File(path, nil).Load(context.Background(), schema)
	if vals != nil {
		t.Errorf("required missing file: got values %v", vals)
	}
	if !errors.Is(err, config.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("required missing file: error %v is not ErrNotFound and fs.ErrNotExist", err)
	}
	var se *config.SourceError
	if !errors.As(err, &se) || se.Layer != "dotenv" || se.Source != path {
		t.Errorf("required missing file: error %#v does not name the layer and file", err)
	}
}

func TestFileDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := dotenv.File(dir, &dotenv.Options{Optional: true}).Load(context.Background(), testSchema(t))
	if err == nil {
		t.Fatal("loading a directory succeeded")
	}
	var se *config.SourceError
	if !errors.As(err, &se) || se.Source != dir {
		t.Errorf("error %v does not name the file", err)
	}
}

func TestFileCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := writeFile(t, "APP_DATABASE_HOST=db\n")
	if _, err := dotenv.File(path, nil).Load(ctx, testSchema(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestFileRereads(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "APP_DATABASE_HOST=one\n")
	layer := dotenv.File(path, nil)
	schema := testSchema(t)
	if _, err := layer.Load(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("APP_DATABASE_HOST=two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vals, err := layer.Load(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	if got := vals["database.host"].Raw; got != "two" {
		t.Errorf("second load got %v, want two", got)
	}
}

func TestLayer(t *testing.T) {
	t.Parallel()
	l := dotenv.File(".env", nil)
	if l.Name() != "dotenv" || l.Sensitive() {
		t.Errorf("Name() = %q, Sensitive() = %v; want dotenv, false", l.Name(), l.Sensitive())
	}
}

// TestLoadNilSchema calls Load outside a store with a nil schema, which has
// no fields: nothing panics and no value maps to a field.
func TestLoadNilSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("HOST=db\nURL=${HOST}/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vals, _ := dotenv.File(path, nil).Load(context.Background(), nil)
	if len(vals) != 0 {
		t.Errorf("values for a schema without fields: %v", vals)
	}
}
