package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL several service processes may share one database, so the sign-in guard keeps
// its state there rather than in process memory: the account's turn is an advisory lock as well
// (accountLock), the account's failures and lock are read afresh in every turn, and the
// throttles' buckets are rows (sharedThrottle, throttle.go). All of it runs on the login pool,
// connections of its own: the writer's one connection takes the global write lock with every
// transaction, and the readers' refuse to write.

// loginLockClass is the class of the accounts' advisory locks, the first of the two int4
// arguments of pg_advisory_lock(class, key); the second is the first four bytes of the
// username's loginKey. The two-int form is a key space apart from the one-bigint form of the
// write lock (writeLockKey) and the service lock (serviceLockKey): pg_locks shows these with
// classid loginLockClass and objsubid 2. Two usernames whose keys share four bytes share a
// lock, which only makes their attempts take turns. 'CSLG' in ASCII.
const loginLockClass = 0x43534C47

// loginPoolConns is how many connections the login pool opens at most: an attempt holds one
// from taking its account's lock until its writes have committed.
var loginPoolConns = 2 * max(4, runtime.NumCPU())

// openLoginPool opens the login pool on the PostgreSQL database at dsn: connections that may
// write, outside the write lock, and whose cancelled queries are cancelled on the server
// (a cancel request) rather than by closing the connection, so that a wait for an account's
// lock that its request gave up on ends on the server at once and the connection lives on.
func openLoginPool(dsn string, statements *atomic.Int64) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", redactURL(dsn), err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 10 * time.Second}
	}
	pool := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*cfg), statements: statements})
	pool.SetMaxOpenConns(loginPoolConns)
	pool.SetMaxIdleConns(loginPoolConns)
	return pool, nil
}

// accountLock is an account's advisory lock, held on a connection of the login pool.
type accountLock struct {
	conn *sql.Conn
	key  int32
}

// lockAccount waits until ctx ends for the advisory lock of the username whose loginKey is
// key. When the wait fails or is given up, no lock is left held.
func lockAccount(ctx context.Context, pool *sql.DB, key string) (*accountLock, error) {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: login lock: %w", err)
	}
	l := &accountLock{conn: conn, key: int32(binary.BigEndian.Uint32([]byte(key)))}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(loginLockClass), l.key); err != nil {
		// The lock may have been granted just as the wait was cancelled.
		l.unlock()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("storage: login lock: %w", err)
	}
	return l, nil
}

// unlock gives the lock up and the connection back to the pool; when that fails, it closes the
// connection, which ends the lock with the server's session.
func (l *accountLock) unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, int32(loginLockClass), l.key); err != nil {
		// Returning ErrBadConn from Raw makes database/sql close the connection.
		l.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	l.conn.Close()
}
