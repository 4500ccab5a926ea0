package calendar_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"courtside/calendar"
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
			if len(got.Calendars) != 1 || got.Calendars[0] != w.srv.URL+calendar.HearingsPath("adv") {
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
