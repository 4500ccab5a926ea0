package calendar_test

import (
	"net/http"
	"strings"
	"testing"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// offered offers h3 to the world's interpreter and returns the booking.
func (w *world) offered(t *testing.T) *courtside.InterpreterBooking {
	t.Helper()
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), w.h3.ID, "es", nil)
	if err != nil || b.InterpreterID != w.interpreter.ID {
		t.Fatalf("request interpreter: %v %+v", err, b)
	}
	return b
}

// answer rewrites the interpreter's ATTENDEE line of a hearing object to partstat, the way a
// calendar app does: properties reordered, an X- property and a VALARM added, DTSTAMP bumped.
func answer(t *testing.T, object, partstat string) string {
	t.Helper()
	lines := strings.Split(strings.ReplaceAll(object, "\r\n ", ""), "\r\n")
	var out, event []string
	in := false
	for _, l := range lines {
		switch {
		case l == "BEGIN:VEVENT":
			in = true
			out = append(out, l)
		case l == "END:VEVENT":
			in = false
			// Reversed order, an alarm and a client property.
			for i := len(event) - 1; i >= 0; i-- {
				out = append(out, event[i])
			}
			out = append(out, "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC", "BEGIN:VALARM", "ACTION:DISPLAY",
				"DESCRIPTION:Reminder", "TRIGGER:-PT30M", "END:VALARM", l)
		case in && strings.HasPrefix(l, "ATTENDEE"):
			event = append(event, strings.Replace(strings.Replace(l, "PARTSTAT=NEEDS-ACTION", "PARTSTAT="+partstat, 1),
				"PARTSTAT=ACCEPTED", "PARTSTAT="+partstat, 1))
		case in && strings.HasPrefix(l, "DTSTAMP"):
			event = append(event, "DTSTAMP:20261130T120000Z")
		case in:
			event = append(event, l)
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}

func TestPartstat_AcceptAndDeclineFromTheCalendarApp(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	path := calendar.HearingPath("interp", w.h3.ID)
	resp, object := w.do(request{method: "GET", path: path, user: w.interpreter})
	if resp.StatusCode != 200 || !strings.Contains(object, "PARTSTAT=NEEDS-ACTION") ||
		!strings.Contains(object, calendar.AttendeeAddress("interp")) {
		t.Fatalf("offered hearing: %d\n%s", resp.StatusCode, object)
	}
	etag := resp.Header.Get("ETag")

	// A stale If-Match: 412, nothing answered.
	resp, _ = w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "ACCEPTED"),
		header: withHeader(map[string]string{"If-Match": `"stale"`})})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d", resp.StatusCode)
	}
	resp, body := w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "ACCEPTED"),
		header: withHeader(map[string]string{"If-Match": etag})})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == etag {
		t.Fatalf("accept: %d ETag %q %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	got, err := storage.NewBookingService(w.db).FindBookings(w.as(w.interpreter), courtside.BookingFilter{IDs: []int64{b.ID}})
	if err != nil || len(got) != 1 || got[0].Status != courtside.BookingAccepted {
		t.Fatalf("booking after the PUT: %+v, %v", got, err)
	}
	resp, object = w.do(request{method: "GET", path: path, user: w.interpreter})
	if resp.Header.Get("ETag") == etag || !strings.Contains(object, "PARTSTAT=ACCEPTED") {
		t.Fatalf("accepted hearing:\n%s", object)
	}
	// Accepting again changes nothing; declining an accepted booking is refused.
	if resp, _ := w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "ACCEPTED"), header: icalHeader}); resp.StatusCode != 204 {
		t.Fatalf("accept again: %d", resp.StatusCode)
	}
	if resp, body := w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "DECLINED"), header: icalHeader}); resp.StatusCode != 403 ||
		!strings.Contains(body, "valid-calendar-object-resource") {
		t.Fatalf("decline an accepted booking: %d %s", resp.StatusCode, body)
	}
}

