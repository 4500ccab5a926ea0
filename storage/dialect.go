package storage

// The few places where SQLite and PostgreSQL cannot agree on one spelling of a query ask the
// DB for theirs here. Everything else is written once, in the SQL both engines accept
// (RETURNING, ON CONFLICT, string_agg, CASE rather than the two-argument max), with `?`
// placeholders that the PostgreSQL connector rebinds (postgres.go).

// eqNoCase returns the condition that a equals b ignoring the case of letters: SQLite's NOCASE
// collation, which the SQLite indexes are built with, or lower() on PostgreSQL, whose indexes
// are built on lower().
func (db *DB) eqNoCase(a, b string) string {
	if db.Postgres() {
		return "lower(" + a + ") = lower(" + b + ")"
	}
	return a + " = " + b + " COLLATE NOCASE"
}
