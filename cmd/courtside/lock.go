package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"courtside/storage"
)

// dbLock is the advisory lock on a database's lock file, the database path plus .lock. A
// running `courtside serve` holds it as long as it runs, and `courtside keys rotate` while it
// rotates, so that neither runs beside the other: a service started with the old key would
// seal new victims under it in the middle of a rotation. The operating system releases the
// lock when its process ends, however it ends; the file itself stays, empty of meaning. A
// PostgreSQL database has no file: its lock is a session advisory lock (storage.LockPostgres),
// which services share with each other and nothing else.
type dbLock struct {
	f       *os.File
	release func() // a PostgreSQL database's session advisory lock (storage.LockPostgres)
}

// errLocked is returned by lockDB when another process holds the lock.
var errLocked = errors.New("locked")

// lockPath returns the lock file of the database at dbPath.
func lockPath(dbPath string) string { return dbPath + ".lock" }

// lockDB takes the database's lock without waiting, and writes holder (what this process
// is, e.g. "courtside serve, pid 42") into the file for the message another process gives.
// When another process holds it, the error wraps errLocked and names that holder. On
// PostgreSQL a service takes the lock shared (several instances serve one database) and every
// other holder takes it alone; a SQLite file has one holder at a time.
func lockDB(dbPath, holder string, service bool) (*dbLock, error) {
	if storage.IsPostgresURL(dbPath) {
		release, err := storage.LockPostgres(context.Background(), dbPath, service)
		if errors.Is(err, storage.ErrLocked) && service {
			return nil, fmt.Errorf("%w by a courtside command that runs alone (keys rotate, migrate)", errLocked)
		} else if errors.Is(err, storage.ErrLocked) {
			return nil, fmt.Errorf("%w by another courtside process", errLocked)
		} else if err != nil {
			return nil, err
		}
		return &dbLock{release: release}, nil
	}
	f, err := os.OpenFile(lockPath(dbPath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockPath(dbPath), err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			other, _ := os.ReadFile(lockPath(dbPath))
			return nil, fmt.Errorf("%w by %s", errLocked, describeHolder(string(other)))
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath(dbPath), err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder+"\n"), 0)
	}
	return &dbLock{f: f}, nil
}

// describeHolder renders the holder written into a lock file.
func describeHolder(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' }) {
		return "another process"
	}
	return s
}

// Release gives the lock up. It is safe on a nil lock.
func (l *dbLock) Release() {
	if l != nil && l.release != nil {
		l.release()
		l.release = nil
	}
	if l == nil || l.f == nil {
		return
	}
	unlock(l.f)
	l.f.Close()
	l.f = nil
}

// holderLine describes this process for the lock file.
func holderLine(command string) string {
	return fmt.Sprintf("%s (pid %d)", command, os.Getpid())
}

// serveLockWait is how long `courtside serve` waits for the database's lock.
const serveLockWait = 2 * time.Second

// lockService takes the database's lock for `courtside serve`: one service per SQLite file,
// any number of them on a PostgreSQL database, and none while `courtside keys rotate` runs.
func lockService(dbPath string) (*dbLock, error) {
	if fi, err := os.Stat(filepath.Dir(dbPath)); !storage.IsPostgresURL(dbPath) && (err != nil || !fi.IsDir()) {
		return nil, usagef("--db: directory %s does not exist", filepath.Dir(dbPath))
	}
	// A short wait: a service that was just stopped may still be closing, and a command
	// looking whether a service runs holds the lock for an instant.
	deadline := time.Now().Add(serveLockWait)
	for {
		l, err := lockDB(dbPath, holderLine("courtside serve"), true)
		if !errors.Is(err, errLocked) {
			return l, err
		}
		if time.Now().After(deadline) {
			return nil, usagef("--db: %s is in use, %v; one service per SQLite database", storage.DisplayName(dbPath), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockRotation takes the database's lock for `courtside keys rotate`, refusing while a
// service runs on the database.
func lockRotation(dbPath string) (*dbLock, error) {
	l, err := lockDB(dbPath, holderLine("courtside keys rotate"), false)
	if errors.Is(err, errLocked) {
		return nil, usagef("--db: %s is in use, %v; stop the service before rotating keys "+
			"(a running service only knows the old key and would seal new values under it; on PostgreSQL, stop every instance)", storage.DisplayName(dbPath), err)
	}
	return l, err
}
