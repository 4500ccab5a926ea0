package storage

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
)

// connector opens go-sqlite3 connections that count the statements they run, so tests and
// benchmarks can see how many statements a request costs (the N+1 check).
type connector struct {
	dsn        string
	driver     *sqlite3.SQLiteDriver
	statements *atomic.Int64
}

// Connect opens one counting connection.
func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*sqlite3.SQLiteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("storage: unexpected sqlite connection %T", conn)
	}
	return &countingConn{SQLiteConn: sc, statements: c.statements}, nil
}

// Driver returns the underlying driver.
func (c *connector) Driver() driver.Driver { return c.driver }

// countingConn is a go-sqlite3 connection that counts queries and statements.
type countingConn struct {
	*sqlite3.SQLiteConn
	statements *atomic.Int64
}

// QueryContext counts and runs a query.
func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.statements.Add(1)
	return c.SQLiteConn.QueryContext(ctx, query, args)
}

// ExecContext counts and runs a statement.
func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.statements.Add(1)
	return c.SQLiteConn.ExecContext(ctx, query, args)
}

// PrepareContext counts a prepared statement once, when prepared.
func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.statements.Add(1)
	return c.SQLiteConn.PrepareContext(ctx, query)
}
