package main_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// davRequest sends a CalDAV request with the advocate's app password and returns the status
// and the body.
func davRequest(t *testing.T, base string, w *world, method, path, depth, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	req.SetBasicAuth("adv", w.advocateApp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// TestCalDAV_FloodAndCostlyRecurrenceRefused runs the real binary: a PROPFIND naming 5,000
// properties gets a short 400 naming the bound (rather than a propstat per property and
// object), and a PUT whose RRULE never matches (FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31) gets 400
// with CALDAV:valid-calendar-object-resource, nothing stored; an ordinary recurring event is
// stored.
func TestCalDAV_FloodAndCostlyRecurrenceRefused(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	coll := "/dav/calendars/adv/availability/"
	event := func(uid, rule string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20270105T130000Z\r\nDTEND:20270105T140000Z\r\nRRULE:" + rule + "\r\nSUMMARY:Other work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	if code, body := davRequest(t, s.url, w, http.MethodPut, coll+"weekly.ics", "", "text/calendar", event("weekly", "FREQ=WEEKLY;COUNT=10")); code != http.StatusCreated {
		t.Fatalf("PUT weekly: %d %s", code, body)
	}
	code, body := davRequest(t, s.url, w, http.MethodPut, coll+"never.ics", "", "text/calendar", event("never", "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31"))
	if code != http.StatusBadRequest || !strings.Contains(body, "valid-calendar-object-resource") {
		t.Errorf("PUT of a rule that never matches: %d %s; want 400 valid-calendar-object-resource", code, body)
	}
	if code, _ := davRequest(t, s.url, w, http.MethodGet, coll+"never.ics", "", "", ""); code != http.StatusNotFound {
		t.Errorf("GET of the refused object: %d, want 404", code)
	}

	var flood strings.Builder
	flood.WriteString(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop>`)
	for i := range 5000 {
		fmt.Fprintf(&flood, "<X:p%d/>", i)
	}
	flood.WriteString(`</D:prop></D:propfind>`)
	code, body = davRequest(t, s.url, w, "PROPFIND", coll, "1", "application/xml", flood.String())
	if code != http.StatusBadRequest || !strings.Contains(body, "properties") || len(body) > 200 {
		t.Errorf("PROPFIND of 5,000 properties: %d, %d bytes %.200q; want a short 400", code, len(body), body)
	}
}
