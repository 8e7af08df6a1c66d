package dotenv

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	koanfdotenv "github.com/knadh/koanf/parsers/dotenv"

	"github.com/strata-go/strata/config"
)

type fuzzConfig struct {
	Server struct {
		Addr        string
		ReadTimeout time.Duration
	}
	Database struct {
		Host     string
		Password config.Secret
		URL      string `env:"DATABASE_URL"`
	}
}

// malformedText is the only text a malformed-file error may have.
var malformedText = regexp.MustCompile(`^dotenv fuzz\.env: malformed source: line ([1-9][0-9]*): expected NAME=value(, the quoted value is not closed)?$`)

// FuzzDotenv checks that decoding any content does not panic, that scan agrees
// with the parser on the statements of the file and on plain values, that
// every source has a line inside the file, and that no error shows a value.
func FuzzDotenv(f *testing.F) {
	for _, seed := range []string{
		"APP_DATABASE_HOST=db\n",
		"export APP_SERVER_ADDR=':80'\n# c\nAPP_DATABSE_HOST=x # y\n",
		"A=\"multi\nline\"\nAPP_DATABASE_PASSWORD=\"a\\\"b\"\r\nB: c",
		"APP_DATABASE_PASSWORD='unterminated\n",
		"not a statement\n",
		"K=\"x\" L=y\n=v\n",
	} {
		f.Add([]byte(seed))
	}
	schema, err := config.SchemaFor[fuzzConfig]("APP_")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		vals, err := decode("fuzz.env", content, schema)
		lines := bytes.Count(content, []byte("\n")) + 1

		// Sources point at a line of the file.
		for key, v := range vals {
			if schema.Field(key) == nil {
				t.Errorf("value for %q, which is no field", key)
			}
			if _, ok := v.Raw.(string); !ok {
				t.Errorf("%s: raw value is %T", key, v.Raw)
			}
			checkLocation(t, v.Source, lines)
		}

		// Errors are a malformed file with a line number, or unknown names.
		var names []string
		for _, e := range flatten(err) {
			var u *config.UnknownNameError
			switch {
			case errors.As(e, &u):
				if !strings.HasPrefix(u.Name, "APP_") || schema.FieldByEnv(u.Name) != nil {
					t.Errorf("unknown name %q is not an unknown name under the prefix", u.Name)
				}
				checkLocation(t, u.Source, lines)
				names = append(names, u.Name)
			case errors.Is(e, config.ErrMalformed):
				m := malformedText.FindStringSubmatch(e.Error())
				if m == nil {
					t.Fatalf("malformed error has unexpected text %q", e)
				}
				if n, _ := strconv.Atoi(m[1]); n > lines {
					t.Errorf("malformed error names line %d of %d", n, lines)
				}
				if vals != nil {
					t.Errorf("malformed file gave values %v", vals)
				}
			default:
				t.Errorf("unexpected error %v", e)
			}
		}

		// No error text holds a value, nor the text after the name on a line.
		if err != nil {
			text := err.Error()
			allowed := strings.Join(names, "\n") + "\nexpected NAME=value, the quoted value is not closed fuzz.env: malformed source: did you mean APP_DATABASE_HOST?"
			leaks := func(s string) bool {
				return len(s) >= 3 && strings.Contains(text, s) && !strings.Contains(allowed, s)
			}
			for line := range strings.Lines(strings.ReplaceAll(string(content), "\r\n", "\n")) {
				if _, after, ok := strings.Cut(line, "="); ok && leaks(strings.TrimSpace(after)) {
					t.Errorf("error %q holds the text of a line: %q", text, line)
				}
			}
			for _, v := range vals {
				if leaks(v.Raw.(string)) {
					t.Errorf("error %q holds a value", text)
				}
			}
		}

		// scan finds the statements the parser finds.
		normal := bytes.ReplaceAll(bytes.TrimPrefix(content, utf8BOM), []byte("\r\n"), []byte("\n"))
		stmts, _, problem := scan(normal, string(normal))
		parsed, perr := koanfdotenv.Parser().Unmarshal(normal)
		if perr != nil && problem == problemNone {
			t.Fatalf("the parser rejects content scan accepts: %v", perr)
		}
		if perr == nil && problem == problemNone {
			var scanned, keys []string
			for _, st := range stmts {
				scanned = append(scanned, st.name)
			}
			for k := range parsed {
				keys = append(keys, k)
			}
			slices.Sort(scanned)
			scanned = slices.Compact(scanned)
			slices.Sort(keys)
			if !slices.Equal(scanned, keys) {
				t.Fatalf("scan found names %q, the parser %q", scanned, keys)
			}
			for name, raw := range parsed {
				if f := schema.FieldByEnv(name); f != nil && vals[f.Key].Raw != raw {
					t.Errorf("%s: value differs from the parser's", name)
				}
			}
			// A plain value read from its span is the parser's value.
			last := map[string]statement{}
			for _, st := range stmts {
				last[st.name] = st
			}
			for name, st := range last {
				if v, ok := plainValue(normal, st); ok && string(v) != parsed[name] {
					t.Errorf("%s: plain value %q, the parser's %q", name, v, parsed[name])
				}
			}
		}
	})
}

func checkLocation(t *testing.T, src config.Source, lines int) {
	t.Helper()
	if src.Layer != "dotenv" {
		t.Errorf("source layer %q", src.Layer)
	}
	if src.Location != "fuzz.env" || src.Line < 1 || src.Line > lines {
		t.Errorf("source %q is not a line of a %d-line file", src, lines)
	}
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
