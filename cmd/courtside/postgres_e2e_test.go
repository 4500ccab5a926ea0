package main_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"courtside/events"
	"courtside/storage"
	"courtside/storage/pgtest"
	"courtside/storage/storagetest"
)

// TestEndToEnd_PostgresHearingReachesAdvocateCalendar runs the walking skeleton on PostgreSQL:
// `courtside init` and every CLI command on a postgres:// URL, `courtside serve` on it, and a
// hearing posted, moved and cancelled over GraphQL shows so in the advocate's CalDAV calendar.
func TestEndToEnd_PostgresHearingReachesAdvocateCalendar(t *testing.T) {
	// A PostgreSQL database has no file to keep its key beside: the key comes from the
	// environment (or --key-file).
	t.Setenv("COURTSIDE_KEY", strings.Repeat("5a", 32))
	hearingReachesAdvocateCalendar(t, newWorldAt(t, pgtest.URL(t)))
}

// TestEndToEnd_PostgresCLIErrors: a postgres:// database without a key is refused before
// anything is written, and so is a second init or a database init never ran on.
func TestEndToEnd_PostgresCLIErrors(t *testing.T) {
	url := pgtest.URL(t)
	if _, code, stderr := cliResult(t, "", "init", "--db", url); code == 0 || !strings.Contains(stderr, "--key-file: a PostgreSQL database") {
		t.Fatalf("init without a key: exit %d: %s", code, stderr)
	}
	t.Setenv("COURTSIDE_KEY", strings.Repeat("5a", 32))
	if _, code, stderr := cliResult(t, "", "user", "list", "--db", url); code == 0 || !strings.Contains(stderr, "holds no Courtside database") {
		t.Fatalf("a command before init: exit %d: %s", code, stderr)
	}
	cli(t, "", "init", "--db", url)
	if _, code, stderr := cliResult(t, "", "init", "--db", url); code == 0 || !strings.Contains(stderr, "already holds a Courtside database") {
		t.Fatalf("a second init: exit %d: %s", code, stderr)
	}
}

// TestEndToEnd_MigrateToPostgres moves a running SQLite deployment to PostgreSQL: after
// `courtside migrate` the service runs on the URL with the same key file; the advocate's
// calendar app, signing in with the app password made before the move, finds the hearing; the
// coordinator reads the victim's sealed legal name; the audit chain verifies; and a second
// migrate into the same database is refused.
func TestEndToEnd_MigrateToPostgres(t *testing.T) {
	w := newWorldAt(t, filepath.Join(t.TempDir(), "courtside.db")) // SQLite, whatever the tests' engine
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}

	url := pgtest.URL(t)
	out := cli(t, "", "migrate", "--from", w.db, "--to", url)
	if !strings.Contains(out, "every table's count matches and the audit chain of") {
		t.Fatalf("migrate said %q", out)
	}
	key := w.db + ".key"
	if out := cli(t, "", "audit", "verify", "--db", url, "--key-file", key); !strings.HasPrefix(out, "audit log intact: ") {
		t.Fatalf("audit verify on the copy: %q", out)
	}

	pg := startServer(t, url, "--key-file", key)
	got := caldavProbe(t, pg.url, "adv", w.advocateApp, "hearing-"+hearingID+"@courtside", starts.Add(-24*time.Hour), starts.Add(24*time.Hour))
	if got["found"] != true || got["dtstart"] != starts.Format(time.RFC3339) {
		t.Fatalf("after the move the advocate's calendar shows %v", got)
	}
	vs := mustGQL(t, pg.url, w.coordinator, `{ myVictims { edges { pseudonym legalName } } }`, nil)
	edges, _ := dig(vs, "myVictims", "edges").([]any)
	if len(edges) != 1 || dig(edges[0], "legalName") != "Sentinel Legalname" {
		t.Fatalf("after the move the coordinator reads %v", vs)
	}
	if _, code, stderr := cliResult(t, "", "migrate", "--from", w.db, "--to", url); code == 0 || !strings.Contains(stderr, "in use") {
		t.Fatalf("a migrate while the service runs: exit %d: %s", code, stderr)
	}
	if err := pg.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := pg.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	if _, code, stderr := cliResult(t, "", "migrate", "--from", w.db, "--to", url); code == 0 || !strings.Contains(stderr, "not empty") {
		t.Fatalf("a second migrate: exit %d: %s", code, stderr)
	}
}

