package file

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
	"github.com/strata-go/strata/config/configtest"
)

// watched is a store over one file layer, with a fake clock and a count of
// the file's reads.
type watched struct {
	t     *testing.T
	path  string
	layer *layer
	store *config.Store[appConfig]
	clock *configtest.Clock
	reads atomic.Int64
}

func watch(t *testing.T, path string, opts *Options) *watched {
	t.Helper()
	w := &watched{t: t, path: path, layer: New(path, opts).(*layer), clock: configtest.NewClock(time.Unix(0, 0))}
	w.layer.readHook = func() { w.reads.Add(1) }
	st, err := config.Load[appConfig](t.Context(), &config.Options{Clock: w.clock, RefreshInterval: time.Hour,
		MinRefreshInterval: time.Second, RetryBackoff: time.Hour, Logger: slog.New(slog.DiscardHandler)}, w.layer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w.store = st
	return w
}

// refresh asks the store for a read now.
func (w *watched) refresh() error {
	w.t.Helper()
	w.clock.Advance(time.Second)
	return w.store.Refresh(w.t.Context())
}

func (w *watched) source(key string) string {
	ki, _ := w.store.Explain(key)
	return ki.Source.String()
}

// TestRefreshPicksUpEdit: an edit is read at the next refresh, with the new
// lines and version; a refresh with nothing changed reads nothing.
func TestRefreshPicksUpEdit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	edit(t, path, "server:\n  addr: a:1\n", 0)
	w := watch(t, path, nil)
	v1 := w.store.Status().Layers[0].Versions[path]
	if err := w.refresh(); err != nil || w.reads.Load() != 1 {
		t.Fatalf("a refresh with no change: %v, %d reads of the file; want 1 (the first)", err, w.reads.Load())
	}
	edit(t, path, "# moved\n\nserver:\n  addr: b:2\n", 1)
	if err := w.refresh(); err != nil {
		t.Fatal(err)
	}
	if got := w.store.Get().Server.Addr; got != "b:2" {
		t.Errorf("after the edit addr = %q, want b:2", got)
	}
	if got := w.source("server.addr"); got != path+":4" {
		t.Errorf("source %q, want %s:4", got, path)
	}
	if v2 := w.store.Status().Layers[0].Versions[path]; v2 == "" || v2 == v1 {
		t.Errorf("versions %q then %q; want a new one", v1, v2)
	}
}

// TestBadEditKeepsLastGood: an edit that does not parse is an error naming
// the line, without its text; the store serves the last good values until
// the file is fixed.
func TestBadEditKeepsLastGood(t *testing.T) {
	for _, name := range []string{"c.yaml", "c.json", "c.toml"} {
		path := filepath.Join(t.TempDir(), name)
		good := map[string]string{
			"c.yaml": "server:\n  addr: a:1\n", "c.json": `{"server": {"addr": "a:1"}}`, "c.toml": "[server]\naddr = \"a:1\"\n",
		}[name]
		edit(t, path, good, 0)
		w := watch(t, path, nil)
		edit(t, path, broken(Format(strings.TrimPrefix(filepath.Ext(name), ".")), canary), 1)
		err := w.refresh()
		if !errors.Is(err, config.ErrMalformed) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: a bad edit: %v; want a malformed source naming its line", name, err)
		}
		noCanary(t, err)
		if got := w.store.Get().Server.Addr; got != "a:1" {
			t.Errorf("%s: after a bad edit addr = %q, want the last good a:1", name, got)
		}
		edit(t, path, strings.ReplaceAll(good, "a:1", "c:3"), 2)
		if err := w.refresh(); err != nil {
			t.Errorf("%s: after the fix: %v", name, err)
		}
		if got := w.store.Get().Server.Addr; got != "c:3" {
			t.Errorf("%s: after the fix addr = %q, want c:3", name, got)
		}
	}
}

// TestMissingAfterStartKeepsLastGood: a file removed while the service runs
// is an error matching config.ErrNotFound, and the last values stay.
func TestMissingAfterStartKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	edit(t, path, "server:\n  addr: a:1\n", 0)
	w := watch(t, path, nil)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := w.refresh(); !errors.Is(err, config.ErrNotFound) || w.store.Get().Server.Addr != "a:1" {
		t.Errorf("%v, addr %q", err, w.store.Get().Server.Addr)
	}
}

