//go:build !unix

package storage

// freeBytes does not know the free space on this platform; only the page limit is checked.
func freeBytes(string) (uint64, bool) { return 0, false }
