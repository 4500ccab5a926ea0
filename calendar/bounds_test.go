package calendar_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// propfindOf returns a PROPFIND body naming n properties, each in a namespace of its own
// prefix as clients write them.
func propfindOf(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop><D:getetag/>`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "<X:p%d/>", i)
	}
	b.WriteString(`</D:prop></D:propfind>`)
	return b.String()
}

// boundsServer serves w's world with the default body cap (1 MiB, which a flood fits in) and
// an answer cap of maxAnswer bytes (0: the default).
func boundsServer(t *testing.T, w *world, maxAnswer int64) *httptest.Server {
	srv := httptest.NewServer(calendar.NewHandler(calendar.Config{Users: storage.NewUserService(w.db), Tokens: storage.NewTokenService(w.db), Calendars: storage.NewCalendarService(w.db),
		Availability: storage.NewAvailabilityService(w.db), Bookings: storage.NewBookingService(w.db), MaxResponseBytes: maxAnswer}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPropertyFloodRefused sends a PROPFIND naming 80,000 properties (once a 482 MB answer)
// to every kind of collection, and REPORTs and a PROPPATCH naming one property too many: each
// is refused with 400 and a message naming the bound, counted while the body is parsed. At the
// bound, requests are served.
func TestPropertyFloodRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := boundsServer(t, w, 0)
	if resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + "a.ics", user: w.interpreter,
		body: vevent("a", t0, t0.Add(time.Hour)), header: icalHeader}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	flood := propfindOf(80_000)
	if len(flood) > calendar.DefaultMaxBodyBytes {
		t.Fatalf("the flood is %d bytes, over the body cap", len(flood))
	}
	for _, path := range []string{"/dav/", calendar.PrincipalPath("interp"), "/dav/calendars/interp/",
		calendar.HearingsPath("interp"), calendar.AvailabilityPath("interp"), calendar.AvailabilityPath("interp") + "a.ics"} {
		resp, body := send(t, w, srv, "PROPFIND", path, "1", flood)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at most 100 properties") || len(body) > 200 {
			t.Errorf("PROPFIND of 80,000 properties on %s: %d, %d bytes %.100q", path, resp.StatusCode, len(body), body)
		}
	}
	props := func(n int) string {
		var b strings.Builder
		b.WriteString("<D:prop><D:getetag/>")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, `<X:p%d xmlns:X="urn:x"/>`, i)
		}
		b.WriteString("</D:prop>")
		return b.String()
	}
	coll := calendar.AvailabilityPath("interp")
	for _, tc := range []struct {
		name, method, path string
		body               func(props string) string
	}{
		{"calendar-query", "REPORT", coll, func(props string) string {
			return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` + props +
				`<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
		}},
		{"calendar-multiget", "REPORT", coll, func(props string) string {
			return `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` + props +
				`<D:href>` + coll + `a.ics</D:href></C:calendar-multiget>`
		}},
		{"sync-collection", "REPORT", calendar.HearingsPath("interp"), func(props string) string {
			return `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>` + props + `</D:sync-collection>`
		}},
		{"PROPPATCH", "PROPPATCH", coll, func(props string) string {
			return `<D:propertyupdate xmlns:D="DAV:"><D:set>` + strings.Replace(props, "<D:getetag/>", "<D:displayname>x</D:displayname>", 1) +
				`</D:set></D:propertyupdate>`
		}},
	} {
		resp, body := send(t, w, srv, tc.method, tc.path, "1", `<?xml version="1.0"?>`+tc.body(props(101)))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at most 100 properties") {
			t.Errorf("%s naming 101 properties: %d %.200q", tc.name, resp.StatusCode, body)
		}
		resp, body = send(t, w, srv, tc.method, tc.path, "1", `<?xml version="1.0"?>`+tc.body(props(100)))
		if resp.StatusCode >= 400 {
			t.Errorf("%s naming 100 properties: %d %.200q", tc.name, resp.StatusCode, body)
		}
	}
	resp, body := send(t, w, srv, "PROPFIND", coll, "1", propfindOf(100))
	if resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND of 100 properties: %d %.200q", resp.StatusCode, body)
	}

	// hrefs and other elements.
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>`)
	for range calendar.MaxRequestHrefs + 1 {
		b.WriteString("<D:href>" + coll + "a.ics</D:href>")
	}
	b.WriteString("</C:calendar-multiget>")
	if resp, body := send(t, w, srv, "REPORT", coll, "1", b.String()); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "hrefs") {
		t.Errorf("multiget of %d hrefs: %d %.200q", calendar.MaxRequestHrefs+1, resp.StatusCode, body)
	}
	b.Reset()
	b.WriteString(`<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">`)
	for range calendar.MaxRequestElements {
		b.WriteString(`<C:prop-filter name="SUMMARY"><C:text-match>x</C:text-match></C:prop-filter>`)
	}
	b.WriteString(`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`)
	if resp, body := send(t, w, srv, "REPORT", coll, "1", b.String()); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "XML elements") {
		t.Errorf("calendar-query of %d filters: %d %.200q", 2*calendar.MaxRequestElements, resp.StatusCode, body)
	}
}

