package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"courtside"
)

// errorWait is how long the router waits after a batch failed for a reason of its own (a full
// disk, say) before it tries again.
const errorWait = time.Second

// loop runs batches of new events and due retries until Close, waiting between them for a
// wake-up or the poll interval; while it works through a backlog, it goes on at once unless a
// writer of another process waits (yield).
func (r *Router) loop() {
	for !r.stopping() {
		// Take the wake channel before looking, so that a commit during the look is not missed.
		wake := r.wake.C()
		var more bool
		var err error
		// A lane never passes the lanes before it: the groups of Handle see an event only once
		// those of HandleFirst have handled it and committed, even when it was published between
		// the two looks or the first lane stopped early.
		upTo := int64(math.MaxInt64)
		for _, l := range []*lane{&r.first, &r.rest} {
			var again bool
			if again, err = r.batch(l, upTo); err != nil {
				break
			}
			more = more || again
			if len(l.groups) > 0 {
				upTo = l.seen
			}
		}
		if err == nil {
			var again bool
			again, err = r.retries()
			more = more || again
		}
		if r.stopping() {
			return
		}
		wait := r.cfg.PollInterval
		switch {
		case err != nil:
			r.logger.LogAttrs(context.Background(), slog.LevelError, "events: batch failed; trying again",
				slog.String("error", err.Error()), slog.Duration("in", errorWait))
			wake, wait = nil, errorWait
		case more:
			r.yield()
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-wake:
		case <-t.C:
		case <-r.quit:
		}
		t.Stop()
	}
}

// yield lets a writer of another process that waits for the write lock go first: it returns
// once no writer waits any more (it has begun its transaction), after Config.MaxYield at most,
// or at Close.
func (r *Router) yield() {
	if r.cfg.Waiting == nil || !r.cfg.Waiting() {
		return
	}
	deadline := time.Now().Add(r.cfg.MaxYield)
	for r.cfg.Waiting() && time.Now().Before(deadline) {
		select {
		case <-r.quit:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// eventRow is an event as the batch reads it.
type eventRow struct {
	id      int64
	uuid    string
	payload []byte
}

// batch hands the events after the slowest offset of the lane's groups, up to the event upTo,
// to each of them in one transaction, and reports whether more events are waiting. It begins no
// transaction when the log holds nothing newer than what every group of the lane has seen.
func (r *Router) batch(l *lane, upTo int64) (more bool, err error) {
	if len(l.groups) == 0 {
		return false, nil
	}
	ctx := context.WithoutCancel(r.ctx)
	var newest int64
	if err := r.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE topic = ?`, courtside.EventTopic).Scan(&newest); err != nil {
		return false, fmt.Errorf("events: newest event: %w", err)
	}
	newest = min(newest, upTo)
	if newest <= l.seen {
		return false, nil
	}
	tx, err := r.begin()
	if err != nil || tx == nil {
		return false, err
	}
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
	}()
	offsets, err := readOffsets(ctx, tx)
	if err != nil {
		return false, err
	}
	held, err := heldKeys(ctx, tx)
	if err != nil {
		return false, err
	}
	from := int64(-1)
	for _, g := range l.groups {
		if from < 0 || offsets[g.name] < from {
			from = offsets[g.name]
		}
	}
	rows, err := readEvents(ctx, tx, from, newest, r.cfg.BatchSize)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("events: commit: %w", err)
		}
		tx, l.seen = nil, from
		return false, nil
	}

	start := time.Now()
	moved := map[*group]int64{}
	var logs []func()
	last := from
	for i, row := range rows {
		// Hold the writer no longer than BatchTime, and stop taking events at Close; the events
		// handled so far commit.
		if i > 0 && (time.Since(start) >= r.cfg.BatchTime || r.stopping()) {
			more = true
			break
		}
		ev, decodeErr := decodeEvent(row.uuid, row.payload)
		key := orderKey(ev, row.uuid)
		for _, g := range l.groups {
			if row.id <= offsets[g.name] {
				continue
			}
			switch {
			case held[g.name][key]:
				// An earlier event about the same thing waits for a retry: this one waits
				// behind it, so that the group sees them in order.
				if err := r.setAside(ctx, tx, g, row, key, 0, nil); err != nil {
					return false, err
				}
			default:
				failed := decodeErr
				if failed == nil {
					var err error
					if failed, err = savepoint(ctx, tx, func() error { return r.call(ctx, tx, g, ev) }); err != nil {
						return false, err // the transaction is lost: nothing of the batch commits
					}
				}
				if failed != nil {
					if err := r.setAside(ctx, tx, g, row, key, 1, failed); err != nil {
						return false, err
					}
					if held[g.name] == nil {
						held[g.name] = map[string]bool{}
					}
					held[g.name][key] = true
					logs = append(logs, r.setAsideLog(g, row.uuid, ev, failed))
				}
			}
			offsets[g.name] = row.id
			moved[g] = row.id
		}
		last = row.id
	}
	if err := advance(ctx, tx, moved); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("events: commit: %w", err)
	}
	tx, l.seen = nil, last
	for g := range moved {
		g.handled.Notify()
	}
	for _, l := range logs {
		l()
	}
	return more || len(rows) == r.cfg.BatchSize, nil
}

// advance moves each group's offset to the id given, never back, in one statement.
func advance(ctx context.Context, tx *sql.Tx, moved map[*group]int64) error {
	if len(moved) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(moved))
	for g, id := range moved {
		args = append(args, g.name, courtside.EventTopic, id)
	}
	q := `INSERT INTO event_offsets (consumer_group, topic, last_id) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(moved)), ",") +
		` ON CONFLICT (consumer_group, topic) DO UPDATE SET last_id =
		CASE WHEN excluded.last_id > event_offsets.last_id THEN excluded.last_id ELSE event_offsets.last_id END`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("events: advance offsets: %w", err)
	}
	return nil
}

