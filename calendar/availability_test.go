package calendar_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"
)

// vevent returns a calendar object with one VEVENT of uid from start to end (UTC) and extra
// properties.
func vevent(uid string, start, end time.Time, extra ...string) string {
	const f = "20060102T150405Z"
	lines := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VEVENT", "UID:" + uid,
		"DTSTAMP:20261101T000000Z", "DTSTART:" + start.UTC().Format(f), "DTEND:" + end.UTC().Format(f), "SUMMARY:Busy"}
	lines = append(lines, extra...)
	lines = append(lines, "END:VEVENT", "END:VCALENDAR", "")
	return strings.Join(lines, "\r\n")
}

// icalHeader is the Content-Type of a PUT.
var icalHeader = map[string]string{"Content-Type": "text/calendar; charset=utf-8"}

func withHeader(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range icalHeader {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

var t0 = time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)

func TestAvailability_PutStatusesAndConditions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := calendar.AvailabilityPath("interp") + "block-1.ics"
	body := vevent("block-1", t0, t0.Add(time.Hour))

	resp, _ := w.do(request{method: "PUT", path: path, user: w.interpreter, body: body, header: icalHeader})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" {
		t.Fatalf("create: %d, ETag %q, want 201 with an ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	etag1 := resp.Header.Get("ETag")

	resp, got := w.do(request{method: "GET", path: path, user: w.interpreter})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag1 || !strings.Contains(got, "UID:block-1") {
		t.Fatalf("GET: %d, ETag %q (PUT said %q)", resp.StatusCode, resp.Header.Get("ETag"), etag1)
	}
	resp, _ = w.do(request{method: "GET", path: path, user: w.interpreter, header: map[string]string{"If-None-Match": etag1}})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: %d, want 304", resp.StatusCode)
	}

	// If-None-Match: * on an existing object, and a stale If-Match: 412, nothing written.
	changed := vevent("block-1", t0, t0.Add(2*time.Hour))
	for _, h := range []map[string]string{{"If-None-Match": "*"}, {"If-Match": `"0000"`}} {
		resp, _ = w.do(request{method: "PUT", path: path, user: w.interpreter, body: changed, header: withHeader(h)})
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("PUT with %v: %d, want 412", h, resp.StatusCode)
		}
	}
	// If-Match on an object that does not exist: 412.
	resp, _ = w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + "none.ics", user: w.interpreter,
		body: vevent("none", t0, t0.Add(time.Hour)), header: withHeader(map[string]string{"If-Match": etag1})})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("PUT If-Match on a missing object: %d, want 412", resp.StatusCode)
	}

	resp, _ = w.do(request{method: "PUT", path: path, user: w.interpreter, body: changed, header: withHeader(map[string]string{"If-Match": etag1})})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == etag1 {
		t.Fatalf("overwrite: %d, ETag %q, want 204 with a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}
	etag2 := resp.Header.Get("ETag")

	// The busy block moved with the overwrite.
	blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.interpreter), t0.Add(-time.Hour), t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || !blocks[0].End.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("busy blocks %+v, want one ending at %v", blocks, t0.Add(2*time.Hour))
	}

	resp, _ = w.do(request{method: "DELETE", path: path, user: w.interpreter, header: map[string]string{"If-Match": etag1}})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("DELETE with a stale If-Match: %d, want 412", resp.StatusCode)
	}
	resp, _ = w.do(request{method: "DELETE", path: path, user: w.interpreter, header: map[string]string{"If-Match": etag2}})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d, want 204", resp.StatusCode)
	}
	resp, _ = w.do(request{method: "GET", path: path, user: w.interpreter})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after DELETE: %d, want 404", resp.StatusCode)
	}
	resp, _ = w.do(request{method: "DELETE", path: path, user: w.interpreter})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", resp.StatusCode)
	}
	if blocks, _ := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.interpreter), t0.Add(-time.Hour), t0.Add(3*time.Hour)); len(blocks) != 0 {
		t.Fatalf("busy blocks after DELETE: %+v", blocks)
	}
}

