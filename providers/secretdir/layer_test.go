package secretdir

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

const canary = "CANARY-secretdir-41c9e2"

type appConfig struct {
	Database struct {
		Host     string
		Name     string
		User     string
		Password config.Secret
	}
}

func schemaOf(t *testing.T) *config.Schema {
	t.Helper()
	s, err := config.SchemaFor[appConfig]("APP_")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// noCanary fails when any rendering of v holds the canary in any form.
func noCanary(t *testing.T, what string, v any) {
	t.Helper()
	if how, text, ok := configtest.Reveals(v, canary); ok {
		t.Errorf("%s printed as %s holds the secret: %s", what, how, text)
	}
}

// TestSwapNeverMixes: a store refreshing while the kubelet swaps ..data
// serves either every old file or every new one, and the new set after one
// refresh once the swap is done.
func TestSwapNeverMixes(t *testing.T) {
	for _, keepOld := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "secrets")
		k := newKube(t, dir)
		k.keepOld = keepOld
		k.files["APP_DATABASE_USER"] = "u1"
		k.files["APP_DATABASE_PASSWORD"] = "p1\n"
		k.swap()
		l := Dir(dir, nil).(*layer)
		clock := configtest.NewClock(time.Unix(0, 0))
		st, err := config.Load[appConfig](t.Context(), &config.Options{EnvPrefix: "APP_", Clock: clock,
			RefreshInterval: time.Hour, MinRefreshInterval: time.Second, Logger: slog.New(slog.DiscardHandler)}, l)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		k.files["APP_DATABASE_USER"] = "u2"
		k.files["APP_DATABASE_PASSWORD"] = "p2\n"
		k.swap()
		swapped := false
		l.readHook = func(string) { // the kubelet swaps again after the first file of the refresh was read
			if !swapped {
				swapped = true
				k.files["APP_DATABASE_USER"] = "u3"
				k.files["APP_DATABASE_PASSWORD"] = "p3\n"
				k.swap()
			}
		}
		clock.Advance(time.Second)
		if err := st.Refresh(t.Context()); err != nil {
			t.Fatalf("keepOld=%v: Refresh: %v", keepOld, err)
		}
		c := st.Get()
		got := c.Database.User + "/" + c.Database.Password.Reveal()
		if got != "u2/p2" && got != "u3/p3" {
			t.Fatalf("keepOld=%v: the store serves %s, a mix of two generations", keepOld, got)
		}
		clock.Advance(time.Second)
		if err := st.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		c = st.Get()
		if got := c.Database.User + "/" + c.Database.Password.Reveal(); got != "u3/p3" || !swapped {
			t.Errorf("keepOld=%v: after the swap the store serves %s, want u3/p3", keepOld, got)
		}
	}
}

// TestTrailingNewline: exactly one trailing "\n" or "\r\n" is removed;
// everything else is kept byte for byte.
func TestTrailingNewline(t *testing.T) {
	cases := map[string]string{
		"s3cr3t": "s3cr3t", "s3cr3t\n": "s3cr3t", "s3cr3t\r\n": "s3cr3t", "s3cr3t\n\n": "s3cr3t\n",
		"s3cr3t\r\n\r\n": "s3cr3t\r\n", "s3cr3t\r": "s3cr3t\r", " a b \t": " a b \t", "\n": "", "": "",
		"line1\nline2\n": "line1\nline2", "\xff\x00bin": "\xff\x00bin", "\n\r": "\n\r",
	}
	s := schemaOf(t)
	for in, want := range cases {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "APP_DATABASE_PASSWORD"), in)
		vals, err := Dir(dir, nil).Load(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if got := vals["database.password"].Raw; got != want {
			t.Errorf("content %q reads as %q, want %q", in, got, want)
		}
	}
}

