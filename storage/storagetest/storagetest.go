// Package storagetest opens real SQLite databases for other packages' tests and runs event
// handlers over their event logs the way the router does.
package storagetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// Open opens a fresh database (Path: a SQLite file in a temporary directory, or a PostgreSQL
// database under COURTSIDE_TEST_ENGINE=postgres), with migrations run, the event
// publisher wired, a zero test key and the clock now; it is closed when the test ends.
func Open(tb testing.TB, now func() time.Time) *storage.DB {
	tb.Helper()
	db := storage.NewDB(Path(tb))
	db.Publish = events.PublishTx
	var err error
	if db.Sealer, err = storage.NewSealer(make([]byte, 32)); err != nil {
		tb.Fatal(err)
	}
	db.Now = now
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Handler is an event handler of the router's shape.
type Handler func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error

// Drain runs handlers over the events after *last, each event in its own transaction on the
// writer as the router runs it, and moves *last on. It returns how many events it handled.
func Drain(tb testing.TB, db *storage.DB, last *int64, handlers ...Handler) int {
	tb.Helper()
	ctx := context.Background()
	rows, err := db.Writer.QueryContext(ctx, `SELECT id, payload FROM events WHERE id > ? ORDER BY id`, *last)
	if err != nil {
		tb.Fatal(err)
	}
	type row struct {
		id int64
		ev courtside.Event
	}
	var evs []row
	for rows.Next() {
		var r row
		var payload []byte
		if err := rows.Scan(&r.id, &payload); err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(payload, &r.ev); err != nil {
			tb.Fatal(err)
		}
		evs = append(evs, r)
	}
	rows.Close()
	for _, r := range evs {
		tx, err := db.Writer.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for _, h := range handlers {
			if err := h(ctx, tx, r.ev); err != nil {
				tx.Rollback()
				tb.Fatalf("%s: %v", r.ev.Type, err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
		*last = r.id
	}
	return len(evs)
}
