package migrations_test

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"courtside/storage/migrations"
)

// TestEveryLaterMigrationHasAPostgresCounterpart checks that each SQLite migration after 00029,
// the last that PostgreSQL's 00001 includes, has a PostgreSQL migration of the same number, so
// that both engines reach the same schema.
func TestEveryLaterMigrationHasAPostgresCounterpart(t *testing.T) {
	numbers := func(fsys fs.FS) map[int]string {
		t.Helper()
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, name := range names {
			n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil {
				t.Fatalf("migration %s: no number", name)
			}
			out[n] = name
		}
		return out
	}
	sqlite, postgres := numbers(migrations.FS), numbers(migrations.PostgresFS)
	if postgres[1] == "" {
		t.Fatal("no PostgreSQL schema (00001)")
	}
	later := 0
	for n, name := range sqlite {
		if n <= 29 {
			continue
		}
		later++
		if postgres[n] == "" {
			t.Errorf("SQLite migration %s has no PostgreSQL counterpart numbered %05d", name, n)
		}
	}
	if later == 0 {
		t.Fatal("no SQLite migration after 00029: the check compared nothing")
	}
}
