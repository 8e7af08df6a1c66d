package dotenv_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
)

// TestFileCompose checks the rules of docker compose's .env files.
func TestFileCompose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    string // the value of APP_DATABASE_HOST
	}{
		{"escaped quotes in double quotes", `APP_DATABASE_HOST="say \"hi\""`, `say "hi"`},
		{"a final escaped backslash", `APP_DATABASE_HOST="C:\\"`, `C:\`},
		{"tab, newline and carriage return escapes", `APP_DATABASE_HOST="a\tb\nc\rd"`, "a\tb\nc\rd"},
		{"json in double quotes", `APP_DATABASE_HOST="{\"hello\": \"json\"}"`, `{"hello": "json"}`},
		{"other escapes stay as written", `APP_DATABASE_HOST="a\qb\'c"`, `a\qb\'c`},
		{"escaped dollar", `APP_DATABASE_HOST="\$HOME"`, `$HOME`},
		{"double dollar", `APP_DATABASE_HOST=a$$b`, `a$b`},
		{"escaped quote in single quotes", `APP_DATABASE_HOST='Let\'s go!'`, `Let's go!`},
		{"single quotes are literal", `APP_DATABASE_HOST='some\tvalue $X ${Y} \\'`, `some\tvalue $X ${Y} \\`},
		{"no escapes unquoted", `APP_DATABASE_HOST=some\tvalue`, `some\tvalue`},
		{"comment after a double-quoted value", `APP_DATABASE_HOST="VAL # not a comment" # comment`, `VAL # not a comment`},
		{"comment after a single-quoted value", `APP_DATABASE_HOST='VAL'# comment`, `VAL`},
		{"hash without blank space", `APP_DATABASE_HOST=VAL# not a comment`, `VAL# not a comment`},
		{"first comment wins", `APP_DATABASE_HOST=a #b #c`, `a`},
		{"tab before a comment", "APP_DATABASE_HOST=a\t# c", `a`},
		{"only a comment", `APP_DATABASE_HOST= # nothing yet`, ``},
		{"quote inside an unquoted value", `APP_DATABASE_HOST=it's "fine"`, `it's "fine"`},
		{"trimmed", "APP_DATABASE_HOST=\t  a b  \t", `a b`},
		{"blank space kept in quotes", `APP_DATABASE_HOST="  a  "`, `  a  `},
		{"export and tab", "export\t APP_DATABASE_HOST=db", `db`},
		{"multi-line double quotes", "APP_DATABASE_HOST=\"one\ntwo\"", "one\ntwo"},
		{"multi-line with CRLF", "APP_DATABASE_HOST=\"one\r\ntwo\"\r\n", "one\ntwo"},
		{"braced", "D=example.com\nAPP_DATABASE_HOST=db.${D}", `db.example.com`},
		{"unbraced", "D=example.com\nAPP_DATABASE_HOST=db.$D/x", `db.example.com/x`},
		{"in double quotes", "D=example.com\nAPP_DATABASE_HOST=\"db.${D}\"", `db.example.com`},
		{"not in single quotes", "D=example.com\nAPP_DATABASE_HOST='db.${D}'", `db.${D}`},
		{"default for unset", "APP_DATABASE_HOST=${D:-local}", `local`},
		{"default for empty", "D=\nAPP_DATABASE_HOST=${D:-local}", `local`},
		{"no default for empty without colon", "D=\nAPP_DATABASE_HOST=x${D-local}", `x`},
		{"default for unset without colon", "APP_DATABASE_HOST=${D-local}", `local`},
		{"set value over default", "D=db\nAPP_DATABASE_HOST=${D:-local}", `db`},
		{"nested default", "E=e\nAPP_DATABASE_HOST=${D:-${F:-${E}}}", `e`},
		{"default with blank space", "APP_DATABASE_HOST=\"${D:-a b}\"", `a b`},
		{"alternative when set", "D=x\nAPP_DATABASE_HOST=[${D:+set}]", `[set]`},
		{"no alternative when empty", "D=\nAPP_DATABASE_HOST=[${D:+set}]", `[]`},
		{"alternative when empty without colon", "D=\nAPP_DATABASE_HOST=[${D+set}]", `[set]`},
		{"required and set", "D=db\nAPP_DATABASE_HOST=${D:?must be set}", `db`},
		{"earlier value of the same name", "APP_DATABASE_HOST=a\nAPP_DATABASE_HOST=${APP_DATABASE_HOST}b", `ab`},
		{"expanded text is not expanded again", "A='$B'\nB=no\nAPP_DATABASE_HOST=$A", `$B`},
		{"dollar before no name", "APP_DATABASE_HOST=5$ $1 $-", `5$ $1 $-`},
		{"dollar at the end", `APP_DATABASE_HOST="a$"`, `a$`},
		{"names of other tools", "MY-VAR=1\nX.Y=2\nA[0]=3\nÜBER=4\nAPP_DATABASE_HOST=db", `db`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := load(t, tt.content)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got["database.host"].Raw != tt.want {
				t.Errorf("value %q, want %q", got["database.host"].Raw, tt.want)
			}
		})
	}
}

