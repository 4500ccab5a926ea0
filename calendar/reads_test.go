package calendar_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// countingAvailability is the availability service of a world, counting the objects the
// handler reads with their data and those it reads without.
type countingAvailability struct {
	courtside.AvailabilityService
	mu             sync.Mutex
	withData, head int
}

func (c *countingAvailability) count(objs ...*courtside.AvailabilityObject) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range objs {
		if o.Data != nil {
			c.withData++
		} else {
			c.head++
		}
	}
}

// reset returns the counts so far and starts again.
func (c *countingAvailability) reset() (withData, head int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	withData, head = c.withData, c.head
	c.withData, c.head = 0, 0
	return withData, head
}

func (c *countingAvailability) FindAvailabilityObject(ctx context.Context, cal, name string) (*courtside.AvailabilityObject, error) {
	o, err := c.AvailabilityService.FindAvailabilityObject(ctx, cal, name)
	if err == nil {
		c.count(o)
	}
	return o, err
}

func (c *countingAvailability) FindAvailabilityObjects(ctx context.Context, cal string) ([]*courtside.AvailabilityObject, error) {
	objs, err := c.AvailabilityService.FindAvailabilityObjects(ctx, cal)
	c.count(objs...)
	return objs, err
}

func (c *countingAvailability) FindAvailabilityObjectsInRange(ctx context.Context, cal string, from, to time.Time) ([]*courtside.AvailabilityObject, error) {
	objs, err := c.AvailabilityService.FindAvailabilityObjectsInRange(ctx, cal, from, to)
	c.count(objs...)
	return objs, err
}

func (c *countingAvailability) FindAvailabilityObjectsNamed(ctx context.Context, cal string, names []string) ([]*courtside.AvailabilityObject, error) {
	objs, err := c.AvailabilityService.FindAvailabilityObjectsNamed(ctx, cal, names)
	c.count(objs...)
	return objs, err
}

func (c *countingAvailability) FindAvailabilityObjectHeads(ctx context.Context, cal string) ([]*courtside.AvailabilityObject, error) {
	objs, err := c.AvailabilityService.FindAvailabilityObjectHeads(ctx, cal)
	c.count(objs...)
	return objs, err
}

// readsWorld is a world whose interpreter has 120 daily events from 1 December 2026, a weekly
// event of ten instances from 10 December, an endless monthly one from 1 June 2026 and two
// VTODOs in the availability calendar, and a second handler over the same database that
// counts what it reads.
func readsWorld(t *testing.T) (*world, *countingAvailability, *httptest.Server) {
	w := newWorld(t)
	put := func(name, body string) {
		t.Helper()
		resp, got := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + name, user: w.interpreter, body: body, header: icalHeader})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, got)
		}
	}
	for i := range 120 {
		start := t0.AddDate(0, 0, i) // 13:00 UTC each day
		put(fmt.Sprintf("day-%03d.ics", i), vevent(fmt.Sprintf("day-%03d", i), start, start.Add(time.Hour)))
	}
	put("weekly.ics", vevent("weekly", t0.AddDate(0, 0, 9), t0.AddDate(0, 0, 9).Add(time.Hour), "RRULE:FREQ=WEEKLY;COUNT=10"))
	monthly := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	put("monthly.ics", vevent("monthly", monthly, monthly.Add(time.Hour), "RRULE:FREQ=MONTHLY"))
	todo := func(uid, props string) string {
		return strings.Join([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "BEGIN:VTODO", "UID:" + uid,
			"DTSTAMP:20261101T000000Z", props, "SUMMARY:To do", "END:VTODO", "END:VCALENDAR", ""}, "\r\n")
	}
	put("todo-jan.ics", todo("todo-jan", "DUE:20270115T120000Z"))
	put("todo-mar.ics", todo("todo-mar", "DUE:20270315T120000Z"))

	counting := &countingAvailability{AvailabilityService: storage.NewAvailabilityService(w.db)}
	srv := httptest.NewServer(calendar.NewHandler(calendar.Config{Users: storage.NewUserService(w.db), Tokens: storage.NewTokenService(w.db), Calendars: storage.NewCalendarService(w.db),
		Availability: counting, Bookings: storage.NewBookingService(w.db)}))
	t.Cleanup(srv.Close)
	return w, counting, srv
}

// send sends a request with the interpreter's app password to srv.
func send(t *testing.T, w *world, srv *httptest.Server, method, path, depth, body string) (*http.Response, string) {
	t.Helper()
	old := w.srv
	w.srv = srv
	defer func() { w.srv = old }()
	h := map[string]string{}
	if depth != "" {
		h["Depth"] = depth
	}
	return w.do(request{method: method, path: path, user: w.interpreter, body: body, header: h})
}

