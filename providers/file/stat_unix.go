//go:build unix

package file

import (
	"os"
	"syscall"
)

// openFlags opens the file without blocking: an open of a FIFO for reading
// otherwise waits for a writer. A regular file reads as ever.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// statOf returns the fields of info the cheap check compares.
func statOf(info os.FileInfo) fileStat {
	st := fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = uint64(sys.Dev), uint64(sys.Ino) //nolint:unconvert // the types differ by system
	}
	return st
}
