package configtest

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a logger writes, safe for a store's goroutines to
// write to while a test reads it. Tests hand it to slog.NewTextHandler and
// search String for text that must not appear, such as a canary secret.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
