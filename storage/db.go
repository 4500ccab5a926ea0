// Package storage implements Courtside's services on SQLite (github.com/mattn/go-sqlite3), or
// on PostgreSQL for a postgres:// database.
//
// DB is the database itself: its connections, transactions, sealing, audit log and event
// stream. Each root service is a small type over a DB, one per noun and named as the root
// package names it (NewHearingService(db) is a courtside.HearingService), so that a caller
// is given only the operations it uses.
//
// One connection writes (immediate transactions, WAL, synchronous=FULL); a separate read-only
// pool reads. Every mutation writes its domain rows, its audit row and its events in one
// transaction.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"courtside"
	"courtside/storage/migrations"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// TimeFormat is how times are stored: UTC, fixed width, so that they sort as strings.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// PublishFunc appends events to the event log inside tx. events.PublishTx is the one to use.
type PublishFunc func(ctx context.Context, tx *sql.Tx, evs ...courtside.Event) error

// DB is a Courtside database: one SQLite file, or a PostgreSQL database. Its services are
// the *Service types of this package, each made over a DB with its New function.
type DB struct {
	// Writer is the single writing connection. Event-log subscribers use it too.
	Writer *sql.DB
	// Reader is the read-only pool.
	Reader *sql.DB

	// Path is the database file.
	Path string

	// Now returns the current time; tests replace it.
	Now courtside.Clock

	// Publish appends events in the mutation's transaction. It must be set before any mutation.
	Publish PublishFunc

	// Committed, when set, is called after each transaction that appended events has
	// committed (events.Router.Wake, so that handlers need not wait for their next poll). It
	// must not block. Set it before any mutation.
	Committed func()

	// Sealer encrypts victim PII at rest. It must be set before victims are written or read.
	Sealer *Sealer

	// RenderCalendar renders the hearings calendars' objects for the calendar projection
	// (calendar.RenderStored). Without it the projection keeps the change tokens only, and
	// the hearings calendars' stored objects are not kept.
	RenderCalendar courtside.CalendarRenderer
	// RenderCalendarVersion names RenderCalendar's rendering (calendar.RenderVersion): when
	// the stored objects were rendered by another, BackfillCalendarObjects renders them again.
	RenderCalendarVersion string
	// CalendarGroup, when set, is the event-log consumer group of the calendar projection:
	// the hearings calendars' reads then first wait, up to CalendarWait (zero: two seconds),
	// until it has handled the events committed before them, so that a change reads back at
	// once (awaitCalendars).
	CalendarGroup string
	CalendarWait  time.Duration

	// Logger receives internal errors; never PII.
	Logger *slog.Logger

	// LoginLimits throttles sign-in attempts per client address and per username; zero fields
	// take DefaultLoginLimits'. Set it before the first sign-in.
	LoginLimits LoginLimits

	// Waiting, when set, is called while a write transaction waits because another process
	// holds the write lock (a running service working through its events, an import): once
	// soon after the wait starts and then every WaitingEvery, with how long it has waited.
	// The CLI prints a line. It must not block.
	Waiting func(waited time.Duration)

	statements atomic.Int64
	logins     loginGuard // sign-in throttles and per-account turns (session.go)
	loginPool  *sql.DB    // PostgreSQL's: the shared throttles and accounts' locks (loginshare.go)
	batch      batcher    // group commit of small writes (audit.go)

	// waiters is the -writers file WritersWaiting looks at, opened on first use.
	waitersOnce sync.Once
	waiters     *os.File
}

// Statements returns how many SQL statements both pools have run since Open. Tests use it to
// show that a request's cost does not grow with the number of objects it returns.
func (db *DB) Statements() int64 { return db.statements.Load() }

// WaitingEvery is how often DB.Waiting is called again while a writer waits.
const WaitingEvery = 10 * time.Second

// writerBusyTimeout is how long SQLite itself waits for the write lock on one attempt (its busy
// handler looks at 0, 1, 3, 8 and 18 ms); BeginTx tries again until its context ends. Short
// attempts let a waiting writer see its context (Ctrl-C) and take the lock soon after another
// process lets it go (WritersWaiting, events.Config.Waiting).
const writerBusyTimeout = 20 * time.Millisecond

// openPool opens a pool whose connections count their statements.
func (db *DB) openPool(dsn string) *sql.DB {
	return sql.OpenDB(&connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{}, statements: &db.statements})
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	db := &DB{Path: path, Now: courtside.SystemClock, Logger: slog.New(slog.DiscardHandler)}
	db.batch.db = db
	return db
}