// TestFileEveryMalformedLine checks that each malformed statement is
// reported with its line, not only the first.
func TestFileEveryMalformedLine(t *testing.T) {
	t.Parallel()
	const canary = "c4n4ry"
	content := "APP_DATABASE_HOST=db\n" +
		"APP_DATABASE_PASSWORD " + canary + "\n" + // 2: no separator
		"APP_SERVER_ADDR=:80\n" +
		"BAD/NAME=" + canary + "\n" + // 4
		"APP_DATABASE_PORT=\"" + canary + "\" " + canary + "\n" + // 5
		"X=${" + canary + "\n" + // 6
		"APP_DATABASE_USER='" + canary + "\n" // 7: never closed
	vals, path, err := load(t, content)
	if len(vals) != 0 {
		t.Errorf("values %v from a malformed file", vals)
	}
	var lines []string
	for _, e := range joined(err) {
		var se *config.SourceError
		if !errors.As(e, &se) || !errors.Is(e, config.ErrMalformed) || se.Source != path || se.Err != nil {
			t.Errorf("error %#v is not a malformed-source error of the file", e)
			continue
		}
		line, _, _ := strings.Cut(se.Message, ":")
		lines = append(lines, line)
	}
	want := []string{"line 2", "line 4", "line 5", "line 6", "line 7"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines of the errors (-want +got):\n%s\nerror: %v", diff, err)
	}
	checkNoText(t, err, canary)
}

