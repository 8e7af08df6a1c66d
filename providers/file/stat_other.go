//go:build !unix

package file

import "os"

// openFlags opens the file for reading.
const openFlags = os.O_RDONLY

// statOf returns the fields of info the cheap check compares: the size and
// modification time, as this system gives no inode.
func statOf(info os.FileInfo) fileStat {
	return fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}
}
