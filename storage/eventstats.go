package storage

import (
	"context"
	"fmt"

	"courtside"
)

// EventBacklog returns, for each consumer group in groups, how many events of the log come
// after the group's offset: the work the running service still has to do for it (a group
// that never acknowledged an event has the whole log ahead of it). It reads the read pool.
func (db *DB) EventBacklog(ctx context.Context, groups ...string) (map[string]int64, error) {
	out := make(map[string]int64, len(groups))
	for _, g := range groups {
		var n int64
		err := db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE topic = ?
			AND id > COALESCE((SELECT last_id FROM event_offsets WHERE consumer_group = ? AND topic = ?), 0)`,
			courtside.EventTopic, g, courtside.EventTopic).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("storage: event backlog of %s: %w", g, err)
		}
		out[g] = n
	}
	return out, nil
}

// CountDeadLetters returns how many events a consumer group gave up on: the rows of
// event_dead_letters.
func (db *DB) CountDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	if err := db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM event_dead_letters`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: count dead letters: %w", err)
	}
	return n, nil
}

// CountLeasedDeliveries returns how many pending deliveries a delivery worker holds leased
// now: being sent, or left by a worker that stopped until their lease runs out.
func (db *DB) CountLeasedDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE status = 'PENDING' AND COALESCE(lease_until, '') > ?`,
		FormatTime(db.Now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: count leased deliveries: %w", err)
	}
	return n, nil
}
