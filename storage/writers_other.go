//go:build !unix

package storage

import "os"

// announceWaiting does nothing on this platform: a waiting writer relies on the gaps between
// the other process's transactions alone.
func announceWaiting(string) func() { return func() {} }

// writersWaiting never sees a waiting writer on this platform.
func writersWaiting(*os.File) bool { return false }
