package events_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// fakeClock is a Config.Now that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// about is an event about hearing.
func about(id string, hearing int64) courtside.Event {
	return courtside.Event{ID: id, Type: courtside.EventHearingChanged, HearingID: hearing}
}

// publishEvents commits one transaction carrying evs.
func publishEvents(tb testing.TB, db *storage.DB, evs ...courtside.Event) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ev := range evs {
		tx.Event(ev)
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

// retryState is a row of event_retries.
type retryState struct {
	group, event string
	attempts     int
	nextAt       string
}

func retries(tb testing.TB, db *storage.DB) []retryState {
	tb.Helper()
	rows, err := db.Reader.Query(`SELECT r.consumer_group, e.uuid, r.attempts, r.next_at FROM event_retries r
		JOIN events e ON e.id = r.event_id ORDER BY r.consumer_group, r.event_id`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []retryState
	for rows.Next() {
		var s retryState
		if err := rows.Scan(&s.group, &s.event, &s.attempts, &s.nextAt); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds; waitLimit guards against a broken router.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// switchable is a handler that writes its projection row first and then fails on the events
// named in fail, for as long as they stay there.
type switchable struct {
	group string
	mu    sync.Mutex
	fail  map[string]bool
	tried map[string]int
	txs   map[string][]*sql.Tx // the transactions each event was tried in
}

func newSwitchable(group string, fail ...string) *switchable {
	s := &switchable{group: group, fail: map[string]bool{}, tried: map[string]int{}, txs: map[string][]*sql.Tx{}}
	for _, id := range fail {
		s.fail[id] = true
	}
	return s
}

func (s *switchable) handle(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	if err := project(s.group)(ctx, tx, ev); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tried[ev.ID]++
	s.txs[ev.ID] = append(s.txs[ev.ID], tx)
	if s.fail[ev.ID] {
		return fmt.Errorf("%s: %s refused (call V-17-R on +15551234567 or victim@example.org)", s.group, ev.ID)
	}
	return nil
}

func (s *switchable) heal(id string) {
	s.mu.Lock()
	delete(s.fail, id)
	s.mu.Unlock()
}

func (s *switchable) attempts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tried[id]
}

// TestOneFailingHandlerKeepsEveryGroupExactlyOnce hands one batch of events, about four
// hearings, to three groups, one of which fails on one event. The other groups' work on every
// event (the failing event included) commits once; the failing group's writes on that event are
// undone, the event is set aside for that group alone, and its later event about the same
// hearing waits behind it while its events about other hearings go on. Once the handler
// recovers, the retry delivers both, in order, exactly once; no group ever sees an event twice
// after it succeeded.
func TestOneFailingHandlerKeepsEveryGroupExactlyOnce(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	clock := newFakeClock()
	cfg := testConfig()
	cfg.Now, cfg.RetryBase, cfg.RetryMax, cfg.MaxAttempts = clock.Now, time.Minute, time.Hour, 10
	cfg.PollInterval = time.Hour // every look below is started by Wake
	b := newSwitchable("b", "h2-a")
	r := startRouter(t, db, cfg, map[string]events.HandlerFunc{
		"a": project("a"),
		"b": b.handle,
		"c": project("c"),
	})
	db.Committed = r.Wake

	batch := []courtside.Event{about("h1-a", 1), about("h2-a", 2), about("h3-a", 3), about("h2-b", 2), about("h4-a", 4), about("h1-b", 1)}
	all := []string{"h1-a", "h2-a", "h3-a", "h2-b", "h4-a", "h1-b"}
	publishEvents(t, db, batch...)
	waitCaughtUp(t, db, "a", "c")
	waitFor(t, "b's batch", func() bool { return mustPending(t, db, "b") == 2 && len(projected(t, db, "b")) == 4 })

	for _, g := range []string{"a", "c"} {
		if got := projected(t, db, g); !slices.Equal(got, all) {
			t.Errorf("%s projected %v, want %v once each", g, got, all)
		}
	}
	if got, want := projected(t, db, "b"), []string{"h1-a", "h3-a", "h4-a", "h1-b"}; !slices.Equal(got, want) {
		t.Errorf("b projected %v, want %v (h2-a undone, h2-b waiting behind it)", got, want)
	}
	if n := b.attempts("h2-b"); n != 0 {
		t.Errorf("h2-b was tried %d times while h2-a waited, want 0", n)
	}
	rs := retries(t, db)
	if len(rs) != 2 || rs[0].event != "h2-a" || rs[0].attempts != 1 || rs[1].event != "h2-b" || rs[1].attempts != 0 {
		t.Fatalf("set aside %+v, want h2-a after 1 attempt and h2-b behind it", rs)
	}
	if want := clock.Now().Add(time.Minute).Format(storage.TimeFormat); rs[0].nextAt != want {
		t.Errorf("h2-a due at %s, want %s (RetryBase after the first failure)", rs[0].nextAt, want)
	}

	// Not due yet: a look changes nothing.
	r.Wake()
	publishEvents(t, db, about("h3-b", 3))
	waitCaughtUp(t, db, "a", "c")
	waitFor(t, "b's h3-b", func() bool { return slices.Contains(projected(t, db, "b"), "h3-b") })
	if n := b.attempts("h2-a"); n != 1 {
		t.Errorf("h2-a tried %d times before its retry was due, want 1", n)
	}

	b.heal("h2-a")
	clock.Advance(time.Minute)
	r.Wake()
	waitCaughtUp(t, db, "b")
	want := []string{"h1-a", "h3-a", "h4-a", "h1-b", "h3-b", "h2-a", "h2-b"}
	if got := projected(t, db, "b"); !slices.Equal(got, want) {
		t.Errorf("b projected %v, want %v", got, want)
	}
	for _, g := range []string{"a", "c"} {
		if got := projected(t, db, g); !slices.Equal(got, append(slices.Clone(all), "h3-b")) {
			t.Errorf("%s projected %v after b's retry, want each event once", g, got)
		}
	}
	if rs := retries(t, db); len(rs) != 0 {
		t.Errorf("retries left: %+v", rs)
	}
	if dls := deadLetters(t, db); len(dls) != 0 {
		t.Errorf("dead letters: %v", dls)
	}
}

// TestRetryWaitsOutsideTheWriterAndDelivers shows a handler that fails for a while and then
// succeeds: each retry runs when its backoff (doubling from RetryBase) has passed, in a
// transaction of its own, and while it waits the writer is free and the group goes on with
// other events. The event is delivered once it succeeds.
func TestRetryWaitsOutsideTheWriterAndDelivers(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	clock := newFakeClock()
	cfg := testConfig()
	cfg.Now, cfg.RetryBase, cfg.RetryMax, cfg.MaxAttempts = clock.Now, time.Minute, time.Hour, 10
	cfg.PollInterval = time.Hour
	g := newSwitchable("g", "flaky")
	r := startRouter(t, db, cfg, map[string]events.HandlerFunc{"g": g.handle})
	db.Committed = r.Wake

	publishEvents(t, db, about("flaky", 1), about("other-1", 2))
	waitFor(t, "the batch", func() bool { return slices.Contains(projected(t, db, "g"), "other-1") })
	for attempt, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		// While the event waits, the writer is free: a write transaction commits, and the
		// group handles an event about another hearing.
		other := fmt.Sprintf("other-%d", attempt+2)
		publishEvents(t, db, about(other, 2))
		waitFor(t, other, func() bool { return slices.Contains(projected(t, db, "g"), other) })
		rs := retries(t, db)
		if len(rs) != 1 || rs[0].attempts != attempt+1 {
			t.Fatalf("before retry %d: %+v", attempt+1, rs)
		}
		if want := clock.Now().Add(wait).Format(storage.TimeFormat); rs[0].nextAt != want {
			t.Errorf("after %d failures, due at %s, want %s", attempt+1, rs[0].nextAt, want)
		}
		if attempt == 2 {
			g.heal("flaky")
		}
		clock.Advance(wait)
		r.Wake()
		waitFor(t, "the retry", func() bool { return g.attempts("flaky") == attempt+2 })
	}
	waitCaughtUp(t, db, "g")
	if got := projected(t, db, "g"); !slices.Contains(got, "flaky") || slices.Index(got, "flaky") != len(got)-1 {
		t.Errorf("projected %v, want flaky delivered once, last", got)
	}
	g.mu.Lock()
	txs := g.txs["flaky"]
	g.mu.Unlock()
	for i := range txs {
		for j := range i {
			if txs[i] == txs[j] {
				t.Errorf("attempts %d and %d ran in the same transaction", j+1, i+1)
			}
		}
	}
}

// TestFailingEventIsParkedListedAndRequeued shows a handler that keeps failing: after
// MaxAttempts tries the event is parked in event_dead_letters, logged at ERROR with its
// attempts, counted by DeadLetters and Backlog, and listed by ListParked with an error text that
// masks addresses and phone numbers. The group's later event about the same hearing, held back
// meanwhile, is then handled. RequeueParked sets the event aside again; once the handler is
// fixed, the router delivers it.
func TestFailingEventIsParkedListedAndRequeued(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := testConfig() // 3 attempts, 1 ms, 2 ms apart
	g := newSwitchable("g", "bad")
	r, err := events.NewRouter(db.Writer, logger, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Handle("g", g.handle)
	r.Handle("other", project("other"))
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() { r.Close(); <-done })
	db.Committed = r.Wake

	publishEvents(t, db, about("bad", 5), about("after", 5))
	waitFor(t, "the parked event", func() bool { return len(deadLetters(t, db)) == 1 })
	waitCaughtUp(t, db, "g", "other")
	if n := g.attempts("bad"); n != cfg.MaxAttempts {
		t.Errorf("bad tried %d times, want %d", n, cfg.MaxAttempts)
	}
	if got, want := projected(t, db, "g"), []string{"after"}; !slices.Equal(got, want) {
		t.Errorf("g projected %v, want %v (the later event released once bad was parked)", got, want)
	}
	ctx := context.Background()
	parked, err := events.ListParked(ctx, db.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 {
		t.Fatalf("ListParked = %+v, want one", parked)
	}
	p := parked[0]
	if p.Group != "g" || p.EventID != "bad" || p.Type != courtside.EventHearingChanged || p.HearingID != 5 || p.Attempts != cfg.MaxAttempts ||
		p.ParkedAt.IsZero() || !strings.Contains(p.Error, "bad refused") {
		t.Errorf("parked %+v", p)
	}
	if strings.Contains(p.Error, "5551234567") || strings.Contains(p.Error, "victim@example.org") {
		t.Errorf("parked error keeps contact details: %q", p.Error)
	}
	if n, err := events.DeadLetters(ctx, db.Reader); err != nil || n != 1 {
		t.Errorf("DeadLetters = %d, %v; want 1", n, err)
	}
	backlog, err := events.Backlog(ctx, db.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if want := []events.GroupBacklog{{Group: "g", Parked: 1}, {Group: "other"}}; !slices.Equal(backlog, want) {
		t.Errorf("Backlog = %+v, want %+v", backlog, want)
	}
	logMu.Lock()
	text := logs.String()
	logMu.Unlock()
	if !strings.Contains(text, "level=ERROR") || !strings.Contains(text, "event parked") || !strings.Contains(text, "attempts=3") ||
		strings.Contains(text, "5551234567") {
		t.Errorf("log does not report the parked event at ERROR without contact details:\n%s", text)
	}

	// An unknown ID requeues nothing.
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.RequeueParked(ctx, tx, []int64{p.ID, p.ID + 100}, time.Now()); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("RequeueParked of an unknown ID = %v, want ENOTFOUND", err)
	}
	tx.Rollback()

	g.heal("bad")
	tx, err = db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	requeued, err := events.RequeueParked(ctx, tx, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(requeued) != 1 || requeued[0].EventID != "bad" || requeued[0].Group != "g" {
		t.Errorf("requeued %+v", requeued)
	}
	r.Wake()
	waitCaughtUp(t, db, "g")
	if got, want := projected(t, db, "g"), []string{"after", "bad"}; !slices.Equal(got, want) {
		t.Errorf("g projected %v after the requeue, want %v", got, want)
	}
	if dls := deadLetters(t, db); len(dls) != 0 {
		t.Errorf("dead letters after the requeue: %v", dls)
	}
	if got := projected(t, db, "other"); !slices.Equal(got, []string{"bad", "after"}) {
		t.Errorf("other projected %v, want each event once", got)
	}
}

// TestOneTransactionServesEveryGroup shows that the groups handle an event one after another in
// the order they were registered, in one and the same transaction: a change costs one commit
// for all its handlers.
func TestOneTransactionServesEveryGroup(t *testing.T) {
	db := MustOpenDB(t)
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	r, err := events.NewRouter(db.Writer, testLogger(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	txs := map[*sql.Tx]bool{}
	groups := []string{"notices", "reminders", "calendar", "feed"}
	for _, g := range groups {
		r.Handle(g, func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, g+":"+ev.ID)
			txs[tx] = true
			return nil
		})
	}
	db.Committed = r.Wake
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		<-done
	})
	<-r.Running()
	var handled []<-chan struct{}
	for _, g := range groups {
		handled = append(handled, r.Handled(g))
	}
	publish(t, db, "moved")
	for i, ch := range handled {
		select {
		case <-ch:
		case <-time.After(waitLimit):
			t.Fatalf("group %s did not handle the event after Wake", groups[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"notices:moved", "reminders:moved", "calendar:moved", "feed:moved"}
	if !slices.Equal(order, want) {
		t.Errorf("handled in the order %v, want %v", order, want)
	}
	if len(txs) != 1 {
		t.Errorf("the groups handled the event in %d transactions, want 1", len(txs))
	}
}

// TestBackoffDoubles shows the retry schedule of the defaults: 1 s after the first failure,
// doubling up to 5 min, and about 13½ minutes from the first try to the last.
func TestBackoffDoubles(t *testing.T) {
	cfg := events.DefaultConfig()
	var got []time.Duration
	var total time.Duration
	for k := 1; k < cfg.MaxAttempts; k++ {
		got = append(got, cfg.Backoff(k))
		total += cfg.Backoff(k)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
	if total != 811*time.Second {
		t.Errorf("first to last try %s, want 13m31s", total)
	}
}

// lockedWriter serialises writes to a buffer shared with the test.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestBacklogLetsAWaitingWriterGoFirst shows Config.Waiting: while the router works through a
// backlog and a writer of another process waits, the router stops between two transactions
// until that writer has gone first, then finishes the backlog.
func TestBacklogLetsAWaitingWriterGoFirst(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	var mu sync.Mutex
	waiting := true
	asked := make(chan struct{}, 1000)
	cfg := testConfig()
	cfg.BatchSize, cfg.MaxYield = 2, time.Hour
	cfg.Waiting = func() bool {
		mu.Lock()
		defer mu.Unlock()
		select {
		case asked <- struct{}{}:
		default:
		}
		return waiting
	}
	ids := eventIDs("backlog", 10)
	publish(t, db, ids...)
	startRouter(t, db, cfg, map[string]events.HandlerFunc{"g": project("g")})
	<-asked
	// The router yields after its first batch of two, and stays put while the writer waits.
	time.Sleep(100 * time.Millisecond)
	if got := projected(t, db, "g"); len(got) != 2 {
		t.Fatalf("projected %d events while another writer waited, want the first batch of 2", len(got))
	}
	mu.Lock()
	waiting = false
	mu.Unlock()
	waitCaughtUp(t, db, "g")
	if got := projected(t, db, "g"); !slices.Equal(got, ids) {
		t.Errorf("projected %v, want %v", got, ids)
	}
}

// TestHandleFirstCommitsBeforeTheOthers shows HandleFirst: its group's batch is a transaction of
// its own, committed (its writes visible to every connection) before the groups of Handle, which
// share a second one, see the event.
func TestHandleFirstCommitsBeforeTheOthers(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	r, err := events.NewRouter(db.Writer, testLogger(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	txs := map[string]*sql.Tx{}
	var sawNotice []bool
	r.Handle("calendar", func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		mu.Lock()
		txs["calendar"] = tx
		mu.Unlock()
		return nil
	})
	r.HandleFirst("notices", func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		mu.Lock()
		txs["notices"] = tx
		mu.Unlock()
		return project("notices")(ctx, tx, ev)
	})
	r.Handle("reminders", func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		// Another connection already sees what the first lane wrote.
		var n int
		if err := db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM projection WHERE grp = 'notices' AND event_id = ?`, ev.ID).Scan(&n); err != nil {
			return err
		}
		mu.Lock()
		txs["reminders"] = tx
		sawNotice = append(sawNotice, n == 1)
		mu.Unlock()
		return nil
	})
	db.Committed = r.Wake
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() { r.Close(); <-done })
	<-r.Running()
	publish(t, db, "moved")
	waitCaughtUp(t, db, "notices", "calendar", "reminders")
	mu.Lock()
	defer mu.Unlock()
	if txs["notices"] == txs["calendar"] || txs["calendar"] != txs["reminders"] {
		t.Errorf("transactions: notices %p, calendar %p, reminders %p; want notices alone, the others together", txs["notices"], txs["calendar"], txs["reminders"])
	}
	if !slices.Equal(sawNotice, []bool{true}) {
		t.Errorf("the second lane saw the first lane's write committed: %v, want [true]", sawNotice)
	}
}