func TestAvailability_PutRefusesBadObjects(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ok := vevent("x", t0, t0.Add(time.Hour))
	cases := []struct {
		name      string
		body      string
		header    map[string]string
		status    int
		condition string
	}{
		{"not iCalendar", "hello", icalHeader, 400, "valid-calendar-data"},
		{"two UIDs", strings.Replace(ok, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:y\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1), icalHeader, 400, "valid-calendar-data"},
		{"two calendars", ok + ok, icalHeader, 400, "valid-calendar-data"},
		{"no component", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n", icalHeader, 400, "valid-calendar-data"},
		{"no UID", strings.Replace(ok, "UID:x\r\n", "", 1), icalHeader, 400, "valid-calendar-data"},
		{"no DTSTART", strings.Replace(ok, "DTSTART:20261201T130000Z\r\n", "", 1), icalHeader, 400, "valid-calendar-data"},
		{"bad date", strings.Replace(ok, "DTSTART:20261201T130000Z", "DTSTART:2026-12-01", 1), icalHeader, 400, "valid-calendar-data"},
		{"end before start", vevent("x", t0, t0.Add(-time.Hour)), icalHeader, 400, "valid-calendar-data"},
		{"param without value", strings.Replace(ok, "SUMMARY:Busy", "SUMMARY;LANGUAGE:Busy", 1), icalHeader, 400, "valid-calendar-data"},
		{"FREQ=SECONDLY", vevent("x", t0, t0.Add(time.Hour), "RRULE:FREQ=SECONDLY"), icalHeader, 400, "valid-calendar-data"},
		{"FREQ=MINUTELY", vevent("x", t0, t0.Add(time.Hour), "RRULE:FREQ=MINUTELY;COUNT=5"), icalHeader, 400, "valid-calendar-data"},
		{"COUNT too large", vevent("x", t0, t0.Add(time.Hour), "RRULE:FREQ=DAILY;COUNT=10001"), icalHeader, 400, "valid-calendar-data"},
		{"bad RRULE", vevent("x", t0, t0.Add(time.Hour), "RRULE:FREQ=FORTNIGHTLY"), icalHeader, 400, "valid-calendar-data"},
		{"VFREEBUSY", strings.ReplaceAll(ok, "VEVENT", "VFREEBUSY"), icalHeader, 403, "supported-calendar-component"},
		{"wrong media type", ok, map[string]string{"Content-Type": "application/json"}, 415, "supported-calendar-data"},
	}
	for _, c := range cases {
		resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + "x.ics", user: w.interpreter,
			body: c.body, header: c.header})
		if resp.StatusCode != c.status || !strings.Contains(body, "<C:"+c.condition+"/>") {
			t.Errorf("%s: %d %q, want %d with %s", c.name, resp.StatusCode, body, c.status, c.condition)
		}
	}
	if objs, err := storage.NewAvailabilityService(w.db).FindAvailabilityObjects(w.as(w.interpreter), courtside.AvailabilityCalendar); err != nil || len(objs) != 0 {
		t.Fatalf("objects after refused PUTs: %d, %v", len(objs), err)
	}
}

func TestAvailability_UIDConflict(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := calendar.AvailabilityPath("adv")
	resp, _ := w.do(request{method: "PUT", path: base + "a.ics", user: w.advocate, body: vevent("same", t0, t0.Add(time.Hour)), header: icalHeader})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first PUT: %d", resp.StatusCode)
	}
	resp, body := w.do(request{method: "PUT", path: base + "b.ics", user: w.advocate, body: vevent("same", t0, t0.Add(time.Hour)), header: icalHeader})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "<C:no-uid-conflict/>") {
		t.Fatalf("second object with the same UID: %d %q, want 409 no-uid-conflict", resp.StatusCode, body)
	}
}

