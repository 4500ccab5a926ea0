// Package migrations holds the SQL schema migrations, embedded in the binary and run by goose.
package migrations

import (
	"embed"
	"io/fs"
)

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS

// postgresFS holds the PostgreSQL migrations (the postgres folder): 00001 is the whole schema
// as the SQLite migrations up to 00029 leave it, and a later SQLite migration has its
// PostgreSQL counterpart under the same number.
//
//go:embed postgres/*.sql
var postgresFS embed.FS

// PostgresFS is the postgres folder of postgresFS, the migrations at its root.
var PostgresFS, _ = fs.Sub(postgresFS, "postgres")
