package main_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEndToEnd_BusyBlockKeepsInterpreterFromOffers runs the real binary: an interpreter puts
// a busy block over a hearing's time into their availability calendar with an app password,
// and the coordinator's interpreterCandidates shows them unavailable for that reason; once the
// block is deleted they are available again.
func TestEndToEnd_BusyBlockKeepsInterpreterFromOffers(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(20 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)
	app := strings.TrimSpace(cli(t, "", "token", "create", "--db", w.db, "--username", "interp", "--kind", "app", "--label", "phone"))

	do := func(method, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, s.url+"/dav/calendars/interp/availability/busy.ics", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
		req.SetBasicAuth("interp", app)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	const f = "20060102T150405Z"
	block := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nBEGIN:VEVENT\r\nUID:busy-e2e\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:" + starts.Add(-30*time.Minute).Format(f) + "\r\nDTEND:" + starts.Add(30*time.Minute).Format(f) +
		"\r\nSUMMARY:Other work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if resp := do(http.MethodPut, block); resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" {
		t.Fatalf("PUT busy block: %d", resp.StatusCode)
	}
	candidates := func() map[string]any {
		t.Helper()
		got := mustGQL(t, s.url, w.coordinator, `query($h: ID!) { interpreterCandidates(hearingId: $h, language: "es") {
			interpreter { name } available reason } }`, map[string]any{"h": hearingID})
		list, _ := dig(got, "interpreterCandidates").([]any)
		if len(list) != 1 {
			t.Fatalf("candidates %v", got)
		}
		return list[0].(map[string]any)
	}
	if c := candidates(); c["available"] != false || !strings.HasPrefix(c["reason"].(string), "Busy in their own calendar") {
		t.Fatalf("busy interpreter: %v", c)
	}
	if resp := do(http.MethodDelete, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE busy block: %d", resp.StatusCode)
	}
	if c := candidates(); c["available"] != true {
		t.Fatalf("interpreter after the block is deleted: %v", c)
	}
}
