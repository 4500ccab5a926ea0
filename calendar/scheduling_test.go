package calendar_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// bookingStatus returns the status of booking id, read as the prosecutor who asked for it.
func (w *world) bookingStatus(t *testing.T, id int64) courtside.BookingStatus {
	t.Helper()
	bs, err := storage.NewBookingService(w.db).FindBookings(w.as(w.prosecutor), courtside.BookingFilter{IDs: []int64{id}})
	if err != nil || len(bs) != 1 {
		t.Fatalf("find booking %d: %v %v", id, bs, err)
	}
	return bs[0].Status
}

// inboxMessage returns the one message of the interpreter's inbox, by PROPFIND Depth 1 as
// Thunderbird reads it: its href and its calendar data.
func inboxMessage(t *testing.T, w *world) (string, string) {
	t.Helper()
	resp, got := w.do(request{method: "PROPFIND", path: calendar.InboxPath("interp"), user: w.interpreter, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">` +
			`<D:prop><D:resourcetype/><D:getetag/><CS:getctag/><C:calendar-data/></D:prop></D:propfind>`})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, "schedule-inbox") {
		t.Fatalf("PROPFIND inbox: %d %s", resp.StatusCode, got)
	}
	hrefs := regexp.MustCompile(`<href xmlns="DAV:">(`+regexp.QuoteMeta(calendar.InboxPath("interp"))+`[^<]+)</href>`).FindAllStringSubmatch(got, -1)
	if len(hrefs) != 1 {
		t.Fatalf("inbox messages: %v\n%s", hrefs, got)
	}
	data := regexp.MustCompile(`<calendar-data[^>]*>([^<]+)</calendar-data>`).FindStringSubmatch(got)
	if data == nil {
		t.Fatalf("no calendar-data in %s", got)
	}
	return hrefs[0][1], strings.NewReplacer("&#xD;", "\r", "&#xA;", "\n", "&#x9;", "\t", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(data[1])
}

// attendeeCopy turns an inbox REQUEST into the attendee's copy a calendar app stores: no
// METHOD, the interpreter's PARTSTAT set.
func attendeeCopy(request, partstat string) string {
	out := strings.Replace(request, "METHOD:REQUEST\r\n", "", 1)
	return strings.Replace(out, "PARTSTAT=NEEDS-ACTION", "PARTSTAT="+partstat, 1)
}

