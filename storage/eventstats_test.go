package storage_test

import (
	"context"
	"courtside/storage"
	"testing"
	"time"

	"courtside"
)

// TestEventBacklog counts, per consumer group, the events after its offset; the dead letters;
// and the deliveries leased now.
func TestEventBacklog(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var total int64
	if err := f.db.Reader.QueryRow(`SELECT count(*) FROM events`).Scan(&total); err != nil || total == 0 {
		t.Fatalf("the fixture's events: %d %v", total, err)
	}
	var last int64
	f.db.Reader.QueryRow(`SELECT max(id) FROM events`).Scan(&last)
	if _, err := f.db.Writer.Exec(`INSERT INTO event_offsets (consumer_group, topic, last_id) VALUES ('caught-up', ?, ?), ('one-behind', ?, ?)`,
		courtside.EventTopic, last, courtside.EventTopic, last-1); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.EventBacklog(ctx, "caught-up", "one-behind", "never-ran")
	if err != nil {
		t.Fatal(err)
	}
	if got["caught-up"] != 0 || got["one-behind"] != 1 || got["never-ran"] != total {
		t.Fatalf("backlog %v, want caught-up 0, one-behind 1, never-ran %d", got, total)
	}

	if n, err := f.db.CountDeadLetters(ctx); err != nil || n != 0 {
		t.Fatalf("dead letters on a new database: %d %v", n, err)
	}
	if _, err := f.db.Writer.Exec(`INSERT INTO event_dead_letters (consumer_group, event_uuid, error) VALUES ('g', 'u1', 'e'), ('g', 'u2', 'e')`); err != nil {
		t.Fatal(err)
	}
	if n, err := f.db.CountDeadLetters(ctx); err != nil || n != 2 {
		t.Fatalf("dead letters: %d %v, want 2", n, err)
	}

}

// TestCountLeasedDeliveries counts the pending deliveries under a lease that has not run out.
func TestCountLeasedDeliveries(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	ctx := context.Background()
	if n, err := w.db.CountLeasedDeliveries(ctx); err != nil || n != 0 {
		t.Fatalf("leases before the worker: %d %v", n, err)
	}
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 2, time.Minute)
	if err != nil || len(leased) != 2 {
		t.Fatalf("leased %d: %v", len(leased), err)
	}
	if n, err := w.db.CountLeasedDeliveries(ctx); err != nil || n != 2 {
		t.Fatalf("leases: %d %v, want 2", n, err)
	}
	// A lease that ran out no longer counts.
	w.db.Now = func() time.Time { return w.now.Add(2 * time.Minute) }
	if n, err := w.db.CountLeasedDeliveries(ctx); err != nil || n != 0 {
		t.Fatalf("leases after they ran out: %d %v, want 0", n, err)
	}
}
