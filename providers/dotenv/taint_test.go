package dotenv_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/providers/dotenv"
)

// secretFlags returns, for each key the file sets, whether its value is
// marked secret.
func secretFlags(t *testing.T, content string) (map[string]bool, error) {
	t.Helper()
	vals, err := dotenv.File(writeFile(t, content), nil).Load(context.Background(), testSchema(t))
	got := map[string]bool{}
	for k, v := range vals {
		got[k] = v.Secret
	}
	return got, err
}

// TestFileSecretByUse checks that a variable substituted, directly or
// through other variables, into the value of a secret field is secret, and
// so is every value that substitutes it, wherever in the file it stands
// (the secret field's own value included).
func TestFileSecretByUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		want          map[string]bool
	}{
		{"helper before both", "PW=CANARY-7f3a\nAPP_DATABASE_PASSWORD=${PW}\nAPP_DATABASE_HOST=https://u:${PW}@h\n",
			map[string]bool{"database.password": true, "database.host": true}},
		{"plain value before the secret", "PW=CANARY-7f3a\nAPP_DATABASE_HOST=https://u:${PW}@h\nAPP_DATABASE_PASSWORD=${PW}\n",
			map[string]bool{"database.password": true, "database.host": true}},
		{"through a chain", "PW=CANARY-7f3a\nPW2=x$PW\nAPP_SERVER_ADDR=$PW\nAPP_DATABASE_PASSWORD=${PW2:-none}\n",
			map[string]bool{"database.password": true, "server.addr": true}},
		{"a plain field used by a secret", "APP_DATABASE_HOST=CANARY-7f3a\nAPP_DATABASE_PASSWORD=${APP_DATABASE_HOST}\n",
			map[string]bool{"database.password": true, "database.host": true}},
		{"an earlier value of the same name is not the one used", "PW=plain\nAPP_DATABASE_HOST=$PW\nPW=CANARY-7f3a\nAPP_DATABASE_PASSWORD=$PW\n",
			map[string]bool{"database.password": true, "database.host": false}},
		{"a variable used by a plain value only", "H=h\nAPP_DATABASE_HOST=$H:${PW}\nPW=CANARY-7f3a\nAPP_DATABASE_PASSWORD=$PW\n",
			map[string]bool{"database.password": true, "database.host": false}},
		{"a reference to an unset secret field", "APP_DATABASE_HOST=x$APP_DATABASE_PASSWORD\n",
			map[string]bool{"database.host": true}},
	} {
		got, err := secretFlags(t, tc.content)
		if errors.Is(err, config.ErrWarning) && !errors.Is(err, config.ErrMalformed) {
			err = nil // a variable used before it is set
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: Secret of the values %v, want %v", tc.name, got, tc.want)
		}
	}

	// Through the store: the URL is masked, the port's decode error does not
	// quote it, and the unknown helper name shows no value.
	type cfg struct {
		Password config.Secret
		URL      string
		Port     int
	}
	opts := &config.Options{EnvPrefix: "APP_", Logger: slog.New(slog.DiscardHandler)}
	file := writeFile(t, "APP_PW=CANARY-7f3a\nAPP_PASSWORD=${APP_PW}\nAPP_URL=https://u:${APP_PW}@h\n")
	store, err := config.Load[cfg](context.Background(), opts, dotenv.File(file, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var warned bool
	for _, w := range store.Warnings() {
		warned = warned || errors.Is(w, config.ErrUnknownName)
		checkNoText(t, w, "CANARY")
	}
	if !warned {
		t.Errorf("warnings %v, want APP_PW reported as unknown", store.Warnings())
	}
	info, _ := store.Explain("url")
	if text := fmt.Sprintf("%v %+v %s %+v", store, store, store.Masked(), info); strings.Contains(text, "CANARY") {
		t.Errorf("the store shows the secret: %s", text)
	}
	file = writeFile(t, "PW=CANARY-7f3a\nAPP_PORT=${PW}\nAPP_PASSWORD=${PW}\n")
	_, err = config.Load[cfg](context.Background(), opts, dotenv.File(file, nil))
	if !errors.Is(err, config.ErrInvalidValue) {
		t.Fatalf("Load: %v, want an invalid port", err)
	}
	checkNoText(t, err, "CANARY")
}

// TestFileUndefinedVariableInSecretValue checks that a warning or an error
// about an unset variable does not name it in a value that is secret by
// provenance, whether it reads a secret or a secret field reads it.
func TestFileUndefinedVariableInSecretValue(t *testing.T) {
	t.Parallel()
	for _, content := range []string{
		"APP_DATABASE_PASSWORD=pa\nAPP_DATABASE_HOST=https://u:${APP_DATABASE_PASSWORD}$CANARY7f3a@h\n",
		"APP_DATABASE_PASSWORD=pa\nAPP_DATABASE_HOST=https://u:$CANARY7f3a@h${APP_DATABASE_PASSWORD}\n",
		"APP_DATABASE_HOST=pa$CANARY7f3a\nAPP_DATABASE_PASSWORD=${APP_DATABASE_HOST}\n",
		"PW=x\nAPP_DATABASE_HOST=${PW}$CANARY7f3a\nAPP_DATABASE_PASSWORD=${PW}\n",
		"APP_DATABASE_PASSWORD=pa\nAPP_DATABASE_HOST=${APP_DATABASE_PASSWORD}${CANARY7f3a:?x}\n",
		"APP_DATABASE_PASSWORD=pa\nAPP_DATABASE_HOST=${CANARY7f3a?x}${APP_DATABASE_PASSWORD}\n",
		"PW=x\nAPP_DATABASE_HOST=${CANARY7f3a:?}$PW\nAPP_DATABASE_PASSWORD=$PW\n",
	} {
		_, _, err := load(t, content)
		if err == nil {
			t.Errorf("%q: no warning or error", content)
		}
		checkNoText(t, err, "CANARY")
	}

	// A plain value still names its variable.
	_, _, err := load(t, "APP_DATABASE_PASSWORD=pa\nAPP_DATABASE_HOST=${UNSET:?}$APP_SERVER_ADDR\n")
	if err == nil || !strings.Contains(err.Error(), "requires ${UNSET}") || !strings.Contains(err.Error(), "refers to ${APP_SERVER_ADDR}") {
		t.Errorf("error %v, want both variables named", err)
	}
}

// TestFileExpansionLimit checks that a file whose substitutions multiply its
// size is rejected at once, naming the line and the limit but no value.
func TestFileExpansionLimit(t *testing.T) {
	// Not parallel: it measures the memory the process allocates.
	var b strings.Builder
	b.WriteString("A0=aaaaaaaaaaaaaaaa\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "A%d=%s\n", i, strings.Repeat(fmt.Sprintf("$A%d", i-1), 16))
	}
	b.WriteString("APP_DATABASE_HOST=$A6\n")
	path := writeFile(t, b.String())
	schema := testSchema(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := dotenv.File(path, nil).Load(context.Background(), schema)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line 6: the value would be longer than 1 MiB (1048576 bytes), the limit for one value") {
		t.Errorf("error %v, want line 6 over the limit of a value", err)
	}
	checkNoText(t, err, "aaaa")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 || elapsed > 5*time.Second {
		t.Errorf("the file took %v and %d MiB", elapsed, alloc>>20)
	}

	// Values of at most 1 MiB each, 16 MiB in all, load.
	var ok strings.Builder
	ok.WriteString("A0=" + strings.Repeat("a", 1<<16) + "\n")
	ok.WriteString("A1=" + strings.Repeat("$A0", 16) + "\n") // 1 MiB
	for i := 2; i <= 15; i++ {
		ok.WriteString(fmt.Sprintf("A%d=$A1\n", i))
	}
	ok.WriteString("APP_DATABASE_HOST=" + strings.Repeat("$A0", 15) + "\n") // 16 MiB with A0
	if _, _, err := load(t, ok.String()); err != nil {
		t.Errorf("16 MiB of values: %v", err)
	}
	_, _, err = load(t, ok.String()+"APP_SERVER_ADDR=x\n")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line 18: the values of the file would be longer than 16 MiB (16777216 bytes) in all, the limit for one file") {
		t.Errorf("error %v, want line 18 over the limit of a file", err)
	}
	_, _, err = load(t, "APP_DATABASE_HOST='"+strings.Repeat("b", 1<<20+1)+"'\n")
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line 1: the value would be longer than 1 MiB") {
		t.Errorf("error %v, want a quoted value over the limit", err)
	}
}

// TestFileNestingLimit checks that substitutions nested deeper than the
// limit are reported as such.
func TestFileNestingLimit(t *testing.T) {
	t.Parallel()
	deep := "APP_DATABASE_HOST=x\n\nAPP_SERVER_ADDR=\"" + strings.Repeat("${A:-", 17) + "x" + strings.Repeat("}", 17) + "\"\n"
	_, _, err := load(t, deep)
	want := "line 3: the substitutions are nested deeper than 16 levels, the limit; " +
		"set a variable on a line above and substitute that instead"
	if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "starts no valid") {
		t.Errorf("error %v, want %q", err, want)
	}
}
