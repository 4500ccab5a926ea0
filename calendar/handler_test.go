package calendar_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// client returns go-webdav's CalDAV client for u, pointed at the well-known URL as a user
// would configure it.
func (w *world) client(u *courtside.User) *caldav.Client {
	w.t.Helper()
	c, err := caldav.NewClient(webdav.HTTPClientWithBasicAuth(w.srv.Client(), u.Username, w.secrets[u.Username]),
		w.srv.URL+calendar.WellKnownPath)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// eventQuery is the calendar-query clients send: VEVENTs overlapping [start, end).
func eventQuery(start, end time.Time) *caldav.CalendarQuery {
	return &caldav.CalendarQuery{
		CompRequest: caldav.CalendarCompRequest{Name: ical.CompCalendar, AllProps: true, AllComps: true},
		CompFilter: caldav.CompFilter{Name: ical.CompCalendar, Comps: []caldav.CompFilter{
			{Name: ical.CompEvent, Start: start, End: end},
		}},
	}
}

// uids returns the UIDs of the objects, in order.
func uids(t *testing.T, cos []caldav.CalendarObject) []string {
	t.Helper()
	var out []string
	for _, co := range cos {
		uid, err := co.Data.Events()[0].Props.Text(ical.PropUID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, uid)
	}
	return out
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(w.advocate)

	principal, err := c.FindCurrentUserPrincipal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if principal != "/dav/principals/adv/" {
		t.Fatalf("principal = %q", principal)
	}
	home, err := c.FindCalendarHomeSet(ctx, principal)
	if err != nil {
		t.Fatal(err)
	}
	if home != "/dav/calendars/adv/" {
		t.Fatalf("home set = %q", home)
	}
	cals, err := c.FindCalendars(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	// The hearings calendar first, then the personal availability calendar.
	if len(cals) != 2 || cals[1].Path != calendar.AvailabilityPath("adv") ||
		strings.Join(cals[1].SupportedComponentSet, ",") != "VEVENT,VTODO,VJOURNAL" {
		t.Fatalf("calendars = %+v", cals)
	}
	cal := cals[0]
	if cal.Path != "/dav/calendars/adv/hearings/" || cal.Name != "Hearings" ||
		len(cal.SupportedComponentSet) != 1 || cal.SupportedComponentSet[0] != ical.CompEvent {
		t.Errorf("calendar = %+v", cal)
	}
}

func TestWellKnownRedirect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, method := range []string{"PROPFIND", http.MethodGet} {
		resp, _ := w.do(request{method: method, path: "/.well-known/caldav"})
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "/dav/" {
			t.Errorf("%s: %d to %q", method, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestQueryCalendar(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(w.advocate)
	cal := calendar.HearingsPath("adv")

	tests := []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"all", time.Time{}, time.Time{}, []string{calendar.UID(w.h1.ID), calendar.UID(w.h2.ID)}},
		{"first week of December", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC),
			[]string{calendar.UID(w.h1.ID)}},
		{"exactly the first hearing", w.h1.StartsAt, w.h1.EndsAt, []string{calendar.UID(w.h1.ID)}},
		{"ends when the first hearing starts", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), w.h1.StartsAt, nil},
		{"starts when the first hearing ends", w.h1.EndsAt, time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), nil},
		{"inside the first hearing", w.h1.StartsAt.Add(time.Minute), w.h1.StartsAt.Add(2 * time.Minute), []string{calendar.UID(w.h1.ID)}},
		{"from December 5 on", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), time.Time{}, []string{calendar.UID(w.h2.ID)}},
		{"before December 5", time.Time{}, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), []string{calendar.UID(w.h1.ID)}},
		{"next year", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cos, err := c.QueryCalendar(ctx, cal, eventQuery(tt.start, tt.end))
			if err != nil {
				t.Fatal(err)
			}
			if got := uids(t, cos); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("UIDs = %v, want %v", got, tt.want)
			}
			for _, co := range cos {
				if co.ETag == "" || co.ModTime.IsZero() {
					t.Errorf("%s: ETag %q, modified %v", co.Path, co.ETag, co.ModTime)
				}
			}
		})
	}

	// The prosecutor's calendar holds the office's hearings, without pseudonyms.
	cos, err := w.client(w.prosecutor).QueryCalendar(ctx, calendar.HearingsPath("pros"), eventQuery(time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cos) != 3 {
		t.Fatalf("prosecutor sees %d hearings, want 3", len(cos))
	}
	for _, co := range cos {
		desc, _ := co.Data.Events()[0].Props.Text(ical.PropDescription)
		if strings.Contains(desc, pseudonym) {
			t.Errorf("prosecutor's calendar names the victim: %q", desc)
		}
	}

	// An interpreter and a prosecutor of another office have empty calendars.
	for _, u := range []*courtside.User{w.interpreter, w.otherProsecutor, w.otherAdvocate} {
		cos, err := w.client(u).QueryCalendar(ctx, calendar.HearingsPath(u.Username), eventQuery(time.Time{}, time.Time{}))
		if err != nil || len(cos) != 0 {
			t.Errorf("%s: %d objects, %v", u.Username, len(cos), err)
		}
	}
}

