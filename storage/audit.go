package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"courtside"
)

// AuditService is the database's service for reading and verifying the audit log.
type AuditService struct {
	db *DB
}

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// auditRow is an audit entry waiting to be written with its transaction; actor is the acting
// user (0 for the system or an unknown caller).
type auditRow struct {
	action, object, outcome string
	actor                   int64
}

// appendAudit writes the rows, hash-chained after the last row of the log. It reads the chain's
// end once, however many rows one transaction writes.
func appendAudit(ctx context.Context, tx *sql.Tx, at time.Time, rows []auditRow) error {
	if len(rows) == 0 {
		return nil
	}
	var last int64
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: audit chain: %w", err)
	}
	// The rows go in chunks of auditChunk per INSERT: a bulk import writes one per hearing, and
	// one statement per row was a large part of its time. The time is formatted once.
	atText := FormatTime(at)
	args := make([]any, 0, 8*min(len(rows), auditChunk))
	for start := 0; start < len(rows); start += auditChunk {
		chunk := rows[start:min(start+auditChunk, len(rows))]
		args = args[:0]
		for i, a := range chunk {
			e := courtside.AuditEntry{ID: last + 1 + int64(start+i), At: at, ActorID: a.actor, Action: a.action, Object: a.object, Outcome: a.outcome, PrevHash: prev}
			e.Hash = auditHashAt(&e, atText)
			var actorArg any
			if a.actor != 0 {
				actorArg = a.actor
			}
			args = append(args, e.ID, atText, actorArg, e.Action, e.Object, e.Outcome, e.PrevHash, e.Hash)
			prev = e.Hash
		}
		q := auditInsert
		if len(chunk) < auditChunk {
			q = auditInsertRows(len(chunk))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("storage: insert audit: %w", err)
		}
	}
	return nil
}

// auditChunk is how many audit rows one INSERT carries (8 parameters each, far below
// SQLite's limit of 32766 bound parameters).
const auditChunk = 200

// auditInsert is the INSERT of a full chunk of audit rows; being always the same text, it
// stays in the connection's statement cache.
var auditInsert = auditInsertRows(auditChunk)

// auditInsertRows returns an INSERT of n audit rows.
func auditInsertRows(n int) string {
	return `INSERT INTO audit_log (id, at, actor_id, action, object, outcome, prev_hash, hash) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?,?,?,?,?,?,?,?),`, n), ",")
}

// auditHash is the chain hash of an entry: SHA-256 over the previous hash and the entry's fields.
func auditHash(e *courtside.AuditEntry) string { return auditHashAt(e, FormatTime(e.At)) }

// auditHashAt is auditHash with the entry's time already formatted.
func auditHashAt(e *courtside.AuditEntry, at string) string {
	h := sha256.New()
	for _, s := range []string{e.PrevHash, strconv.FormatInt(e.ID, 10), at,
		strconv.FormatInt(e.ActorID, 10), e.Action, e.Object, e.Outcome} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit writes a standalone audit row (a read, a denied attempt, a login) in its own
// transaction.
func (db *DB) Audit(ctx context.Context, action, object, outcome string) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	tx.Audit(action, object, outcome)
	return tx.Commit(ctx)
}

