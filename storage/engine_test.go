package storage_test

import (
	"testing"

	"courtside/storage/storagetest"
)

// sqliteOnly skips a test of what only SQLite has (the database file and its modes, WAL,
// PRAGMAs, the online backup API, the file lock writers wait on) when the tests run on
// PostgreSQL.
func sqliteOnly(t *testing.T) {
	t.Helper()
	if storagetest.Postgres() {
		t.Skip("SQLite's own: the tests run on PostgreSQL (COURTSIDE_TEST_ENGINE=postgres)")
	}
}
