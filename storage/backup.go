package storage

import (
	"courtside"

	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrBackupExists is returned by Backup when the target file already exists.
var ErrBackupExists = errors.New("storage: backup target exists")

// Backup writes a consistent copy of the database to path while the database stays in use,
// with SQLite's online backup API: every page is copied in one step, under one read
// transaction, so the copy is the database as of one commit (a raw file copy would miss the
// WAL). The copy is written to a temporary file (mode 0600) in path's directory, synced, and
// only then linked into place; path must not exist. On any error nothing is left behind.
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	if db.Postgres() {
		return courtside.Errorf(courtside.EINVALID, "A PostgreSQL database is backed up with pg_dump, not courtside backup.")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrBackupExists, path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: backup: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmpPath)
			os.Remove(tmpPath + "-journal")
			os.Remove(tmpPath + "-wal")
			os.Remove(tmpPath + "-shm")
		}
	}()
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	if err := db.backupTo(ctx, tmpPath); err != nil {
		return err
	}
	if err := syncFile(tmpPath); err != nil {
		return err
	}
	// link fails if path appeared meanwhile: an existing file is never replaced. Where the
	// file system has no hard links, check again and rename.
	if err := os.Link(tmpPath, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrBackupExists, path)
		}
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s", ErrBackupExists, path)
		}
		if err := os.Rename(tmpPath, path); err != nil {
			return fmt.Errorf("storage: backup: %w", err)
		}
	} else {
		os.Remove(tmpPath)
	}
	if err := syncFile(dir); err != nil {
		return err
	}
	return nil
}

// backupTo copies the database into the (empty) SQLite file at dst.
func (db *DB) backupTo(ctx context.Context, dst string) error {
	drv := &sqlite3.SQLiteDriver{}
	dconn, err := drv.Open(dsnPlain(dst, "_synchronous=FULL"))
	if err != nil {
		return fmt.Errorf("storage: backup: open target: %w", err)
	}
	dest := dconn.(*sqlite3.SQLiteConn)
	defer dest.Close()

	src, err := db.Reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	defer src.Close()
	return src.Raw(func(c any) error {
		var sc *sqlite3.SQLiteConn
		switch c := c.(type) {
		case *countingConn:
			sc = c.SQLiteConn
		case *sqlite3.SQLiteConn:
			sc = c
		default:
			return fmt.Errorf("storage: backup: unexpected connection %T", c)
		}
		b, err := dest.Backup("main", sc, "main")
		if err != nil {
			return fmt.Errorf("storage: backup: %w", err)
		}
		for {
			// -1: all pages in one step, under one read transaction of the source, so that
			// concurrent commits neither restart the copy nor make it inconsistent.
			done, err := b.Step(-1)
			if err == nil && done {
				break
			}
			var se sqlite3.Error
			if err != nil && !(errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)) {
				b.Finish()
				return fmt.Errorf("storage: backup: %w", err)
			}
			select {
			case <-ctx.Done():
				b.Finish()
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := b.Finish(); err != nil {
			return fmt.Errorf("storage: backup: %w", err)
		}
		return nil
	})
}

// dsnPlain is a go-sqlite3 DSN for a file outside the pools.
func dsnPlain(path, extra string) string {
	s := "file:" + (&url.URL{Path: path}).EscapedPath()
	if extra != "" {
		s += "?" + extra
	}
	return s
}

// syncFile fsyncs a file or directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", path, err)
	}
	return nil
}
