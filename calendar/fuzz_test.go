package calendar_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"courtside/calendar"
)

// The methods and the kinds of path FuzzHandlerXML sends bodies to, by index: a seed names
// its method and path through fuzzSeed, so that it reaches the code it is meant for.
var (
	fuzzMethods = []string{"PROPFIND", "REPORT", "PROPPATCH"}
	fuzzPaths   = []string{"root", "principal", "home", "hearings", "hearing", "availability", "availability-object"}
)

// fuzzSeed adds a seed for method on the path of kind pathKind.
func fuzzSeed(f *testing.F, method, pathKind, body string) {
	f.Helper()
	m, p := -1, -1
	for i, v := range fuzzMethods {
		if v == method {
			m = i
		}
	}
	for i, v := range fuzzPaths {
		if v == pathKind {
			p = i
		}
	}
	if m < 0 || p < 0 {
		f.Fatalf("fuzz seed for %s %s: unknown method or path", method, pathKind)
	}
	f.Add(uint8(m), uint8(p), body)
}

const (
	davNS    = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"`
	timeSpan = `<C:time-range start="20261201T000000Z" end="20261231T000000Z"/>`
)

// xmlSeed is a seed of FuzzHandlerXML: a method, the kind of path it goes to, and a body.
type xmlSeed struct{ method, path, body string }

// xmlSeeds are FuzzHandlerXML's seeds; TestFuzzHandlerXMLSeedsReachTheirCode checks that each
// one is answered by the code it is meant for, not refused on the way.
var xmlSeeds = []xmlSeed{
	{"PROPFIND", "root", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`},
	{"PROPFIND", "principal", `<?xml version="1.0"?><D:propfind ` + davNS + `><D:prop><C:calendar-home-set/><C:calendar-user-address-set/></D:prop></D:propfind>`},
	{"PROPFIND", "home", `<?xml version="1.0"?><D:propfind ` + davNS + `><D:prop><D:resourcetype/><D:displayname/><CS:getctag/></D:prop></D:propfind>`},
	// The hearings calendar.
	{"PROPFIND", "hearings", `<?xml version="1.0"?><D:propfind ` + davNS + `><D:prop>` +
		`<CS:getctag/><D:sync-token/><D:current-user-privilege-set/><D:supported-report-set/></D:prop></D:propfind>`},
	{"REPORT", "hearings", `<?xml version="1.0"?><C:calendar-multiget ` + davNS + `>` +
		`<D:prop><C:calendar-data/></D:prop><D:href>/dav/calendars/adv/hearings/hearing-1.ics</D:href></C:calendar-multiget>`},
	{"REPORT", "hearings", `<?xml version="1.0"?><C:calendar-query ` + davNS + `><D:prop><D:getetag/></D:prop><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + timeSpan + `</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`},
	{"REPORT", "hearings", `<?xml version="1.0"?><C:calendar-query ` + davNS + `><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:param-filter name="X"/>` +
		`<C:text-match>hearing</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`},
	{"REPORT", "hearings", `<?xml version="1.0"?><D:sync-collection ` + davNS + `><D:sync-token/>` +
		`<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`},
	{"REPORT", "hearings", `<?xml version="1.0"?><C:free-busy-query ` + davNS + `>` + timeSpan + `</C:free-busy-query>`},
	{"PROPPATCH", "hearings", `<?xml version="1.0"?><D:propertyupdate ` + davNS + `><D:set><D:prop><D:displayname>Court</D:displayname></D:prop></D:set></D:propertyupdate>`},
	// A personal calendar: the fast paths that read stored objects without decoding them.
	{"REPORT", "availability", `<?xml version="1.0"?><C:calendar-query ` + davNS + `><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + timeSpan + `</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`},
	{"REPORT", "availability", `<?xml version="1.0"?><C:calendar-query ` + davNS + `><D:prop><D:getetag/></D:prop><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter></C:filter></C:calendar-query>`},
	{"REPORT", "availability", `<?xml version="1.0"?><C:calendar-multiget ` + davNS + `><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
		`<D:href>/dav/calendars/adv/availability/busy-1.ics</D:href><D:href>/dav/calendars/adv/availability/none.ics</D:href></C:calendar-multiget>`},
	{"REPORT", "availability", `<?xml version="1.0"?><D:sync-collection ` + davNS + `><D:sync-token/>` +
		`<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`},
	{"REPORT", "availability", `<?xml version="1.0"?><D:sync-collection ` + davNS + `><D:sync-token/>` +
		`<D:sync-level>1</D:sync-level><D:prop><D:getetag/><C:calendar-data/></D:prop></D:sync-collection>`},
	{"REPORT", "availability", `<?xml version="1.0"?><C:free-busy-query ` + davNS + `>` + timeSpan + `</C:free-busy-query>`},
	{"PROPFIND", "availability", `<?xml version="1.0"?><D:propfind ` + davNS + `><D:prop><D:getetag/><D:sync-token/><CS:getctag/></D:prop></D:propfind>`},
	{"PROPPATCH", "availability", `<?xml version="1.0"?><D:propertyupdate ` + davNS + ` xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>` +
		`<D:displayname>Mine</D:displayname><A:calendar-color>#FF0000</A:calendar-color></D:prop></D:set></D:propertyupdate>`},
	{"PROPFIND", "availability-object", `<?xml version="1.0"?><D:propfind ` + davNS + `><D:prop><D:getetag/></D:prop></D:propfind>`},
}