// TestExpandingFilterRefused sends calendar-queries whose time ranges only an expansion per
// object and per query could decide (on a VALARM, on a VTIMEZONE's STANDARD, beside
// is-not-defined): 403 with CALDAV:supported-filter.
func TestExpandingFilterRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("interp")
	tr := `<C:time-range start="20261201T000000Z" end="20270101T000000Z"/>`
	for _, filter := range []string{
		`<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM">` + tr + `</C:comp-filter></C:comp-filter>`,
		`<C:comp-filter name="VTIMEZONE"><C:comp-filter name="STANDARD">` + tr + `</C:comp-filter></C:comp-filter>`,
		`<C:comp-filter name="VFREEBUSY">` + tr + `</C:comp-filter>`,
		`<C:comp-filter name="VEVENT"><C:is-not-defined/>` + tr + `</C:comp-filter>`,
	} {
		body := `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR">` + filter + `</C:comp-filter></C:filter></C:calendar-query>`
		resp, got := w.do(request{method: "REPORT", path: coll, user: w.interpreter, body: body, header: map[string]string{"Depth": "1"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "<C:supported-filter/>") {
			t.Errorf("%s: %d %q, want 403 supported-filter", filter, resp.StatusCode, got)
		}
	}
}

// TestAnswerCap serves a calendar whose objects together pass a handler's answer cap: the
// streamed answers (PROPFIND Depth 1, calendar-query, calendar-multiget) stop before the cap
// with a 507 response for the collection carrying DAV:number-of-matches-within-limits, a
// buffered one (go-webdav's allprop PROPFIND) answers 507, and an answer written by go-webdav
// straight to the client is cut off at the cap. A multiget naming one object many times
// answers it once.
func TestAnswerCap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("interp")
	filler := strings.Repeat("COMMENT:"+strings.Repeat("z", 66)+"\r\n", 2500) // about 190 KB
	const max = 2 << 20
	srv := boundsServer(t, w, max)
	for i := range 12 {
		ev := vevent(fmt.Sprintf("big-%02d", i), t0.AddDate(0, 0, i), t0.AddDate(0, 0, i).Add(time.Hour), strings.TrimSuffix(filler, "\r\n"))
		if resp, body := send(t, w, srv, "PUT", coll+fmt.Sprintf("big-%02d.ics", i), "", ev); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %d: %d %s", i, resp.StatusCode, body)
		}
	}

	truncated := func(name string, resp *http.Response, body string) {
		t.Helper()
		ms := parseMultistatus(t, resp, body)
		last := ms.Responses[len(ms.Responses)-1]
		objects := 0
		for _, r := range ms.Responses {
			if strings.HasSuffix(r.Href, ".ics") {
				objects++
			}
		}
		if len(body) > max || last.Href != coll || !strings.Contains(last.Status, " 507 ") || last.Error == nil ||
			!strings.Contains(last.Error.Inner, "number-of-matches-within-limits") || objects == 0 || objects >= 12 {
			t.Errorf("%s: %d bytes, %d objects, last response %+v; want fewer than 12 objects under %d bytes, then 507", name, len(body), objects, last, max)
		}
	}
	withData := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop></D:propfind>`
	resp, body := send(t, w, srv, "PROPFIND", coll, "1", withData)
	truncated("PROPFIND Depth 1", resp, body)
	query := `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`
	resp, body = send(t, w, srv, "REPORT", coll, "1", query)
	truncated("calendar-query", resp, body)
	var mg strings.Builder
	mg.WriteString(`<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	for i := range 12 {
		fmt.Fprintf(&mg, "<D:href>%sbig-%02d.ics</D:href>", coll, i)
	}
	mg.WriteString("</C:calendar-multiget>")
	resp, body = send(t, w, srv, "REPORT", coll, "1", mg.String())
	truncated("calendar-multiget", resp, body)

	// The same object named five times: one answer.
	mg.Reset()
	mg.WriteString(`<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>`)
	for range 5 {
		fmt.Fprintf(&mg, "<D:href>%sbig-00.ics</D:href>", coll)
	}
	mg.WriteString("</C:calendar-multiget>")
	resp, body = send(t, w, srv, "REPORT", coll, "1", mg.String())
	if ms := parseMultistatus(t, resp, body); len(ms.Responses) != 1 {
		t.Errorf("multiget naming one object five times: %d responses", len(ms.Responses))
	}

	// allprop goes to go-webdav, whose answer is buffered: 507.
	resp, body = send(t, w, srv, "PROPFIND", coll, "1", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`)
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(body, "number-of-matches-within-limits") {
		t.Errorf("allprop Depth 1: %d %.200q, want 507", resp.StatusCode, body)
	}

	// A calendar-multiget the fast path leaves to go-webdav (calendar-data with content),
	// which writes its answer straight out: cut off at the cap.
	var slowMg strings.Builder
	slowMg.WriteString(`<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>` +
		`<C:calendar-data><C:comp name="VCALENDAR"><C:allprop/><C:allcomp/></C:comp></C:calendar-data></D:prop>`)
	for i := range 12 {
		fmt.Fprintf(&slowMg, "<D:href>%sbig-%02d.ics</D:href>", coll, i)
	}
	slowMg.WriteString("</C:calendar-multiget>")
	slow := slowMg.String()
	req, _ := http.NewRequest("REPORT", srv.URL+coll, strings.NewReader(slow))
	req.Header.Set("Depth", "1")
	req.Header.Set("Content-Type", "application/xml")
	req.SetBasicAuth("interp", w.secrets["interp"])
	r, err := http.DefaultClient.Do(req)
	if err == nil {
		if r.StatusCode != http.StatusMultiStatus {
			t.Errorf("go-webdav's calendar-multiget: %d", r.StatusCode)
		}
		n, rerr := io.Copy(io.Discard, bufio.NewReader(r.Body))
		r.Body.Close()
		if rerr == nil || n > max {
			t.Errorf("go-webdav's answer over the cap: %d, %d bytes read, %v; want it cut off at %d", r.StatusCode, n, rerr, max)
		}
	}
	if objs, err := storage.NewAvailabilityService(w.db).FindAvailabilityObjects(w.as(w.interpreter), courtside.AvailabilityCalendar); err != nil || len(objs) != 12 {
		t.Fatalf("objects: %d, %v", len(objs), err)
	}
}