// hrefs returns the object names of a multistatus, sorted.
func hrefs(ms davMultistatus) []string {
	var out []string
	for _, r := range ms.Responses {
		out = append(out, strings.TrimPrefix(r.Href, calendar.AvailabilityPath("interp")))
	}
	slices.Sort(out)
	return out
}

// TestAvailabilityReads_OnlyWhatIsNeeded checks that a one-month calendar-query reads only the
// objects whose extent meets the month (and finds exactly those that match by RFC 4791:
// recurring events and VTODOs included, the same as go-webdav's path), that PROPFIND Depth 1
// reads no object data, that sync-collection after one change reads one object and that a
// multiget reads the objects it names (and answers 404 for one that is not there).
func TestAvailabilityReads_OnlyWhatIsNeeded(t *testing.T) {
	t.Parallel()
	w, counting, srv := readsWorld(t)
	const total = 124
	coll := calendar.AvailabilityPath("interp")

	query := func(extra string) string {
		return `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
			`<D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR">%s` +
			`</C:comp-filter></C:filter>` + extra + `</C:calendar-query>`
	}
	january := `<C:comp-filter name="VEVENT"><C:time-range start="20270101T000000Z" end="20270201T000000Z"/></C:comp-filter>`
	var want []string
	for i := range 120 {
		if d := t0.AddDate(0, 0, i); d.Year() == 2027 && d.Month() == time.January {
			want = append(want, fmt.Sprintf("day-%03d.ics", i))
		}
	}
	want = append(want, "monthly.ics", "weekly.ics") // weekly: 10 Dec to 11 Feb
	slices.Sort(want)

	counting.reset()
	resp, body := send(t, w, srv, "REPORT", coll, "1", fmt.Sprintf(query(""), january))
	ms := parseMultistatus(t, resp, body)
	if got := hrefs(ms); !slices.Equal(got, want) {
		t.Fatalf("one-month query found %v, want %v", got, want)
	}
	withData, _ := counting.reset()
	if withData > len(want)+2 {
		t.Errorf("the one-month query read %d of %d objects with their data, want at most %d", withData, total, len(want)+2)
	}
	// Each object's calendar-data is what GET serves.
	for _, r := range ms.Responses[:3] {
		found, _ := r.props()
		_, got := w.do(request{method: "GET", path: r.Href, user: w.interpreter})
		if found["calendar-data"].Text != got || found["getetag"].Text == "" {
			t.Errorf("%s: calendar-data %q, GET %q", r.Href, found["calendar-data"].Text, got)
		}
	}
	// go-webdav answers a query with an element the fast path leaves to it: the same objects.
	resp, body = send(t, w, srv, "REPORT", coll, "1", fmt.Sprintf(query(`<C:timezone>BEGIN:VCALENDAR
END:VCALENDAR</C:timezone>`), january))
	if got := hrefs(parseMultistatus(t, resp, body)); !slices.Equal(got, want) {
		t.Errorf("go-webdav's path found %v, want %v", got, want)
	}
	counting.reset()

	// VTODOs by their own range: DUE in January, not March.
	todos := `<C:comp-filter name="VTODO"><C:time-range start="20270101T000000Z" end="20270201T000000Z"/></C:comp-filter>`
	resp, body = send(t, w, srv, "REPORT", coll, "1", fmt.Sprintf(query(""), todos))
	if got := hrefs(parseMultistatus(t, resp, body)); !slices.Equal(got, []string{"todo-jan.ics"}) {
		t.Errorf("VTODO query found %v, want [todo-jan.ics]", got)
	}
	// A range on the VCALENDAR only: events and to-dos of that day.
	day := `<C:time-range start="20270115T000000Z" end="20270116T000000Z"/>`
	resp, body = send(t, w, srv, "REPORT", coll, "1", fmt.Sprintf(query(""), day))
	if got := hrefs(parseMultistatus(t, resp, body)); !slices.Equal(got, []string{"day-045.ics", "todo-jan.ics"}) {
		t.Errorf("VCALENDAR range found %v, want [day-045.ics todo-jan.ics]", got)
	}
	counting.reset()

	// PROPFIND Depth 1 without calendar-data: every object, none of their data.
	resp, body = send(t, w, srv, "PROPFIND", coll, "1",
		`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/><D:getcontentlength/></D:prop></D:propfind>`)
	ms = parseMultistatus(t, resp, body)
	if len(ms.Responses) != total+1 {
		t.Fatalf("PROPFIND Depth 1: %d responses, want %d", len(ms.Responses), total+1)
	}
	_, get := w.do(request{method: "GET", path: coll + "day-000.ics", user: w.interpreter})
	if found, _ := ms.response(t, coll+"day-000.ics").props(); found["getcontentlength"].Text != fmt.Sprint(len(get)) || found["getetag"].Text == "" {
		t.Errorf("PROPFIND: getcontentlength %q (GET has %d bytes), getetag %q", found["getcontentlength"].Text, len(get), found["getetag"].Text)
	}
	if withData, head := counting.reset(); withData != 0 || head != total {
		t.Errorf("PROPFIND Depth 1 read %d objects with data and %d without, want 0 and %d", withData, head, total)
	}

	// PROPFIND Depth 1 with calendar-data and the calendar's getctag: the stored bytes, and
	// the calendar's own properties as before.
	resp, body = send(t, w, srv, "PROPFIND", coll, "1", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" `+
		`xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:getetag/><C:calendar-data/>`+
		`<CS:getctag/><D:resourcetype/></D:prop></D:propfind>`)
	ms = parseMultistatus(t, resp, body)
	if found, _ := ms.response(t, coll).props(); found["getctag"].Text == "" || !strings.Contains(found["resourcetype"].Inner, "calendar") {
		t.Errorf("PROPFIND Depth 1: the calendar's getctag %q, resourcetype %q", found["getctag"].Text, found["resourcetype"].Inner)
	}
	found, missing := ms.response(t, coll+"day-000.ics").props()
	if found["calendar-data"].Text != get || !slices.Equal(missing, []string{"getctag"}) {
		t.Errorf("PROPFIND Depth 1 with calendar-data: %q (GET %q), missing %v", found["calendar-data"].Text, get, missing)
	}
	if withData, head := counting.reset(); withData != total || head != 0 {
		t.Errorf("PROPFIND Depth 1 with calendar-data read %d objects with data and %d without, want %d and 0", withData, head, total)
	}

	// sync-collection: after one change, one object read.
	syncBody := func(token string) string {
		return `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token +
			`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	}
	resp, body = send(t, w, srv, "REPORT", coll, "", syncBody(""))
	ms = parseMultistatus(t, resp, body)
	if len(ms.Responses) != total || ms.SyncToken == "" {
		t.Fatalf("initial sync: %d responses, token %q", len(ms.Responses), ms.SyncToken)
	}
	put := vevent("day-007", t0.AddDate(0, 0, 7), t0.AddDate(0, 0, 7).Add(2*time.Hour))
	if resp, got := w.do(request{method: "PUT", path: coll + "day-007.ics", user: w.interpreter, body: put, header: icalHeader}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT: %d %s", resp.StatusCode, got)
	}
	counting.reset()
	resp, body = send(t, w, srv, "REPORT", coll, "", syncBody(ms.SyncToken))
	if got := hrefs(parseMultistatus(t, resp, body)); !slices.Equal(got, []string{"day-007.ics"}) {
		t.Fatalf("sync after one change: %v, want [day-007.ics]", got)
	}
	if withData, head := counting.reset(); withData+head != 1 {
		t.Errorf("sync after one change read %d objects, want 1", withData+head)
	}

	// calendar-multiget of five: five objects read.
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	for i := range 5 {
		fmt.Fprintf(&b, `<D:href>%sday-%03d.ics</D:href>`, coll, i*10)
	}
	fmt.Fprintf(&b, `<D:href>%smissing.ics</D:href>`, coll)
	b.WriteString(`</C:calendar-multiget>`)
	resp, body = send(t, w, srv, "REPORT", coll, "1", b.String())
	ms = parseMultistatus(t, resp, body)
	if got := hrefs(ms); len(got) != 6 {
		t.Fatalf("multiget: %v", got)
	}
	if withData, head := counting.reset(); withData != 5 || head != 0 {
		t.Errorf("multiget of 5 read %d objects with data and %d without, want 5 and 0", withData, head)
	}
	if r := ms.response(t, coll+"missing.ics"); !strings.Contains(r.Status, " 404 ") {
		t.Errorf("multiget of a missing object: status %q, want 404", r.Status)
	}
	if found, _ := ms.response(t, coll+"day-000.ics").props(); found["calendar-data"].Text != get {
		t.Errorf("multiget calendar-data %q, GET %q", found["calendar-data"].Text, get)
	}
}