// TestHiddenEntries: names starting with "." (the kubelet's ..data,
// ..data_tmp and ..TIMESTAMP entries, editor files) are not values and not
// unknown names.
func TestHiddenEntries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	k := newKube(t, dir)
	k.keepOld = true
	k.files["APP_DATABASE_HOST"] = "db"
	k.swap()
	k.swap()
	write(t, filepath.Join(dir, ".APP_DATABASE_USER.swp"), canary)
	if err := os.Symlink("nowhere", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	vals, err := Dir(dir, nil).Load(t.Context(), schemaOf(t))
	if err != nil {
		t.Fatalf("hidden entries gave an error: %v (entries %v)", err, k.names())
	}
	if len(vals) != 1 || vals["database.host"].Raw != "db" {
		t.Errorf("values %v, want only database.host", vals)
	}
	if src := vals["database.host"].Source; src != (config.Source{Layer: "secretdir", Location: filepath.Join(dir, "APP_DATABASE_HOST")}) {
		t.Errorf("source %#v, want the visible path of the file", src)
	}
}

// TestUnreadableFile: a file that cannot be read is a *config.SourceError
// naming the file and never its content or another file's; the other files
// are still read.
func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "APP_DATABASE_PASSWORD"), canary)
	loop := filepath.Join(dir, "APP_DATABASE_USER")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "APP_DATABASE_NAME")
	if err := os.Symlink(filepath.Join(dir, "..data", "APP_DATABASE_NAME"), dangling); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "APP_DATABASE_HOST")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	vals, err := Dir(dir, nil).Load(t.Context(), schemaOf(t))
	if vals["database.password"].Raw != canary {
		t.Errorf("the readable file was not read: %v", vals)
	}
	for path, code := range map[string]error{loop: config.ErrMalformed, sub: config.ErrMalformed, dangling: config.ErrNotFound} {
		var found bool
		for _, e := range configtest.ErrorTree(err) {
			var se *config.SourceError
			if errors.As(e, &se) && se.Source == path && se.Layer == "secretdir" && errors.Is(se, code) {
				found = true
			}
		}
		if !found {
			t.Errorf("no *config.SourceError matching %v names %s: %v", code, path, err)
		}
	}
	noCanary(t, "the error", err)
}

// TestMissingDir: a missing directory is config.ErrNotFound, or no values
// with Options.Optional.
func TestMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	_, err := Dir(dir, nil).Load(t.Context(), schemaOf(t))
	var se *config.SourceError
	if !errors.Is(err, config.ErrNotFound) || !errors.As(err, &se) || se.Source != dir {
		t.Errorf("missing directory: %v, want a SourceError naming it matching config.ErrNotFound", err)
	}
	vals, err := Dir(dir, &Options{Optional: true}).Load(t.Context(), schemaOf(t))
	if err != nil || len(vals) != 0 {
		t.Errorf("optional missing directory: %v, %v; want no values and no error", vals, err)
	}
}

// TestNaming: ByEnv is the default, ByKey names files by key, Names maps
// any name; a name that maps to no field is an *config.UnknownNameError
// naming the file (the name is not secret).
func TestNaming(t *testing.T) {
	s := schemaOf(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "database.host"), "h")
	write(t, filepath.Join(dir, "db-password"), "p")
	write(t, filepath.Join(dir, "APP_DATABASE_USER"), canary)
	vals, err := Dir(dir, &Options{Naming: ByKey, Names: map[string]string{"db-password": "database.password"}}).Load(t.Context(), s)
	if vals["database.host"].Raw != "h" || vals["database.password"].Raw != "p" {
		t.Errorf("values %v", vals)
	}
	u := configtest.UnknownNames(t, err)
	if len(u) != 1 || u[0].Name != "APP_DATABASE_USER" || u[0].Source.Location != filepath.Join(dir, "APP_DATABASE_USER") {
		t.Errorf("unknown names %+v, want APP_DATABASE_USER", u)
	}
	noCanary(t, "the error", err)

	vals, err = Dir(dir, nil).Load(t.Context(), s)
	if vals["database.user"].Raw != canary || len(vals) != 1 || len(configtest.UnknownNames(t, err)) != 2 {
		t.Errorf("ByEnv: values %v, error %v", vals, err)
	}
}