// TestOptionalFileComesAndGoes: an Optional file that appears is read at
// the next refresh, and one that goes leaves the fields to earlier layers.
func TestOptionalFileComesAndGoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	w := watch(t, path, &Options{Optional: true})
	if got := w.store.Get().Server.Addr; got != ":8080" {
		t.Fatalf("addr %q, want the default", got)
	}
	if err := w.refresh(); err != nil || w.reads.Load() != 0 {
		t.Errorf("still absent: %v, %d reads", err, w.reads.Load())
	}
	edit(t, path, "server:\n  addr: a:1\n", 0)
	if err := w.refresh(); err != nil || w.store.Get().Server.Addr != "a:1" {
		t.Errorf("appeared: %v, addr %q", err, w.store.Get().Server.Addr)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := w.refresh(); err != nil || w.store.Get().Server.Addr != ":8080" {
		t.Errorf("gone: %v, addr %q", err, w.store.Get().Server.Addr)
	}
}

// TestRacyEdit: a file modified within racyWindow of its read is read again
// at the next refresh, so an edit that keeps its size and modification time
// (one tick of a coarse file system clock) is not missed; once it is older
// the State is renewed and the stat check trusted again.
func TestRacyEdit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	mtime := time.Now().Truncate(time.Second)
	write := func(content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("server:\n  addr: a:1\n")
	now := mtime.Add(time.Second)
	l := New(path, nil).(*layer)
	var reads int
	l.readHook = func() { reads++ }
	l.now = func() time.Time { return now }
	s := schema(t)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s})
	if err != nil || !u.State.(*state).racy {
		t.Fatalf("%v, %v; want a racy State", u.State, err)
	}
	write("server:\n  addr: b:2\n") // the same size and modification time
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u.State})
	if err != nil || !u2.Changed || u2.Values["server.addr"].Raw != "b:2" {
		t.Fatalf("the racy edit: %+v, %v; want b:2", u2, err)
	}
	now = now.Add(racyWindow)
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u2.State})
	if err != nil || !u3.Changed || u3.State.(*state).racy || u3.Values["server.addr"].Raw != "b:2" {
		t.Fatalf("the renewal: %+v, %v; want the same values with a State that is not racy", u3, err)
	}
	before := reads
	u4, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u3.State})
	if err != nil || u4.Changed || reads != before {
		t.Errorf("after the renewal: %+v, %v, %d reads; want no change and no read", u4, err, reads-before)
	}
}

// TestReplacedFileSeen: a file replaced by a rename (as editors and
// deployment tools write) is seen by its new inode, even with the size and
// modification time of the old one.
func TestReplacedFileSeen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no inode on Windows")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	edit(t, path, "server:\n  addr: a:1\n", 0)
	w := watch(t, path, nil)
	tmp := filepath.Join(dir, ".config.yaml.tmp")
	edit(t, tmp, "server:\n  addr: b:2\n", 0)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if err := w.refresh(); err != nil || w.store.Get().Server.Addr != "b:2" {
		t.Errorf("%v, addr %q; want b:2", err, w.store.Get().Server.Addr)
	}
}

// TestForeignPrev: a Prev that is not this layer's State is an ErrLayer
// error, not a panic.
func TestForeignPrev(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	edit(t, path, "version: v\n", 0)
	_, err := New(path, nil).Refresh(t.Context(), config.RefreshRequest{Schema: schema(t), Prev: "other"})
	if !errors.Is(err, config.ErrLayer) {
		t.Errorf("%v", err)
	}
}

// TestTouchedFile: a file whose modification time moved but whose content
// did not is read once, gives the same values with a new State, and is not
// read again.
func TestTouchedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	edit(t, path, "server:\n  addr: a:1\n", 0)
	l := New(path, nil).(*layer)
	var reads int
	l.readHook = func() { reads++ }
	s := schema(t)
	u, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	edit(t, path, "server:\n  addr: a:1\n", 1)
	u2, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u.State})
	if err != nil || !u2.Changed || u2.Values["server.addr"].Raw != "a:1" || reads != 2 {
		t.Fatalf("after a touch: %+v, %v, %d reads", u2, err, reads)
	}
	u3, err := l.Refresh(t.Context(), config.RefreshRequest{Schema: s, Prev: u2.State})
	if err != nil || u3.Changed || reads != 2 {
		t.Errorf("the refresh after: %+v, %v, %d reads; want no change and no read", u3, err, reads)
	}
}
