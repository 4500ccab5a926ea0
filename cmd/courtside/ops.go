package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"courtside/events"
	"courtside/storage"
)

// openExistingDB opens a database that must already exist, without the encryption key: the
// operator commands that do not touch sealed values never create a database or a key file.
func openExistingDB(cfg Config) (*storage.DB, error) {
	if err := requireDBFile(cfg.DB); err != nil {
		return nil, err
	}
	db := storage.NewDB(cfg.DB)
	db.Publish = events.PublishTx
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

// openCommandDB parses the flags of a command that takes only the common ones (--db, --key ...)
// and opens its existing database, with the configuration it was opened with.
func openCommandDB(name string, args []string, stderr io.Writer) (*storage.DB, Config, error) {
	cfg := DefaultConfig()
	fs := newFlagSet(name, &cfg, stderr)
	if err := parseFlags(fs, args); err != nil {
		return nil, cfg, err
	}
	if err := cfg.validate(); err != nil {
		return nil, cfg, err
	}
	db, err := openExistingDB(cfg)
	return db, cfg, err
}

// requireDBFile refuses a --db that is not an existing file.
func requireDBFile(path string) error {
	if storage.IsPostgresURL(path) {
		ok, err := storage.PostgresInitialized(context.Background(), path)
		if err != nil {
			return usagef("--db: %v", err)
		}
		if !ok {
			return usagef("--db: %s holds no Courtside database; create one with `courtside init --db URL`", storage.DisplayName(path))
		}
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return usagef("--db: %s does not exist; create a database with `courtside init --db %s`", path, path)
	}
	if !fi.Mode().IsRegular() {
		return usagef("--db: %s is not a file", path)
	}
	return nil
}

// runBackup writes a consistent online copy of the database: `courtside backup`.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("backup", &cfg, stderr)
	out := fs.String("out", env("COURTSIDE_BACKUP_OUT", ""), "the backup file to write; it must not exist (COURTSIDE_BACKUP_OUT)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(*out) == "" {
		return usagef("--out is required")
	}
	if _, err := os.Lstat(*out); err == nil {
		return usagef("--out: %s already exists; a backup never overwrites a file", *out)
	}
	if fi, err := os.Stat(filepath.Dir(*out)); err != nil || !fi.IsDir() {
		return usagef("--out: directory %s does not exist", filepath.Dir(*out))
	}
	if abs(*out) == abs(cfg.DB) {
		return usagef("--out: must differ from --db")
	}
	db, err := openExistingDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *out); err != nil {
		if errors.Is(err, storage.ErrBackupExists) {
			return usagef("--out: %s already exists; a backup never overwrites a file", *out)
		}
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", *out)
	fmt.Fprintln(stderr, "the encryption key is not in the backup: keep the key file (or COURTSIDE_KEY) separately, or the victims' data cannot be read back")
	return nil
}

func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// runAuditVerify walks the audit log's hash chain: `courtside audit verify`.
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	db, _, err := openCommandDB("audit verify", args, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := storage.NewAuditService(db).VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit log broken: %w (%d rows before it intact)", err, n)
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows\n", n)
	return nil
}

// runKeysRotate re-encrypts every sealed value under a new key: `courtside keys rotate`.
func runKeysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("keys rotate", &cfg, stderr)
	newKeyFile := fs.String("new-key-file", env("COURTSIDE_NEW_KEY_FILE", ""), "file holding the new key, created with a new random key when missing (COURTSIDE_NEW_KEY_FILE; COURTSIDE_NEW_KEY holds the key itself)")
	batch := fs.Int("batch", storage.DefaultRotateBatch, "values re-encrypted per transaction")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *batch <= 0 {
		return usagef("--batch: must be a positive number")
	}
	if err := requireDBFile(cfg.DB); err != nil {
		return err
	}
	// No service may run meanwhile, nor start until the rotation is done.
	lock, err := lockRotation(cfg.DB)
	if err != nil {
		return err
	}
	defer lock.Release()
	// The current key must exist: rotating from a key created just now would be a mistake.
	if os.Getenv("COURTSIDE_KEY") == "" {
		path := cfg.KeyFile
		if path == "" {
			path = cfg.DB + ".key"
		}
		if _, err := os.Stat(path); err != nil {
			return usagef("--key-file: the current key file %s does not exist (or set COURTSIDE_KEY)", path)
		}
	}
	var newKey []byte
	var created string
	if v := os.Getenv("COURTSIDE_NEW_KEY"); v != "" && *newKeyFile == "" {
		k, err := storage.ParseKey(v)
		if err != nil {
			return usagef("COURTSIDE_NEW_KEY: %v", err)
		}
		newKey = k
	} else if *newKeyFile != "" {
		if fi, err := os.Stat(filepath.Dir(*newKeyFile)); err != nil || !fi.IsDir() {
			return usagef("--new-key-file: directory %s does not exist", filepath.Dir(*newKeyFile))
		}
		_, statErr := os.Stat(*newKeyFile)
		k, err := storage.LoadOrCreateKeyFile(*newKeyFile)
		if err != nil {
			return usagef("--new-key-file: %v", err)
		}
		if statErr != nil {
			created = *newKeyFile
		}
		newKey = k
	} else {
		return usagef("--new-key-file is required (or COURTSIDE_NEW_KEY)")
	}
	next, err := storage.NewSealer(newKey)
	if err != nil {
		return usagef("--new-key-file: %v", err)
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Sealer.KeyID() == next.KeyID() && os.Getenv("COURTSIDE_OLD_KEY") == "" {
		return usagef("--new-key-file: the new key is the current key")
	}
	if created != "" {
		fmt.Fprintf(stderr, "created %s with a new random key (mode 0600)\n", created)
	}
	progressed := false
	n, err := db.RotateKeys(ctx, next, *batch, func(done int) error {
		fmt.Fprintf(stderr, "\rre-encrypted %d values", done)
		progressed = true
		return nil
	})
	if progressed {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("%w; nothing is lost: run the same command again to finish", err)
	}
	id := next.KeyID()
	fmt.Fprintf(stdout, "re-encrypted %d values under key %s\n", n, hex.EncodeToString(id[:]))
	fmt.Fprintln(stderr, "now switch the service to the new key: set COURTSIDE_KEY to it or replace the key file, restart, "+
		"and destroy the old key only when no backup you may restore still needs it")
	return nil
}
