package storagetest

import (
	"os"
	"path/filepath"
	"testing"

	"courtside/storage"
	"courtside/storage/pgtest"
)

// EngineEnv names the environment variable that chooses the engine of the tests' databases:
// "postgres" for a database of its own on a throwaway PostgreSQL server (storage/pgtest), else
// SQLite. The package whose tests use PostgreSQL calls pgtest.Main from its TestMain.
const EngineEnv = "COURTSIDE_TEST_ENGINE"

// Postgres reports whether the tests run on PostgreSQL (COURTSIDE_TEST_ENGINE=postgres).
func Postgres() bool { return os.Getenv(EngineEnv) == "postgres" }

// Path returns where a test's fresh database lives: a SQLite file in a temporary directory, or
// the URL of a new PostgreSQL database under COURTSIDE_TEST_ENGINE=postgres.
func Path(tb testing.TB) string {
	tb.Helper()
	if Postgres() {
		// A copy of a database migrated once: migrating each one anew costs a second a test.
		return pgtest.FromTemplate(tb, "courtside_migrated", func(url string) error {
			db := storage.NewDB(url)
			if err := db.Open(); err != nil {
				return err
			}
			return db.Close()
		})
	}
	return filepath.Join(tb.TempDir(), "courtside.db")
}