// TestRefreshReadsOnlyChanged: a refresh with nothing changed reads no file
// and reports no change; after one file changes, only that file is read.
func TestRefreshReadsOnlyChanged(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "APP_DATABASE_HOST"), "h1")
	write(t, filepath.Join(dir, "APP_DATABASE_USER"), "u1")
	l := Dir(dir, nil).(*layer)
	var read []string
	l.readHook = func(p string) { read = append(read, filepath.Base(p)) }
	s := schemaOf(t)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s})
	if err != nil || len(read) != 2 {
		t.Fatalf("first read: %v, read %v", err, read)
	}
	read = nil
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u.State})
	if err != nil || u2.Changed || len(read) != 0 {
		t.Errorf("no change: Changed %v, error %v, read %v; want nothing read", u2.Changed, err, read)
	}
	write(t, filepath.Join(dir, "APP_DATABASE_USER"), "user2")
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u.State})
	if err != nil || !u3.Changed || strings.Join(read, ",") != "APP_DATABASE_USER" || u3.Values["database.user"].Raw != "user2" ||
		u3.Values["database.host"].Raw != "h1" {
		t.Errorf("one change: Changed %v, error %v, read %v, values %v", u3.Changed, err, read, u3.Values)
	}
}

// TestNoCanaryInOutput: the State, the errors, the store's logs and its
// Status never hold a secret file's content.
func TestNoCanaryInOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	k := newKube(t, dir)
	k.files["APP_DATABASE_PASSWORD"] = canary + "\n"
	k.files["APP_DATABSE_USER"] = canary
	k.swap()
	l := Dir(dir, nil)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t)})
	if u.Values["database.password"].Raw != canary {
		t.Fatalf("values %v", u.Values)
	}
	noCanary(t, "the state", u.State)
	noCanary(t, "the error", err)
	for _, f := range u.State.(*state).files {
		noCanary(t, "a file record", f)
	}
	logs := &configtest.LogBuffer{}
	clock := configtest.NewClock(time.Unix(0, 0))
	st, err := config.Load[appConfig](context.Background(), &config.Options{EnvPrefix: "APP_", Clock: clock,
		RefreshInterval: time.Hour, MinRefreshInterval: time.Second, Logger: slog.New(slog.NewJSONHandler(logs, nil))}, l)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	k.broken["APP_DATABASE_PASSWORD"] = true
	k.swap()
	clock.Advance(time.Second)
	err = st.Refresh(t.Context())
	if err == nil {
		t.Error("a refresh over an unreadable file reports no error")
	}
	noCanary(t, "the refresh error", err)
	noCanary(t, "Status", st.Status())
	if st.Get().Database.Password.Reveal() != canary {
		t.Error("the unreadable file did not keep its value")
	}
	_ = st.Close() // the store logs from its own goroutine: read the logs once it stopped
	if !strings.Contains(logs.String(), "APP_DATABASE_PASSWORD") {
		t.Errorf("the logs do not name the unreadable file: %s", logs.String())
	}
	noCanary(t, "the logs", logs.String())
}

// TestSwapOutrunsReads: when ..data moves under every read, the refresh is a
// transient error and the served values stay, rather than a silent no-change
// or a mix.
func TestSwapOutrunsReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	k := newKube(t, dir)
	k.files["APP_DATABASE_USER"] = "u0"
	k.files["APP_DATABASE_PASSWORD"] = "p0"
	k.swap()
	l := Dir(dir, nil).(*layer)
	s := schemaOf(t)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	k.set("APP_DATABASE_USER", "u1")
	n := 1
	l.readHook = func(string) { n++; k.set("APP_DATABASE_USER", "u"+string(rune('0'+n))) }
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u.State})
	if !config.IsTransient(err) || u2.Changed {
		t.Errorf("Changed %v, error %v; want no change and a transient error", u2.Changed, err)
	}
}

// TestForeignPrev: a Prev that this layer did not return is an ErrLayer
// error, not a panic or a silent full read.
func TestForeignPrev(t *testing.T) {
	_, err := Dir(t.TempDir(), nil).Refresh(t.Context(), config.RefreshRequest{Schema: schemaOf(t), Prev: "other"})
	if !errors.Is(err, config.ErrLayer) {
		t.Errorf("foreign Prev: %v, want config.ErrLayer", err)
	}
}