func TestAvailability_OtherUsersPathsAreNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := calendar.AvailabilityPath("interp") + "mine.ics"
	if resp, _ := w.do(request{method: "PUT", path: path, user: w.interpreter, body: vevent("mine", t0, t0.Add(time.Hour)), header: icalHeader}); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	for _, m := range []string{"GET", "PUT", "DELETE", "PROPFIND", "MKCALENDAR"} {
		p := path
		if m == "PROPFIND" || m == "MKCALENDAR" {
			p = calendar.PersonalPath("interp", "other")
		}
		resp, _ := w.do(request{method: m, path: p, user: w.advocate, body: vevent("mine", t0, t0.Add(time.Hour)),
			header: withHeader(map[string]string{"Depth": "0"})})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s of another user's calendar: %d, want 404", m, resp.StatusCode)
		}
	}
}

func TestAvailability_Mkcalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mk := `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:set><D:prop><D:displayname>Travel</D:displayname></D:prop></D:set></C:mkcalendar>`
	resp, _ := w.do(request{method: "MKCALENDAR", path: calendar.PersonalPath("adv", "travel"), user: w.advocate, body: mk})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d, want 201", resp.StatusCode)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{calendar.PersonalPath("adv", "travel"), 409},
		{calendar.HearingsPath("adv"), 409},
		{calendar.AvailabilityPath("adv"), 409},
		{calendar.PersonalPath("adv", "travel") + "sub/", 403},
		{calendar.PrincipalPath("adv") + "cal/", 403},
		{calendar.HomeSetPath("adv"), 403},
		{calendar.PersonalPath("adv2", "x"), 404},
	} {
		if resp, _ := w.do(request{method: "MKCALENDAR", path: c.path, user: w.advocate}); resp.StatusCode != c.status {
			t.Errorf("MKCALENDAR %s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
	}
	// Discovery lists it; its events are busy time.
	cals, err := w.client(w.advocate).FindCalendars(context.Background(), calendar.HomeSetPath("adv"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cals {
		names = append(names, c.Path+"="+c.Name)
	}
	if strings.Join(names, " ") != calendar.HearingsPath("adv")+"=Hearings "+calendar.AvailabilityPath("adv")+"=Availability "+
		calendar.PersonalPath("adv", "travel")+"=Travel" {
		t.Fatalf("calendars %v", names)
	}
	resp, _ = w.do(request{method: "PUT", path: calendar.PersonalPath("adv", "travel") + "t.ics", user: w.advocate,
		body: vevent("t", t0, t0.Add(time.Hour)), header: icalHeader})
	if resp.StatusCode != 201 {
		t.Fatalf("PUT into the new calendar: %d", resp.StatusCode)
	}
	blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), t0, t0.Add(time.Hour))
	if err != nil || len(blocks) != 1 || blocks[0].Calendar != "travel" {
		t.Fatalf("busy blocks %+v, %v: want the travel event", blocks, err)
	}
	// PUT into a calendar that does not exist: 404.
	if resp, _ := w.do(request{method: "PUT", path: calendar.PersonalPath("adv", "nope") + "t.ics", user: w.advocate,
		body: vevent("t", t0, t0.Add(time.Hour)), header: icalHeader}); resp.StatusCode != 404 {
		t.Fatalf("PUT into a missing calendar: %d, want 404", resp.StatusCode)
	}
}

func TestAvailability_PropfindPrivilegesAndComponents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">
<D:prop><D:current-user-privilege-set/><C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>`
	resp, got := w.do(request{method: "PROPFIND", path: calendar.AvailabilityPath("adv"), user: w.advocate, body: body,
		header: map[string]string{"Depth": "0"}})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND: %d", resp.StatusCode)
	}
	for _, want := range []string{"<write></write>", `name="VEVENT"`, `name="VTODO"`, "/" + courtside.AvailabilityCalendar + "/0"} {
		if !strings.Contains(got, want) {
			t.Errorf("availability PROPFIND lacks %s:\n%s", want, got)
		}
	}
	_, got = w.do(request{method: "PROPFIND", path: calendar.HearingsPath("adv"), user: w.advocate, body: body,
		header: map[string]string{"Depth": "0"}})
	if strings.Contains(got, "<write") || !strings.Contains(got, "<read></read>") {
		t.Errorf("hearings PROPFIND privileges:\n%s", got)
	}
}

// syncReport sends a sync-collection REPORT and returns the token and the hrefs with status.
func syncReport(t *testing.T, w *world, u *courtside.User, path, token string) (string, []string) {
	t.Helper()
	body := `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token +
		`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	resp, got := w.do(request{method: "REPORT", path: path, user: u, body: body})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("sync-collection: %d %s", resp.StatusCode, got)
	}
	tok := regexp.MustCompile(`<sync-token[^>]*>([^<]*)</sync-token>`).FindStringSubmatch(got)
	if tok == nil {
		t.Fatalf("no sync token in %s", got)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<response[^>]*>\s*<href[^>]*>([^<]*)</href>(.*?)</response>`).FindAllStringSubmatch(got, -1) {
		status := "200"
		if strings.Contains(m[2], "404 Not Found") && !strings.Contains(m[2], "getetag>") {
			status = "404"
		}
		out = append(out, m[1][strings.LastIndex(m[1], "/")+1:]+":"+status)
	}
	return tok[1], out
}

