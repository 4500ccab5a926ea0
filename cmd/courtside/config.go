package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"courtside/events"
	"courtside/storage"
)

// Config is the configuration every command shares. Each value comes from a flag, else from
// its COURTSIDE_* environment variable, else from DefaultConfig.
type Config struct {
	Addr    string
	DB      string
	KeyFile string
	BaseURL string
	Demo    bool
	LogJSON bool

	// Introspection allows GraphQL __schema and __type queries, for schema tools; the
	// explorer page does without. Off unless --introspection or --demo.
	Introspection bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:8080", DB: "courtside.db"}
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// newFlagSet returns a flag set that reports errors instead of exiting, with the shared flags.
func newFlagSet(name string, cfg *Config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", env("COURTSIDE_DB", cfg.DB), "SQLite database file, or a postgres:// URL (COURTSIDE_DB)")
	fs.StringVar(&cfg.KeyFile, "key-file", env("COURTSIDE_KEY_FILE", ""), "file holding the encryption key; default: the database path + .key (COURTSIDE_KEY_FILE; COURTSIDE_KEY holds the key itself)")
	return fs
}

// errHelp is what a command returns for -h or --help: its usage is printed, and the exit
// status is 0.
var errHelp = errors.New("help requested")

// parseFlags parses args, turning flag errors and stray arguments into usage errors. An
// unknown or malformed flag is reported once, as the command's one error line; -h and --help
// print the command's flags to the flag set's output and return errHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the flag package would print the error and the usage too
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(out, "Usage: courtside %s [flags]\n\nFlags:\n", fs.Name())
		fs.PrintDefaults()
		return errHelp
	} else if err != nil {
		return usagef("%v (see courtside %s --help)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// validate checks the shared values once.
func (c *Config) validate() error {
	if strings.TrimSpace(c.DB) == "" {
		return usagef("--db: a database file is required")
	}
	// The key never lives beside a PostgreSQL database: there is no file to put it beside.
	if storage.IsPostgresURL(c.DB) && c.KeyFile == "" && os.Getenv("COURTSIDE_KEY") == "" {
		return usagef("--key-file: a PostgreSQL database (--db postgres://...) needs --key-file or COURTSIDE_KEY")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--base-url: must be an http or https URL such as https://courtside.example.org")
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	return nil
}

// openDB opens an existing database with the event publisher and its encryption key wired
// in. A missing database or key file is refused, and nothing is created: `courtside init`
// (and `courtside serve`) create them.
func openDB(cfg Config) (*storage.DB, error) {
	if err := requireDBFile(cfg.DB); err != nil {
		return nil, err
	}
	return openDBWithKey(cfg, false)
}

// openDBWithKey opens (or creates) the database at cfg.DB; with create, a missing key file is
// created with a new random key.
func openDBWithKey(cfg Config, create bool) (*storage.DB, error) {
	db := storage.NewDB(cfg.DB)
	db.Publish = events.PublishTx
	key, err := loadKey(cfg, create)
	if err != nil {
		return nil, err
	}
	if db.Sealer, err = storage.NewSealer(key); err != nil {
		return nil, err
	}
	// COURTSIDE_OLD_KEY: a key the database may still hold values under, during a rotation.
	if v := os.Getenv("COURTSIDE_OLD_KEY"); v != "" {
		old, err := storage.ParseKey(v)
		if err != nil {
			return nil, usagef("COURTSIDE_OLD_KEY: %v", err)
		}
		oldSealer, err := storage.NewSealer(old)
		if err != nil {
			return nil, usagef("COURTSIDE_OLD_KEY: %v", err)
		}
		db.Sealer = db.Sealer.WithOlder(oldSealer)
	}
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

// keyPath returns the key file of cfg: --key-file, else the database path plus .key.
func keyPath(cfg Config) string {
	if cfg.KeyFile != "" {
		return cfg.KeyFile
	}
	return cfg.DB + ".key"
}

// loadKey returns the encryption key: COURTSIDE_KEY, else the key file. With create, a
// missing key file is created with a new random key; without, it is refused: a database's
// key is never made anew, or every value sealed under the old one would be lost.
func loadKey(cfg Config, create bool) ([]byte, error) {
	if v := os.Getenv("COURTSIDE_KEY"); v != "" {
		key, err := storage.ParseKey(v)
		if err != nil {
			return nil, usagef("COURTSIDE_KEY: %v", err)
		}
		return key, nil
	}
	path := keyPath(cfg)
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, usagef("--key-file: directory %s does not exist", dir)
		}
	}
	if _, err := os.Stat(path); err != nil && !create {
		return nil, usagef("--key-file: the database's key file %s does not exist (give --key-file or set COURTSIDE_KEY)", path)
	}
	key, err := storage.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, usagef("--key-file: %v", err)
	}
	return key, nil
}
