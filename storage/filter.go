package storage

import (
	"database/sql"
	"fmt"
	"strings"
)

// conditions collects the WHERE conditions of a query and their arguments. An empty ID list
// given to in makes the query match nothing, so callers can return early.
type conditions struct {
	conds []string
	args  []any
	none  bool
}

// where starts conditions from a scope and its arguments, as the *Scope functions return them.
func where(scope string, args []any) *conditions {
	return &conditions{conds: []string{scope}, args: append([]any(nil), args...)}
}

// add appends a condition.
func (c *conditions) add(cond string, args ...any) {
	c.conds = append(c.conds, cond)
	c.args = append(c.args, args...)
}

// in appends "column IN (ids)" when ids is not nil; an empty, non-nil ids matches nothing.
func (c *conditions) in(column string, ids []int64) {
	if ids == nil {
		return
	}
	if len(ids) == 0 {
		c.none = true
		return
	}
	c.add(column+" IN ("+placeholders(len(ids))+")", int64Args(ids)...)
}

// sql returns the conditions joined with AND.
func (c *conditions) sql() string { return strings.Join(c.conds, " AND ") }

// scanner is a row that can be scanned: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect scans every row of rows with scan, closes rows, and names what it read in errors.
func collect[T any](rows *sql.Rows, what string, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: read %s: %w", what, err)
	}
	return out, nil
}
