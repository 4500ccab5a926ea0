package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether a --db value names a PostgreSQL database (postgres:// or
// postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// writeLockKey is the PostgreSQL advisory lock every write transaction takes at BEGIN
// (pg_advisory_xact_lock): writers take turns, one at a time, as on SQLite (BEGIN IMMEDIATE),
// across every process on the database. So the audit hash chain stays linear, and events are
// committed in the order of their ids, which the router's offsets rely on. The number is
// 'CSWR' in ASCII.
const writeLockKey = 0x43535752

// pgConnector opens pgx connections that speak the queries written for SQLite: it rebinds `?`
// placeholders to PostgreSQL's `$n`, passes Go booleans as the 0/1 integers both schemas keep
// flags in, counts statements (DB.Statements), and on the writer takes the write lock at BEGIN.
type pgConnector struct {
	inner      driver.Connector
	writer     bool
	statements *atomic.Int64
}

// newPGConnector returns a connector for the database at url: the writer's, or the readers'
// whose connections refuse to write (default_transaction_read_only).
func newPGConnector(dsn string, writer bool, statements *atomic.Int64) (*pgConnector, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", redactURL(dsn), err)
	}
	if !writer {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// Times are text in the schema; the session's zone only matters to now() in defaults.
	cfg.RuntimeParams["timezone"] = "UTC"
	return &pgConnector{inner: stdlib.GetConnector(*cfg), writer: writer, statements: statements}, nil
}

// Connect opens one connection.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("storage: unexpected pgx connection %T", conn)
	}
	return &pgConn{Conn: sc, c: c}, nil
}

// Driver returns the underlying driver.
func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgx connection that rebinds, converts and counts.
type pgConn struct {
	*stdlib.Conn
	c *pgConnector
}

// QueryContext counts and runs a query.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.c.statements.Add(1)
	return c.Conn.QueryContext(ctx, rebind(query), pgArgs(args))
}

// ExecContext counts and runs a statement.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.c.statements.Add(1)
	return c.Conn.ExecContext(ctx, rebind(query), pgArgs(args))
}

// PrepareContext counts a prepared statement once, when prepared.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.c.statements.Add(1)
	st, err := c.Conn.PrepareContext(ctx, rebind(query))
	if err != nil {
		return nil, err
	}
	return pgStmt{st}, nil
}

// BeginTx begins a transaction; on the writer it first waits for the write lock.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || !c.c.writer {
		return tx, err
	}
	if _, err := c.Conn.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, []driver.NamedValue{{Ordinal: 1, Value: int64(writeLockKey)}}); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// pgStmt is a prepared statement whose arguments are converted as pgConn converts them.
type pgStmt struct{ driver.Stmt }

func (s pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, pgArgs(args))
}

func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, pgArgs(args))
}

// pgArgs passes booleans as 0/1, as go-sqlite3 stores them.
func pgArgs(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		if b, ok := a.Value.(bool); ok {
			if b {
				args[i].Value = int64(1)
			} else {
				args[i].Value = int64(0)
			}
		}
	}
	return args
}

// rebind turns the `?` placeholders of a query into `$1`, `$2`, ... (and `?NNN` into `$NNN`),
// leaving those inside string literals, quoted identifiers and comments alone.
func rebind(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(query[i+1:], ch)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+1])
			i += end
		case ch == '?' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			// SQLite's numbered ?NNN is PostgreSQL's $NNN.
			b.WriteByte('$')
		case ch == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// redactURL drops the password from a database URL for messages; a value that does not parse
// as a URL is not shown at all.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the --db URL"
	}
	return u.Redacted()
}

// isPGUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isPGUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// openPostgres opens the writer (one connection, as on SQLite: in-process writers queue in
// database/sql, and the advisory lock orders them against other processes) and the reader pool.
func (db *DB) openPostgres() error {
	wc, err := newPGConnector(db.Path, true, &db.statements)
	if err != nil {
		return err
	}
	rc, err := newPGConnector(db.Path, false, &db.statements)
	if err != nil {
		return err
	}
	db.Writer = sql.OpenDB(wc)
	db.Writer.SetMaxOpenConns(1)
	db.Writer.SetMaxIdleConns(1)
	if err := db.Writer.Ping(); err != nil {
		db.Writer.Close()
		return fmt.Errorf("storage: open %s: %w", redactURL(db.Path), err)
	}
	if err := db.migratePostgres(); err != nil {
		db.Writer.Close()
		return err
	}
	if db.loginPool, err = openLoginPool(db.Path, &db.statements); err != nil {
		db.Writer.Close()
		return err
	}
	db.Reader = sql.OpenDB(rc)
	db.Reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	return nil
}

// serviceLockKey is the session advisory lock that the processes of a PostgreSQL database hold
// for as long as they run: every `courtside serve` shares it, so that several instances serve
// one database side by side, and `courtside keys rotate` and `courtside migrate` take it alone,
// so that neither runs beside a service (a service that knows only the old key would seal new
// values under it in the middle of a rotation). 'CSSV' in ASCII.
const serviceLockKey = 0x43535356

// ErrLocked is returned by LockPostgres when another process holds the lock in a conflicting
// mode.
var ErrLocked = errors.New("locked")

// LockPostgres takes the database's service lock on a connection of its own, without waiting:
// shared (pg_try_advisory_lock_shared) for a service, beside any number of other services, or
// exclusive (pg_try_advisory_lock) for a command that must run alone. It returns the function
// that gives the lock up (closing the connection). PostgreSQL releases it when the connection
// ends, however the process ends. It fails with ErrLocked when another session holds the lock
// in a mode that conflicts.
func LockPostgres(ctx context.Context, dsn string, shared bool) (func(), error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", redactURL(dsn), err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage: open %s: %w", redactURL(dsn), err)
	}
	try := `SELECT pg_try_advisory_lock($1)`
	if shared {
		try = `SELECT pg_try_advisory_lock_shared($1)`
	}
	var got bool
	if err := conn.QueryRowContext(ctx, try, int64(serviceLockKey)).Scan(&got); err != nil {
		conn.Close()
		pool.Close()
		return nil, fmt.Errorf("storage: lock %s: %w", redactURL(dsn), err)
	}
	if !got {
		conn.Close()
		pool.Close()
		return nil, ErrLocked
	}
	return func() { conn.Close(); pool.Close() }, nil
}

// PostgresInitialized reports whether the PostgreSQL database at dsn holds Courtside's schema
// (`courtside init` has run on it).
func PostgresInitialized(ctx context.Context, dsn string) (bool, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return false, fmt.Errorf("storage: %s: %w", redactURL(dsn), err)
	}
	defer pool.Close()
	var ok bool
	if err := pool.QueryRowContext(ctx, `SELECT to_regclass('audit_log') IS NOT NULL`).Scan(&ok); err != nil {
		return false, fmt.Errorf("storage: open %s: %w", redactURL(dsn), err)
	}
	return ok, nil
}

// DisplayName returns a --db value fit for messages and logs: a PostgreSQL URL without its
// password.
func DisplayName(db string) string {
	if IsPostgresURL(db) {
		return redactURL(db)
	}
	return db
}
