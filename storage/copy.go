package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"courtside"
)

// TableCount is how many rows a table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyReport is what CopyTo copied and verified.
type CopyReport struct {
	Tables     []TableCount // in the order copied
	AuditChain int          // rows of the audit chain, verified on both sides
}

// copyBatch is how many rows one INSERT of CopyTo carries.
const copyBatch = 500

// CopyTo copies every table of db, a SQLite database, into dst, a PostgreSQL database whose
// tables are empty (Open has migrated it), in one transaction on dst: every column's value as
// it is stored, sealed values untouched (their additional data names table, column and row
// id, which stay the same, so the same key opens them), ids kept and the identity sequences
// moved past them. It then compares every table's row count and verifies the audit chain on
// both sides. progress, if not nil, hears of each table once it is copied.
func (db *DB) CopyTo(ctx context.Context, dst *DB, progress func(TableCount)) (*CopyReport, error) {
	if db.Postgres() || !dst.Postgres() {
		return nil, courtside.Errorf(courtside.EINVALID, "The copy goes from a SQLite database to a PostgreSQL one.")
	}
	tables, err := db.copyOrder(ctx)
	if err != nil {
		return nil, err
	}
	srcAudit, err := NewAuditService(db).VerifyAudit(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: the source's audit chain: %w", err)
	}
	report := &CopyReport{}
	tx, err := dst.Writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: begin: %w", err)
	}
	defer tx.Rollback()
	for _, table := range tables {
		n, err := db.copyTable(ctx, tx, table)
		if err != nil {
			return nil, err
		}
		tc := TableCount{Table: table, Rows: n}
		report.Tables = append(report.Tables, tc)
		if progress != nil {
			progress(tc)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("storage: commit: %w", err)
	}
	for _, tc := range report.Tables {
		var n int64
		if err := dst.Reader.QueryRowContext(ctx, `SELECT count(*) FROM `+tc.Table).Scan(&n); err != nil {
			return nil, fmt.Errorf("storage: count %s: %w", tc.Table, err)
		}
		if n != tc.Rows {
			return nil, fmt.Errorf("storage: %s holds %d rows after the copy, the source %d", tc.Table, n, tc.Rows)
		}
	}
	if report.AuditChain, err = NewAuditService(dst).VerifyAudit(ctx); err != nil {
		return nil, fmt.Errorf("storage: the copy's audit chain: %w", err)
	}
	if report.AuditChain != srcAudit {
		return nil, fmt.Errorf("storage: the copy's audit chain has %d rows, the source's %d", report.AuditChain, srcAudit)
	}
	return report, nil
}

// copyOrder returns the SQLite database's tables (not goose's nor SQLite's own), each after
// the tables its foreign keys name.
func (db *DB) copyOrder(ctx context.Context) ([]string, error) {
	rows, err := db.Reader.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("storage: tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	deps := map[string][]string{}
	for _, n := range names {
		rows, err := db.Reader.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("storage: foreign keys of %s: %w", n, err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, err
			}
			if d != n {
				deps[n] = append(deps[n], d)
			}
		}
		rows.Close()
	}
	var order []string
	done := map[string]bool{}
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		if done[n] {
			return nil
		}
		if slices.Contains(path, n) {
			return fmt.Errorf("storage: foreign keys form a cycle through %s", n)
		}
		for _, d := range deps[n] {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		done[n] = true
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// copyTable copies one table into tx, in batches, ordered by its id when it has one (a row
// may name an earlier row of its own table), and returns how many rows it copied.
func (db *DB) copyTable(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	cols, err := db.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	types, err := pgColumnTypes(ctx, tx, table)
	if err != nil {
		return 0, err
	}
	if len(types) == 0 {
		return 0, fmt.Errorf("storage: PostgreSQL has no table %s: is its schema older than the SQLite database's?", table)
	}
	for _, c := range cols {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("storage: PostgreSQL's %s has no column %s: is its schema older than the SQLite database's?", table, c)
		}
	}
	var existing int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&existing); err != nil {
		return 0, fmt.Errorf("storage: count %s: %w", table, err)
	}
	if existing != 0 {
		return 0, courtside.Errorf(courtside.ECONFLICT, "The PostgreSQL database's %s is not empty: the copy goes into a new database.", table)
	}
	order := ""
	if slices.Contains(cols, "id") {
		order = " ORDER BY id"
	}
	rows, err := db.Reader.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+order)
	if err != nil {
		return 0, fmt.Errorf("storage: read %s: %w", table, err)
	}
	defer rows.Close()
	insert := func(n int, args []any) error {
		row := "(" + placeholders(len(cols)) + ")"
		q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("storage: copy %s: %w", table, err)
		}
		return nil
	}
	var total int64
	args := make([]any, 0, copyBatch*len(cols))
	pending := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("storage: read %s: %w", table, err)
		}
		for i := range vals {
			// SQLite may hand back text for a column PostgreSQL keeps as bytes, and a number
			// for a text column.
			switch t := types[cols[i]]; v := vals[i].(type) {
			case string:
				if t == "bytea" {
					vals[i] = []byte(v)
				}
			case int64, float64:
				if t == "text" || t == "USER-DEFINED" { // citext is USER-DEFINED
					vals[i] = fmt.Sprint(v)
				}
			}
		}
		args = append(args, vals...)
		pending++
		total++
		if pending == copyBatch {
			if err := insert(pending, args); err != nil {
				return 0, err
			}
			args, pending = args[:0], 0
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("storage: read %s: %w", table, err)
	}
	if pending > 0 {
		if err := insert(pending, args); err != nil {
			return 0, err
		}
	}
	// The identity goes on after the ids copied.
	if types["id"] != "" && total > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT max(id) FROM `+table+`))
			WHERE pg_get_serial_sequence(?, 'id') IS NOT NULL`, table, table); err != nil {
			return 0, fmt.Errorf("storage: identity of %s: %w", table, err)
		}
	}
	return total, nil
}

// columns returns a SQLite table's columns in their order.
func (db *DB) columns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.Reader.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("storage: columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// pgColumnTypes returns a PostgreSQL table's columns and their types.
func pgColumnTypes(ctx context.Context, tx *sql.Tx, table string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ?`, table)
	if err != nil {
		return nil, fmt.Errorf("storage: columns of %s: %w", table, err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return nil, err
		}
		types[c] = t
	}
	return types, rows.Err()
}
