package storage

import "testing"

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
