//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "os"

// tryLock does nothing where flock(2) is missing: there the operator must stop the service
// before `courtside keys rotate` (docs/operations.md).
func tryLock(f *os.File) error { return nil }

// unlock does nothing where flock(2) is missing.
func unlock(f *os.File) {}
