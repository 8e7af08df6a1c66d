package dotenv

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// The only texts errors may have: every part that is not fixed text is a
// line number or a name, which the checks below compare with the error's
// fields.
var (
	malformedText = regexp.MustCompile(`^dotenv fuzz\.env: malformed source: line ([1-9][0-9]*): (` + strings.Join([]string{
		`expected NAME=value`,
		`expected NAME=value, the quoted value is not closed`,
		`expected NAME=value, only a # comment may follow the closing quote`,
		`the value is not valid UTF-8; save the file as UTF-8`,
		`a \$\{ starts no valid substitution such as \$\{NAME\} or \$\{NAME:-default\}; write \$\$ for a literal \$`,
		`the value requires (\$\{[A-Za-z_][A-Za-z0-9_]*\}|a variable), which is not set( or is empty)?`,
		`the substitutions are nested deeper than 16 levels, the limit; set a variable on a line above and substitute that instead`,
		`the value would be longer than 1 MiB \(1048576 bytes\), the limit for one value`,
		`the values of the file would be longer than 16 MiB \(16777216 bytes\) in all, the limit for one file`,
	}, "|") + `)$`)
	undefinedText = regexp.MustCompile(`^fuzz\.env:([1-9][0-9]*): the value of (\S+) refers to (\$\{([A-Za-z_][A-Za-z0-9_]*)\}|a variable), which no earlier line of the file sets; it is kept as written \(write \$\$ for a literal \$\)$`)
	quoteText     = regexp.MustCompile(`^fuzz\.env:([1-9][0-9]*): the quoted value of (\S+) opens here and runs over line ([1-9][0-9]*), which looks like NAME=value; is a closing quote missing\?$`)
)

// FuzzDotenv checks that decoding any content does not panic, that every
// source has a line inside the file, and that every error is one of the
// known texts, which hold no value.
func FuzzDotenv(f *testing.F) {
	for _, seed := range []string{
		"APP_DATABASE_HOST=db\n",
		"export APP_SERVER_ADDR=':80'\n# c\nAPP_DATABSE_HOST=x # y\n",
		"A=\"multi\nline\"\nAPP_DATABASE_PASSWORD=\"a\\\"b\"\r\nB: c",
		"APP_DATABASE_PASSWORD='unterminated\n",
		"not a statement\n",
		"K=\"x\" L=y\n=v\n",
		"D=x\rAPP_DATABASE_HOST=${D:-a}.${E-b}$D$$${F:+c}\r",
		"APP_DATABASE_URL=\"u:${APP_DATABASE_PASSWORD}@h\"\nAPP_DATABASE_PASSWORD=pa$SECRET99\n",
		"APP_DATABASE_HOST=\"x\nAPP_SERVER_ADDR=:1\n\"\nV=${W:?}\n",
		"PW=p$W\nAPP_DATABASE_HOST=${PW}${U:?}$V\nAPP_DATABASE_PASSWORD=$PW\n",
		"A=${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-${K:-${L:-${M:-${N:-${O:-${P:-${Q:-${R:-x}}}}}}}}}}}}}}}}}\n",
		"A=aaaaaaaaaaaaaaaa\nB=$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A\nC=$B$B$B$B$B$B$B$B$B$B$B$B$B$B$B$B\n",
	} {
		f.Add([]byte(seed))
	}
	schema, err := config.SchemaFor[fuzzConfig]("APP_")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		vals, err := decode("fuzz.env", content, schema)
		lines := strings.Count(normalize(content), "\n") + 1
		for key, v := range vals {
			if schema.Field(key) == nil {
				t.Errorf("value for %q, which is no field", key)
			}
			if _, ok := v.Raw.(string); !ok {
				t.Errorf("%s: raw value is %T", key, v.Raw)
			}
			checkLocation(t, v.Source, lines)
		}
		for _, e := range flatten(err) {
			checkError(t, e, schema, lines)
			if errors.Is(e, config.ErrMalformed) && vals != nil {
				t.Errorf("malformed file gave values %v", vals)
			}
		}
	})
}

