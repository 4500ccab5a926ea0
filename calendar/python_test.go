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

// pythonWithCaldav returns a Python 3 that can import caldav (Debian's python3-caldav), or ""
// when there is none.
func pythonWithCaldav() string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import caldav").Run() == nil {
			return path
		}
	}
	return ""
}

// TestPythonCaldav discovers the calendar and searches it with python3-caldav, a real CalDAV
// client, from the URLs a user might configure.
func TestPythonCaldav(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	for _, start := range []string{calendar.WellKnownPath, "/dav/", calendar.PrincipalPath("adv")} {
		t.Run(start, func(t *testing.T) {
			out, err := exec.Command(py, "testdata/python_caldav.py", w.srv.URL+start, "adv", w.secrets["adv"],
				"2026-11-01T00:00:00Z", "2026-12-05T00:00:00Z").Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var got struct {
				Principal string   `json:"principal"`
				Calendars []string `json:"calendars"`
				Events    []struct {
					URL  string `json:"url"`
					Data string `json:"data"`
				} `json:"events"`
				Errors []string `json:"errors"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Principal != w.srv.URL+calendar.PrincipalPath("adv") {
				t.Errorf("principal = %q", got.Principal)
			}
			if len(got.Calendars) != 2 || got.Calendars[0] != w.srv.URL+calendar.HearingsPath("adv") ||
				got.Calendars[1] != w.srv.URL+calendar.AvailabilityPath("adv") {
				t.Errorf("calendars = %q", got.Calendars)
			}
			if len(got.Events) != 1 || got.Events[0].URL != w.srv.URL+calendar.HearingPath("adv", w.h1.ID) ||
				!strings.Contains(got.Events[0].Data, "UID:"+calendar.UID(w.h1.ID)) {
				t.Errorf("events = %+v", got.Events)
			}
			// python-caldav keeps the configured URL after following the well-known redirect, and
			// logs that the hrefs differ from it; from any other start it must find nothing odd.
			if start != calendar.WellKnownPath && len(got.Errors) > 0 {
				t.Errorf("python-caldav logged errors: %q", got.Errors)
			}
		})
	}
}

// pythonSync is what testdata/python_caldav_sync.py prints.
type pythonSync struct {
	PropfindToken string `json:"propfind_token"`
	Token         string `json:"token"`
	Objects       []struct {
		URL  string `json:"url"`
		ETag string `json:"etag"`
		Data string `json:"data"`
	} `json:"objects"`
	Errors []string `json:"errors"`
}

// TestPythonCaldavSync syncs the calendar with python3-caldav's objects_by_sync_token (RFC
// 6578), reschedules a hearing, and syncs again from the token: exactly that hearing comes
// back, with the ETag GET serves and a new token.
func TestPythonCaldavSync(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	cal := w.srv.URL + calendar.HearingsPath("adv")
	run := func(args ...string) pythonSync {
		t.Helper()
		out, err := exec.Command(py, append([]string{"testdata/python_caldav_sync.py", cal, "adv", w.secrets["adv"]}, args...)...).Output()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var got pythonSync
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(got.Errors) > 0 {
			t.Errorf("python-caldav logged errors: %q", got.Errors)
		}
		return got
	}

	first := run()
	urls := map[string]string{}
	for _, o := range first.Objects {
		urls[o.URL] = o.ETag
	}
	h1URL := w.srv.URL + calendar.HearingPath("adv", w.h1.ID)
	if len(urls) != 2 || urls[h1URL] != w.getETag(w.advocate, w.h1.ID) ||
		urls[w.srv.URL+calendar.HearingPath("adv", w.h2.ID)] != w.getETag(w.advocate, w.h2.ID) {
		t.Fatalf("first sync: %+v", first.Objects)
	}
	if first.Token == "" || first.Token != first.PropfindToken {
		t.Fatalf("first sync token %q, PROPFIND sync-token %q", first.Token, first.PropfindToken)
	}

	newStart := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h1.ID, courtside.HearingUpdate{StartsAt: newStart,
		EndsAt: newStart.Add(time.Hour), Reason: "courtroom unavailable"}); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	second := run(first.Token)
	if len(second.Objects) != 1 || second.Objects[0].URL != h1URL || second.Objects[0].ETag != w.getETag(w.advocate, w.h1.ID) ||
		second.Objects[0].ETag == urls[h1URL] || !strings.Contains(second.Objects[0].Data, "DTSTART:20261203T150000Z") {
		t.Fatalf("second sync: %+v", second.Objects)
	}
	if second.Token == first.Token || second.Token != second.PropfindToken {
		t.Fatalf("second sync token %q (first %q), PROPFIND sync-token %q", second.Token, first.Token, second.PropfindToken)
	}
}
