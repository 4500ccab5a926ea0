package calendar_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// mkcalendarBody is a MKCALENDAR body with a display name, a description, a colour and, when
// components is not empty, a supported-calendar-component-set.
func mkcalendarBody(display, description, color string, components ...string) string {
	var comps string
	if len(components) > 0 {
		comps = "<C:supported-calendar-component-set>"
		for _, c := range components {
			comps += `<C:comp name="` + c + `"/>`
		}
		comps += "</C:supported-calendar-component-set>"
	}
	return `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">` +
		`<D:set><D:prop><D:displayname>` + display + `</D:displayname><C:calendar-description>` + description +
		`</C:calendar-description><A:calendar-color>` + color + `</A:calendar-color>` + comps + `</D:prop></D:set></C:mkcalendar>`
}

// vtodo returns a calendar object with one VTODO of uid and the given properties.
func vtodo(uid string, props ...string) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VTODO", "UID:" + uid, "DTSTAMP:20261101T000000Z"}
	lines = append(lines, props...)
	return strings.Join(append(lines, "END:VTODO", "END:VCALENDAR", ""), "\r\n")
}

// vjournal returns a calendar object with one VJOURNAL of uid and the given properties.
func vjournal(uid string, props ...string) string {
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VJOURNAL", "UID:" + uid, "DTSTAMP:20261101T000000Z"}
	lines = append(lines, props...)
	return strings.Join(append(lines, "END:VJOURNAL", "END:VCALENDAR", ""), "\r\n")
}