// Open opens both pools and runs the migrations.
func (db *DB) Open() error {
	if db.Path == "" {
		return fmt.Errorf("storage: database path required")
	}
	if db.Postgres() {
		return db.openPostgres()
	}
	if err := restrictFileModes(db.Path, true); err != nil {
		return err
	}
	// _txlock=immediate: every transaction takes the write lock at BEGIN, so two writers never
	// deadlock upgrading a read lock. The writer's busy timeout is short: a writer waits its turn
	// in beginWriter, however long, rather than failing after SQLite's timeout.
	db.Writer = db.openPool(dsn(db.Path, "rwc", "_txlock=immediate", writerBusyTimeout))
	db.Writer.SetMaxOpenConns(1)
	db.Writer.SetMaxIdleConns(1)
	db.Writer.SetConnMaxLifetime(0)
	if err := db.Writer.Ping(); err != nil {
		db.Writer.Close()
		return fmt.Errorf("storage: open %s: %w", db.Path, err)
	}
	// SQLite gives the -wal and -shm files the main file's mode; make sure of it anyway.
	if err := restrictFileModes(db.Path, false); err != nil {
		db.Writer.Close()
		return err
	}
	if err := db.migrate(); err != nil {
		db.Writer.Close()
		return err
	}
	db.Reader = db.openPool(dsn(db.Path, "ro", "", 10*time.Second))
	db.Reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	return nil
}

// DBFileMode is the mode of the database file and its -wal and -shm files: they hold victim
// data (sealed, but with everything else in the clear), so only the service's user may read them.
const DBFileMode fs.FileMode = 0o600

// restrictFileModes gives the database file at path, and its -wal and -shm files when they
// exist, DBFileMode whatever the umask. With create it first creates an empty database file with
// that mode, so that SQLite never creates it with a wider one.
func restrictFileModes(path string, create bool) error {
	if create {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, DBFileMode)
		if err != nil {
			return fmt.Errorf("storage: open %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("storage: open %s: %w", path, err)
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("storage: stat %s: %w", p, err)
		}
		if fi.Mode().Perm() != DBFileMode {
			if err := os.Chmod(p, DBFileMode); err != nil {
				return fmt.Errorf("storage: chmod %s: %w", p, err)
			}
		}
	}
	return nil
}

// dsn builds a go-sqlite3 data source name with the settings of architecture.md.
func dsn(path, mode, extra string, busy time.Duration) string {
	q := url.Values{}
	q.Set("mode", mode)
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	// Each connection keeps its 64 most recent prepared statements: preparing every statement
	// anew was a fifth of a docket import's time (docs/benchmarks.md, profile-driven fixes).
	q.Set("_stmt_cache_size", "64")
	s := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	if extra != "" {
		s += "&" + extra
	}
	return s
}

