//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// announceWaiting tells other processes that a writer of this one waits for the write lock,
// until the returned function is called: it holds a shared lock (flock) on the file
// path+"-writers" meanwhile. A process that holds the write lock again and again (the service's
// event router working through a backlog) sees it with writersWaiting and lets the writer go
// first. The lock goes with the process, should it die.
func announceWaiting(path string) func() {
	f, err := os.OpenFile(path+"-writers", os.O_RDWR|os.O_CREATE, DBFileMode)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// writersWaiting reports whether a writer announced with announceWaiting waits, trying for an
// exclusive lock on f (the -writers file, opened by the caller) and letting it go at once.
func writersWaiting(f *os.File) bool {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