func TestAvailability_SyncCollectionAndCTag(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := calendar.AvailabilityPath("adv")
	put := func(name string, start time.Time) {
		t.Helper()
		resp, _ := w.do(request{method: "PUT", path: base + name, user: w.advocate, body: vevent(name, start, start.Add(time.Hour)), header: icalHeader})
		if resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	put("a.ics", t0)
	put("b.ics", t0.Add(24*time.Hour))
	tok1, got := syncReport(t, w, w.advocate, base, "")
	if strings.Join(got, " ") != "a.ics:200 b.ics:200" {
		t.Fatalf("initial sync %v", got)
	}
	tok, got := syncReport(t, w, w.advocate, base, tok1)
	if len(got) != 0 || tok != tok1 {
		t.Fatalf("sync without changes: %v, token %s -> %s", got, tok1, tok)
	}
	put("a.ics", t0.Add(time.Hour))
	if resp, _ := w.do(request{method: "DELETE", path: base + "b.ics", user: w.advocate}); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	put("c.ics", t0.Add(48*time.Hour))
	tok2, got := syncReport(t, w, w.advocate, base, tok1)
	if strings.Join(got, " ") != "a.ics:200 b.ics:404 c.ics:200" || tok2 == tok1 {
		t.Fatalf("sync after changes: %v (token %s)", got, tok2)
	}
	if _, got = syncReport(t, w, w.advocate, base, tok2); len(got) != 0 {
		t.Fatalf("sync at the new token: %v", got)
	}
	// The hearings calendar's token is refused here, and another user's token too.
	for _, bad := range []string{calendar.SyncToken(w.advocate.ID, 1), strings.Replace(tok2, "/sync/", "/sync/9", 1)} {
		body := `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + bad + `</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
		if resp, got := w.do(request{method: "REPORT", path: base, user: w.advocate, body: body}); resp.StatusCode != 403 || !strings.Contains(got, "valid-sync-token") {
			t.Errorf("token %s: %d %s", bad, resp.StatusCode, got)
		}
	}
}

func TestAvailability_TimeRangeQuery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := calendar.AvailabilityPath("adv")
	objs := map[string]string{
		// Weekly on Tuesdays from 1 Dec 2026, 10 times, the second one moved out of the week.
		"weekly.ics": vevent("weekly", t0, t0.Add(time.Hour), "RRULE:FREQ=WEEKLY;COUNT=10", "EXDATE:20261215T130000Z"),
		"once.ics":   vevent("once", t0.Add(72*time.Hour), t0.Add(73*time.Hour)),
		"todo.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:todo\r\nDTSTAMP:20261101T000000Z\r\n" +
			"DUE:20261220T120000Z\r\nSUMMARY:File\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
	}
	for name, body := range objs {
		if resp, _ := w.do(request{method: "PUT", path: base + name, user: w.advocate, body: body, header: icalHeader}); resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	c := w.client(w.advocate)
	query := func(comp string, start, end time.Time) []string {
		t.Helper()
		q := &caldav.CalendarQuery{CompRequest: caldav.CalendarCompRequest{Name: ical.CompCalendar, AllProps: true, AllComps: true},
			CompFilter: caldav.CompFilter{Name: ical.CompCalendar, Comps: []caldav.CompFilter{{Name: comp, Start: start, End: end}}}}
		cos, err := c.QueryCalendar(context.Background(), base, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, co := range cos {
			out = append(out, co.Path[strings.LastIndex(co.Path, "/")+1:])
		}
		return out
	}
	day := 24 * time.Hour
	for _, c := range []struct {
		comp       string
		start, end time.Time
		want       string
	}{
		{ical.CompEvent, t0.Add(7*day - time.Hour), t0.Add(7*day + time.Minute), "weekly.ics"},                                     // the second instance
		{ical.CompEvent, t0.Add(14 * day), t0.Add(14*day + time.Hour), ""},                                                         // the excluded one
		{ical.CompEvent, t0.Add(63 * day), t0.Add(63*day + time.Hour), "weekly.ics"},                                               // the tenth
		{ical.CompEvent, t0.Add(70 * day), t0.Add(71 * day), ""},                                                                   // after COUNT
		{ical.CompEvent, t0.Add(72*day + time.Hour), t0.Add(72*day + 2*time.Hour), ""},                                             // edge: ends when range starts
		{ical.CompEvent, t0.Add(3 * day), t0.Add(3*day + time.Minute), "once.ics"},                                                 // once
		{ical.CompEvent, t0.Add(time.Hour), t0.Add(2 * time.Hour), ""},                                                             // the range starts at DTEND
		{ical.CompToDo, time.Date(2026, 12, 19, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC), "todo.ics"}, // end >= DUE
		{ical.CompToDo, time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC), ""},         // start < DUE fails
	} {
		if got := strings.Join(query(c.comp, c.start, c.end), " "); got != c.want {
			t.Errorf("%s in [%v, %v): %q, want %q", c.comp, c.start, c.end, got, c.want)
		}
	}
	// The busy blocks are the nine remaining weekly instances and the single event; the
	// VTODO is not busy.
	blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), t0.Add(-day), t0.Add(100*day))
	if err != nil || len(blocks) != 10 {
		t.Fatalf("busy blocks: %d, %v; want 10", len(blocks), err)
	}
}

