package file

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// maxFileSize is the largest file the layer reads: 16 MiB.
const maxFileSize = 16 << 20

// racyWindow is how close to the time of a read a file's modification time
// may be for the read to be racy: a write in the same tick of the file
// system's clock (a few milliseconds on Linux, up to 2 seconds on FAT) can
// leave the size and modification time as they were.
const racyWindow = 2 * time.Second

// fileStat is what the cheap check compares: the file's identity (device and
// inode where the system has them), size and modification time.
type fileStat struct {
	dev, ino uint64
	size     int64
	mtime    int64 // UnixNano
}

// state is the config.State of the layer: what one read saw. It holds no
// value, only the stat and a SHA-256 of the content, so printing it shows
// nothing of the file; it prints its version only.
type state struct {
	missing bool // an Optional file that does not exist
	stat    fileStat
	sum     [sha256.Size]byte
	// racy is set when the file was modified within racyWindow of the
	// read, so an equal stat later does not prove equal content: the next
	// refresh reads the file again and compares its hash.
	racy bool
}

// newState records a read at now of content from the file of info.
func newState(info os.FileInfo, content []byte, now time.Time) *state {
	st := statOf(info)
	age := now.Sub(info.ModTime())
	return &state{stat: st, sum: sha256.Sum256(content), racy: age < racyWindow}
}

// version is the first 16 hex digits of the content's SHA-256.
func (s *state) version() string { return hex.EncodeToString(s.sum[:8]) }

func statFile(path string) (fileStat, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	if !info.Mode().IsRegular() {
		return fileStat{}, &notRegularError{path: path, mode: info.Mode()}
	}
	return statOf(info), nil
}

// readFile reads the file at path, at most maxFileSize bytes, with the stat
// of the file it opened. It opens without blocking (see openFlags), so a
// FIFO or device put in the file's place after the stat is reported as not
// a regular file instead of holding the read until a writer comes.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, &notRegularError{path: path, mode: info.Mode()}
	}
	content, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(content) > maxFileSize {
		return nil, nil, &tooLargeError{}
	}
	return content, info, nil
}

// tooLargeError is a file over maxFileSize.
type tooLargeError struct{}

func (*tooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than %d bytes (16 MiB), the most this layer reads", maxFileSize)
}

// notRegularError is a path that is not a regular file (a directory, a FIFO).
type notRegularError struct {
	path string
	mode os.FileMode
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("%s is not a regular file (%s)", e.path, e.mode.Type())
}

func (s state) text() string {
	switch {
	case s.missing:
		return "file.state{missing}"
	case s.racy:
		return "file.state{version: " + s.version() + ", racy}"
	}
	return "file.state{version: " + s.version() + "}"
}

// Format prints the version, never content.
func (s state) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.text())) }

// GoString is Format's text.
func (s state) GoString() string { return s.text() }

// String is Format's text.
func (s state) String() string { return s.text() }

// LogValue is Format's text.
func (s state) LogValue() slog.Value { return slog.StringValue(s.text()) }

// MarshalJSON gives the version.
func (s state) MarshalJSON() ([]byte, error) {
	if s.missing {
		return json.Marshal(struct {
			Missing bool `json:"missing"`
		}{true})
	}
	return json.Marshal(struct {
		Version string `json:"version"`
	}{s.version()})
}
