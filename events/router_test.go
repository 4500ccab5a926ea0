package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// waitLimit bounds every wait on the router so that a broken router fails instead of hanging.
// It is a guard, not a performance threshold.
const waitLimit = 60 * time.Second

// testConfig is a Config with a short poll and retries a few milliseconds apart.
func testConfig() events.Config {
	return events.Config{PollInterval: 5 * time.Millisecond, MaxAttempts: 3, RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond}
}

// runningRouter is a Router whose Run is going in a goroutine.
type runningRouter struct {
	*events.Router
	done chan error
	once sync.Once
}

// startRouter starts a router on db with the handlers; it is stopped at the end of the test.
func startRouter(tb testing.TB, db *storage.DB, cfg events.Config, handlers map[string]events.HandlerFunc) *runningRouter {
	tb.Helper()
	r, err := events.NewRouter(db.Writer, testLogger(tb), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for name, fn := range handlers {
		r.Handle(name, fn)
	}
	rr := &runningRouter{Router: r, done: make(chan error, 1)}
	go func() { rr.done <- r.Run(context.Background()) }()
	select {
	case <-r.Running():
	case err := <-rr.done:
		tb.Fatalf("Run returned early: %v", err)
	case <-time.After(waitLimit):
		tb.Fatal("router did not start")
	}
	tb.Cleanup(func() { rr.stop(tb) })
	return rr
}

// stop closes the router and checks that Run returned nil.
func (rr *runningRouter) stop(tb testing.TB) {
	tb.Helper()
	rr.once.Do(func() {
		if err := rr.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		select {
		case err := <-rr.done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
		case <-time.After(waitLimit):
			tb.Error("Run did not return after Close")
		}
	})
}

// waitCaughtUp waits until every group has acknowledged every event.
func waitCaughtUp(tb testing.TB, db *storage.DB, groups ...string) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for _, g := range groups {
		for {
			n, err := events.Pending(context.Background(), db.Reader, g)
			if err != nil {
				tb.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("group %s still has %d pending events", g, n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// mustPending returns Pending for group.
func mustPending(tb testing.TB, db *storage.DB, group string) int64 {
	tb.Helper()
	n, err := events.Pending(context.Background(), db.Reader, group)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// createProjection creates the table the test handlers write to.
func createProjection(tb testing.TB, db *storage.DB) {
	tb.Helper()
	if _, err := db.Writer.Exec(`CREATE TABLE projection (seq ` + autoID() + `, grp TEXT NOT NULL, event_id TEXT NOT NULL)`); err != nil {
		tb.Fatal(err)
	}
}

// project returns a handler that writes a projection row for group through tx.
func project(group string) events.HandlerFunc {
	return func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO projection (grp, event_id) VALUES (?, ?)`, group, ev.ID)
		return err
	}
}

// projected returns the projection rows of group in insertion order.
func projected(tb testing.TB, db *storage.DB, group string) []string {
	tb.Helper()
	rows, err := db.Reader.Query(`SELECT event_id FROM projection WHERE grp = ? ORDER BY seq`, group)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// deadLetter is a row of event_dead_letters.
type deadLetter struct{ group, uuid, err string }

func deadLetters(tb testing.TB, db *storage.DB) []deadLetter {
	tb.Helper()
	rows, err := db.Reader.Query(`SELECT consumer_group, event_uuid, error FROM event_dead_letters ORDER BY id`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var dls []deadLetter
	for rows.Next() {
		var dl deadLetter
		if err := rows.Scan(&dl.group, &dl.uuid, &dl.err); err != nil {
			tb.Fatal(err)
		}
		dls = append(dls, dl)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return dls
}

func TestRolledBackEventsAreNeverDelivered(t *testing.T) {
	db := MustOpenDB(t)
	rec := newRecorder()
	startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": rec.handler("g", nil)})
	ctx := context.Background()

	// Through storage's transaction...
	tx, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Event(event("rolled-back-1"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// ...and through a plain one, after the rows were written.
	ptx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := events.PublishTx(ctx, ptx, event("rolled-back-2")); err != nil {
		t.Fatal(err)
	}
	if err := ptx.Rollback(); err != nil {
		t.Fatal(err)
	}
	publish(t, db, "committed")

	waitCaughtUp(t, db, "g")
	if got, want := rec.get("g"), []string{"committed"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestEveryGroupGetsEveryEventOnceInOrder(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	rec := newRecorder()
	groups := []string{"calendar", "reminders", "notifications"}
	handlers := map[string]events.HandlerFunc{}
	for _, g := range groups {
		handlers[g] = rec.handler(g, project(g))
	}
	startRouter(t, db, testConfig(), handlers)

	var want []string
	for i := range 5 {
		ids := eventIDs(fmt.Sprintf("tx%d", i), 1+i*7)
		publish(t, db, ids...)
		want = append(want, ids...)
	}
	// One transaction larger than an INSERT chunk and than a subscriber batch.
	big := eventIDs("big", 1203)
	publish(t, db, big...)
	want = append(want, big...)

	waitCaughtUp(t, db, groups...)
	for _, g := range groups {
		if got := rec.get(g); !slices.Equal(got, want) {
			t.Errorf("%s: handler saw %d events, want %d in order", g, len(got), len(want))
		}
		if got := projected(t, db, g); !slices.Equal(got, want) {
			t.Errorf("%s: projected %d events, want %d in order", g, len(got), len(want))
		}
	}
}

func TestHandlerWritesCommitWithAcknowledgement(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	ids := eventIDs("ev", 10)

	first := startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": project("g")})
	publish(t, db, ids[:4]...)
	publish(t, db, ids[4:]...)
	waitCaughtUp(t, db, "g")
	first.stop(t)
	if got := projected(t, db, "g"); !slices.Equal(got, ids) {
		t.Fatalf("projected %v, want %v", got, ids)
	}

	// A new router on the same file redelivers nothing: events are delivered in order, so
	// anything redelivered would come before the marker.
	rec := newRecorder()
	startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": rec.handler("g", project("g"))})
	publish(t, db, "marker")
	waitCaughtUp(t, db, "g")
	if got, want := rec.get("g"), []string{"marker"}; !slices.Equal(got, want) {
		t.Errorf("after restart delivered %v, want %v", got, want)
	}
	if got, want := projected(t, db, "g"), append(ids, "marker"); !slices.Equal(got, want) {
		t.Errorf("projected %v, want %v", got, want)
	}
	if n := mustPending(t, db, "g"); n != 0 {
		t.Errorf("Pending = %d, want 0", n)
	}
}

func TestGroupsProgressIndependently(t *testing.T) {
	db := MustOpenDB(t)
	first := newRecorder()
	r := startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"b": first.handler("b", nil)})
	publish(t, db, "e1", "e2")
	publish(t, db, "e3")
	waitCaughtUp(t, db, "b")
	r.stop(t)
	if n := mustPending(t, db, "a"); n != 3 {
		t.Errorf("Pending(a) = %d before a ever ran, want 3", n)
	}

	second := newRecorder()
	startRouter(t, db, testConfig(), map[string]events.HandlerFunc{
		"a": second.handler("a", nil),
		"b": second.handler("b", nil),
	})
	publish(t, db, "e4")
	waitCaughtUp(t, db, "a", "b")
	if got, want := second.get("a"), []string{"e1", "e2", "e3", "e4"}; !slices.Equal(got, want) {
		t.Errorf("a saw %v, want %v", got, want)
	}
	if got, want := second.get("b"), []string{"e4"}; !slices.Equal(got, want) {
		t.Errorf("b saw %v, want %v", got, want)
	}
}

func TestPanickingHandlerDoesNotCrashRouter(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	var mu sync.Mutex
	panicked := map[string]bool{}
	fn := func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		if err := project("g")(ctx, tx, ev); err != nil {
			return err
		}
		mu.Lock()
		first := !panicked[ev.ID]
		panicked[ev.ID] = true
		mu.Unlock()
		if ev.ID == "boom" || (ev.ID == "boom-once" && first) {
			var m map[string]int
			m["nil map"]++ // a real runtime panic
		}
		return nil
	}
	r := startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": fn})
	publish(t, db, "boom", "boom-once", "after")
	waitCaughtUp(t, db, "g")

	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v after a panic", err)
	default:
	}
	if got, want := projected(t, db, "g"), []string{"boom-once", "after"}; !slices.Equal(got, want) {
		t.Errorf("projected %v, want %v", got, want)
	}
	dls := deadLetters(t, db)
	if len(dls) != 1 || dls[0].uuid != "boom" || !strings.Contains(dls[0].err, "panicked") {
		t.Errorf("dead letters %v, want one for boom mentioning the panic", dls)
	}
	publish(t, db, "later")
	waitCaughtUp(t, db, "g")
}

func TestCloseLetsRunningHandlerFinish(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	entered := make(chan struct{})
	release := make(chan struct{})
	slow := func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		if ev.ID == "slow" {
			close(entered)
			<-release
		}
		return project("g")(ctx, tx, ev)
	}
	r := startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": slow})
	publish(t, db, "slow", "next")
	<-entered
	closed := make(chan struct{})
	go func() { r.stop(t); close(closed) }()
	close(release)
	<-closed

	// Closing ends the batch transaction committed or rolled back (watermill closes the
	// subscriber and cancels its context at once). Either way writes and offset go together:
	// no event is lost, none is projected twice, and redelivery resumes where the offset is.
	rec := newRecorder()
	startRouter(t, db, testConfig(), map[string]events.HandlerFunc{"g": rec.handler("g", project("g"))})
	publish(t, db, "marker")
	waitCaughtUp(t, db, "g")
	all := []string{"slow", "next", "marker"}
	if got := projected(t, db, "g"); !slices.Equal(got, all) {
		t.Errorf("projected %v, want %v", got, all)
	}
	if got := rec.get("g"); len(got) == 0 || !slices.Equal(got, all[len(all)-len(got):]) {
		t.Errorf("after restart delivered %v, want a suffix of %v", got, all)
	}
}

func TestRunStopsWhenContextIsCancelled(t *testing.T) {
	db := MustOpenDB(t)
	rec := newRecorder()
	r, err := events.NewRouter(db.Writer, testLogger(t), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	r.Handle("g", rec.handler("g", nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Running()
	publish(t, db, "e1")
	waitCaughtUp(t, db, "g")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after cancel")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

func TestCloseBeforeRun(t *testing.T) {
	db := MustOpenDB(t)
	r, err := events.NewRouter(db.Writer, nil, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r.Handle("g", func(context.Context, *sql.Tx, courtside.Event) error { return nil })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background()); err != nil {
		t.Fatalf("Run after Close = %v, want nil", err)
	}
}

func TestHandlePanicsOnMisuse(t *testing.T) {
	db := MustOpenDB(t)
	r, err := events.NewRouter(db.Writer, nil, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	nop := func(context.Context, *sql.Tx, courtside.Event) error { return nil }
	r.Handle("g", nop)
	tests := []struct {
		name  string
		group string
		fn    events.HandlerFunc
	}{
		{"empty name", "", nop},
		{"nil func", "h", nil},
		{"duplicate", "g", nop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Handle did not panic")
				}
			}()
			r.Handle(tt.group, tt.fn)
		})
	}
}

// autoID is the type of an integer key numbered in insertion order, in the engine's words.
func autoID() string {
	if storagetest.Postgres() {
		return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	return "INTEGER PRIMARY KEY"
}
