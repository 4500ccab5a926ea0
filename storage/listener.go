package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The channels of PostgreSQL's LISTEN/NOTIFY on which the instances of one database tell each
// other what they committed. A notification is sent inside its transaction, so it is delivered
// when (and only if) the transaction commits.
const (
	// ChannelEvents: a transaction appended events to the log. Every instance's router wakes at
	// once rather than at its next poll. No payload.
	ChannelEvents = "courtside_events"
	// ChannelLive: an instance's live feed handed an event to its GraphQL subscriptions. The
	// payload is "<instance> <event ID>"; the other instances read the event from the log and
	// hand it to theirs.
	ChannelLive = "courtside_live"
)

// Notify sends payload on channel within tx, to be delivered when tx commits. It does nothing
// on SQLite, whose one service learns of its commits in process.
func (db *DB) Notify(ctx context.Context, tx *sql.Tx, channel, payload string) error {
	if !db.Postgres() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload); err != nil {
		return fmt.Errorf("storage: notify %s: %w", channel, err)
	}
	return nil
}

// listenRetry is how long Listen waits before it connects again after losing its connection.
const listenRetry = time.Second

// Listen follows the notifications of channels on a connection of its own until ctx ends,
// calling fn with each one's channel and payload, one at a time. When the connection fails it
// connects again after listenRetry, and calls fn("", "") once it listens again: notifications
// sent in between are lost, so a receiver then looks for itself. On SQLite it returns at once.
// failed, when not nil, is told of each failure.
func (db *DB) Listen(ctx context.Context, channels []string, fn func(channel, payload string), failed func(error)) {
	if !db.Postgres() {
		return
	}
	for first := true; ctx.Err() == nil; first = false {
		err := db.listenOnce(ctx, channels, fn, !first)
		if ctx.Err() != nil {
			return
		}
		if failed != nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce connects, listens on channels and hands notifications to fn until the connection
// fails or ctx ends.
func (db *DB) listenOnce(ctx context.Context, channels []string, fn func(channel, payload string), again bool) error {
	cfg, err := pgx.ParseConfig(db.Path)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", redactURL(db.Path), err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("storage: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("storage: listen %s: %w", ch, err)
		}
	}
	if again {
		fn("", "")
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("storage: listen: %w", err)
		}
		fn(n.Channel, n.Payload)
	}
}
