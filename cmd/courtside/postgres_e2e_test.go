package main_test

import (
	"strings"
	"testing"

	"courtside/storage/pgtest"
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
