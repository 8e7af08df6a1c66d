package secretdir

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/strata-go/strata/config"
)

// state is the config.State of the layer: what one scan read. It holds the
// values, to keep a file that fails at its last value, but never prints them:
// every way of printing it gives the generation and the file count only.
type state struct {
	target string // the target of ..data, "" when there is none
	files  map[string]fileState
}

// fileState is what was read from one file.
type fileState struct {
	key   string
	path  string
	size  int64
	mtime int64 // UnixNano: no pointer to a shared *time.Location
	sum   [sha256.Size]byte
	value string
}

// file returns the record of the file name; s may be nil.
func (s *state) file(name string) (fileState, bool) {
	if s == nil {
		return fileState{}, false
	}
	f, ok := s.files[name]
	return f, ok
}

// equal reports whether s and o record the same generation and files.
func (s *state) equal(o *state) bool {
	if s.target != o.target || len(s.files) != len(o.files) {
		return false
	}
	for name, f := range s.files {
		g, ok := o.files[name]
		if !ok || f.key != g.key || f.size != g.size || f.mtime != g.mtime || f.sum != g.sum {
			return false
		}
	}
	return true
}

// values returns the layer's values.
func (s *state) values() config.Values {
	out := make(config.Values, len(s.files))
	for _, f := range s.files {
		out[f.key] = config.Value{Raw: f.value, Source: config.Source{Layer: layerName, Location: f.path}}
	}
	return out
}

func (s state) text() string {
	t := "none"
	if s.target != "" {
		t = strconv.Quote(s.target)
	}
	return fmt.Sprintf("secretdir.state{data: %s, files: %d}", t, len(s.files))
}

// Format prints the generation and the number of files, never a value.
func (s state) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.text())) }

// GoString is Format's text.
func (s state) GoString() string { return s.text() }

// String is Format's text.
func (s state) String() string { return s.text() }

// LogValue is Format's text.
func (s state) LogValue() slog.Value { return slog.StringValue(s.text()) }

// MarshalJSON gives the generation and the number of files.
func (s state) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Data  string `json:"data"`
		Files int    `json:"files"`
	}{s.target, len(s.files)})
}

// Format of a fileState prints its key and path, never its value.
func (f fileState) Format(st fmt.State, _ rune) {
	_, _ = fmt.Fprintf(st, "secretdir.file{key: %s, path: %s, size: %d}", f.key, f.path, f.size)
}