func TestGetCalendarObject(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(w.advocate)
	p := calendar.HearingPath("adv", w.h1.ID)

	co, err := c.GetCalendarObject(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if co.Path != p || co.ETag == "" || co.ContentLength == 0 || !co.ModTime.Equal(w.now.Now().Truncate(time.Second)) {
		t.Errorf("object = %+v", co)
	}
	ev := co.Data.Events()[0]
	for name, want := range map[string]string{
		ical.PropUID:         calendar.UID(w.h1.ID),
		ical.PropStatus:      "CONFIRMED",
		ical.PropSummary:     "Sentencing hearing — " + docketNumber,
		ical.PropDescription: "Judge: Judge of Part 4\nAccompanying: " + pseudonym,
	} {
		if got, _ := ev.Props.Text(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if start, err := ev.DateTimeStart(time.UTC); err != nil || !start.Equal(w.h1.StartsAt) {
		t.Errorf("DTSTART = %v, %v", start, err)
	}

	// The ETag of GET is the ETag of REPORT: both hash go-ical's encoding.
	cos, err := c.QueryCalendar(ctx, calendar.HearingsPath("adv"), eventQuery(w.h1.StartsAt, w.h1.EndsAt))
	if err != nil || len(cos) != 1 {
		t.Fatalf("query: %v, %d objects", err, len(cos))
	}
	if cos[0].ETag != co.ETag {
		t.Errorf("REPORT ETag %q, GET ETag %q", cos[0].ETag, co.ETag)
	}
	resp, body := w.do(request{method: http.MethodGet, path: p, user: w.advocate})
	if got := calendar.ETag([]byte(body)); `"`+got+`"` != resp.Header.Get("ETag") {
		t.Errorf("ETag %s is not the hash of the body (%s)", resp.Header.Get("ETag"), got)
	}
	if resp.Header.Get("Content-Type") != ical.MIMEType || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Errorf("headers = %v", resp.Header)
	}
}

func TestConditionalGet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := calendar.HearingPath("adv", w.h1.ID)
	resp, _ := w.do(request{method: http.MethodGet, path: p, user: w.advocate})
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("GET: %d, ETag %q", resp.StatusCode, etag)
	}
	tests := []struct {
		method, ifNoneMatch string
		want                int
	}{
		{http.MethodGet, etag, http.StatusNotModified},
		{http.MethodGet, `"other", ` + etag, http.StatusNotModified},
		{http.MethodGet, "W/" + etag, http.StatusNotModified},
		{http.MethodGet, "*", http.StatusNotModified},
		{http.MethodGet, `"other"`, http.StatusOK},
		{http.MethodHead, etag, http.StatusNotModified},
		{http.MethodHead, `"other"`, http.StatusOK},
	}
	for _, tt := range tests {
		resp, body := w.do(request{method: tt.method, path: p, user: w.advocate, header: map[string]string{"If-None-Match": tt.ifNoneMatch}})
		if resp.StatusCode != tt.want {
			t.Errorf("%s If-None-Match %s: %d, want %d", tt.method, tt.ifNoneMatch, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusNotModified && (body != "" || resp.Header.Get("ETag") != etag) {
			t.Errorf("304 with body %q, ETag %q", body, resp.Header.Get("ETag"))
		}
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, apiToken, err := storage.NewTokenService(w.db).CreateToken(w.as(w.advocate), w.advocate.ID, courtside.TokenAPI, "api")
	if err != nil {
		t.Fatal(err)
	}
	path := calendar.HearingsPath("adv")
	tests := []struct {
		name string
		req  request
	}{
		{"no credentials", request{}},
		{"wrong app password", request{user: w.advocate, password: "not-the-secret"}},
		{"account password", request{user: w.advocate, password: accountPass}},
		{"API token", request{user: w.advocate, password: apiToken}},
		{"another user's app password", request{user: w.advocate, password: w.secrets["adv2"]}},
		{"unknown user", request{username: "nobody", password: w.secrets["adv"]}},
		{"empty password", request{username: "adv", password: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{"PROPFIND", "REPORT", http.MethodGet, http.MethodPut, http.MethodOptions} {
				req := tt.req
				req.method, req.path = method, path
				req.header = map[string]string{"Depth": "0"}
				resp, body := w.do(req)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401", method, resp.StatusCode)
				}
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="Courtside"`) {
					t.Errorf("%s: WWW-Authenticate %q", method, got)
				}
				checkPlainError(t, resp, body)
			}
		})
	}

	// A revoked app password stops working at once.
	resp, _ := w.do(request{method: "PROPFIND", path: path, user: w.advocate, header: map[string]string{"Depth": "0"}})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("live app password: %d", resp.StatusCode)
	}
	w.must(storage.NewTokenService(w.db).RevokeToken(w.as(w.advocate), w.tokenIDs["adv"]))
	resp, _ = w.do(request{method: "PROPFIND", path: path, user: w.advocate, header: map[string]string{"Depth": "0"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked app password: %d", resp.StatusCode)
	}
}

// checkPlainError checks that an error response is short plain text.
func checkPlainError(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%d: Content-Type %q", resp.StatusCode, ct)
	}
	if len(body) > 100 || strings.Contains(body, "caldav") || strings.Contains(body, "webdav") ||
		strings.Contains(body, "storage") || strings.Contains(body, "ical") || strings.Contains(body, "<") {
		t.Errorf("%d: body %q", resp.StatusCode, body)
	}
}

func TestOtherUsersPathsAreNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// adv2 works for the same organisation, but does not accompany anyone.
	paths := []string{
		calendar.PrincipalPath("adv"),
		calendar.HomeSetPath("adv"),
		calendar.HearingsPath("adv"),
		calendar.HearingPath("adv", w.h1.ID),
		calendar.HearingPath("adv", 999999),
		"/dav/calendars/adv/other/",
		"/dav/calendars/adv/hearings/x.ics",
		"/dav/principals/nobody/",
		"/dav/calendars/nobody/hearings/",
		"/dav/calendars/adv2/../adv/hearings/",
		"/dav/calendars/ADV2/hearings/",
		// adv2's own calendar does not hold hearings adv2 does not work on.
		calendar.HearingPath("adv2", w.h1.ID),
		calendar.HearingPath("adv2", w.h3.ID),
		"/dav/calendars/adv2/hearings/hearing-0" + fmt.Sprint(w.h1.ID) + ".ics",
		"/dav/principals/",
		"/dav/calendars/",
		"/elsewhere",
	}
	methods := []string{"PROPFIND", "REPORT", http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
		"MKCALENDAR", "MKCOL", "PROPPATCH", http.MethodOptions, "MOVE", "COPY", http.MethodPost}
	for _, p := range paths {
		for _, method := range methods {
			if strings.HasPrefix(p, "/dav/calendars/adv2/hearings/hearing-") && method != http.MethodGet &&
				method != http.MethodHead && method != "PROPFIND" && method != "REPORT" {
				continue // changes inside adv2's own calendar are 403, checked elsewhere
			}
			if p == "/elsewhere" && method == "PROPFIND" {
				continue // discovery from any URL: the caller's own principal (TestDiscoveryFromAnyURL)
			}
			resp, body := w.do(request{method: method, path: p, user: w.otherAdvocate,
				header: map[string]string{"Depth": "0"}, body: bodyFor(method)})
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", method, p, resp.StatusCode)
			}
			if method != http.MethodHead {
				checkPlainError(t, resp, body)
			}
		}
	}

	// A multiget naming another user's object answers 404 for it, with no data.
	multiget := `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
		<D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>` + calendar.HearingPath("adv", w.h1.ID) + `</D:href>
		</C:calendar-multiget>`
	resp, body := w.do(request{method: "REPORT", path: calendar.HearingsPath("adv2"), user: w.otherAdvocate, body: multiget})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "404") || strings.Contains(body, "BEGIN:VCALENDAR") {
		t.Errorf("multiget of another user's object: %d %s", resp.StatusCode, body)
	}
}

// bodyFor returns a plausible request body for method.
func bodyFor(method string) string {
	switch method {
	case "PROPFIND":
		return `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
	case "REPORT":
		return `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
			<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
	case "PROPPATCH":
		return `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`
	case http.MethodPut:
		return "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
	}
	return ""
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	event := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\nUID:x@example.org\r\n" +
		"DTSTAMP:20261201T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Mine\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	tests := []struct {
		method, path, body string
	}{
		{http.MethodPut, calendar.HearingsPath("adv") + "new.ics", event},
		{http.MethodDelete, calendar.HearingsPath("adv"), ""},
		{"MKCOL", calendar.HomeSetPath("adv") + "personal/", ""},
		{"MOVE", calendar.HearingPath("adv", w.h1.ID), ""},
	}
	// A change to a hearing object answers 403 with a precondition (RFC 4791 section 5.3.2.1).
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		resp, body := w.do(request{method: m, path: calendar.HearingPath("adv", w.h1.ID), user: w.advocate, body: event,
			header: map[string]string{"Content-Type": ical.MIMEType}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<C:valid-calendar-object-resource/>") {
			t.Errorf("%s of a hearing: %d %q, want 403 with a precondition", m, resp.StatusCode, body)
		}
	}
	for _, tt := range tests {
		resp, body := w.do(request{method: tt.method, path: tt.path, user: w.advocate, body: tt.body,
			header: map[string]string{"Content-Type": ical.MIMEType}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", tt.method, tt.path, resp.StatusCode)
		}
		checkPlainError(t, resp, body)
	}
	// Nothing changed.
	ch, err := storage.NewCalendarService(w.db).FindCalendarHearing(context.Background(), w.advocate.ID, w.h1.ID)
	if err != nil || ch.Hearing.Sequence != 0 {
		t.Errorf("hearing after refused changes: %+v, %v", ch, err)
	}

	// PROPPATCH of a hearing object is refused property by property, in a multistatus.
	resp, body := w.do(request{method: "PROPPATCH", path: calendar.HearingPath("adv", w.h1.ID), user: w.advocate,
		body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>` +
			`<A:calendar-color>#FF0000</A:calendar-color><D:displayname>Court</D:displayname></D:prop></D:set></D:propertyupdate>`})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "403 Forbidden") ||
		!strings.Contains(body, "calendar-color") || !strings.Contains(body, "displayname") {
		t.Errorf("PROPPATCH: %d %s", resp.StatusCode, body)
	}
}

// TestPropPatchStoresNameAndColour sets the display name and colour of the hearings and the
// availability calendars per user, all or nothing.
func TestPropPatchStoresNameAndColour(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	patch := func(u *courtside.User, path, props string) (*http.Response, string) {
		return w.do(request{method: "PROPPATCH", path: path, user: u,
			body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
				props + `</D:propertyupdate>`})
	}
	props := func(u *courtside.User, path string) string {
		_, body := w.do(request{method: "PROPFIND", path: path, user: u, header: map[string]string{"Depth": "0"},
			body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:prop><D:displayname/><A:calendar-color/></D:prop></D:propfind>`})
		return body
	}
	for _, path := range []string{calendar.HearingsPath("adv"), calendar.AvailabilityPath("adv")} {
		resp, body := patch(w.advocate, path, `<D:set><D:prop><A:calendar-color>#FF0000</A:calendar-color><D:displayname>Court &amp; more</D:displayname></D:prop></D:set>`)
		if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "200 OK") || strings.Contains(body, "403") {
			t.Fatalf("PROPPATCH %s: %d %s", path, resp.StatusCode, body)
		}
		if got := props(w.advocate, path); !strings.Contains(got, ">#FF0000<") || !strings.Contains(got, ">Court &amp; more<") {
			t.Errorf("PROPFIND %s after PROPPATCH: %s", path, got)
		}
	}
	// Per user: another advocate's hearings calendar keeps its name and has no colour.
	if got := props(w.otherAdvocate, calendar.HearingsPath("adv2")); !strings.Contains(got, ">Hearings<") || strings.Contains(got, "#FF0000") {
		t.Errorf("another user's calendar: %s", got)
	}
	// All or nothing: a refused property fails the others (424), which are not stored.
	resp, body := patch(w.advocate, calendar.HearingsPath("adv"), `<D:set><D:prop><D:displayname>Other</D:displayname><C:calendar-timezone>x</C:calendar-timezone></D:prop></D:set>`)
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "403 Forbidden") || !strings.Contains(body, "424 Failed Dependency") {
		t.Fatalf("mixed PROPPATCH: %d %s", resp.StatusCode, body)
	}
	if resp, body := patch(w.advocate, calendar.HearingsPath("adv"), `<D:set><D:prop><A:calendar-color>red</A:calendar-color></D:prop></D:set>`); !strings.Contains(body, "403 Forbidden") {
		t.Fatalf("bad colour: %d %s", resp.StatusCode, body)
	}
	if got := props(w.advocate, calendar.HearingsPath("adv")); !strings.Contains(got, ">Court &amp; more<") || !strings.Contains(got, ">#FF0000<") {
		t.Errorf("after refused PROPPATCHes: %s", got)
	}
	// Removing the colour.
	if resp, body := patch(w.advocate, calendar.HearingsPath("adv"), `<D:remove><D:prop><A:calendar-color/></D:prop></D:remove>`); !strings.Contains(body, "200 OK") {
		t.Fatalf("remove colour: %d %s", resp.StatusCode, body)
	}
	if got := props(w.advocate, calendar.HearingsPath("adv")); strings.Contains(got, "#FF0000") {
		t.Errorf("after removing the colour: %s", got)
	}
	if resp, _ := patch(w.advocate, calendar.HearingsPath("adv2"), `<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>`); resp.StatusCode != 404 {
		t.Errorf("PROPPATCH of another user's calendar: %d", resp.StatusCode)
	}
}

func TestPropfindDepth(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	collections := []string{"/dav/", calendar.PrincipalPath("adv"), calendar.HomeSetPath("adv"), calendar.HearingsPath("adv")}
	for _, p := range collections {
		for _, depth := range []string{"infinity", "Infinity", ""} {
			req := request{method: "PROPFIND", path: p, user: w.advocate, body: bodyFor("PROPFIND")}
			if depth != "" {
				req.header = map[string]string{"Depth": depth}
			}
			resp, body := w.do(req)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "propfind-finite-depth") ||
				!strings.Contains(resp.Header.Get("Content-Type"), "xml") {
				t.Errorf("PROPFIND %s Depth %q: %d %s", p, depth, resp.StatusCode, body)
			}
		}
		for _, depth := range []string{"0", "1"} {
			resp, body := w.do(request{method: "PROPFIND", path: p, user: w.advocate, body: bodyFor("PROPFIND"),
				header: map[string]string{"Depth": depth}})
			if resp.StatusCode != http.StatusMultiStatus {
				t.Errorf("PROPFIND %s Depth %s: %d %s", p, depth, resp.StatusCode, body)
			}
		}
	}
	// Depth 1 on the calendar lists its objects, with hrefs under /dav/.
	_, body := w.do(request{method: "PROPFIND", path: calendar.HearingsPath("adv"), user: w.advocate,
		body: bodyFor("PROPFIND"), header: map[string]string{"Depth": "1"}})
	for _, h := range []*courtside.Hearing{w.h1, w.h2} {
		if !strings.Contains(body, calendar.HearingPath("adv", h.ID)) {
			t.Errorf("Depth 1 listing lacks hearing %d: %s", h.ID, body)
		}
	}
	// On an object, infinity means 0 and is answered.
	resp, _ := w.do(request{method: "PROPFIND", path: calendar.HearingPath("adv", w.h1.ID), user: w.advocate, body: bodyFor("PROPFIND")})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND on an object without Depth: %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	huge := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop>` +
		strings.Repeat("<!-- padding -->", 10_000) + `</D:propfind>` // 160 kB; the test server allows 64 kB
	resp, body := w.do(request{method: "PROPFIND", path: calendar.HearingsPath("adv"), user: w.advocate, body: huge,
		header: map[string]string{"Depth": "0"}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("with Content-Length: %d, want 413", resp.StatusCode)
	}
	checkPlainError(t, resp, body)

	// Without a Content-Length the cap applies while reading.
	padding := strings.Repeat("<!-- padding -->", 10_000)
	for method, body := range map[string]string{
		"PROPFIND": huge,
		"REPORT": `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
			padding + `<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`,
		"PROPPATCH": `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:">` + padding + `</D:propertyupdate>`,
	} {
		req, err := http.NewRequest(method, w.srv.URL+calendar.HearingsPath("adv"), io.MultiReader(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("Depth", "0")
		req.SetBasicAuth("adv", w.secrets["adv"])
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s chunked: %d %s, want 413", method, resp.StatusCode, b)
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	deep := strings.Repeat("<a>", 8_000) + strings.Repeat("</a>", 8_000) // under the test server's 64 kB cap
	tests := []struct {
		name, method, body string
		want               int
	}{
		{"garbage REPORT", "REPORT", "<not xml", http.StatusBadRequest},
		{"unknown REPORT", "REPORT", `<?xml version="1.0"?><D:expand-property xmlns:D="DAV:"/>`, http.StatusBadRequest},
		{"sync-collection, bad level", "REPORT", `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/>
			<D:sync-level>2</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`, http.StatusBadRequest},
		{"sync-collection, bad limit", "REPORT", `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/>
			<D:sync-level>1</D:sync-level><D:limit><D:nresults>none</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`,
			http.StatusBadRequest},
		{"sync-collection, not XML inside", "REPORT", `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>`,
			http.StatusBadRequest},
		{"deeply nested REPORT", "REPORT", `<?xml version="1.0"?>` + deep, http.StatusBadRequest},
		{"garbage PROPFIND", "PROPFIND", "<D:propfind", http.StatusBadRequest},
		{"garbage PROPPATCH", "PROPPATCH", "<D:propertyupdate", http.StatusBadRequest},
		{"bad time range", "REPORT", `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
			<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="yesterday"/>
			</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := w.do(request{method: tt.method, path: calendar.HearingsPath("adv"), user: w.advocate, body: tt.body,
				header: map[string]string{"Depth": "0", "Content-Type": "application/xml"}})
			if resp.StatusCode != tt.want {
				t.Errorf("%d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			checkPlainError(t, resp, body)
		})
	}
}

func TestCancelledAndRescheduled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(w.advocate)
	get := func(id int64) (*caldav.CalendarObject, *ical.Event) {
		t.Helper()
		co, err := c.GetCalendarObject(ctx, calendar.HearingPath("adv", id))
		if err != nil {
			t.Fatal(err)
		}
		return co, &co.Data.Events()[0]
	}
	text := func(ev *ical.Event, name string) string {
		s, _ := ev.Props.Text(name)
		return s
	}
	seq := func(ev *ical.Event) int {
		n, err := ev.Props.Get(ical.PropSequence).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	before, ev := get(w.h1.ID)
	if seq(ev) != 0 {
		t.Fatalf("SEQUENCE = %d before any change", seq(ev))
	}
	w.now.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	newStart := time.Date(2026, 12, 15, 15, 0, 0, 0, time.UTC)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h1.ID, courtside.HearingUpdate{
		StartsAt: newStart, EndsAt: newStart.Add(time.Hour), Reason: "defence request"}); err != nil {
		t.Fatal(err)
	}
	after, ev := get(w.h1.ID)
	if seq(ev) != 1 {
		t.Errorf("SEQUENCE = %d after a reschedule, want 1", seq(ev))
	}
	if start, _ := ev.DateTimeStart(time.UTC); !start.Equal(newStart) {
		t.Errorf("DTSTART = %v, want %v", start, newStart)
	}
	if stamp, _ := ev.Props.DateTime(ical.PropDateTimeStamp, time.UTC); !stamp.Equal(w.now.Now()) {
		t.Errorf("DTSTAMP = %v, want the change time %v", stamp, w.now.Now())
	}
	if after.ETag == before.ETag {
		t.Error("ETag unchanged by a reschedule")
	}
	if text(ev, ical.PropUID) != calendar.UID(w.h1.ID) {
		t.Errorf("UID changed: %q", text(ev, ical.PropUID))
	}

	w.now.Set(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.h2.ID, "plea agreement", nil); err != nil {
		t.Fatal(err)
	}
	// The cancelled hearing stays in the calendar, and in time-range queries.
	cos, err := c.QueryCalendar(ctx, calendar.HearingsPath("adv"), eventQuery(w.h2.StartsAt.Add(-time.Hour), w.h2.EndsAt))
	if err != nil || len(cos) != 1 {
		t.Fatalf("query after cancellation: %v, %d objects", err, len(cos))
	}
	ev = &cos[0].Data.Events()[0]
	if text(ev, ical.PropStatus) != "CANCELLED" || seq(ev) != 1 || text(ev, ical.PropUID) != calendar.UID(w.h2.ID) ||
		!strings.HasPrefix(text(ev, ical.PropSummary), "Cancelled: ") {
		t.Errorf("cancelled hearing: STATUS %q SEQUENCE %d SUMMARY %q", text(ev, ical.PropStatus), seq(ev), text(ev, ical.PropSummary))
	}
	resp, body := w.do(request{method: http.MethodGet, path: calendar.HearingPath("adv", w.h2.ID), user: w.advocate})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "STATUS:CANCELLED\r\n") {
		t.Errorf("GET cancelled hearing: %d %s", resp.StatusCode, body)
	}
}

func TestNoVictimPII(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, u := range []*courtside.User{w.advocate, w.prosecutor, w.interpreter} {
		var all bytes.Buffer
		for _, req := range []request{
			{method: "REPORT", path: calendar.HearingsPath(u.Username), body: bodyFor("REPORT")},
			{method: "PROPFIND", path: calendar.HearingsPath(u.Username), body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
				header: map[string]string{"Depth": "1"}},
			{method: http.MethodGet, path: calendar.HearingPath(u.Username, w.h1.ID)},
			{method: http.MethodGet, path: calendar.HearingPath(u.Username, w.h2.ID)},
		} {
			req.user = u
			_, body := w.do(req)
			all.WriteString(body)
		}
		for _, secret := range []string{legalName, "Legalname", victimEmail, victimPhone, "5555550123"} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("%s's calendar contains %q", u.Username, secret)
			}
		}
		if u.Role != courtside.RoleAdvocate && strings.Contains(all.String(), pseudonym) {
			t.Errorf("%s's calendar names the victim's pseudonym", u.Username)
		}
		if u.Role == courtside.RoleAdvocate && !strings.Contains(all.String(), "Accompanying: "+pseudonym) {
			t.Errorf("the advocate's calendar lacks the pseudonym")
		}
	}
}

// panickyCalendars is the real storage with one method that panics, to see the handler
// recover.
type panickyCalendars struct{ courtside.CalendarService }

func (panickyCalendars) FindCalendarHearings(context.Context, int64) ([]*courtside.CalendarHearing, error) {
	panic("boom: internal detail")
}

func (panickyCalendars) FindCalendarObjects(context.Context, int64, time.Time, time.Time, bool) ([]*courtside.CalendarObject, error) {
	panic("boom: internal detail")
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := httpServer(t, calendar.NewHandler(calendar.Config{Tokens: storage.NewTokenService(w.db), Calendars: panickyCalendars{storage.NewCalendarService(w.db)}}))
	req, _ := http.NewRequest("REPORT", srv+calendar.HearingsPath("adv"), strings.NewReader(bodyFor("REPORT")))
	req.Header.Set("Content-Type", "application/xml")
	req.SetBasicAuth("adv", w.secrets["adv"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "boom") {
		t.Errorf("panic: %d %q", resp.StatusCode, body)
	}
	checkPlainError(t, resp, string(body))
}

func TestOptionsAndCollections(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		path, allow string
	}{
		{"/dav/", "OPTIONS, PROPFIND, REPORT"},
		{calendar.HearingsPath("adv"), "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT"},
		{calendar.AvailabilityPath("adv"), "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE"},
		{calendar.HearingPath("adv", w.h1.ID), "OPTIONS, GET, HEAD, PROPFIND, PUT"},
		{calendar.HomeSetPath("adv"), "OPTIONS, PROPFIND, REPORT, MKCALENDAR"},
		{calendar.AvailabilityPath("adv") + "a.ics", "OPTIONS, GET, HEAD, PROPFIND, PUT, DELETE"},
	}
	for _, tt := range tests {
		resp, _ := w.do(request{method: http.MethodOptions, path: tt.path, user: w.advocate})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != tt.allow ||
			!strings.Contains(resp.Header.Get("DAV"), "calendar-access") {
			t.Errorf("OPTIONS %s: %d Allow %q DAV %q", tt.path, resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("DAV"))
		}
	}
	// Calendars answer GET with their export (TestExportCalendar); other collections 405.
	for _, p := range []string{"/dav/", calendar.PrincipalPath("adv"), calendar.HomeSetPath("adv")} {
		resp, body := w.do(request{method: http.MethodGet, path: p, user: w.advocate})
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		checkPlainError(t, resp, body)
	}
	// The root answers PROPFIND itself, with its own href.
	resp, body := w.do(request{method: "PROPFIND", path: "/dav/", user: w.advocate, header: map[string]string{"Depth": "0"},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/><D:displayname/></D:prop></D:propfind>`})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, `">/dav/</href>`) ||
		!strings.Contains(body, `<href xmlns="DAV:">/dav/principals/adv/</href>`) || !strings.Contains(body, "404 Not Found") {
		t.Errorf("PROPFIND /dav/: %d %s", resp.StatusCode, body)
	}
}