// TestFileLineEndings checks that lines are counted alike with "\n", "\r\n"
// and a lone "\r", in values, unknown names, warnings and errors.
func TestFileLineEndings(t *testing.T) {
	t.Parallel()
	for name, eol := range map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lines := []string{"# comment", "APP_DATABASE_HOST=db", "", "APP_DATABSE_PORT=1", `APP_DATABASE_PASSWORD="a`, `b"`, "APP_SERVER_ADDR=${NOPE}", "APP_DATABASE_PORT=5432"}
			got, path, err := load(t, strings.Join(lines, eol)+eol)
			want := map[string]value{
				"database.host":     {"db", "2"},
				"database.password": {"a\nb", "5"},
				"server.addr":       {"${NOPE}", "7"},
				"database.port":     {"5432", "8"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			var sources []string
			for _, e := range joined(err) {
				var u *config.UnknownNameError
				var w *dotenv.Warning
				switch {
				case errors.As(e, &u):
					sources = append(sources, u.Source.String())
				case errors.As(e, &w):
					sources = append(sources, w.Source.String())
				default:
					t.Errorf("unexpected error %v", e)
				}
			}
			if diff := cmp.Diff([]string{path + ":4", path + ":7"}, sources); diff != "" {
				t.Errorf("sources of the warnings (-want +got):\n%s", diff)
			}

			_, _, err = load(t, strings.Join([]string{"A=1", "", "BAD LINE", "B=2", "BAD=\"x\" y"}, eol))
			var msgs []string
			for _, e := range joined(err) {
				msgs = append(msgs, e.(*config.SourceError).Message)
			}
			wantMsgs := []string{"line 3: expected NAME=value", "line 5: expected NAME=value, only a # comment may follow the closing quote"}
			if diff := cmp.Diff(wantMsgs, msgs); diff != "" {
				t.Errorf("malformed lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFileInvalidUTF8 checks that invalid UTF-8 in a value is rejected the
// same way whether the value is quoted or not.
func TestFileInvalidUTF8(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"unquoted":       "ab\xffcd",
		"double-quoted":  "\"ab\xffcd\"",
		"single-quoted":  "'ab\xffcd'",
		"multi-line":     "\"ab\n\xc3(\"",
		"with expansion": "\"${X:-\xff}\"",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vals, _, err := load(t, "APP_DATABASE_HOST=ok\nAPP_DATABASE_PASSWORD="+value+"\n")
			var se *config.SourceError
			if len(vals) != 0 || !errors.As(err, &se) || !errors.Is(err, config.ErrMalformed) {
				t.Fatalf("got %v, %v; want a malformed-source error", vals, err)
			}
			if want := "line 2: the value is not valid UTF-8; save the file as UTF-8"; se.Message != want {
				t.Errorf("message %q, want %q", se.Message, want)
			}
		})
	}
	// In a comment it does no harm.
	if got, _, err := load(t, "# caf\xe9\nAPP_DATABASE_HOST=db # caf\xe9\n"); err != nil || got["database.host"].Raw != "db" {
		t.Errorf("invalid UTF-8 in comments: got %v, %v", got, err)
	}
}

// TestFileUndefinedVariable checks that a reference to a variable the file
// does not set keeps its text and is reported, naming the line and the
// variable but no value, and not the variable either in a secret.
func TestFileUndefinedVariable(t *testing.T) {
	t.Parallel()
	content := "HOME_DIR=/home/x\n" +
		"APP_DATABASE_HOST=db$SECRET99x.${HOME_DIR}\n" +
		"APP_DATABASE_PASSWORD=\"pa$SECRET99word\"\n" +
		"APP_SERVER_ADDR=\"a\n${NOPE}\"\n"
	got, path, err := load(t, content)
	want := map[string]value{
		"database.host":     {"db$SECRET99x./home/x", "2"},
		"database.password": {"pa$SECRET99word", "3"},
		"server.addr":       {"a\n${NOPE}", "4"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	var warnings []dotenv.Warning
	for _, e := range joined(err) {
		var w *dotenv.Warning
		if !errors.As(e, &w) || !errors.Is(e, config.ErrWarning) {
			t.Fatalf("error %v is not a *dotenv.Warning matching ErrWarning", e)
		}
		warnings = append(warnings, *w)
	}
	src := func(line int) config.Source { return config.Source{Layer: "dotenv", Location: path, Line: line} }
	wantWarnings := []dotenv.Warning{
		{Kind: dotenv.UndefinedVariable, Source: src(2), Name: "APP_DATABASE_HOST", Variable: "SECRET99x"},
		{Kind: dotenv.UndefinedVariable, Source: src(3), Name: "APP_DATABASE_PASSWORD"},
		{Kind: dotenv.UndefinedVariable, Source: src(5), Name: "APP_SERVER_ADDR", Variable: "NOPE"},
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	msg := err.Error()
	if !strings.Contains(msg, path+":2: the value of APP_DATABASE_HOST refers to ${SECRET99x}") {
		t.Errorf("warning does not name the line and variable: %q", msg)
	}
	if strings.Contains(msg, "word") || strings.Contains(msg, "SECRET99word") || strings.Contains(msg, "/home/x") {
		t.Errorf("warning shows a value: %q", msg)
	}

	// The store keeps loading: it is a warning, and an error when strict.
	type cfg struct {
		Database struct{ Host string }
	}
	file := writeFile(t, "APP_DATABASE_HOST=db$UNSET\n")
	store, err := config.Load[cfg](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)}, dotenv.File(file, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer store.Close()
	if w := store.Warnings(); len(w) != 1 || store.Get().Database.Host != "db$UNSET" {
		t.Errorf("warnings %v, host %q; want one warning and the text kept", w, store.Get().Database.Host)
	}
	if _, err := config.Load[cfg](context.Background(), &config.Options{EnvPrefix: "APP_", Strict: true}, dotenv.File(file, nil)); !errors.Is(err, config.ErrWarning) {
		t.Errorf("strict load: error %v, want ErrWarning", err)
	}
}

// TestFileUnclosedQuoteWarning checks that a quoted value running over lines
// that look like statements is reported from the line of its opening quote.
func TestFileUnclosedQuoteWarning(t *testing.T) {
	t.Parallel()
	const canary = "c4n4ry"
	content := "APP_SERVER_ADDR=:80\n" +
		"APP_DATABASE_PASSWORD=\"" + canary + "\n" + // the closing quote is missing here
		"APP_DATABASE_HOST=db\n" +
		"APP_DATABASE_USER=\"\n"
	got, path, err := load(t, content)
	if got["database.password"].Raw != canary+"\nAPP_DATABASE_HOST=db\nAPP_DATABASE_USER=" {
		t.Errorf("values %v", got)
	}
	var w *dotenv.Warning
	if !errors.As(err, &w) || !errors.Is(err, config.ErrWarning) {
		t.Fatalf("error %v is no *dotenv.Warning", err)
	}
	want := dotenv.Warning{Kind: dotenv.UnclosedQuote, Source: config.Source{Layer: "dotenv", Location: path, Line: 2}, Name: "APP_DATABASE_PASSWORD", Line: 3}
	if diff := cmp.Diff(want, *w); diff != "" {
		t.Errorf("warning (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), path+":2: ") {
		t.Errorf("warning %q does not name the line of the quote", err)
	}
	checkNoText(t, err, canary)

	// More often the next quote opens a value, whose text then follows the
	// stolen quote: the file is malformed, and the warning tells why.
	_, path, err = load(t, content[:len(content)-1]+canary+"\"\n")
	if len(joined(err)) != 2 || !errors.Is(err, config.ErrMalformed) || !errors.As(err, &w) || w.Source.Line != 2 || w.Line != 3 {
		t.Errorf("error %v, want a malformed line 4 and a warning about line 2", err)
	}
	checkNoText(t, err, canary)

	// A key or a certificate is no statement, nor is text in lower case.
	for _, value := range []string{
		"\"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC\nAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo==\n-----END PUBLIC KEY-----\"",
		"'line one\nkey=value\nAB==\n'",
	} {
		if _, _, err := load(t, "APP_DATABASE_PASSWORD="+value+"\n"); err != nil {
			t.Errorf("value %q: %v", value, err)
		}
	}
}

// TestFileSecretExpansion checks that a value expanded from a secret is
// marked secret, so that the store never shows it.
func TestFileSecretExpansion(t *testing.T) {
	t.Parallel()
	const canary = "hunter2-c4n4ry"
	content := "APP_DATABASE_PASSWORD=" + canary + "\n" +
		"DATABASE_URL=https://u:${APP_DATABASE_PASSWORD}@host\n" +
		"COPY=\"${APP_DATABASE_PASSWORD}\"\n" +
		"APP_SERVER_ADDR=x$COPY\n" + // secret through a plain variable
		"APP_DATABASE_HOST=${APP_DATABASE_PASSWORD:+set}\n" +
		"APP_SERVER_READ_TIMEOUT=${COPY}\n" +
		"PLAIN_PORT=5432\n" +
		"APP_DATABASE_PORT=${PLAIN_PORT:-1}\n"
	path := writeFile(t, content)
	vals, err := dotenv.File(path, nil).Load(context.Background(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for k, v := range vals {
		secret[k] = v.Secret
	}
	want := map[string]bool{"database.password": false, "database.url": true, "server.addr": true,
		"database.host": true, "server.read_timeout": true, "database.port": false}
	if diff := cmp.Diff(want, secret); diff != "" {
		t.Errorf("Secret of the values (-want +got):\n%s", diff)
	}

	// The store shows none of it: not in the decode error of the duration,
	// nor in Explain of the URL.
	_, err = config.Load[testConfig](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)}, dotenv.File(path, nil))
	if err == nil || !errors.Is(err, config.ErrInvalidValue) {
		t.Fatalf("Load: %v, want an invalid duration", err)
	}
	checkNoText(t, err, canary)
	ok := strings.Replace(content, "APP_SERVER_READ_TIMEOUT=${COPY}\n", "", 1)
	store, err := config.Load[testConfig](context.Background(), &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)}, dotenv.File(writeFile(t, ok), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	info, _ := store.Explain("database.url")
	if text := fmt.Sprintf("%+v %s", info, store.Masked()); strings.Contains(text, canary) || info.Value != config.Redacted {
		t.Errorf("Explain and Masked show the secret: %s", text)
	}
}

// TestErrorChains checks every error the layer returns, and every error
// reachable from it through Unwrap, for the text of the file's values.
func TestErrorChains(t *testing.T) {
	t.Parallel()
	const canary = "Zq9canaryXy"
	files := []string{
		"APP_DATABASE_PASSWORD " + canary,
		canary,
		"=" + canary,
		"APP_DATABASE_PASSWORD=\"" + canary,
		"APP_DATABASE_PASSWORD='" + canary + "' " + canary,
		"APP_DATABASE_PASSWORD=" + canary + "${",
		"APP_DATABASE_PASSWORD=\"${X:-" + canary + "\"",
		"APP_DATABASE_PASSWORD=${Y:?" + canary + "}",
		"APP_DATABASE_PASSWORD=" + canary + "\xff",
		"APP_DATABASE_PASSWORD=a$" + canary,
		"APP_DATABASE_PASSWORD=\"" + canary + "\nAPP_DATABASE_HOST=x\n\"",
		"APP_DATABSE_PASSWORD=" + canary,
		"APP_" + canary + "=" + canary + "\nAPP_DATABASE_PORT=" + canary,
		"export " + canary + " = \"" + canary + "\"\r" + canary + "\r",
	}
	for _, content := range files {
		_, _, err := load(t, content)
		if err == nil {
			t.Errorf("%q: no error", content)
			continue
		}
		walk(err, func(e error) {
			for _, text := range []string{e.Error(), fmt.Sprintf("%v %+v %#v", e, e, e)} {
				if strings.Contains(text, canary[3:]) && !strings.Contains(text, "APP_"+canary) {
					t.Errorf("%q: error %T holds the value: %s", content, e, text)
				}
			}
		})
	}
}

// walk calls fn on err and on every error reachable from it through Unwrap.
func walk(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			walk(x, fn)
		}
	case interface{ Unwrap() error }:
		walk(e.Unwrap(), fn)
	}
}

// checkNoText fails when any error reachable from err shows text.
func checkNoText(t *testing.T, err error, text string) {
	t.Helper()
	walk(err, func(e error) {
		if s := fmt.Sprintf("%v %+v %#v", e, e, e); strings.Contains(s, text) {
			t.Errorf("error %T shows %q: %s", e, text, s)
		}
	})
}

// joined lists the errors joined in err.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestQuote checks the forms Quote writes.
func TestQuote(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{
		"":                    "\"\"",
		"plain-value_1.2":     "plain-value_1.2",
		"https://a.b/c?d=e&f": "https://a.b/c?d=e&f",
		"é":                   "é",
		"a b":                 `"a b"`,
		`say "hi"`:            `"say \"hi\""`,
		`C:\`:                 `"C:\\"`,
		"$HOME":               `"\$HOME"`,
		"a\tb\nc\rd":          `"a\tb\nc\rd"`,
		"a#b":                 `"a#b"`,
		"it's":                `"it's"`,
	} {
		if got := dotenv.Quote(value); got != want {
			t.Errorf("Quote(%q) = %s, want %s", value, got, want)
		}
	}
}

// TestFileBounds checks that nesting and warnings are bounded, so that a
// crafted file costs linear time.
func TestFileBounds(t *testing.T) {
	t.Parallel()
	deep := "APP_DATABASE_HOST=" + strings.Repeat("${A:-", 17) + "x" + strings.Repeat("}", 17) + "\n"
	if _, _, err := load(t, deep); !errors.Is(err, config.ErrMalformed) {
		t.Errorf("17 nested substitutions: error %v, want ErrMalformed", err)
	}
	ok := "APP_DATABASE_HOST=" + strings.Repeat("${A:-", 16) + "x" + strings.Repeat("}", 16) + "\n"
	if got, _, err := load(t, ok); err != nil || got["database.host"].Raw != "x" {
		t.Errorf("16 nested substitutions: %v, %v", got, err)
	}
	many := "APP_DATABASE_HOST=" + strings.Repeat("$U", 1000) + "\n"
	if _, _, err := load(t, many); len(joined(err)) != 8 {
		t.Errorf("1000 undefined references gave %d warnings, want 8", len(joined(err)))
	}
	var b strings.Builder
	b.WriteString("V0=x\n")
	for i := 1; i < 2000; i++ {
		fmt.Fprintf(&b, "V%d=${V%d}x\n", i, i-1)
	}
	b.WriteString("APP_DATABASE_HOST=${V1999}\n")
	got, _, err := load(t, b.String())
	if err != nil || got["database.host"].Raw != strings.Repeat("x", 2000) {
		t.Errorf("chain of 2000 variables: %v", err)
	}
}

// TestFileUndefinedVariableNotNamed checks that a variable is named only in
// the value of a field that is not secret.
func TestFileUndefinedVariableNotNamed(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, "PW=pa$w0rdC4n4ry\nAPP_DATABASE_PASSWORD=${PW}\nX=${Y?}C4n4ry\n")
	checkNoText(t, err, "C4n4ry")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line 3: the value requires a variable, which is not set") {
		t.Errorf("error %v, want line 3 not to name the variable", err)
	}
}
