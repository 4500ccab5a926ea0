package events_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/pgtest"
	"courtside/storage/storagetest"
)

// TestMain stops the throwaway PostgreSQL server when the tests ran on it
// (COURTSIDE_TEST_ENGINE=postgres).
func TestMain(m *testing.M) { pgtest.Main(m) }

// MustOpenDB opens a migrated database (a file in a temporary directory, or a PostgreSQL
// database under COURTSIDE_TEST_ENGINE=postgres), publishing with PublishTx.
func MustOpenDB(tb testing.TB) *storage.DB {
	tb.Helper()
	db := storage.NewDB(storagetest.Path(tb))
	db.Publish = events.PublishTx
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// event returns a test event with the given ID.
func event(id string) courtside.Event {
	return courtside.Event{ID: id, Type: courtside.EventHearingScheduled, HearingID: 7, CaseID: 3}
}

// eventIDs returns n event IDs with prefix.
func eventIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return ids
}

// publish commits one transaction carrying an event for each of ids.
func publish(tb testing.TB, db *storage.DB, ids ...string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		tx.Event(event(id))
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

// testLogger logs warnings and errors to the test's output.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestPublishTx(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	want := courtside.Event{ID: "ev-1", Type: courtside.EventHearingChanged, At: at, ActorID: 2, HearingID: 9, Sequence: 3}

	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := events.PublishTx(ctx, tx, want, event("ev-2")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	rows, err := db.Reader.QueryContext(ctx, `SELECT topic, uuid, payload, metadata FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var topic, uuid, metadata string
		var payload []byte
		if err := rows.Scan(&topic, &uuid, &payload, &metadata); err != nil {
			t.Fatal(err)
		}
		if topic != courtside.EventTopic {
			t.Errorf("topic = %q, want %q", topic, courtside.EventTopic)
		}
		if uuid == "ev-1" {
			if metadata != `{"type":"hearing.changed"}` {
				t.Errorf("metadata = %s", metadata)
			}
			ev, err := events.Decode(message.NewMessage(uuid, payload))
			if err != nil {
				t.Fatal(err)
			}
			if !ev.At.Equal(want.At) || ev.ID != want.ID || ev.Type != want.Type || ev.HearingID != want.HearingID ||
				ev.ActorID != want.ActorID || ev.Sequence != want.Sequence {
				t.Errorf("decoded %+v, want %+v", ev, want)
			}
		}
		got = append(got, uuid)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ev-1", "ev-2"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestPublishTxRejects(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	tests := []struct {
		name string
		ev   courtside.Event
	}{
		{"no ID", courtside.Event{Type: courtside.EventCaseOpened}},
		{"no type", courtside.Event{ID: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := db.Writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := events.PublishTx(ctx, tx, tt.ev); err == nil {
				t.Fatal("PublishTx succeeded")
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, uuid, payload string
	}{
		{"not JSON", "a", `{`},
		{"other ID", "a", `{"id":"b","type":"case.opened"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := events.Decode(message.NewMessage(tt.uuid, []byte(tt.payload))); err == nil {
				t.Fatal("Decode succeeded")
			}
		})
	}
}

// recorder remembers, per consumer group, the IDs of the events its handlers saw.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]string
}

func newRecorder() *recorder { return &recorder{seen: map[string][]string{}} }

// handler returns a handler for group that records each event and then calls next, if any.
func (rec *recorder) handler(group string, next events.HandlerFunc) events.HandlerFunc {
	return func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		rec.mu.Lock()
		rec.seen[group] = append(rec.seen[group], ev.ID)
		rec.mu.Unlock()
		if next != nil {
			return next(ctx, tx, ev)
		}
		return nil
	}
}

// get returns the IDs group saw.
func (rec *recorder) get(group string) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.seen[group])
}

// errRefused is the error of a failing test handler.
var errRefused = errors.New("projection: refused")