// FindAuditEntries returns the audit log, oldest first.
func (s *AuditService) FindAuditEntries(ctx context.Context) ([]*courtside.AuditEntry, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, at, COALESCE(actor_id, 0), action, object, outcome, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	defer rows.Close()
	var out []*courtside.AuditEntry
	for rows.Next() {
		var e courtside.AuditEntry
		if err := rows.Scan(&e.ID, scanTime{&e.At}, &e.ActorID, &e.Action, &e.Object, &e.Outcome, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("storage: audit log: %w", err)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// VerifyAudit walks the audit chain and returns an error naming the first row that was
// changed, or after which a row was removed.
func (s *AuditService) VerifyAudit(ctx context.Context) (int, error) {
	entries, err := s.FindAuditEntries(ctx)
	if err != nil {
		return 0, err
	}
	prev := ""
	for i, e := range entries {
		if e.ID != int64(i+1) {
			return i, fmt.Errorf("audit row %d is missing", i+1)
		}
		if e.PrevHash != prev || auditHash(e) != e.Hash {
			return i, fmt.Errorf("audit row %d does not match its hash chain", e.ID)
		}
		prev = e.Hash
	}
	return len(entries), nil
}

// DefaultAuditPage and MaxAuditPage bound a page of ListAuditEntries.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// ListAuditEntries returns a page of the audit log for an admin, newest first: up to first
// entries (DefaultAuditPage when first <= 0, at most MaxAuditPage) with ids below before (all
// when before <= 0), with each actor's username. hasMore says whether older entries remain.
// Anyone but an admin gets FORBIDDEN, itself audited. Reading the log is audited too.
func (s *AuditService) ListAuditEntries(ctx context.Context, first int, before int64) (entries []*courtside.AuditEntry, hasMore bool, err error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	if u.Role != courtside.RoleAdmin {
		if err := s.db.Audit(ctx, "audit.read", "audit_log", courtside.OutcomeDenied); err != nil {
			return nil, false, err
		}
		return nil, false, courtside.Errorf(courtside.EFORBIDDEN, "Only an admin may read the audit log.")
	}
	if first <= 0 {
		first = DefaultAuditPage
	}
	first = min(first, MaxAuditPage)
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT a.id, a.at, COALESCE(a.actor_id, 0), COALESCE(u.username, ''), a.action, a.object, a.outcome, a.prev_hash, a.hash
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`, before, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("storage: audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e courtside.AuditEntry
		if err := rows.Scan(&e.ID, scanTime{&e.At}, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.Outcome, &e.PrevHash, &e.Hash); err != nil {
			return nil, false, fmt.Errorf("storage: audit log: %w", err)
		}
		entries = append(entries, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("storage: audit log: %w", err)
	}
	if len(entries) > first {
		entries, hasMore = entries[:first], true
	}
	if err := s.db.Audit(ctx, "audit.read", "audit_log", courtside.OutcomeOK); err != nil {
		return nil, false, err
	}
	return entries, hasMore, nil
}

// Group commit. Sign-in attempts and the last use of secrets each write a little (an audit
// row, a failure, a time) and come in bursts; one immediate transaction apiece would queue them
// all behind the single writer. They go to the batcher instead, which runs every job that
// arrived within batchDelay of the first in one transaction. A caller that must know its write
// is durable (every sign-in attempt, so that it stays audited) waits for that commit: a few
// milliseconds, shared by the whole burst.

// batchDelay is how long the batcher gathers jobs after the first of a batch arrives.
const batchDelay = 5 * time.Millisecond

// maxBatchJobs caps the jobs of one transaction.
const maxBatchJobs = 500

// batchJob is one small write: fn runs in the batch's transaction as actor. done, when not
// nil, receives the outcome of the commit.
type batchJob struct {
	actor int64
	fn    func(ctx context.Context, tx *Tx) error
	done  chan error
}

// batcher runs batchJobs in shared transactions, in the order they were submitted.
type batcher struct {
	db *DB

	mu      sync.Mutex
	pending []batchJob
	taken   int           // jobs of the batch being run
	running bool          // the loop goroutine runs
	closed  bool          // close was called: submit refuses
	wake    chan struct{} // signalled when pending goes from empty to not
	idle    chan struct{} // closed when the loop exits

	transactions atomic.Int64 // batch transactions run, for tests
}

// errBatcherClosed refuses jobs after Close.
var errBatcherClosed = errors.New("storage: closed")

// submit queues job; it starts the loop on first use.
func (b *batcher) submit(job batchJob) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errBatcherClosed
	}
	if !b.running {
		b.running = true
		b.wake = make(chan struct{}, 1)
		b.idle = make(chan struct{})
		go b.loop(b.wake, b.idle)
	}
	b.pending = append(b.pending, job)
	if len(b.pending) == 1 {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// do runs fn as actor in the next batch and waits for its commit, or for ctx to end (the job
// still runs then).
func (b *batcher) do(ctx context.Context, actor int64, fn func(ctx context.Context, tx *Tx) error) error {
	done := make(chan error, 1)
	if err := b.submit(batchJob{actor: actor, fn: fn, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop runs batches until close has been called and nothing is pending.
func (b *batcher) loop(wake <-chan struct{}, idle chan<- struct{}) {
	defer close(idle)
	timer := time.NewTimer(batchDelay)
	timer.Stop()
	for {
		b.mu.Lock()
		empty, closed := len(b.pending) == 0, b.closed
		b.mu.Unlock()
		if empty {
			if closed {
				return
			}
			<-wake
			// Gather what else arrives within batchDelay, unless closing.
			b.mu.Lock()
			closed = b.closed
			b.mu.Unlock()
			if !closed {
				timer.Reset(batchDelay)
				<-timer.C
			}
		}
		b.mu.Lock()
		n := min(len(b.pending), maxBatchJobs)
		jobs := b.pending[:n:n]
		b.pending = append([]batchJob(nil), b.pending[n:]...)
		b.taken = n
		b.mu.Unlock()
		if len(jobs) > 0 {
			b.run(jobs)
		}
		b.mu.Lock()
		b.taken = 0
		b.mu.Unlock()
	}
}

// run commits jobs in one transaction. When that fails, each job runs again in a transaction
// of its own, so that one bad job does not sink the others.
func (b *batcher) run(jobs []batchJob) {
	ctx := context.Background()
	b.transactions.Add(1)
	err := b.db.update(ctx, func(tx *Tx) error {
		for _, j := range jobs {
			tx.actor = j.actor
			if err := j.fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(jobs) == 1 {
		if err != nil {
			b.db.Logger.Error("storage: batched write", "err", err)
		}
		for _, j := range jobs {
			if j.done != nil {
				j.done <- err
			}
		}
		return
	}
	for _, j := range jobs {
		b.run([]batchJob{j})
	}
}

// close runs what is pending and stops the loop; later submits fail.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	running, wake, idle := b.running, b.wake, b.idle
	b.mu.Unlock()
	if !running {
		return
	}
	select {
	case wake <- struct{}{}:
	default:
	}
	<-idle
}
