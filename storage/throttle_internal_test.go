package storage

import (
	"context"
	"os"
	"testing"
	"time"

	"courtside/storage/pgtest"
)

// TestThrottle_SharedSweepsAndStaysBounded shows login_buckets bounded on PostgreSQL: a sweep
// deletes the buckets full again and keeps the others; while maxKeys buckets are in use a new
// key is refused for a period and known keys still take their tokens; once a sweep finds room,
// new keys are welcome again.
func TestThrottle_SharedSweepsAndStaysBounded(t *testing.T) {
	if os.Getenv("COURTSIDE_TEST_ENGINE") != "postgres" {
		t.Skip("PostgreSQL's: run with COURTSIDE_TEST_ENGINE=postgres (make test-postgres)")
	}
	// The migrated template storagetest.Path copies (that package imports this one).
	db := NewDB(pgtest.FromTemplate(t, "courtside_migrated", func(url string) error {
		db := NewDB(url)
		if err := db.Open(); err != nil {
			return err
		}
		return db.Close()
	}))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	th := newSharedThrottle(db.loginPool, "address", 2, time.Minute)
	th.maxKeys = 3
	take := func(key string, want bool) time.Duration {
		t.Helper()
		ok, wait, err := th.allow(ctx, bucketKey(key), now)
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Fatalf("%s at %s: allowed %v, want %v", key, now.Format(time.TimeOnly), ok, want)
		}
		return wait
	}
	rows := func() int {
		t.Helper()
		var n int
		if err := db.Reader.QueryRow(`SELECT COUNT(*) FROM login_buckets WHERE scope = 'address'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Three keys, one of them used up.
	for _, k := range []string{"k1", "k1", "k2", "k3"} {
		take(k, true)
	}
	if wait := take("k1", false); wait != time.Minute {
		t.Fatalf("k1 used up waits %s, want a minute", wait)
	}
	if err := th.sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 3 || !th.full.Load() {
		t.Fatalf("a sweep with no bucket full again: %d buckets, full %v; want 3, full", n, th.full.Load())
	}
	if wait := take("k4", false); wait != time.Minute {
		t.Fatalf("a new key while full waits %s, want a period", wait)
	}
	take("k2", true) // a known key still has its token
	if n := rows(); n != 3 {
		t.Fatalf("%d buckets while full, want 3", n)
	}
	// A minute later k1 and k2 have one token, k3 two: k3 goes, and there is room.
	now = now.Add(time.Minute)
	if err := th.sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 2 || th.full.Load() {
		t.Fatalf("a sweep with one bucket full again: %d buckets, full %v; want 2, not full", n, th.full.Load())
	}
	take("k4", true)
	take("k1", true)
	take("k1", false)
}
