package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"courtside/events"
	"courtside/storage"
)

// runMigrate copies a SQLite database into a new PostgreSQL database: `courtside migrate
// --from FILE --to postgres://...`. Sealed values are copied as they are stored, so the same
// key opens them; the row counts and the audit chain are verified after the copy. Neither
// database may have a service running on it meanwhile.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", env("COURTSIDE_MIGRATE_FROM", ""), "the SQLite database file to copy (COURTSIDE_MIGRATE_FROM)")
	to := fs.String("to", env("COURTSIDE_MIGRATE_TO", ""), "the PostgreSQL database to copy it into, postgres://...; its tables must be empty (COURTSIDE_MIGRATE_TO)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*from) == "":
		return usagef("--from: the SQLite database file is required")
	case storage.IsPostgresURL(*from):
		return usagef("--from: a SQLite database file, not a URL")
	case !storage.IsPostgresURL(*to):
		return usagef("--to: a postgres:// URL is required")
	}
	if err := requireDBFile(*from); err != nil {
		return usagef("--from: %s does not exist or is not a file", *from)
	}
	holder := holderLine("courtside migrate")
	for _, db := range []struct{ flag, path string }{{"--from", *from}, {"--to", *to}} {
		lock, err := lockDB(db.path, holder, false)
		if errors.Is(err, errLocked) {
			return usagef("%s: %s is in use, %v; stop the service first", db.flag, storage.DisplayName(db.path), err)
		} else if err != nil {
			return usagef("%s: %v", db.flag, err)
		}
		defer lock.Release()
	}
	src := storage.NewDB(*from)
	src.Publish = events.PublishTx
	if err := src.Open(); err != nil {
		return err
	}
	defer src.Close()
	dst := storage.NewDB(*to)
	dst.Publish = events.PublishTx
	if err := dst.Open(); err != nil {
		return usagef("--to: %v", err)
	}
	defer dst.Close()
	report, err := src.CopyTo(ctx, dst, func(tc storage.TableCount) {
		fmt.Fprintf(stderr, "copied %s: %d rows\n", tc.Table, tc.Rows)
	})
	if err != nil {
		return err
	}
	var rows int64
	for _, tc := range report.Tables {
		rows += tc.Rows
	}
	fmt.Fprintf(stdout, "copied %d tables, %d rows, into %s; every table's count matches and the audit chain of %d rows verifies\n",
		len(report.Tables), rows, storage.DisplayName(*to), report.AuditChain)
	fmt.Fprintln(stderr, "the service now runs with --db on the PostgreSQL URL and the same key (--key-file or COURTSIDE_KEY)")
	return nil
}