// TestPersonalCalendar_DeleteAndRecreate deletes a MKCALENDAR calendar with its objects and
// makes it again: DELETE 204, its objects, busy blocks and settings gone, its old sync token
// refused by the new calendar (valid-sync-token), MKCALENDAR 201 again. The hearings calendar
// and availability cannot be deleted (403); another user's calendar, or none, is 404.
func TestPersonalCalendar_DeleteAndRecreate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.PersonalPath("adv", "work")
	mk := func(want int) {
		t.Helper()
		resp, body := w.do(request{method: "MKCALENDAR", path: coll, user: w.advocate, body: mkcalendarBody("Work", "Casework", "#336699")})
		if resp.StatusCode != want {
			t.Fatalf("MKCALENDAR: %d %s, want %d", resp.StatusCode, body, want)
		}
	}
	mk(http.StatusCreated)
	if resp, _ := w.do(request{method: "PUT", path: coll + "a.ics", user: w.advocate, body: vevent("a", t0, t0.Add(time.Hour)),
		header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	oldToken, got := syncReport(t, w, w.advocate, coll, "")
	if strings.Join(got, " ") != "a.ics:200" {
		t.Fatalf("first sync: %v", got)
	}
	mk(http.StatusConflict)

	if resp, body := w.do(request{method: "DELETE", path: coll, user: w.advocate}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of the calendar: %d %s, want 204", resp.StatusCode, body)
	}
	if resp, _ := w.do(request{method: "GET", path: coll + "a.ics", user: w.advocate}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of an object of the deleted calendar: %d, want 404", resp.StatusCode)
	}
	if resp, _ := w.do(request{method: "PROPFIND", path: coll, user: w.advocate, header: map[string]string{"Depth": "0"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PROPFIND of the deleted calendar: %d, want 404", resp.StatusCode)
	}
	if blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), t0, t0.Add(time.Hour)); err != nil || len(blocks) != 0 {
		t.Errorf("busy blocks after the calendar's deletion: %+v, %v", blocks, err)
	}
	if settings, err := storage.NewAvailabilityService(w.db).FindCalendarSettings(w.as(w.advocate)); err != nil || settings["work"] != (courtside.CalendarSettings{}) {
		t.Errorf("settings after the calendar's deletion: %+v, %v", settings, err)
	}
	if resp, _ := w.do(request{method: "DELETE", path: coll, user: w.advocate}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again: %d, want 404", resp.StatusCode)
	}

	mk(http.StatusCreated)
	body := `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + oldToken +
		`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	if resp, got := w.do(request{method: "REPORT", path: coll, user: w.advocate, body: body}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(got, "valid-sync-token") {
		t.Errorf("the deleted calendar's token on the new one: %d %s, want 403 valid-sync-token", resp.StatusCode, got)
	}
	newToken, got := syncReport(t, w, w.advocate, coll, "")
	if len(got) != 0 || newToken == oldToken {
		t.Errorf("the new calendar: %v, token %s (old %s)", got, newToken, oldToken)
	}
	if resp, _ := w.do(request{method: "PUT", path: coll + "a.ics", user: w.advocate, body: vevent("a", t0, t0.Add(time.Hour)),
		header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT into the new calendar: %d", resp.StatusCode)
	}

	for _, c := range []struct {
		path   string
		user   *courtside.User
		status int
	}{
		{calendar.HearingsPath("adv"), w.advocate, http.StatusForbidden},
		{calendar.AvailabilityPath("adv"), w.advocate, http.StatusForbidden},
		{calendar.PersonalPath("adv", "nothing"), w.advocate, http.StatusNotFound},
		{coll, w.otherAdvocate, http.StatusNotFound},
	} {
		if resp, _ := w.do(request{method: "DELETE", path: c.path, user: c.user}); resp.StatusCode != c.status {
			t.Errorf("DELETE %s as %s: %d, want %d", c.path, c.user.Username, resp.StatusCode, c.status)
		}
	}
	if objs, err := storage.NewAvailabilityService(w.db).FindAvailabilityObjects(w.as(w.advocate), "work"); err != nil || len(objs) != 1 {
		t.Errorf("the recreated calendar after the refused deletions: %d objects, %v", len(objs), err)
	}
}

// TestPersonalCalendar_SupportedComponents makes a calendar for events only: PROPFIND lists
// VEVENT alone, a VTODO or VJOURNAL PUT into it is 403 with supported-calendar-component,
// and MKCALENDAR for a component no calendar takes is 403 too. A calendar made without a set
// takes all three, journals included.
func TestPersonalCalendar_SupportedComponents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	events := calendar.PersonalPath("adv", "events")
	if resp, body := w.do(request{method: "MKCALENDAR", path: events, user: w.advocate,
		body: mkcalendarBody("Events", "", "", "VEVENT")}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d %s", resp.StatusCode, body)
	}
	props := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:supported-calendar-component-set/></D:prop></D:propfind>`
	_, got := w.do(request{method: "PROPFIND", path: events, user: w.advocate, body: props, header: map[string]string{"Depth": "0"}})
	if !strings.Contains(got, `name="VEVENT"`) || strings.Contains(got, `name="VTODO"`) || strings.Contains(got, `name="VJOURNAL"`) {
		t.Errorf("component set of an events calendar:\n%s", got)
	}
	for name, obj := range map[string]string{"todo": vtodo("t1", "SUMMARY:Call"), "journal": vjournal("j1", "DTSTART:20261201T090000Z")} {
		resp, body := w.do(request{method: "PUT", path: events + name + ".ics", user: w.advocate, body: obj, header: icalHeader})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<C:supported-calendar-component/>") {
			t.Errorf("PUT of a %s into an events calendar: %d %s, want 403 supported-calendar-component", name, resp.StatusCode, body)
		}
	}
	if resp, _ := w.do(request{method: "PUT", path: events + "e.ics", user: w.advocate, body: vevent("e", t0, t0.Add(time.Hour)),
		header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT of an event: %d", resp.StatusCode)
	}
	for _, comps := range [][]string{{"VFREEBUSY"}, {"VEVENT", "VALARM"}} {
		resp, body := w.do(request{method: "MKCALENDAR", path: calendar.PersonalPath("adv", "odd"), user: w.advocate,
			body: mkcalendarBody("Odd", "", "", comps...)})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "supported-calendar-component") {
			t.Errorf("MKCALENDAR for %v: %d %s, want 403 supported-calendar-component", comps, resp.StatusCode, body)
		}
	}
	// Journals go into a calendar made without a set, and into availability.
	if resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("adv") + "j.ics", user: w.advocate,
		body: vjournal("j2", "DTSTART;VALUE=DATE:20261201", "SUMMARY:Notes"), header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT of a journal into availability: %d %s", resp.StatusCode, body)
	}
}

// TestDiscoveryFromAnyURL asks PROPFIND on the server's root and on other paths outside
// /dav/, as a client given only the server's address does: 401 without credentials, then a
// 207 whose current-user-principal is the caller's principal, for the path asked.
func TestDiscoveryFromAnyURL(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/><D:resourcetype/></D:prop></D:propfind>`
	for _, path := range []string{"/", "/calendar", "/index.html"} {
		if resp, _ := w.do(request{method: "PROPFIND", path: path, body: body, header: map[string]string{"Depth": "0"}}); resp.StatusCode != http.StatusUnauthorized ||
			!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("PROPFIND %s without credentials: %d, want 401 with a Basic challenge", path, resp.StatusCode)
		}
		resp, got := w.do(request{method: "PROPFIND", path: path, user: w.advocate, body: body, header: map[string]string{"Depth": "0"}})
		if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, `<href xmlns="DAV:">`+path+"</href>") ||
			!strings.Contains(got, `<href xmlns="DAV:">`+calendar.PrincipalPath("adv")+"</href>") {
			t.Errorf("PROPFIND %s: %d\n%s", path, resp.StatusCode, got)
		}
	}
	// Other methods outside /dav/ stay the web app's: the CalDAV handler does not know them.
	if resp, _ := w.do(request{method: "GET", path: "/", user: w.advocate}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / on the CalDAV handler: %d, want 404", resp.StatusCode)
	}
}

