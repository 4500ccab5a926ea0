package storage

import (
	"strings"
	"testing"
)

// rebind numbers the placeholders in order and leaves quoted text and comments alone.
func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?,?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2,$3)`},
		{`SELECT '?', "?x", ? -- what?
			FROM t WHERE d = ?`, `SELECT '?', "?x", $1 -- what?
			FROM t WHERE d = $2`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT ?1 WHERE x = ?1 OR y = ?2`, `SELECT $1 WHERE x = $1 OR y = $2`},
		{`SELECT '?`, `SELECT '?`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A PostgreSQL URL is shown without its password, however it is spelled.
func TestDisplayName_HidesThePassword(t *testing.T) {
	for _, s := range []string{
		"postgres://courtside:s3cr%40t@db.example.org:5432/courtside?sslmode=verify-full",
		"postgresql://courtside:s3cr@t@db.example.org/courtside",
	} {
		got := DisplayName(s)
		if strings.Contains(got, "s3cr") || !strings.Contains(got, "db.example.org") && got != "the --db URL" {
			t.Errorf("DisplayName(%q) = %q", s, got)
		}
	}
	if got := DisplayName("/var/lib/courtside/courtside.db"); got != "/var/lib/courtside/courtside.db" {
		t.Errorf("a file path shows as %q", got)
	}
}