// TestScheduling_PrincipalAndInbox reads the scheduling properties of the principal
// (calendar-user-address-set with the mailto: address first, schedule-inbox-URL,
// schedule-outbox-URL), then the booking offer in the interpreter's inbox: an iTIP REQUEST
// with Courtside as ORGANIZER and the interpreter as ATTENDEE, by PROPFIND, GET and
// calendar-multiget. A DELETE takes it out of the inbox and leaves the booking offered.
// Another user's inbox and outbox are 404; a user without invitations has an empty inbox.
func TestScheduling_PrincipalAndInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	resp, got := w.do(request{method: "PROPFIND", path: calendar.PrincipalPath("interp"), user: w.interpreter, header: map[string]string{"Depth": "0"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-user-address-set/>` +
			`<C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-home-set/></D:prop></D:propfind>`})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, `<href xmlns="DAV:">mailto:interp@example.org</href><href xmlns="DAV:">`+calendar.AttendeeAddress("interp")) ||
		!strings.Contains(got, calendar.InboxPath("interp")) || !strings.Contains(got, calendar.OutboxPath("interp")) || strings.Contains(got, "404") {
		t.Fatalf("principal: %d %s", resp.StatusCode, got)
	}

	href, data := inboxMessage(t, w)
	if href != calendar.InboxItemPath("interp", b.ID, "REQUEST", 0) {
		t.Errorf("message href %s", href)
	}
	for _, want := range []string{"METHOD:REQUEST", "ORGANIZER;CN=Courtside:mailto:" + organizerAddress, "mailto:interp@example.org",
		"PARTSTAT=NEEDS-ACTION", fmt.Sprintf("UID:booking-%d-", b.ID), "@courtside.test"} {
		if !strings.Contains(strings.ReplaceAll(data, "\r\n ", ""), want) {
			t.Errorf("the invitation lacks %q:\n%s", want, data)
		}
	}
	for _, leak := range []string{legalName, pseudonym, victimEmail} {
		if strings.Contains(data, leak) {
			t.Errorf("the invitation carries %q", leak)
		}
	}
	resp, got = w.do(request{method: "GET", path: href, user: w.interpreter})
	if resp.StatusCode != http.StatusOK || got != data || resp.Header.Get("ETag") == "" {
		t.Errorf("GET of the message: %d %q\n%s", resp.StatusCode, resp.Header.Get("ETag"), got)
	}
	resp, got = w.do(request{method: "REPORT", path: calendar.InboxPath("interp"), user: w.interpreter, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
			`<D:href>` + href + `</D:href><D:href>` + calendar.InboxItemPath("interp", b.ID+1, "REQUEST", 0) + `</D:href></C:calendar-multiget>`})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, "METHOD:REQUEST") || !strings.Contains(got, "404 Not Found") {
		t.Errorf("multiget: %d %s", resp.StatusCode, got)
	}

	// Other users: 404 for theirs, an empty inbox of one's own.
	for _, p := range []string{calendar.InboxPath("interp"), href, calendar.OutboxPath("interp")} {
		for _, m := range []string{"PROPFIND", "GET", "DELETE", "POST"} {
			if resp, _ := w.do(request{method: m, path: p, user: w.advocate, header: map[string]string{"Depth": "0"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as another user: %d, want 404", m, p, resp.StatusCode)
			}
		}
	}
	resp, got = w.do(request{method: "PROPFIND", path: calendar.InboxPath("adv"), user: w.advocate, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`})
	if resp.StatusCode != http.StatusMultiStatus || strings.Count(got, "<response") != 1 {
		t.Errorf("the advocate's own inbox: %d %s", resp.StatusCode, got)
	}

	// Methods the inbox and outbox do not take: 405.
	for _, c := range []struct{ method, path string }{{"PUT", href}, {"MKCALENDAR", calendar.InboxPath("interp")},
		{"POST", calendar.InboxPath("interp")}, {"DELETE", calendar.OutboxPath("interp")}, {"GET", calendar.OutboxPath("interp")}} {
		if resp, _ := w.do(request{method: c.method, path: c.path, user: w.interpreter}); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405", c.method, c.path, resp.StatusCode)
		}
	}

	// DELETE: out of the inbox, the booking still offered.
	if resp, got := w.do(request{method: "DELETE", path: href, user: w.interpreter}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of the message: %d %s", resp.StatusCode, got)
	}
	if resp, _ := w.do(request{method: "GET", path: href, user: w.interpreter}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", resp.StatusCode)
	}
	if resp, _ := w.do(request{method: "DELETE", path: href, user: w.interpreter}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again: %d", resp.StatusCode)
	}
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingOffered {
		t.Errorf("the booking after the message's deletion: %s", s)
	}
}