func TestPartstat_Decline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	path := calendar.HearingPath("interp", w.h3.ID)
	_, object := w.do(request{method: "GET", path: path, user: w.interpreter})
	resp, _ := w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "DECLINED"), header: icalHeader})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("decline: %d", resp.StatusCode)
	}
	got, err := storage.NewBookingService(w.db).FindBookings(w.as(w.prosecutor), courtside.BookingFilter{IDs: []int64{b.ID}})
	if err != nil || len(got) != 1 || got[0].Status != courtside.BookingDeclined {
		t.Fatalf("booking after the decline: %+v, %v", got, err)
	}
	// The hearing left the interpreter's calendar.
	if resp, _ := w.do(request{method: "GET", path: path, user: w.interpreter}); resp.StatusCode != 404 {
		t.Fatalf("GET after the decline: %d", resp.StatusCode)
	}
}

func TestPartstat_OtherChangesAreForbidden(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.offered(t)
	path := calendar.HearingPath("interp", w.h3.ID)
	_, object := w.do(request{method: "GET", path: path, user: w.interpreter})
	accepted := answer(t, object, "ACCEPTED")
	for name, body := range map[string]string{
		"time moved":        strings.Replace(accepted, "DTSTART:20270112T160000Z", "DTSTART:20270112T170000Z", 1),
		"summary changed":   strings.Replace(accepted, "SUMMARY:", "SUMMARY:Mine ", 1),
		"attendee added":    strings.Replace(accepted, "END:VALARM", "END:VALARM\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:other@example.org", 1),
		"attendee removed":  strings.Replace(strings.Replace(accepted, "ATTENDEE;", "X-GONE;", 1), "ATTENDEE:", "X-GONE:", 1),
		"tentative":         answer(t, object, "TENTATIVE"),
		"organizer changed": strings.Replace(accepted, calendar.OrganizerAddress, "mailto:me@example.org", 1),
	} {
		if !strings.Contains(body, "BEGIN:VEVENT") || body == accepted {
			t.Fatalf("%s: the test did not change the object", name)
		}
		resp, got := w.do(request{method: "PUT", path: path, user: w.interpreter, body: body, header: icalHeader})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "<C:valid-calendar-object-resource/>") {
			t.Errorf("%s: %d %s, want 403 with a precondition", name, resp.StatusCode, got)
		}
	}
	// Another user PUTting the interpreter's answer into their own hearings calendar, an
	// advocate PUTting their hearing back, and a DELETE.
	if resp, _ := w.do(request{method: "PUT", path: calendar.HearingPath("adv", w.h3.ID), user: w.advocate, body: accepted, header: icalHeader}); resp.StatusCode != 404 {
		t.Errorf("advocate PUT of a hearing outside their calendar: %d, want 404", resp.StatusCode)
	}
	_, advObject := w.do(request{method: "GET", path: calendar.HearingPath("adv", w.h1.ID), user: w.advocate})
	if resp, _ := w.do(request{method: "PUT", path: calendar.HearingPath("adv", w.h1.ID), user: w.advocate, body: advObject, header: icalHeader}); resp.StatusCode != 403 {
		t.Errorf("advocate PUT of their own hearing unchanged: %d, want 403", resp.StatusCode)
	}
	if resp, _ := w.do(request{method: "DELETE", path: path, user: w.interpreter}); resp.StatusCode != 403 {
		t.Errorf("DELETE: %d, want 403", resp.StatusCode)
	}
	got, err := storage.NewBookingService(w.db).FindBookings(w.as(w.interpreter), courtside.BookingFilter{IDs: []int64{b.ID}})
	if err != nil || got[0].Status != courtside.BookingOffered {
		t.Fatalf("booking after refused changes: %+v, %v", got, err)
	}
	// The unchanged object (NEEDS-ACTION) is accepted as no change at all.
	if resp, _ := w.do(request{method: "PUT", path: path, user: w.interpreter, body: answer(t, object, "NEEDS-ACTION"), header: icalHeader}); resp.StatusCode != 204 {
		t.Errorf("unchanged object: %d, want 204", resp.StatusCode)
	}
}

func TestPrincipal_CalendarUserAddressSet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` +
		`<C:calendar-user-address-set/><C:calendar-home-set/></D:prop></D:propfind>`
	resp, got := w.do(request{method: "PROPFIND", path: calendar.PrincipalPath("interp"), user: w.interpreter, body: body,
		header: map[string]string{"Depth": "0"}})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, calendar.AttendeeAddress("interp")+"</href>") ||
		!strings.Contains(got, calendar.HomeSetPath("interp")) || strings.Contains(got, "404") {
		t.Fatalf("PROPFIND principal: %d\n%s", resp.StatusCode, got)
	}
}
