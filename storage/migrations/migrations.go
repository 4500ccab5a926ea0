// Package migrations holds the SQL schema migrations, embedded in the binary and run by goose.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