func TestAvailability_FreeBusyQuery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := calendar.AvailabilityPath("adv")
	// Busy 13:00-14:00 and, overlapping h1 (14:30-16:00 on 1 Dec), 14:00-15:00; a transparent
	// event and a cancelled one are not busy.
	for name, body := range map[string]string{
		"a.ics": vevent("a", t0, t0.Add(time.Hour)),
		"b.ics": vevent("b", t0.Add(time.Hour), t0.Add(2*time.Hour)),
		"c.ics": vevent("c", t0.Add(5*time.Hour), t0.Add(6*time.Hour), "TRANSP:TRANSPARENT"),
		"d.ics": vevent("d", t0.Add(7*time.Hour), t0.Add(8*time.Hour), "STATUS:CANCELLED"),
	} {
		if resp, _ := w.do(request{method: "PUT", path: base + name, user: w.advocate, body: body, header: icalHeader}); resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	q := `<?xml version="1.0"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20261201T000000Z" end="20261202T000000Z"/></C:free-busy-query>`
	resp, got := w.do(request{method: "REPORT", path: base, user: w.advocate, body: q, header: map[string]string{"Depth": "1"}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("free-busy-query: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cal, err := calendar.DecodeICal([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	var periods []string
	for _, c := range cal.Children {
		if c.Name == "VFREEBUSY" {
			for _, p := range c.Props.Values("FREEBUSY") {
				periods = append(periods, p.Value)
			}
		}
	}
	// 13:00-15:00 merged with the hearing 14:30-16:00.
	if strings.Join(periods, " ") != "20261201T130000Z/20261201T160000Z" {
		t.Fatalf("FREEBUSY %v:\n%s", periods, got)
	}
	for _, bad := range []string{`<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>`,
		`<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20261202T000000Z" end="20261201T000000Z"/></C:free-busy-query>`} {
		if resp, _ := w.do(request{method: "REPORT", path: base, user: w.advocate, body: bad}); resp.StatusCode != 400 {
			t.Errorf("bad free-busy-query: %d, want 400", resp.StatusCode)
		}
	}
}