// TestScheduling_AcceptByPutOfTheAttendeeCopy stores the invitation in a calendar with
// PARTSTAT=ACCEPTED, as Thunderbird and Apple Calendar do on a server that schedules: 201 with
// a Schedule-Tag, the booking accepted, no busy block from the copy; the same copy again
// changes nothing; If-Schedule-Tag-Match with another tag is 412. A copy naming a booking that
// is not the caller's changes nothing and is refused.
func TestScheduling_AcceptByPutOfTheAttendeeCopy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	_, invitation := inboxMessage(t, w)
	path := calendar.AvailabilityPath("interp") + "invitation.ics"
	copyAccepted := attendeeCopy(invitation, "ACCEPTED")

	// Someone else's answer with this copy: the advocate has no such booking.
	if resp, got := w.do(request_(calendar.AvailabilityPath("adv")+"invitation.ics", w.advocate, copyAccepted, nil)); resp.StatusCode != http.StatusCreated {
		// Not the advocate's attendee (no address of theirs): stored as an ordinary event, answering nothing.
		t.Errorf("the advocate's PUT of the copy: %d %s", resp.StatusCode, got)
	}
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingOffered {
		t.Fatalf("the booking after another user's PUT: %s", s)
	}

	resp, got := w.do(request_(path, w.interpreter, copyAccepted, nil))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Schedule-Tag") == "" {
		t.Fatalf("PUT of the accepted copy: %d %q %s", resp.StatusCode, resp.Header.Get("Schedule-Tag"), got)
	}
	tag := resp.Header.Get("Schedule-Tag")
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingAccepted {
		t.Fatalf("the booking after the accepted copy: %s", s)
	}
	if blocks, err := storage.NewAvailabilityService(w.db).FindBusyBlocks(w.as(w.interpreter), w.h3.StartsAt, w.h3.EndsAt); err != nil || len(blocks) != 0 {
		t.Errorf("busy blocks of the copy: %+v %v", blocks, err)
	}
	// The client writes its copy again (an alarm added): 204, nothing else.
	again := strings.Replace(copyAccepted, "END:VEVENT", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\nEND:VEVENT", 1)
	if resp, got := w.do(request_(path, w.interpreter, again, map[string]string{"If-Schedule-Tag-Match": tag})); resp.StatusCode != http.StatusNoContent ||
		resp.Header.Get("Schedule-Tag") != tag {
		t.Errorf("PUT of the copy again: %d %q %s", resp.StatusCode, resp.Header.Get("Schedule-Tag"), got)
	}
	if resp, _ := w.do(request_(path, w.interpreter, again, map[string]string{"If-Schedule-Tag-Match": `"other"`})); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("If-Schedule-Tag-Match with another tag: %d, want 412", resp.StatusCode)
	}
	// GET and REPORT show the Schedule-Tag of the copy (RFC 6638 section 3.2.10).
	if resp, _ := w.do(request{method: "GET", path: path, user: w.interpreter}); resp.StatusCode != http.StatusOK || resp.Header.Get("Schedule-Tag") != tag {
		t.Errorf("GET of the copy: %d Schedule-Tag %q, want %q", resp.StatusCode, resp.Header.Get("Schedule-Tag"), tag)
	}
	_, got = w.do(request{method: "REPORT", path: calendar.AvailabilityPath("interp"), user: w.interpreter, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:schedule-tag/></D:prop>` +
			`<D:href>` + path + `</D:href></C:calendar-multiget>`})
	if !strings.Contains(got, ">"+strings.ReplaceAll(tag, `"`, "&#34;")+"</schedule-tag>") && !strings.Contains(got, ">"+tag+"</schedule-tag>") {
		t.Errorf("multiget of the copy's schedule-tag: %s", got)
	}
	// Accepted: no longer in the inbox.
	_, got = w.do(request{method: "PROPFIND", path: calendar.InboxPath("interp"), user: w.interpreter, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`})
	if strings.Count(got, "<response") != 1 {
		t.Errorf("the inbox after accepting: %s", got)
	}
	// A copy with a forged UID: refused, nothing stored.
	forged := regexp.MustCompile(`UID:booking-(\d+)-[0-9a-f]+@`).ReplaceAllString(copyAccepted, "UID:booking-${1}-00000000000000000000000000000000@")
	if resp, got := w.do(request_(calendar.AvailabilityPath("interp")+"forged.ics", w.interpreter, forged, nil)); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(got, "valid-scheduling-message") {
		t.Errorf("PUT of a forged copy: %d %s", resp.StatusCode, got)
	}
	if resp, _ := w.do(request{method: "GET", path: calendar.AvailabilityPath("interp") + "forged.ics", user: w.interpreter}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the forged copy was stored: %d", resp.StatusCode)
	}
}

// request_ is a PUT of an iCalendar body to path as u, with extra headers.
func request_(path string, u *courtside.User, body string, header map[string]string) request {
	return request{method: "PUT", path: path, user: u, body: body, header: withHeader(header)}
}

// TestScheduling_OutboxReplyAndFreeBusy POSTs to the outbox: an iTIP REPLY DECLINED declines
// the booking (200 schedule-response 2.0), the same reply again is 409, a forged one 403; a
// VFREEBUSY REQUEST answers the caller's own busy time and refuses other attendees (3.7).
func TestScheduling_OutboxReplyAndFreeBusy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	_, req := inboxMessage(t, w)
	m := regexp.MustCompile(`UID:(\S+)`).FindStringSubmatch(req)
	if m == nil {
		t.Fatalf("no UID in %q", req)
	}
	uid := m[1]
	reply := func(uid, partstat string) string {
		return strings.Join([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thunderbird//EN", "METHOD:REPLY", "BEGIN:VEVENT",
			"UID:" + uid, "DTSTAMP:20261130T120000Z", "SEQUENCE:0", "DTSTART:20270112T160000Z",
			"ORGANIZER:mailto:" + organizerAddress, "ATTENDEE;PARTSTAT=" + partstat + ":mailto:interp@example.org",
			"COMMENT:In another court that day.", "END:VEVENT", "END:VCALENDAR", ""}, "\r\n")
	}
	post := func(u *courtside.User, body string) (*http.Response, string) {
		return w.do(request{method: "POST", path: calendar.OutboxPath(u.Username), user: u, body: body, header: icalHeader})
	}
	forged := strings.Replace(uid, uid[strings.LastIndex(uid, "-")+1:strings.Index(uid, "@")], strings.Repeat("0", 32), 1)
	if resp, got := post(w.interpreter, reply(forged, "ACCEPTED")); resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "valid-scheduling-message") {
		t.Errorf("a forged reply: %d %s", resp.StatusCode, got)
	}
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingOffered {
		t.Fatalf("the booking after a forged reply: %s", s)
	}
	resp, got := post(w.interpreter, reply(uid, "DECLINED"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, "2.0;Success") || !strings.Contains(got, "schedule-response") {
		t.Fatalf("the REPLY: %d %s", resp.StatusCode, got)
	}
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingDeclined {
		t.Fatalf("the booking after the declining REPLY: %s", s)
	}
	if resp, got := post(w.interpreter, reply(uid, "ACCEPTED")); resp.StatusCode != http.StatusConflict {
		t.Errorf("a reply to an answered offer: %d %s", resp.StatusCode, got)
	}

	// Free-busy: the interpreter's own busy block, not another user's time.
	busyStart := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC)
	if resp, got := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + "busy.ics", user: w.interpreter,
		body: vevent("busy", busyStart, busyStart.Add(2*time.Hour)), header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT busy: %d %s", resp.StatusCode, got)
	}
	fb := strings.Join([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thunderbird//EN", "METHOD:REQUEST", "BEGIN:VFREEBUSY",
		"UID:fb-1", "DTSTAMP:20261130T120000Z", "DTSTART:20261220T000000Z", "DTEND:20261221T000000Z",
		"ORGANIZER:mailto:interp@example.org", "ATTENDEE:mailto:interp@example.org", "ATTENDEE:mailto:adv@example.org",
		"END:VFREEBUSY", "END:VCALENDAR", ""}, "\r\n")
	resp, got = post(w.interpreter, fb)
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, "FREEBUSY;FBTYPE=BUSY:20261220T090000Z/20261220T110000Z") ||
		!strings.Contains(got, "3.7;Invalid calendar user") {
		t.Errorf("free-busy: %d %s", resp.StatusCode, got)
	}
	if resp, got := post(w.interpreter, strings.Replace(fb, "METHOD:REQUEST", "METHOD:PUBLISH", 1)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a PUBLISH to the outbox: %d %s", resp.StatusCode, got)
	}
}

// TestPythonCaldavScheduling has python3-caldav, from the server's root URL, read the
// interpreter's calendar-user-address-set and scheduling inbox and accept the invitation in
// it (accept_invite, storing the attendee's copy in the availability calendar): the booking
// is accepted, with no error logged.
func TestPythonCaldavScheduling(t *testing.T) {
	py := pythonWithCaldav()
	if py == "" {
		t.Fatal("python3-caldav is not installed: run `make test`, which installs it")
	}
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	out, err := exec.Command(py, "testdata/python_caldav_scheduling.py", w.srv.URL+"/", "interp", w.secrets["interp"], "accept").Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got struct {
		Addresses []string `json:"addresses"`
		Inbox     string   `json:"inbox"`
		Outbox    string   `json:"outbox"`
		Items     []string `json:"items"`
		Answered  []string `json:"answered"`
		Stored    []string `json:"stored"`
		Errors    []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Addresses) == 0 || got.Addresses[0] != "mailto:interp@example.org" || got.Inbox != w.srv.URL+calendar.InboxPath("interp") ||
		got.Outbox != w.srv.URL+calendar.OutboxPath("interp") || len(got.Errors) > 0 {
		t.Errorf("python-caldav saw %+v", got)
	}
	if len(got.Items) != 1 || got.Items[0] != w.srv.URL+calendar.InboxItemPath("interp", b.ID, "REQUEST", 0) || len(got.Answered) != 1 ||
		len(got.Stored) != 1 {
		t.Errorf("inbox items %v, answered %v, stored %v", got.Items, got.Answered, got.Stored)
	}
	if s := w.bookingStatus(t, b.ID); s != courtside.BookingAccepted {
		t.Errorf("the booking after python-caldav's accept_invite: %s", s)
	}
}
