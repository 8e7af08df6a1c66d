package secretdir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// kube writes a directory the way the kubelet writes a Secret volume: the
// files of one generation in a ..TIMESTAMP directory, ..data a symlink to it,
// and each visible name a symlink NAME -> ..data/NAME. swap publishes a new
// generation the way the kubelet does: write the new directory, point
// ..data_tmp at it, rename ..data_tmp over ..data, add and remove visible
// symlinks, then remove the old directory.
type kube struct {
	t      *testing.T
	dir    string
	mode   os.FileMode
	mu     sync.Mutex
	files  map[string]string
	broken map[string]bool // names written as directories, which cannot be read as a value
	gen    int
	// keepOld leaves the previous generation's directory in place after a
	// swap, as it is for the moment between the rename and the removal.
	keepOld bool
}

func newKube(t *testing.T, dir string) *kube {
	return &kube{t: t, dir: dir, mode: 0o600, files: map[string]string{}, broken: map[string]bool{}}
}

// set stores content under name and publishes a new generation.
func (k *kube) set(name, content string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.files[name] = content
	k.swapLocked()
}

// swap publishes the current files as a new generation.
func (k *kube) swap() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.swapLocked()
}

func (k *kube) swapLocked() {
	t := k.t
	must := func(err error) {
		if err != nil {
			t.Error(err)
		}
	}
	must(os.MkdirAll(k.dir, 0o755))
	old, _ := os.Readlink(filepath.Join(k.dir, dataLink))
	k.gen++
	ts := fmt.Sprintf("..2026_12_01_00_00_%02d.%09d", k.gen%60, k.gen)
	must(os.Mkdir(filepath.Join(k.dir, ts), 0o755))
	for name, content := range k.files {
		p := filepath.Join(k.dir, ts, name)
		if k.broken[name] {
			must(os.Mkdir(p, 0o755))
			continue
		}
		must(os.WriteFile(p, []byte(content), k.mode))
		must(os.Chmod(p, k.mode))
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	_ = os.Remove(tmp)
	must(os.Symlink(ts, tmp))
	must(os.Rename(tmp, filepath.Join(k.dir, dataLink)))
	for name := range k.files {
		p := filepath.Join(k.dir, name)
		if _, err := os.Lstat(p); err != nil {
			must(os.Symlink(filepath.Join(dataLink, name), p))
		}
	}
	ents, err := os.ReadDir(k.dir)
	must(err)
	for _, e := range ents {
		if _, ok := k.files[e.Name()]; !ok && !strings.HasPrefix(e.Name(), ".") {
			must(os.Remove(filepath.Join(k.dir, e.Name())))
		}
	}
	if old != "" && !k.keepOld {
		must(os.RemoveAll(filepath.Join(k.dir, old)))
	}
}

// names returns the visible names, sorted.
func (k *kube) names() []string {
	ents, err := os.ReadDir(k.dir)
	if err != nil {
		k.t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}
