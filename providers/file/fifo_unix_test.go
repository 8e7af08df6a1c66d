//go:build unix

package file

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/strata-go/strata/config"
)

// TestFIFOInPlaceOfFile: a FIFO put where the file was, after the stat
// found a regular file, is not a regular file: the read does not wait for a
// writer (which would hold the layer's call until the store abandons it).
func TestFIFOInPlaceOfFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := New(path, nil).(*layer).read(t.Context(), schema(t), YAML, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, config.ErrMalformed) {
			t.Errorf("reading a FIFO: %v; want ErrMalformed, not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO waits for a writer")
	}
}