// TestPythonCaldavLifecycle is a new user's session with python3-caldav from the server's
// root URL: discovery, then twice over a calendar made, filled with events, to-dos and
// journals, searched (SUMMARY, CATEGORIES, LOCATION, DESCRIPTION by text-match; to-dos by
// DUE, DTSTART and COMPLETED; journals by date) and deleted, with no error logged.
func TestPythonCaldavLifecycle(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	out, err := exec.Command(py, "testdata/python_caldav_lifecycle.py", w.srv.URL+"/", "adv", w.secrets["adv"]).Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got struct {
		Principal string            `json:"principal"`
		Rounds    []json.RawMessage `json:"rounds"`
		After     []string          `json:"calendars_after"`
		Errors    []string          `json:"errors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Principal != w.srv.URL+calendar.PrincipalPath("adv") || len(got.Errors) > 0 {
		t.Errorf("principal %q, errors %q", got.Principal, got.Errors)
	}
	want := map[string][]string{
		"events":         {"lunch.ics", "prep.ics"},
		"summary":        {"prep.ics"},
		"summary_case":   {},
		"category":       {"prep.ics"},
		"location":       {"prep.ics"},
		"description":    {"prep.ics"},
		"todo_due":       {"due.ics"},
		"todo_start":     {"start.ics"},
		"todo_completed": {"done.ics"},
		"pending_todos":  {"due.ics", "start.ics"},
		"journals":       {"later.ics", "notes.ics"},
		"journal_range":  {"notes.ics"},
	}
	if len(got.Rounds) != 2 {
		t.Fatalf("rounds: %s", out)
	}
	for i, raw := range got.Rounds {
		var r map[string]any
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if r["calendar"] != w.srv.URL+calendar.PersonalPath("adv", "work") {
			t.Errorf("round %d: calendar %v", i, r["calendar"])
		}
		for key, names := range want {
			var have []string
			for _, n := range r[key].([]any) {
				have = append(have, n.(string))
			}
			if strings.Join(have, " ") != strings.Join(names, " ") {
				t.Errorf("round %d: %s = %v, want %v", i, key, have, names)
			}
		}
	}
	if strings.Join(got.After, " ") != w.srv.URL+calendar.AvailabilityPath("adv")+" "+w.srv.URL+calendar.HearingsPath("adv") {
		t.Errorf("calendars after the session: %v", got.After)
	}
}

// TestCalendarPropertiesKept sets a calendar's display name, description and colour by
// MKCALENDAR and by PROPPATCH and reads them back by PROPFIND; a description over
// courtside.MaxCalendarDescription bytes is refused (403, the rest 424) and nothing stored.
func TestCalendarPropertiesKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.PersonalPath("adv", "court")
	if resp, body := w.do(request{method: "MKCALENDAR", path: coll, user: w.advocate,
		body: mkcalendarBody("Court days", "Days in court &amp; travel", "#112233")}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d %s", resp.StatusCode, body)
	}
	props := func() string {
		_, body := w.do(request{method: "PROPFIND", path: coll, user: w.advocate, header: map[string]string{"Depth": "0"},
			body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
				`<D:prop><D:displayname/><C:calendar-description/><A:calendar-color/></D:prop></D:propfind>`})
		return body
	}
	if got := props(); !strings.Contains(got, ">Court days<") || !strings.Contains(got, ">Days in court &amp; travel<") ||
		!strings.Contains(got, ">#112233<") {
		t.Fatalf("PROPFIND after MKCALENDAR:\n%s", got)
	}
	patch := func(props string) (*http.Response, string) {
		return w.do(request{method: "PROPPATCH", path: coll, user: w.advocate,
			body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
				props + `</D:propertyupdate>`})
	}
	if resp, body := patch(`<D:set><D:prop><C:calendar-description>Hearings and meetings</C:calendar-description>` +
		`<D:displayname>Court</D:displayname><A:calendar-color>#445566FF</A:calendar-color></D:prop></D:set>`); resp.StatusCode != http.StatusMultiStatus ||
		strings.Contains(body, "403") {
		t.Fatalf("PROPPATCH: %d %s", resp.StatusCode, body)
	}
	if got := props(); !strings.Contains(got, ">Court<") || !strings.Contains(got, ">Hearings and meetings<") || !strings.Contains(got, ">#445566FF<") {
		t.Errorf("PROPFIND after PROPPATCH:\n%s", got)
	}
	long := strings.Repeat("x", courtside.MaxCalendarDescription+1)
	if resp, body := patch(`<D:set><D:prop><C:calendar-description>` + long + `</C:calendar-description><D:displayname>Else</D:displayname></D:prop></D:set>`); resp.StatusCode != http.StatusMultiStatus ||
		!strings.Contains(body, "403 Forbidden") || !strings.Contains(body, "424 Failed Dependency") {
		t.Errorf("oversized description: %d %s", resp.StatusCode, body)
	}
	if resp, body := patch(`<D:remove><D:prop><C:calendar-description/></D:prop></D:remove>`); !strings.Contains(body, "200 OK") {
		t.Fatalf("remove description: %d %s", resp.StatusCode, body)
	}
	if got := props(); !strings.Contains(got, ">Court<") || strings.Contains(got, "Hearings and meetings") {
		t.Errorf("PROPFIND after removing the description:\n%s", got)
	}
}