// checkError checks that e is a known problem whose text is made of fixed
// text, line numbers and the names in its fields.
func checkError(t *testing.T, e error, schema *config.Schema, lines int) {
	t.Helper()
	var u *config.UnknownNameError
	var w *Warning
	switch {
	case errors.As(e, &u):
		if !strings.HasPrefix(u.Name, "APP_") || schema.FieldByEnv(u.Name) != nil {
			t.Errorf("unknown name %q is not an unknown name under the prefix", u.Name)
		}
		checkLocation(t, u.Source, lines)
	case errors.As(e, &w):
		checkLocation(t, w.Source, lines)
		if !errors.Is(e, config.ErrWarning) {
			t.Errorf("warning %q is not ErrWarning", e)
		}
		if f := schema.FieldByEnv(w.Name); (f == nil || f.Secret) && w.Variable != "" {
			t.Errorf("warning about %s, no plain field, names the variable %q", w.Name, w.Variable)
		}
		checkWarningText(t, w, lines)
	case errors.Is(e, config.ErrMalformed):
		m := malformedText.FindStringSubmatch(e.Error())
		if m == nil {
			t.Fatalf("malformed error has unexpected text %q", e)
		}
		if n, _ := strconv.Atoi(m[1]); n > lines {
			t.Errorf("malformed error names line %d of %d", n, lines)
		}
		var se *config.SourceError
		if !errors.As(e, &se) || se.Err != nil {
			t.Errorf("malformed error %#v wraps a cause", e)
		}
	default:
		t.Errorf("unexpected error %v", e)
	}
}

func checkWarningText(t *testing.T, w *Warning, lines int) {
	t.Helper()
	text := w.Error()
	switch w.Kind {
	case UndefinedVariable:
		m := undefinedText.FindStringSubmatch(text)
		if m == nil || m[1] != strconv.Itoa(w.Source.Line) || m[2] != w.Name || m[4] != w.Variable {
			t.Errorf("warning text %q does not match its fields %+v", text, w)
		}
	case UnclosedQuote:
		m := quoteText.FindStringSubmatch(text)
		if m == nil || m[1] != strconv.Itoa(w.Source.Line) || m[2] != w.Name || m[3] != strconv.Itoa(w.Line) {
			t.Errorf("warning text %q does not match its fields %+v", text, w)
		}
		if w.Line <= w.Source.Line || w.Line > lines {
			t.Errorf("warning %q names a line outside the value", text)
		}
	default:
		t.Errorf("warning of unknown kind %q", text)
	}
}

// FuzzQuote checks that any valid UTF-8 value written with Quote reads back
// as exactly that value, on one line, and leaves the next line alone.
func FuzzQuote(f *testing.F) {
	for _, seed := range []string{
		"", "plain", `say "hi"`, `C:\`, `\\`, "a\tb", "line one\nline two", "\r\n", "\r",
		"$HOME", "${X:-y}", "$$", `\$`, "a #b", "a#b", "#", " lead", "trail ", "'", `'\''`,
		"é ü", "\u00a0", "\u0085", "\x00", "=", "export", "A=B\nC=D", "`cmd`", "\\n",
	} {
		f.Add(seed)
	}
	schema, err := config.SchemaFor[fuzzConfig]("APP_")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) {
			t.Skip()
		}
		q := Quote(value)
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("Quote(%q) = %q spans lines", value, q)
		}
		for _, line := range []string{
			"APP_DATABASE_HOST=" + q + "\n",
			"export APP_DATABASE_HOST = " + q + " # a comment\r\n",
		} {
			content := "APP_SERVER_ADDR=before\n" + line + "DATABASE_URL=after"
			vals, err := decode("fuzz.env", []byte(content), schema)
			if err != nil {
				t.Fatalf("Quote(%q) = %q: %v", value, q, err)
			}
			if got := vals["database.host"]; got.Raw != value || got.Source.Line != 2 {
				t.Fatalf("Quote(%q) = %q reads back as %q from line %d", value, q, got.Raw, got.Source.Line)
			}
			if vals["server.addr"].Raw != "before" || vals["database.url"].Raw != "after" {
				t.Fatalf("Quote(%q) = %q changes the lines around it: %v", value, q, vals)
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
