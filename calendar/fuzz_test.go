package calendar_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"courtside/calendar"
)

// FuzzHandlerXML sends arbitrary request bodies to every method that parses XML, on every
// kind of path: the answer may be anything but a 500 or a panic.
func FuzzHandlerXML(f *testing.F) {
	for _, m := range []string{"PROPFIND", "REPORT", "PROPPATCH"} {
		f.Add(uint8(0), bodyFor(m))
	}
	f.Add(uint8(1), `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`+
		`<D:prop><C:calendar-data/></D:prop><D:href>/dav/calendars/adv/hearings/hearing-1.ics</D:href></C:calendar-multiget>`)
	f.Add(uint8(2), `<?xml version="1.0"?><C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter>`+
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:time-range start="20261201T000000Z"/>`+
		`</C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`)
	f.Add(uint8(3), `<?xml version="1.0"?><C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter>`+
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:param-filter name="X"/>`+
		`<C:text-match>hearing</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`)
	// which 9 and 10: PROPFIND and REPORT on the hearings calendar.
	f.Add(uint8(9), `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>`+
		`<CS:getctag/><D:sync-token/><D:current-user-privilege-set/><D:supported-report-set/></D:prop></D:propfind>`)
	f.Add(uint8(10), `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>https://courtside/sync/1/0</D:sync-token>`+
		`<D:sync-level>1</D:sync-level><D:limit><D:nresults>1</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`)
	w := newWorld(f)
	paths := []string{"/dav/", calendar.PrincipalPath("adv"), calendar.HomeSetPath("adv"), calendar.HearingsPath("adv"),
		calendar.HearingPath("adv", w.h1.ID)}
	methods := []string{"PROPFIND", "REPORT", "PROPPATCH"}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		method := methods[int(which)%len(methods)]
		path := paths[int(which/3)%len(paths)]
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("Depth", "1")
		req.SetBasicAuth("adv", w.secrets["adv"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s: 500 for body %q", method, path, body)
		}
	})
}
