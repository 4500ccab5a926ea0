//go:build unix

package storage

import (
	"path/filepath"
	"syscall"
)

// freeBytes returns the bytes available to the service on the filesystem that holds path.
func freeBytes(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
