package calendar_test

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"courtside/calendar"
	"courtside/storage"
)

// queryNames sends a calendar-query with filter (inside the VCALENDAR comp-filter) to the
// collection and returns the status and the names of the objects it answered, sorted.
func queryNames(t *testing.T, w *world, coll, filter string) (int, []string, string) {
	t.Helper()
	body := `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR">` + filter + `</C:comp-filter></C:filter></C:calendar-query>`
	resp, got := w.do(request{method: "REPORT", path: coll, user: w.advocate, body: body, header: map[string]string{"Depth": "1"}})
	var names []string
	for _, m := range regexp.MustCompile(`<href>[^<]*/([^/<]+\.ics)</href>`).FindAllStringSubmatch(got, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return resp.StatusCode, names, got
}

// summarized gives a vevent object another SUMMARY.
func summarized(summary, obj string) string {
	return strings.Replace(obj, "SUMMARY:Busy", "SUMMARY:"+summary, 1)
}

// TestTextMatch searches a personal calendar by text (RFC 4791 sections 7.5, 9.7): SUMMARY,
// CATEGORIES, LOCATION and DESCRIPTION; the collations i;ascii-casemap (the default),
// i;octet and i;unicode-casemap; negate-condition; param-filter; is-not-defined on a
// property and a component; a text-match beside a time range. An unknown collation is 403
// supported-collation; an oversized text-match, a filter nested too deep or with too many
// tests is 400 naming the bound.
func TestTextMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("adv")
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for name, body := range map[string]string{
		"a.ics": summarized("Café Meeting", vevent("a", day, day.Add(time.Hour), "CATEGORIES:Court,Prep",
			"LOCATION:Room 4B", "DESCRIPTION:Bring the exhibits\\, all of them",
			"ATTENDEE;PARTSTAT=ACCEPTED;CN=Interpreter:mailto:interp@example.org",
			"BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Soon", "TRIGGER:-PT15M", "END:VALARM")),
		"b.ics": summarized("cafe lunch", vevent("b", day.Add(48*time.Hour), day.Add(49*time.Hour), "CATEGORIES:Personal",
			"ATTENDEE;PARTSTAT=DECLINED:mailto:x@example.org")),
		"c.ics": vtodo("c", "SUMMARY:MEETING notes", "DUE:20261203T100000Z"),
	} {
		if resp, got := w.do(request{method: "PUT", path: coll + name, user: w.advocate, body: body, header: icalHeader}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, got)
		}
	}
	prop := func(name, inner string) string {
		return `<C:prop-filter name="` + name + `">` + inner + `</C:prop-filter>`
	}
	text := func(attrs, s string) string { return `<C:text-match` + attrs + `>` + s + `</C:text-match>` }
	event := func(inner string) string { return `<C:comp-filter name="VEVENT">` + inner + `</C:comp-filter>` }
	tests := []struct {
		name, filter string
		want         string
	}{
		{"summary, default collation", event(prop("SUMMARY", text("", "meeting"))), "a.ics"},
		{"summary, i;ascii-casemap", event(prop("SUMMARY", text(` collation="i;ascii-casemap"`, "MEETING"))), "a.ics"},
		{"summary, i;octet", event(prop("SUMMARY", text(` collation="i;octet"`, "meeting"))), ""},
		{"summary, i;octet, same case", event(prop("SUMMARY", text(` collation="i;octet"`, "Meeting"))), "a.ics"},
		{"non-ASCII, i;ascii-casemap folds ASCII only", event(prop("SUMMARY", text("", "CAFÉ"))), ""},
		{"non-ASCII, i;unicode-casemap", event(prop("SUMMARY", text(` collation="i;unicode-casemap"`, "CAFÉ"))), "a.ics"},
		{"negate-condition", event(prop("SUMMARY", text(` negate-condition="yes"`, "lunch"))), "a.ics"},
		{"categories, one of a list", event(prop("CATEGORIES", text("", "prep"))), "a.ics"},
		{"categories, negated over the list", event(prop("CATEGORIES", text(` negate-condition="yes"`, "court"))), "b.ics"},
		{"location", event(prop("LOCATION", text("", "4b"))), "a.ics"},
		{"description, unescaped", event(prop("DESCRIPTION", text("", "exhibits, all"))), "a.ics"},
		{"property not defined", event(prop("LOCATION", `<C:is-not-defined/>`)), "b.ics"},
		{"property defined", event(prop("LOCATION", "")), "a.ics"},
		{"param-filter", event(prop("ATTENDEE", `<C:param-filter name="PARTSTAT">`+text("", "accepted")+`</C:param-filter>`)), "a.ics"},
		{"param not defined", event(prop("ATTENDEE", `<C:param-filter name="CN"><C:is-not-defined/></C:param-filter>`)), "b.ics"},
		{"nested component", event(`<C:comp-filter name="VALARM">` + prop("ACTION", text("", "display")) + `</C:comp-filter>`), "a.ics"},
		{"component not defined", event(`<C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter>`), "b.ics"},
		{"to-do by text", `<C:comp-filter name="VTODO">` + prop("SUMMARY", text("", "meeting")) + `</C:comp-filter>`, "c.ics"},
		{"text beside a time range", event(`<C:time-range start="20261203T000000Z" end="20261204T000000Z"/>` + prop("SUMMARY", text("", "cafe"))), "b.ics"},
		{"text beside a time range, none", event(`<C:time-range start="20261203T000000Z" end="20261204T000000Z"/>` + prop("SUMMARY", text("", "meeting"))), ""},
		{"every component with a summary", prop("SUMMARY", "") + "", ""},
	}
	for _, tt := range tests {
		status, names, got := queryNames(t, w, coll, tt.filter)
		if status != http.StatusMultiStatus || strings.Join(names, " ") != tt.want {
			t.Errorf("%s: %d %v, want %q\n%s", tt.name, status, names, tt.want, got)
		}
	}

	// The collations are advertised (RFC 4791 section 7.5.1).
	_, got := w.do(request{method: "PROPFIND", path: coll, user: w.advocate, header: map[string]string{"Depth": "0"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:supported-collation-set/></D:prop></D:propfind>`})
	for _, c := range []string{"i;ascii-casemap", "i;octet", "i;unicode-casemap"} {
		if !strings.Contains(got, ">"+c+"</supported-collation>") {
			t.Errorf("supported-collation-set lacks %s:\n%s", c, got)
		}
	}

	for _, c := range []struct {
		name, filter string
		status       int
		condition    string
	}{
		{"unknown collation", event(prop("SUMMARY", text(` collation="i;klingon"`, "x"))), http.StatusForbidden, "supported-collation"},
		{"huge text-match", event(prop("SUMMARY", text("", strings.Repeat("x", calendar.MaxTextMatchBytes+1)))), http.StatusBadRequest, "valid-filter"},
		{"too deep", event(strings.Repeat(`<C:comp-filter name="VALARM">`, calendar.MaxFilterDepth) + strings.Repeat(`</C:comp-filter>`, calendar.MaxFilterDepth)), http.StatusBadRequest, "valid-filter"},
		{"too many tests", event(strings.Repeat(prop("SUMMARY", text("", "x")), calendar.MaxFilterTests+1)), http.StatusBadRequest, "valid-filter"},
		{"bad negate-condition", event(prop("SUMMARY", text(` negate-condition="maybe"`, "x"))), http.StatusBadRequest, "valid-filter"},
	} {
		status, _, got := queryNames(t, w, coll, c.filter)
		if status != c.status || !strings.Contains(got, "<C:"+c.condition+"/>") {
			t.Errorf("%s: %d %.300s, want %d %s", c.name, status, got, c.status, c.condition)
		}
	}
}

// TestJournalTimeRange applies the VJOURNAL rule of RFC 4791 section 9.9: a DATE-TIME
// DTSTART matches when start <= DTSTART < end, a DATE one when the range meets its day, a
// journal without DTSTART never.
func TestJournalTimeRange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("adv")
	for name, body := range map[string]string{
		"day.ics":     vjournal("day", "DTSTART;VALUE=DATE:20261201", "SUMMARY:Notes"),
		"instant.ics": vjournal("instant", "DTSTART:20261215T100000Z", "SUMMARY:Notes"),
		"undated.ics": vjournal("undated", "SUMMARY:Notes"),
		"weekly.ics":  vjournal("weekly", "DTSTART:20270104T090000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Weekly notes"),
	} {
		if resp, got := w.do(request{method: "PUT", path: coll + name, user: w.advocate, body: body, header: icalHeader}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, got)
		}
	}
	journal := func(start, end string) string {
		return `<C:comp-filter name="VJOURNAL"><C:time-range start="` + start + `" end="` + end + `"/></C:comp-filter>`
	}
	for _, tt := range []struct {
		start, end, want string
	}{
		{"20261201T120000Z", "20261202T000000Z", "day.ics"},
		{"20261130T000000Z", "20261201T000000Z", ""},
		{"20261215T100000Z", "20261215T100001Z", "instant.ics"},
		{"20261215T090000Z", "20261215T100000Z", ""},
		{"20270111T000000Z", "20270112T000000Z", "weekly.ics"},
		{"20270125T000000Z", "20270126T000000Z", ""},
		{"20200101T000000Z", "20300101T000000Z", "day.ics instant.ics weekly.ics"},
	} {
		status, names, got := queryNames(t, w, coll, journal(tt.start, tt.end))
		if status != http.StatusMultiStatus || strings.Join(names, " ") != tt.want {
			t.Errorf("%s to %s: %d %v, want %q\n%s", tt.start, tt.end, status, names, tt.want, got)
		}
	}
	// Journals are never busy.
	if blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.advocate), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || len(blocks) != 0 {
		t.Errorf("busy blocks of journals: %+v, %v", blocks, err)
	}
}

// TestExportCalendar GETs calendar collections: one text/calendar VCALENDAR holding every
// object's components (a VTIMEZONE once), named by the calendar's display name; HEAD the same
// headers; an empty calendar an empty VCALENDAR; the hearings calendar its hearings.
func TestExportCalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("adv")
	tz := "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	for i, uid := range []string{"x1", "x2"} {
		body := strings.Replace(vevent(uid, t0.Add(time.Duration(i)*time.Hour), t0.Add(time.Duration(i+1)*time.Hour)), "BEGIN:VEVENT", strings.TrimSuffix(tz, "\r\n")+"\r\nBEGIN:VEVENT", 1)
		if resp, got := w.do(request{method: "PUT", path: coll + uid + ".ics", user: w.advocate, body: body, header: icalHeader}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d %s", resp.StatusCode, got)
		}
	}
	if resp, got := w.do(request{method: "PUT", path: coll + "t.ics", user: w.advocate, body: vtodo("t1", "SUMMARY:Call"), header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, got)
	}
	resp, got := w.do(request{method: "GET", path: coll, user: w.advocate})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") ||
		strings.Count(got, "BEGIN:VCALENDAR") != 1 || strings.Count(got, "BEGIN:VEVENT") != 2 || strings.Count(got, "BEGIN:VTODO") != 1 ||
		strings.Count(got, "BEGIN:VTIMEZONE") != 1 || !strings.Contains(got, "X-WR-CALNAME:Availability") ||
		!strings.Contains(got, "UID:x1") || !strings.Contains(got, "UID:x2") {
		t.Fatalf("GET of the calendar: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	if _, err := calendar.DecodeICal([]byte(got)); err != nil {
		t.Errorf("the export does not parse: %v", err)
	}
	head, body := w.do(request{method: "HEAD", path: coll, user: w.advocate})
	if head.StatusCode != http.StatusOK || body != "" || head.Header.Get("Content-Length") != resp.Header.Get("Content-Length") {
		t.Errorf("HEAD: %d %q, length %q", head.StatusCode, body, head.Header.Get("Content-Length"))
	}
	if resp, got := w.do(request{method: "GET", path: calendar.AvailabilityPath("interp"), user: w.interpreter}); resp.StatusCode != http.StatusOK ||
		strings.Contains(got, "BEGIN:VEVENT") || !strings.Contains(got, "BEGIN:VCALENDAR") {
		t.Errorf("GET of an empty calendar: %d\n%s", resp.StatusCode, got)
	}
	w.runProjection(t)
	if resp, got := w.do(request{method: "GET", path: calendar.HearingsPath("adv"), user: w.advocate}); resp.StatusCode != http.StatusOK ||
		strings.Count(got, "BEGIN:VEVENT") != 2 || !strings.Contains(got, "UID:"+calendar.UID(w.h1.ID)) {
		t.Errorf("GET of the hearings calendar: %d\n%s", resp.StatusCode, got)
	}
	if resp, _ := w.do(request{method: "GET", path: coll, user: w.otherAdvocate}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of another user's calendar: %d, want 404", resp.StatusCode)
	}
}

// TestTextMatch_HearingsCalendar searches the hearings calendar by text, as personal calendars
// are searched: the default collation ignores case, negate-condition and a time range apply.
func TestTextMatch_HearingsCalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	coll := calendar.HearingsPath("adv")
	h1 := fmt.Sprintf("hearing-%d.ics", w.h1.ID)
	h2 := fmt.Sprintf("hearing-%d.ics", w.h2.ID)
	summary := func(attrs, text string) string {
		return `<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match` + attrs + `>` + text +
			`</C:text-match></C:prop-filter></C:comp-filter>`
	}
	for _, tt := range []struct {
		name, filter, want string
	}{
		{"by kind, any case", summary("", "SENTENCING"), h1},
		{"i;octet", summary(` collation="i;octet"`, "SENTENCING"), ""},
		{"negated", summary(` negate-condition="yes"`, "sentencing"), h2},
		{"docket in both", summary("", docketNumber), strings.Join([]string{h1, h2}, " ")},
		{"with a time range", `<C:comp-filter name="VEVENT"><C:time-range start="20261205T000000Z" end="20261215T000000Z"/>` +
			`<C:prop-filter name="SUMMARY"><C:text-match>` + docketNumber + `</C:text-match></C:prop-filter></C:comp-filter>`, h2},
		{"to-dos: none", `<C:comp-filter name="VTODO"><C:prop-filter name="SUMMARY"><C:text-match>x</C:text-match></C:prop-filter></C:comp-filter>`, ""},
	} {
		status, names, got := queryNames(t, w, coll, tt.filter)
		want := strings.Fields(tt.want)
		sort.Strings(want)
		if status != http.StatusMultiStatus || strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %d %v, want %v\n%s", tt.name, status, names, want, got)
		}
	}
	if status, _, got := queryNames(t, w, coll, summary(` collation="i;klingon"`, "x")); status != http.StatusForbidden ||
		!strings.Contains(got, "supported-collation") {
		t.Errorf("unknown collation on the hearings calendar: %d %s", status, got)
	}
}
