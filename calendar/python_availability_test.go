package calendar_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// TestPythonCaldavAvailability drives the availability calendar with python3-caldav: put,
// overwrite, a weekly event found by a time-range search of its third instance, a sync token,
// a delete and a change reported by the next sync; the busy blocks follow.
func TestPythonCaldavAvailability(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	out, err := exec.Command(py, "testdata/python_caldav_availability.py", "availability", w.srv.URL+"/dav/",
		"adv", w.secrets["adv"]).Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got struct {
		Calendar    string   `json:"calendar"`
		Components  []string `json:"components"`
		FirstURL    string   `json:"first_url"`
		WeeklyURL   string   `json:"weekly_url"`
		Search      []string `json:"search"`
		SyncFirst   []string `json:"sync_first"`
		SyncChanged []string `json:"sync_changed"`
		SyncMoved   bool     `json:"sync_token_moved"`
		Remaining   []string `json:"remaining"`
		Errors      []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Calendar != w.srv.URL+calendar.AvailabilityPath("adv") || strings.Join(got.Components, ",") != "VEVENT,VTODO,VJOURNAL" {
		t.Errorf("calendar %q components %v", got.Calendar, got.Components)
	}
	if len(got.Search) != 1 || got.Search[0] != got.WeeklyURL {
		t.Errorf("time-range search found %v, want the weekly event %s", got.Search, got.WeeklyURL)
	}
	if strings.Join(got.SyncFirst, " ") != strings.Join([]string{got.FirstURL, got.WeeklyURL}, " ") {
		t.Errorf("first sync %v", got.SyncFirst)
	}
	if strings.Join(got.SyncChanged, " ") != strings.Join([]string{got.FirstURL, got.WeeklyURL}, " ") || !got.SyncMoved {
		t.Errorf("sync after a delete and a change: %v, token moved %v", got.SyncChanged, got.SyncMoved)
	}
	if len(got.Remaining) != 1 || got.Remaining[0] != got.WeeklyURL {
		t.Errorf("remaining %v", got.Remaining)
	}
	if len(got.Errors) > 0 {
		t.Errorf("python-caldav logged errors: %q", got.Errors)
	}
	// The overwritten and deleted event left no busy time; the weekly one, moved an hour, did.
	blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(blocks) != 5 || blocks[0].Start != time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) {
		t.Fatalf("busy blocks %+v, %v", blocks, err)
	}
}

// TestPythonCaldavPartstat answers an offered booking with python3-caldav's event.save() of
// the hearing with the interpreter's ATTENDEE PARTSTAT changed.
func TestPythonCaldavPartstat(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	run := func(username, path, partstat string) string {
		t.Helper()
		out, err := exec.Command(py, "testdata/python_caldav_availability.py", "partstat", w.srv.URL+"/dav/", username,
			w.secrets[username], w.srv.URL+path, partstat).Output()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var got struct {
			Status string   `json:"status"`
			Errors []string `json:"errors"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return got.Status
	}
	// TENTATIVE is not an answer Courtside takes: refused, nothing changes.
	if got := run("interp", calendar.HearingPath("interp", w.h3.ID), "TENTATIVE"); got == "saved" {
		t.Fatalf("TENTATIVE was saved")
	}
	if got := run("interp", calendar.HearingPath("interp", w.h3.ID), "ACCEPTED"); got != "saved" {
		t.Fatalf("ACCEPTED: %s", got)
	}
	bs, err := storage.NewBookingService(w.db).FindBookings(w.as(w.prosecutor), courtside.BookingFilter{IDs: []int64{b.ID}})
	if err != nil || len(bs) != 1 || bs[0].Status != courtside.BookingAccepted {
		t.Fatalf("booking after the save: %+v, %v", bs, err)
	}
}