// migrate brings the schema up to date with the embedded goose migrations.
func (db *DB) migrate() error {
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	// Migrations written side by side may land out of number order; each one stands alone, so a
	// database that has a later one applies an earlier newcomer rather than refusing to start.
	provider, err := goose.NewProvider(goose.DialectSQLite3, db.Writer, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	return db.waitTurn(context.Background(), func() error {
		if _, err := provider.Up(context.Background()); err != nil {
			return fmt.Errorf("storage: migrate: %w", err)
		}
		return nil
	})
}

// migratePostgres brings a PostgreSQL schema up to date with the embedded migrations of its
// own folder, on a plain pgx connection (goose's queries are PostgreSQL's own). goose's session
// lock keeps two processes starting at once from migrating together.
func (db *DB) migratePostgres() error {
	conn, err := sql.Open("pgx", db.Path)
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	defer conn.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, conn, migrations.PostgresFS,
		goose.WithAllowOutofOrder(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	if _, err := provider.Up(context.Background()); err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	return nil
}

// Postgres reports whether the database is PostgreSQL (Path is a postgres:// URL) rather than
// a SQLite file.
func (db *DB) Postgres() bool { return IsPostgresURL(db.Path) }

// Close commits the batched writes still pending, then closes both pools.
func (db *DB) Close() error {
	db.batch.close()
	var errs []error
	if db.waiters != nil {
		errs = append(errs, db.waiters.Close())
	}
	if db.Reader != nil {
		errs = append(errs, db.Reader.Close())
	}
	if db.loginPool != nil {
		errs = append(errs, db.loginPool.Close())
	}
	if db.Writer != nil {
		errs = append(errs, db.Writer.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database is writable: the writer answers and it has room to grow
// (checkSpace).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.Writer.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return db.checkSpace(ctx)
}

// Tx is a write transaction that collects the audit rows and events of one mutation and writes
// them with it.
type Tx struct {
	*sql.Tx
	db     *DB
	now    time.Time
	actor  int64
	events []courtside.Event
	audits []auditRow
}

// BeginTx starts a write transaction for the caller in ctx. While another process holds the
// write lock it waits its turn, however long, until ctx ends (see beginWriter).
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	tx, err := db.beginWriter(ctx)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC(), actor: courtside.UserIDFromContext(ctx)}, nil
}

// beginWriter begins an immediate transaction on the writer, waiting while another process
// holds the write lock: SQLite's busy handler waits writerBusyTimeout, then it tries again, for
// as long as ctx lasts. DB.Waiting hears of a wait. In this process the writer is one
// connection, for which database/sql queues its callers.
func (db *DB) beginWriter(ctx context.Context) (*sql.Tx, error) {
	var tx *sql.Tx
	err := db.waitTurn(ctx, func() error {
		var err error
		tx, err = db.Writer.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: begin: %w", err)
	}
	return tx, nil
}

// execWrite runs a statement that writes outside a transaction, waiting its turn like
// beginWriter.
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.waitTurn(ctx, func() error {
		var err error
		res, err = db.Writer.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// waitTurn runs try until it does not fail with SQLite's "database is locked" or ctx ends,
// calling DB.Waiting while it waits. While it waits, other processes know of it
// (WritersWaiting), so that one working through a backlog lets it go first.
func (db *DB) waitTurn(ctx context.Context, try func() error) error {
	var start time.Time
	told := time.Duration(-1)
	done := func() {}
	defer func() { done() }()
	for {
		err := try()
		if !isBusy(err) {
			return err
		}
		if start.IsZero() {
			start = time.Now()
			done = announceWaiting(db.Path)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for the database: %w", ctx.Err())
		}
		if waited := time.Since(start); db.Waiting != nil && (told < 0 || waited-told >= WaitingEvery) {
			told = waited
			db.Waiting(waited)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the database: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// WritersWaiting reports whether a writer of another process waits for the write lock: the
// event router asks between the transactions of a backlog (events.Config.Waiting) and lets it
// go first.
func (db *DB) WritersWaiting() bool {
	if db.Postgres() {
		// PostgreSQL's writers queue on the advisory lock (writeLockKey) in arrival order.
		return false
	}
	db.waitersOnce.Do(func() {
		f, err := os.OpenFile(db.Path+"-writers", os.O_RDWR|os.O_CREATE, DBFileMode)
		if err == nil {
			db.waiters = f
		}
	})
	return db.waiters != nil && writersWaiting(db.waiters)
}

// isBusy reports whether err is SQLite's "database is locked": another connection holds the
// write lock.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// Event queues an event to be written with the transaction.
func (tx *Tx) Event(ev courtside.Event) {
	if ev.At.IsZero() {
		ev.At = tx.now
	}
	if ev.ActorID == 0 {
		ev.ActorID = tx.actor
	}
	tx.events = append(tx.events, ev)
}

// Audit queues an audit row to be written with the transaction. object names a type and ID
// ("hearing:12"), never a value.
func (tx *Tx) Audit(action, object, outcome string) {
	tx.audits = append(tx.audits, auditRow{action: action, object: object, outcome: outcome, actor: tx.actor})
}

// Commit writes the queued audit rows and events, then commits.
func (tx *Tx) Commit(ctx context.Context) error {
	if err := appendAudit(ctx, tx.Tx, tx.now, tx.audits); err != nil {
		tx.Rollback()
		return err
	}
	if len(tx.events) > 0 {
		if tx.db.Publish == nil {
			tx.Rollback()
			return fmt.Errorf("storage: no event publisher configured")
		}
		for i := range tx.events {
			if tx.events[i].ID == "" {
				tx.events[i].ID = newEventID()
			}
		}
		if err := tx.db.Publish(ctx, tx.Tx, tx.events...); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: publish events: %w", err)
		}
		// The routers of the database's other instances wake at the commit too.
		if err := tx.db.Notify(ctx, tx.Tx, ChannelEvents, ""); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", mapSQLError(err))
	}
	if len(tx.events) > 0 && tx.db.Committed != nil {
		tx.db.Committed()
	}
	return nil
}

// update runs fn in a write transaction and commits it; on error it rolls back, so nothing is
// half-written.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit(ctx)
}

// FormatTime formats t the way the database stores times.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses a stored time.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: bad stored time %q: %w", s, err)
	}
	return t, nil
}

// nullTime formats an optional time for storage.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return FormatTime(*t)
}

// scanTime is a sql.Scanner for stored times, NULL becoming the zero time.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case string:
		t, err := ParseTime(v)
		*s.t = t
		return err
	case []byte:
		t, err := ParseTime(string(v))
		*s.t = t
		return err
	}
	return fmt.Errorf("storage: cannot scan %T as time", v)
}

// scanOptTime is a sql.Scanner for optional stored times.
type scanOptTime struct{ t **time.Time }

func (s scanOptTime) Scan(v any) error {
	if v == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (scanTime{&t}).Scan(v); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// mapSQLError turns constraint violations into ECONFLICT and a full disk into a clean error.
func mapSQLError(err error) error {
	if isPGUniqueViolation(err) {
		return courtside.Errorf(courtside.ECONFLICT, "That already exists.")
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrConstraint:
			if se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
				return courtside.Errorf(courtside.ECONFLICT, "That already exists.")
			}
		case sqlite3.ErrFull:
			return fmt.Errorf("storage: disk full: %w", err)
		}
	}
	return err
}

// placeholders returns "?,?,?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// int64Args converts ids to query arguments.
func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