// begin starts a write transaction, waiting for as long as another process holds the write
// lock. It returns a nil transaction when the router closes while it waits.
func (r *Router) begin() (*sql.Tx, error) {
	waiting := false
	for {
		tx, err := r.db.BeginTx(r.ctx, nil)
		if err == nil {
			return tx, nil
		}
		if r.stopping() || r.ctx.Err() != nil {
			return nil, nil
		}
		if !IsBusy(err) {
			return nil, fmt.Errorf("events: begin: %w", err)
		}
		if !waiting {
			waiting = true
			r.logger.LogAttrs(context.Background(), slog.LevelInfo, "events: waiting for the database: another process is writing")
		}
		// The connection's busy timeout has waited already; this pause only keeps a database
		// opened without one from spinning.
		select {
		case <-r.quit:
			return nil, nil
		case <-time.After(time.Millisecond):
		}
	}
}

// IsBusy reports whether err is SQLite's "database is locked": another connection holds the
// write lock.
func IsBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// readOffsets returns each consumer group's offset.
func readOffsets(ctx context.Context, tx *sql.Tx) (map[string]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT consumer_group, last_id FROM event_offsets WHERE topic = ?`, courtside.EventTopic)
	if err != nil {
		return nil, fmt.Errorf("events: offsets: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var g string
		var id int64
		if err := rows.Scan(&g, &id); err != nil {
			return nil, fmt.Errorf("events: offsets: %w", err)
		}
		out[g] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: offsets: %w", err)
	}
	return out, nil
}

// heldKeys returns, per consumer group, the order keys that have an event waiting for a retry.
func heldKeys(ctx context.Context, tx *sql.Tx) (map[string]map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT consumer_group, order_key FROM event_retries`)
	if err != nil {
		return nil, fmt.Errorf("events: held keys: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var g, key string
		if err := rows.Scan(&g, &key); err != nil {
			return nil, fmt.Errorf("events: held keys: %w", err)
		}
		if out[g] == nil {
			out[g] = map[string]bool{}
		}
		out[g][key] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: held keys: %w", err)
	}
	return out, nil
}

// readEvents returns up to limit events after the id from and up to the id to, in order.
func readEvents(ctx context.Context, tx *sql.Tx, from, to int64, limit int) ([]eventRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, uuid, payload FROM events WHERE topic = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
		courtside.EventTopic, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("events: read events: %w", err)
	}
	defer rows.Close()
	out := make([]eventRow, 0, limit)
	for rows.Next() {
		var e eventRow
		if err := rows.Scan(&e.id, &e.uuid, &e.payload); err != nil {
			return nil, fmt.Errorf("events: read events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: read events: %w", err)
	}
	return out, nil
}
