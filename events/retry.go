package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"courtside"
)

// timeFormat is how the event tables store times: UTC, fixed width, so that they sort as
// strings (storage.TimeFormat).
const timeFormat = "2006-01-02T15:04:05.000Z"

// formatTime formats t the way the event tables store times.
func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// Backoff returns how long a consumer group waits before trying an event again after its
// failures-th failure: cfg.RetryBase after the first, doubling after each further one, at most
// cfg.RetryMax.
func (cfg Config) Backoff(failures int) time.Duration {
	d := cfg.RetryBase
	for i := 1; i < failures && d < cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, cfg.RetryMax)
}

// setAside records that group g has yet to handle the event row: after attempts failed tries
// (0 for an event that waits behind an earlier one about the same thing), to be tried again
// after the backoff. It runs in the batch's transaction, with the group's new offset.
func (r *Router) setAside(ctx context.Context, tx *sql.Tx, g *group, row eventRow, key string, attempts int, failed error) error {
	now := r.cfg.Now()
	next, text := now, ""
	if failed != nil {
		next, text = now.Add(r.cfg.Backoff(attempts)), errorText(failed)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO event_retries (consumer_group, event_id, order_key, attempts, next_at, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (consumer_group, event_id) DO NOTHING`,
		g.name, row.id, key, attempts, formatTime(next), text, formatTime(now)); err != nil {
		return fmt.Errorf("events: set aside %s for %s: %w", row.uuid, g.name, err)
	}
	return nil
}

// setAsideLog returns the log line of an event set aside after its first failure.
func (r *Router) setAsideLog(g *group, uuid string, ev courtside.Event, failed error) func() {
	return func() {
		r.logger.LogAttrs(context.Background(), slog.LevelWarn, "events: handler failed; the event is set aside to be retried",
			slog.String("group", g.name), slog.String("event", uuid), slog.String("type", string(ev.Type)),
			slog.Int64("hearing", ev.HearingID), slog.Int("attempt", 1), slog.Duration("retry_in", r.cfg.Backoff(1)),
			slog.String("error", errorText(failed)))
	}
}

// retryRow is an event set aside for a group.
type retryRow struct {
	id       int64
	group    string
	key      string
	attempts int
	failed   bool // it failed before, here or before it was parked and requeued
	event    eventRow
}

// retries tries the set-aside events that are due, each first in its line (the oldest of its
// group and order key), in one transaction: as many as Config.BatchTime and BatchSize allow. It
// reports whether more may be due.
func (r *Router) retries() (more bool, err error) {
	if len(r.groups) == 0 {
		return false, nil
	}
	ctx := context.WithoutCancel(r.ctx)
	now := r.cfg.Now()
	if _, ok, err := r.nextRetry(ctx, r.db, now); err != nil || !ok {
		return false, err
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
	start := time.Now()
	handled := map[*group]bool{}
	var logs []func()
	for n := 0; ; n++ {
		if n > 0 && (time.Since(start) >= r.cfg.BatchTime || n >= r.cfg.BatchSize || r.stopping()) {
			more = true
			break
		}
		rr, ok, err := r.nextRetry(ctx, tx, now)
		if err != nil {
			return false, err
		}
		if !ok {
			break
		}
		g := r.byName[rr.group]
		ev, failed := decodeEvent(rr.event.uuid, rr.event.payload)
		if failed == nil {
			if failed, err = savepoint(ctx, tx, func() error { return r.call(ctx, tx, g, ev) }); err != nil {
				return false, err // the transaction is lost: nothing of it commits
			}
		}
		attempts := rr.attempts + 1
		switch {
		case failed == nil:
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_retries WHERE id = ?`, rr.id); err != nil {
				return false, fmt.Errorf("events: retried %s: %w", rr.event.uuid, err)
			}
			handled[g] = true
			if rr.failed {
				logs = append(logs, func() {
					r.logger.LogAttrs(context.Background(), slog.LevelInfo, "events: event handled on retry",
						slog.String("group", g.name), slog.String("event", rr.event.uuid), slog.String("type", string(ev.Type)),
						slog.Int("attempt", attempts))
				})
			}
		case attempts >= r.cfg.MaxAttempts:
			text := errorText(failed)
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_dead_letters (consumer_group, event_uuid, error, attempts, at) VALUES (?, ?, ?, ?, ?)`,
				g.name, rr.event.uuid, text, attempts, formatTime(now)); err != nil {
				return false, fmt.Errorf("events: park %s: %w", rr.event.uuid, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_retries WHERE id = ?`, rr.id); err != nil {
				return false, fmt.Errorf("events: park %s: %w", rr.event.uuid, err)
			}
			logs = append(logs, func() {
				r.logger.LogAttrs(context.Background(), slog.LevelError, "events: event parked; `courtside events failed` lists it and `courtside events retry` requeues it",
					slog.String("group", g.name), slog.String("event", rr.event.uuid), slog.String("type", string(ev.Type)),
					slog.Int64("hearing", ev.HearingID), slog.Int("attempts", attempts), slog.String("error", text))
			})
		default:
			wait := r.cfg.Backoff(attempts)
			text := errorText(failed)
			if _, err := tx.ExecContext(ctx, `UPDATE event_retries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?`,
				attempts, formatTime(now.Add(wait)), text, rr.id); err != nil {
				return false, fmt.Errorf("events: retry %s later: %w", rr.event.uuid, err)
			}
			logs = append(logs, func() {
				r.logger.LogAttrs(context.Background(), slog.LevelWarn, "events: handler failed again; retrying later",
					slog.String("group", g.name), slog.String("event", rr.event.uuid), slog.String("type", string(ev.Type)),
					slog.Int64("hearing", ev.HearingID), slog.Int("attempt", attempts), slog.Duration("retry_in", wait),
					slog.String("error", text))
			})
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("events: commit retries: %w", err)
	}
	tx = nil
	for g := range handled {
		g.handled.Notify()
	}
	for _, l := range logs {
		l()
	}
	return more, nil
}

// querier is what nextRetry reads through: the writer pool for a look without a transaction,
// or the retries' transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nextRetry returns the set-aside event to try next: of the registered groups, first in its
// line and due at now; ok is false when there is none.
func (r *Router) nextRetry(ctx context.Context, q querier, now time.Time) (rr retryRow, ok bool, err error) {
	names := make([]any, 0, len(r.groups)+1)
	names = append(names, formatTime(now))
	for _, g := range r.groups {
		names = append(names, g.name)
	}
	err = q.QueryRowContext(ctx, `SELECT r.id, r.consumer_group, r.order_key, r.attempts, r.last_error <> '', e.id, e.uuid, e.payload
		FROM event_retries r JOIN events e ON e.id = r.event_id
		WHERE r.next_at <= ? AND r.consumer_group IN (`+placeholders(len(r.groups))+`)
			AND NOT EXISTS (SELECT 1 FROM event_retries s WHERE s.consumer_group = r.consumer_group
				AND s.order_key = r.order_key AND s.event_id < r.event_id)
		ORDER BY r.next_at, r.event_id LIMIT 1`, names...).Scan(
		&rr.id, &rr.group, &rr.key, &rr.attempts, &rr.failed, &rr.event.id, &rr.event.uuid, &rr.event.payload)
	if errors.Is(err, sql.ErrNoRows) {
		return rr, false, nil
	}
	if err != nil {
		return rr, false, fmt.Errorf("events: due retries: %w", err)
	}
	return rr, true, nil
}