// xmlWorld returns a world whose advocate has a personal calendar with three objects, and the
// path of each kind in fuzzPaths.
func xmlWorld(tb testing.TB) (*world, map[string]string) {
	w := newWorld(tb)
	for i, start := range []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(72 * time.Hour)} {
		uid := []string{"busy-1", "busy-2", "busy-3"}[i]
		resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("adv") + uid + ".ics", user: w.advocate,
			body: vevent(uid, start, start.Add(time.Hour)), header: icalHeader})
		if resp.StatusCode != http.StatusCreated {
			tb.Fatalf("PUT %s: %d %s", uid, resp.StatusCode, body)
		}
	}
	return w, map[string]string{
		"root": "/dav/", "principal": calendar.PrincipalPath("adv"), "home": calendar.HomeSetPath("adv"),
		"hearings": calendar.HearingsPath("adv"), "hearing": calendar.HearingPath("adv", w.h1.ID),
		"availability": calendar.AvailabilityPath("adv"), "availability-object": calendar.AvailabilityPath("adv") + "busy-1.ics",
	}
}

// TestFuzzHandlerXMLSeedsReachTheirCode: every seed of FuzzHandlerXML is answered with
// success (207 Multi-Status, or 200 for free-busy), so that the fuzzer starts from inputs that
// reach the code each one is for, rather than from requests refused on the way.
func TestFuzzHandlerXMLSeedsReachTheirCode(t *testing.T) {
	w, paths := xmlWorld(t)
	for _, seed := range xmlSeeds {
		resp, body := w.do(request{method: seed.method, path: paths[seed.path], user: w.advocate, body: seed.body,
			header: map[string]string{"Depth": "1"}})
		want := http.StatusMultiStatus
		if strings.Contains(seed.body, "free-busy-query") {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d, want %d\n%.300s", seed.method, seed.path, resp.StatusCode, want, body)
		}
	}
}

// FuzzHandlerXML sends arbitrary request bodies to every method that parses XML, on every
// kind of path, the hearings calendar and a personal calendar holding objects alike: the
// answer may be anything but a 500 or a panic. The seeds reach each XML reader: PROPFIND,
// PROPPATCH, and every REPORT (calendar-query, multiget, sync-collection, free-busy-query) on
// both kinds of calendar, the personal calendars' fast paths (simpleQueryPlan,
// servePersonalQuery, writeMultistatusFast, servePersonalSync) and serveFreeBusy included.
func FuzzHandlerXML(f *testing.F) {
	for _, seed := range xmlSeeds {
		fuzzSeed(f, seed.method, seed.path, seed.body)
	}
	for _, m := range []string{"PROPFIND", "REPORT", "PROPPATCH"} {
		fuzzSeed(f, m, "root", bodyFor(m))
	}
	// Refused syncs on both kinds of calendar: a token of another user or calendar, an initial
	// sync over its limit.
	for _, p := range []string{"hearings", "availability"} {
		fuzzSeed(f, "REPORT", p, `<?xml version="1.0"?><D:sync-collection `+davNS+`><D:sync-token>https://courtside/sync/1/0</D:sync-token>`+
			`<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
		fuzzSeed(f, "REPORT", p, `<?xml version="1.0"?><D:sync-collection `+davNS+`><D:sync-token/><D:sync-level>1</D:sync-level>`+
			`<D:limit><D:nresults>1</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`)
	}
	w, paths := xmlWorld(f)
	f.Fuzz(func(t *testing.T, m, p uint8, body string) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		path := paths[fuzzPaths[int(p)%len(fuzzPaths)]]
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
