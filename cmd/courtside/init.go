package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"courtside/storage"
)

// runInit creates a database and its key: `courtside init`. It refuses a database that
// exists; a key file that exists is kept and used (a key provisioned ahead of the database).
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("init", &cfg, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := refuseExisting(cfg); err != nil {
		return err
	}
	db, created, err := createDB(cfg)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s\n", storage.DisplayName(cfg.DB))
	reportKey(stderr, created)
	fmt.Fprintf(stderr, "next, the first administrator:\n  courtside user add --db %s --username admin --role admin --password-stdin\n", storage.DisplayName(cfg.DB))
	return nil
}

// refuseExisting refuses a --db that holds a database already, or a file in a directory that
// does not exist.
func refuseExisting(cfg Config) error {
	if storage.IsPostgresURL(cfg.DB) {
		ok, err := storage.PostgresInitialized(context.Background(), cfg.DB)
		if err != nil {
			return usagef("--db: %v", err)
		}
		if ok {
			return usagef("--db: %s already holds a Courtside database", storage.DisplayName(cfg.DB))
		}
		return nil
	}
	if _, err := os.Lstat(cfg.DB); err == nil {
		return usagef("--db: %s already exists", cfg.DB)
	}
	if fi, err := os.Stat(filepath.Dir(cfg.DB)); err != nil || !fi.IsDir() {
		return usagef("--db: directory %s does not exist", filepath.Dir(cfg.DB))
	}
	return nil
}

// createDB creates the database at cfg.DB, which does not exist, and its key file when there
// is neither one nor COURTSIDE_KEY. It returns the key file it created ("" for none). On
// failure it removes what it created.
func createDB(cfg Config) (*storage.DB, string, error) {
	var created string
	if os.Getenv("COURTSIDE_KEY") == "" {
		if _, err := os.Stat(keyPath(cfg)); errors.Is(err, os.ErrNotExist) {
			created = keyPath(cfg)
		}
	}
	db, err := openDBWithKey(cfg, true)
	if err != nil {
		for _, p := range []string{cfg.DB, cfg.DB + "-wal", cfg.DB + "-shm", created} {
			if p != "" && !storage.IsPostgresURL(p) {
				os.Remove(p)
			}
		}
		return nil, "", err
	}
	return db, created, nil
}

// reportKey tells where the key of a new database is.
func reportKey(w io.Writer, created string) {
	switch {
	case created != "":
		fmt.Fprintf(w, "created the encryption key %s (mode 0600): keep it apart from backups of the database, and never lose it\n", created)
	case os.Getenv("COURTSIDE_KEY") != "":
		fmt.Fprintln(w, "the encryption key is COURTSIDE_KEY's")
	}
}

// openOrCreateDB opens the database of `courtside serve`, creating it and its key when the
// database does not exist yet, and says so on w.
func openOrCreateDB(cfg Config, w io.Writer) (*storage.DB, error) {
	if storage.IsPostgresURL(cfg.DB) {
		if ok, err := storage.PostgresInitialized(context.Background(), cfg.DB); err != nil {
			return nil, usagef("--db: %v", err)
		} else if ok {
			return openDB(cfg)
		}
	} else if _, err := os.Lstat(cfg.DB); err == nil {
		return openDB(cfg)
	}
	if err := refuseExisting(cfg); err != nil {
		return nil, err
	}
	db, created, err := createDB(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "created the database %s\n", storage.DisplayName(cfg.DB))
	reportKey(w, created)
	return db, nil
}