// TestEndToEnd_PostgresServicesShareTheDatabase: on a PostgreSQL database a second
// `courtside serve` starts beside the first (instances share the database), while a key
// rotation is refused as long as either runs; once both stop, the rotation runs.
func TestEndToEnd_PostgresServicesShareTheDatabase(t *testing.T) {
	t.Setenv("COURTSIDE_KEY", strings.Repeat("5a", 32))
	url := pgtest.URL(t)
	cli(t, "", "init", "--db", url)
	a := startServer(t, url)
	b := startServer(t, url)
	newKey := t.TempDir() + "/new.key"
	// The URL as an operator writes it, with a password (the test server trusts its clients,
	// so any will do): the refusal names the database without it.
	withPassword := strings.Replace(url, "postgres://postgres@", "postgres://postgres:Harbor-Lantern-77@", 1)
	for _, s := range []*server{a, b} {
		_, code, stderr := cliResult(t, "", "keys", "rotate", "--db", withPassword, "--new-key-file", newKey)
		if code == 0 || !strings.Contains(stderr, "in use") || strings.Contains(stderr, "Harbor-Lantern-77") {
			t.Fatalf("keys rotate beside %d services: exit %d: %s", map[*server]int{a: 2, b: 1}[s], code, stderr)
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := s.cmd.Wait(); err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
	}
	cli(t, "", "keys", "rotate", "--db", url, "--new-key-file", newKey)
}

// openRaw opens the database db for a test's own queries: a SQLite file through go-sqlite3
// with sqliteDSN, or a PostgreSQL URL through storage's connector, which takes the same `?`
// queries (the writer's pool: its transactions take the write lock as the service's do).
func openRaw(t *testing.T, db, sqliteDSN string) (*sql.DB, error) {
	t.Helper()
	if !storage.IsPostgresURL(db) {
		return sql.Open("sqlite3", sqliteDSN)
	}
	s := storage.NewDB(db)
	s.Publish = events.PublishTx
	if err := s.Open(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { s.Close() })
	return s.Writer, nil
}

// sqliteOnly skips a test of what only SQLite has (the database file, its modes and locks,
// PRAGMAs) when the tests run on PostgreSQL.
func sqliteOnly(t *testing.T) {
	t.Helper()
	if storagetest.Postgres() {
		t.Skip("SQLite's own: the tests run on PostgreSQL (COURTSIDE_TEST_ENGINE=postgres)")
	}
}

// worldKey returns the key w's server seals with: the key file beside a SQLite database, or
// COURTSIDE_KEY for a PostgreSQL one.
func worldKey(w *world) ([]byte, error) {
	if storage.IsPostgresURL(w.db) {
		return storage.ParseKey(os.Getenv("COURTSIDE_KEY"))
	}
	return storage.LoadOrCreateKeyFile(w.db + ".key")
}

// jsonField returns the SQL of a field of the JSON document in col, as text: SQLite's
// json_extract, PostgreSQL's ->> on the bytes read as jsonb.
func jsonField(col, field string) string {
	if storagetest.Postgres() {
		return "(convert_from(" + col + ", 'UTF8')::jsonb ->> '" + field + "')"
	}
	return "CAST(json_extract(" + col + ", '$." + field + "') AS TEXT)"
}

// sqliteIntegrity runs SQLite's integrity check into ok; PostgreSQL keeps its own (ok stays).
func sqliteIntegrity(db *sql.DB, ok *string) error {
	if storagetest.Postgres() {
		return nil
	}
	return db.QueryRow(`PRAGMA integrity_check`).Scan(ok)
}

// missingDB returns a database beside db that does not exist: a file, or a database name on
// the same PostgreSQL server.
func missingDB(db string) string {
	if storage.IsPostgresURL(db) {
		return strings.Replace(db, "?", "_missing?", 1)
	}
	return db + ".missing"
}
