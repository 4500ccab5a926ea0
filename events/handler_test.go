package events_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// loadMessage returns the message of the stored event id, as the subscriber would deliver it.
func loadMessage(tb testing.TB, db *storage.DB, id string) *message.Message {
	tb.Helper()
	var payload []byte
	if err := db.Reader.QueryRow(`SELECT payload FROM events WHERE uuid = ?`, id).Scan(&payload); err != nil {
		tb.Fatal(err)
	}
	return message.NewMessage(id, payload)
}

// TestOffsetMovesOneEventAtATime delivers events the way a subscriber never does in normal
// operation: out of order (as after SQLite rolled back the subscriber's transaction by itself)
// and twice. Only the group's next event is handled; the others are acknowledged untouched.
func TestOffsetMovesOneEventAtATime(t *testing.T) {
	db := MustOpenDB(t)
	publish(t, db, "e1", "e2")
	r, err := events.NewRouter(db.Writer, testLogger(t), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var handled []string
	fn := func(_ context.Context, _ *sql.Tx, ev courtside.Event) error {
		handled = append(handled, ev.ID)
		return nil
	}
	ctx := context.Background()
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, id := range []string{"e2", "e1", "e1", "e2", "e2"} {
		if err := events.HandleTx(ctx, r, "g", fn, tx, loadMessage(t, db, id)); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"e1", "e2"}; !slices.Equal(handled, want) {
		t.Errorf("handled %v, want %v", handled, want)
	}
	if n := mustPending(t, db, "g"); n != 0 {
		t.Errorf("Pending = %d, want 0", n)
	}
}
