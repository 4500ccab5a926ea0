package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"courtside"
)

// TestEndToEnd_FailedEventsAreParkedListedAndRetried drives failed events through the real
// binary. An event about a hearing that does not exist (yet) makes the notice and reminder
// planners fail; the service retries it with backoff (shortened through the environment), then
// parks it, logs it at ERROR, and `courtside events failed` lists it for each handler, without
// victim data. Once the hearing exists, `courtside events retry --all` requeues both, the running
// service handles them (the victim's notice of the move is planned under the event's own key),
// the requeue is audited and the list is empty.
func TestEndToEnd_FailedEventsAreParkedListedAndRetried(t *testing.T) {
	w := newWorld(t)
	s := startServerEnv(t, w.db, []string{"COURTSIDE_EVENT_RETRY=5ms", "COURTSIDE_EVENT_ATTEMPTS=3"})
	starts := time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)

	db, err := openRaw(t, w.db, "file:"+w.db+"?_busy_timeout=60000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const ghost = 999999
	moved := starts.Add(24 * time.Hour)
	ev := courtside.Event{ID: "0191e2f0-0000-7000-8000-00000000e2e1", Type: courtside.EventHearingChanged, At: time.Now().UTC(),
		HearingID: ghost, Sequence: 1, Change: &courtside.HearingChange{HearingID: ghost, Sequence: 1, Reason: "judge unavailable",
			Status: courtside.HearingContinued, FromStartsAt: &starts, ToStartsAt: &moved}}
	payload, _ := json.Marshal(ev)
	if _, err := db.Exec(`INSERT INTO events (topic, uuid, payload, metadata) VALUES (?, ?, ?, ?)`,
		courtside.EventTopic, ev.ID, payload, `{"type":"hearing.changed"}`); err != nil {
		t.Fatal(err)
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitUntil("two parked events", func() bool { return count(`SELECT count(*) FROM event_dead_letters`) == 2 })

	out, code, stderr := cliResult(t, "", "events", "failed", "--db", w.db)
	if code != 0 {
		t.Fatalf("events failed: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "HANDLER") || !strings.Contains(lines[0], "LAST ERROR") {
		t.Fatalf("events failed printed:\n%s", out)
	}
	for _, group := range []string{"notice-planner", "reminder-planner"} {
		var row string
		for _, l := range lines[1:] {
			if strings.Contains(l, group) {
				row = l
			}
		}
		f := strings.Fields(row)
		if len(f) < 7 || f[2] != "hearing.changed" || f[3] != "999999" || f[4] != "3" || !strings.Contains(row, "no rows") {
			t.Errorf("%s: listed as %q", group, row)
		}
	}
	if !strings.Contains(stderr, "2 parked, 0 waiting for a retry") {
		t.Errorf("events failed stderr %q", stderr)
	}
	for _, leak := range []string{"Sentinel", "Legalname"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q appears in the listing", leak)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"events", "retry", "--db", w.db}, "--all"},
		{[]string{"events", "retry", "--db", w.db, "12345"}, "No parked event 12345."},
		{[]string{"events", "retry", "--db", w.db, "--all", "1"}, "not both"},
		{[]string{"events", "retry", "--db", w.db, "first"}, `"first" is not the ID of a parked event`},
		{[]string{"events", "failed", "--db", missingDB(w.db)}, "does not exist"},
	} {
		if _, code, stderr := cliResult(t, "", tc.args...); code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if n := count(`SELECT count(*) FROM event_dead_letters`); n != 2 {
		t.Fatalf("refused retries changed the parked events: %d left", n)
	}

	// The hearing the event is about comes into being: a copy of the real one under its ID.
	if _, err := db.Exec(`INSERT INTO hearings (id, case_id, court_id, organization_id, kind, starts_at, ends_at, courtroom, judge,
			status, sequence, created_at, updated_at)
		SELECT ?, case_id, court_id, organization_id, kind, starts_at, ends_at, courtroom, judge, status, sequence, created_at, updated_at
		FROM hearings WHERE id = ?`, ghost, hearingID); err != nil {
		t.Fatal(err)
	}
	// An administrator requeues the notice planner's from the web app's page; a coordinator
	// neither sees the page nor requeues; the CLI requeues the rest.
	var noticeID, reminderID int64
	if err := db.QueryRow(`SELECT id FROM event_dead_letters WHERE consumer_group = 'notice-planner'`).Scan(&noticeID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT id FROM event_dead_letters WHERE consumer_group = 'reminder-planner'`).Scan(&reminderID); err != nil {
		t.Fatal(err)
	}
	admin := webSignIn(t, s.url, "admin", "tidal basin lantern 42")
	coordinator := webSignIn(t, s.url, "coord", "tidal basin lantern 42")
	page, status := admin.get("/admin/events")
	if status != http.StatusOK || !strings.Contains(page, "notice-planner") || !strings.Contains(page, "reminder-planner") ||
		!strings.Contains(page, "hearing.changed") || !strings.Contains(page, fmt.Sprintf("/admin/events/%d/retry", noticeID)) {
		t.Fatalf("the failed events page: %d\n%s", status, page)
	}
	if _, status := coordinator.get("/admin/events"); status != http.StatusForbidden {
		t.Errorf("a coordinator's GET /admin/events: %d", status)
	}
	if status := coordinator.post(fmt.Sprintf("/admin/events/%d/retry", reminderID), nil); status != http.StatusForbidden {
		t.Errorf("a coordinator's retry: %d", status)
	}
	if status := admin.post(fmt.Sprintf("/admin/events/%d/retry", noticeID), nil); status != http.StatusSeeOther {
		t.Fatalf("the administrator's retry: %d", status)
	}
	if status := admin.post("/admin/events/123456/retry", nil); status != http.StatusNotFound {
		t.Errorf("a retry of no parked event: %d", status)
	}
	if n := count(`SELECT count(*) FROM event_dead_letters WHERE id = ?`, reminderID); n != 1 {
		t.Fatalf("the refused retry requeued the event")
	}
	out, code, stderr = cliResult(t, "", "events", "retry", "--db", w.db, "--all")
	if code != 0 || out != "requeued 1 (reminder-planner 1)\n" {
		t.Fatalf("events retry --all: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	waitUntil("the requeued events handled", func() bool {
		return count(`SELECT count(*) FROM event_retries`) == 0 &&
			count(`SELECT count(*) FROM deliveries WHERE idempotency_key LIKE ?`, "cs-ev-"+ev.ID+"-%") > 0 &&
			count(`SELECT count(*) FROM reminders WHERE hearing_id = ?`, ghost) > 0
	})
	if n := count(`SELECT count(*) FROM event_dead_letters`); n != 0 {
		t.Errorf("%d parked events after the retry", n)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE action = 'events.retry' AND object LIKE ?`, "event:"+ev.ID+":%"); n != 2 {
		t.Errorf("%d audit rows for the requeue, want 2", n)
	}
	out, code, stderr = cliResult(t, "", "events", "failed", "--db", w.db)
	if code != 0 || strings.TrimSpace(out) != "No parked events." || !strings.Contains(stderr, "0 parked, 0 waiting for a retry") {
		t.Errorf("events failed after the retry: exit %d, stdout %q, stderr %q", code, out, stderr)
	}

	// The service's log, read once it has stopped: the parked events at ERROR, no victim data.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	logs := s.logs.String()
	if !regexp.MustCompile(`level=ERROR msg="events: event parked[^\n]*group=notice-planner[^\n]*attempts=3`).MatchString(logs) ||
		!strings.Contains(logs, "event handled on retry") {
		t.Errorf("the server did not log the parked events at ERROR and their retry:\n%s", logs)
	}
	for _, leak := range []string{"Sentinel", "Legalname"} {
		if strings.Contains(logs, leak) {
			t.Errorf("%q appears in the log", leak)
		}
	}
}
