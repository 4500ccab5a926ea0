package events

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"courtside"
)

// Parked is an event a consumer group gave up on after Config.MaxAttempts tries: a row of
// event_dead_letters. It carries identifiers and the handler's error, never victim data.
type Parked struct {
	ID        int64 // the row's ID, which RequeueParked takes
	Group     string
	EventID   string
	Type      courtside.EventType
	HearingID int64
	Attempts  int
	Error     string
	ParkedAt  time.Time
}

// ListParked returns the parked events, oldest first.
func ListParked(ctx context.Context, db *sql.DB) ([]Parked, error) {
	rows, err := db.QueryContext(ctx, `SELECT d.id, d.consumer_group, d.event_uuid,
			e.payload, d.attempts, d.error, d.at
		FROM event_dead_letters d LEFT JOIN events e ON e.uuid = d.event_uuid ORDER BY d.id`)
	if err != nil {
		return nil, fmt.Errorf("events: parked events: %w", err)
	}
	defer rows.Close()
	var out []Parked
	for rows.Next() {
		var p Parked
		var at string
		var payload []byte
		if err := rows.Scan(&p.ID, &p.Group, &p.EventID, &payload, &p.Attempts, &p.Error, &at); err != nil {
			return nil, fmt.Errorf("events: parked events: %w", err)
		}
		// The type and hearing are read from the event itself; one that does not decode (or
		// left the log) lists without them.
		if ev, err := decodeEvent(p.EventID, payload); err == nil {
			p.Type, p.HearingID = ev.Type, ev.HearingID
		}
		if p.ParkedAt, err = time.Parse(timeFormat, at); err != nil {
			return nil, fmt.Errorf("events: parked event %d: bad time %q", p.ID, at)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: parked events: %w", err)
	}
	return out, nil
}

// RequeueParked sets the parked events ids (all of them when ids is empty) aside again, due at
// now, and removes them from event_dead_letters, inside tx: a running router retries them at
// its next poll, else the next one at its start, with a fresh count of attempts. Each goes to
// the back of its line: behind events about the same hearing that wait for a retry too. It
// returns the requeued events; an ID that is not parked is ENOTFOUND and requeues nothing.
func RequeueParked(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) ([]Parked, error) {
	q := `SELECT d.id, d.consumer_group, d.event_uuid, d.attempts, d.error, e.id, e.payload
		FROM event_dead_letters d LEFT JOIN events e ON e.uuid = d.event_uuid`
	var args []any
	if len(ids) > 0 {
		q += ` WHERE d.id IN (` + placeholders(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("events: requeue: %w", err)
	}
	type parkedRow struct {
		Parked
		eventID sql.NullInt64
		payload []byte
	}
	var found []parkedRow
	for rows.Next() {
		var p parkedRow
		if err := rows.Scan(&p.ID, &p.Group, &p.EventID, &p.Attempts, &p.Error, &p.eventID, &p.payload); err != nil {
			rows.Close()
			return nil, fmt.Errorf("events: requeue: %w", err)
		}
		found = append(found, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: requeue: %w", err)
	}
	if len(ids) > 0 {
		have := map[int64]bool{}
		for _, p := range found {
			have[p.ID] = true
		}
		for _, id := range ids {
			if !have[id] {
				return nil, courtside.Errorf(courtside.ENOTFOUND, "No parked event %d.", id)
			}
		}
	}
	out := make([]Parked, 0, len(found))
	for _, p := range found {
		if !p.eventID.Valid {
			return nil, fmt.Errorf("events: requeue %d: event %s is not in the log", p.ID, p.EventID)
		}
		// An event that does not decode is requeued all the same (under a key of its own): its
		// retries park it again, with the decoding error.
		ev, _ := decodeEvent(p.EventID, p.payload)
		p.Type, p.HearingID = ev.Type, ev.HearingID
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_retries (consumer_group, event_id, order_key, attempts, next_at, last_error, created_at)
			VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (consumer_group, event_id) DO NOTHING`,
			p.Group, p.eventID.Int64, orderKey(ev, p.EventID), formatTime(now), p.Error, formatTime(now)); err != nil {
			return nil, fmt.Errorf("events: requeue %d: %w", p.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_dead_letters WHERE id = ?`, p.ID); err != nil {
			return nil, fmt.Errorf("events: requeue %d: %w", p.ID, err)
		}
		out = append(out, p.Parked)
	}
	return out, nil
}

// DeadLetters returns how many events are parked: the gauge courtside_event_dead_letters.
func DeadLetters(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM event_dead_letters`).Scan(&n); err != nil {
		return 0, fmt.Errorf("events: dead letters: %w", err)
	}
	return n, nil
}

// GroupBacklog is what one consumer group has still to do.
type GroupBacklog struct {
	Group string
	// Pending is how many events after the group's offset it has not looked at yet.
	Pending int64
	// Retrying is how many events it set aside after a failure (or behind one), waiting for a
	// retry.
	Retrying int64
	// Parked is how many events it gave up on.
	Parked int64
}

// Backlog returns the backlog of every consumer group the database knows (those with an
// offset, a set-aside or a parked event), by name: the gauges of the event router's backlog.
// Use the read pool.
func Backlog(ctx context.Context, db *sql.DB) ([]GroupBacklog, error) {
	rows, err := db.QueryContext(ctx, `WITH groups (name) AS (
			SELECT consumer_group FROM event_offsets WHERE topic = ?1
			UNION SELECT consumer_group FROM event_retries
			UNION SELECT consumer_group FROM event_dead_letters)
		SELECT g.name,
			(SELECT count(*) FROM events e WHERE e.topic = ?1 AND e.id >
				COALESCE((SELECT last_id FROM event_offsets o WHERE o.consumer_group = g.name AND o.topic = ?1), 0)),
			(SELECT count(*) FROM event_retries r WHERE r.consumer_group = g.name),
			(SELECT count(*) FROM event_dead_letters d WHERE d.consumer_group = g.name)
		FROM groups g ORDER BY g.name`, courtside.EventTopic)
	if err != nil {
		return nil, fmt.Errorf("events: backlog: %w", err)
	}
	defer rows.Close()
	var out []GroupBacklog
	for rows.Next() {
		var b GroupBacklog
		if err := rows.Scan(&b.Group, &b.Pending, &b.Retrying, &b.Parked); err != nil {
			return nil, fmt.Errorf("events: backlog: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: backlog: %w", err)
	}
	return out, nil
}

// placeholders returns "?,?,?" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}
