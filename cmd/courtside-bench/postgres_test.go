package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each client of a write workload moves hearings of its own: every target belongs to exactly
// one client, and a client goes round all of its own.
func TestPGTarget_EachHearingHasOneClient(t *testing.T) {
	for _, n := range []int{56, 200, 203} {
		owner := map[int]int{}
		for c := 0; c < pgClients; c++ {
			seen := map[int]bool{}
			for k := 0; k < 3*n; k++ {
				i := pgTarget(c, k, pgClients, n)
				if i < 0 || i >= n {
					t.Fatalf("n=%d: client %d, operation %d: target %d out of range", n, c, k, i)
				}
				if o, ok := owner[i]; ok && o != c {
					t.Fatalf("n=%d: target %d moved by clients %d and %d", n, i, o, c)
				}
				owner[i], seen[i] = c, true
			}
			if len(seen) != n/pgClients {
				t.Errorf("n=%d: client %d went round %d targets, want %d", n, c, len(seen), n/pgClients)
			}
		}
	}
}

// pgPhase runs its clients until the phase ends and gathers every operation's time, each
// client's operations numbered one after another; the first error ends the phase and is
// returned. (Whether a client started before a phase this short ended is the scheduler's
// business, so the test does not ask that each ran.)
func TestPGPhase_GathersEveryClientsOperations(t *testing.T) {
	var mu sync.Mutex
	calls := map[int]int{}
	ops, took, err := pgPhase(context.Background(), 3, 30*time.Millisecond, func(ctx context.Context, client, k int) error {
		mu.Lock()
		defer mu.Unlock()
		if k != calls[client] {
			t.Errorf("client %d: operation %d after %d", client, k, calls[client])
		}
		calls[client]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for c, n := range calls {
		if c < 0 || c >= 3 {
			t.Errorf("operation of client %d, want 0 to 2", c)
		}
		total += n
	}
	if total == 0 || len(ops) != total || took <= 0 {
		t.Errorf("%d times for %d operations, phase took %v", len(ops), total, took)
	}
	boom := errors.New("boom")
	if _, _, err := pgPhase(context.Background(), 2, time.Minute, func(ctx context.Context, client, k int) error {
		if k == 2 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("phase with a failing operation returned %v", err)
	}
}

// The write tables put each configuration beside SQLite's, the first row.
func TestPGWriteTable_RatiosAgainstSQLite(t *testing.T) {
	ms := func(ds ...int) Sample {
		var s Sample
		for _, d := range ds {
			s = append(s, time.Duration(d)*time.Millisecond)
		}
		return s
	}
	tab := pgWriteTable("PUT", []*pgRun{
		{config: pgSQLite, ops: ms(10, 10, 10, 10), took: time.Second, load: []float64{1, 3, 2}},
		{config: pgOne, ops: ms(20, 20), took: time.Second, load: []float64{2}},
		{config: pgTwo, ops: ms(40), took: 2 * time.Second},
	})
	want := [][]string{
		{pgSQLite, "4", "4", "10 ms", "10 ms", "1×", "1×", "1×", "2.00"},
		{pgOne, "2", "2", "20 ms", "20 ms", "0.5×", "2×", "2×", "2.00"},
		{pgTwo, "1", "0.5", "40 ms", "40 ms", "0.125×", "4×", "4×", "unknown"},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tab.Rows), len(want))
	}
	for i, row := range tab.Rows {
		if strings.Join(row, " | ") != strings.Join(want[i], " | ") {
			t.Errorf("row %d:\n got %v\nwant %v", i, row, want[i])
		}
	}
}

// The reading of the figures states them as measured, and calls two figures within 10% of each
// other about the same.
func TestPGReading_SaysWhatTheFiguresShow(t *testing.T) {
	got := pgReading([]string{"PUT"}, map[string]map[string]float64{"PUT": {pgSQLite: 300, pgOne: 100, pgTwo: 95}},
		map[string]time.Duration{pgSQLite: 20 * time.Millisecond, pgOne: 40 * time.Millisecond, pgTwo: 60 * time.Millisecond})
	for _, want := range []string{"PUT ran at 300/s on SQLite, 100/s on PostgreSQL with one instance (0.333× SQLite's) and 95/s with two (0.95×, about the same as one instance's)",
		"20 ms on SQLite, 40 ms on PostgreSQL with one instance and 60 ms with two", "not write throughput"} {
		if !strings.Contains(got, want) {
			t.Errorf("the reading lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(compared(0.5), "same") || !strings.Contains(compared(1.05), "about the same") {
		t.Errorf("compared(0.5) = %q, compared(1.05) = %q", compared(0.5), compared(1.05))
	}
}
