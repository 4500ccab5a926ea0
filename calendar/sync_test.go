package calendar_test

import (
	"context"
	"database/sql"
	"encoding/xml"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// projectionGroup is the consumer group of the calendar projection in these tests.
const projectionGroup = "calendar"

// runProjection waits until the calendar projection, which every world runs as the server does
// (startProjection), has handled every event written so far, the world's setup included.
func (w *world) runProjection(t *testing.T) {
	t.Helper()
	w.projected(t)
}

// projected waits, with a generous deadline, until the projection has handled every event
// written so far.
func (w *world) projected(t *testing.T) {
	t.Helper()
	if err := w.waitProjected(); err != nil {
		t.Fatal(err)
	}
}

// davMultistatus is a DAV:multistatus as a client reads it.
type davMultistatus struct {
	Responses []davResponse `xml:"DAV: response"`
	SyncToken string        `xml:"DAV: sync-token"`
}

type davResponse struct {
	Href      string `xml:"DAV: href"`
	Status    string `xml:"DAV: status"`
	PropStats []struct {
		Status string `xml:"DAV: status"`
		Prop   struct {
			Props []davProp `xml:",any"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: propstat"`
	Error *struct {
		Inner string `xml:",innerxml"`
	} `xml:"DAV: error"`
}

type davProp struct {
	XMLName xml.Name
	Text    string `xml:",chardata"`
	Inner   string `xml:",innerxml"`
}

// props returns the response's properties with status 200, and the names of the others.
func (r davResponse) props() (found map[string]davProp, missing []string) {
	found = map[string]davProp{}
	for _, ps := range r.PropStats {
		for _, p := range ps.Prop.Props {
			if strings.Contains(ps.Status, " 200 ") {
				found[p.XMLName.Local] = p
			} else {
				missing = append(missing, p.XMLName.Local)
			}
		}
	}
	return found, missing
}

// parseMultistatus parses a 207 body.
func parseMultistatus(t *testing.T, resp *http.Response, body string) davMultistatus {
	t.Helper()
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207: %s", resp.StatusCode, body)
	}
	var ms davMultistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return ms
}

// response returns the response for href.
func (ms davMultistatus) response(t *testing.T, href string) davResponse {
	t.Helper()
	for _, r := range ms.Responses {
		if r.Href == href {
			return r
		}
	}
	t.Fatalf("no response for %s in %+v", href, ms.Responses)
	return davResponse{}
}

// childNames returns the local names of the elements nested in raw XML, in order.
func childNames(t *testing.T, inner string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(inner))
	var names []string
	for {
		tok, err := d.Token()
		if err != nil {
			return names
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

// fixture returns a file under testdata with its placeholders replaced.
func fixture(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(replace...).Replace(string(b))
}

// syncBody is a sync-collection REPORT body.
func syncBody(t *testing.T, token, level, nresults string) string {
	limit := ""
	if nresults != "" {
		limit = "\n  <D:limit><D:nresults>" + nresults + "</D:nresults></D:limit>"
	}
	return fixture(t, "sync_collection.xml", "{{TOKEN}}", token, "{{LEVEL}}", level, "{{LIMIT}}", limit)
}

// sync sends a sync-collection REPORT for the user's calendar.
func (w *world) sync(u *courtside.User, token, nresults string) (*http.Response, string) {
	w.t.Helper()
	return w.do(request{method: "REPORT", path: calendar.HearingsPath(u.Username), user: u,
		body: syncBody(w.t.(*testing.T), token, "1", nresults), header: map[string]string{"Depth": "0"}})
}

// syncMS sends a sync-collection REPORT and parses its 207.
func (w *world) syncMS(t *testing.T, u *courtside.User, token, nresults string) davMultistatus {
	t.Helper()
	resp, body := w.sync(u, token, nresults)
	return parseMultistatus(t, resp, body)
}

// getETag returns the ETag header of a GET of one hearing.
func (w *world) getETag(u *courtside.User, hearingID int64) string {
	w.t.Helper()
	resp, body := w.do(request{method: http.MethodGet, path: calendar.HearingPath(u.Username, hearingID), user: u})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		w.t.Fatalf("GET %d: %d %q %s", hearingID, resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	return resp.Header.Get("ETag")
}

// version returns the user's calendar version.
func (w *world) version(u *courtside.User) int64 {
	w.t.Helper()
	v, _, err := storage.NewCalendarService(w.db).CalendarVersion(context.Background(), u.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// etags returns the getetag of every response with properties, by href, and the hrefs of
// the 404 responses.
func etags(t *testing.T, ms davMultistatus) (map[string]string, []string) {
	t.Helper()
	out, gone := map[string]string{}, []string(nil)
	for _, r := range ms.Responses {
		if strings.Contains(r.Status, " 404 ") {
			gone = append(gone, r.Href)
			continue
		}
		if r.Status != "" {
			continue
		}
		found, missing := r.props()
		if found["getcontenttype"].Text != "text/calendar" || !slices.Equal(missing, []string{"calendar-color"}) {
			t.Errorf("%s: properties %+v, missing %v", r.Href, found, missing)
		}
		out[r.Href] = found["getetag"].Text
	}
	return out, gone
}

func TestCalendarCollectionProperties(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	cal := calendar.HearingsPath("adv")
	token := calendar.SyncToken(w.advocate.ID, w.version(w.advocate))
	if w.version(w.advocate) == 0 {
		t.Fatal("the projection recorded nothing for the advocate")
	}

	t.Run("calendar, depth 0", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: w.advocate, body: fixture(t, "propfind_calendar.xml"),
			header: map[string]string{"Depth": "0"}})
		ms := parseMultistatus(t, resp, body)
		if len(ms.Responses) != 1 {
			t.Fatalf("%d responses: %s", len(ms.Responses), body)
		}
		found, missing := ms.response(t, cal).props()
		if found["displayname"].Text != "Hearings" || found["getctag"].Text != token || found["sync-token"].Text != token {
			t.Errorf("displayname %q, getctag %q, sync-token %q, want token %q", found["displayname"].Text,
				found["getctag"].Text, found["sync-token"].Text, token)
		}
		if got := childNames(t, found["current-user-privilege-set"].Inner); !slices.Equal(got,
			[]string{"privilege", "read", "privilege", "read-current-user-privilege-set"}) {
			t.Errorf("current-user-privilege-set: %v", got)
		}
		if got := childNames(t, found["supported-report-set"].Inner); !slices.Equal(got, []string{
			"supported-report", "report", "calendar-query", "supported-report", "report", "calendar-multiget",
			"supported-report", "report", "sync-collection"}) {
			t.Errorf("supported-report-set: %v", got)
		}
		if !slices.Equal(missing, []string{"calendar-color"}) {
			t.Errorf("missing %v", missing)
		}
		if !strings.Contains(body, `xmlns="http://calendarserver.org/ns/"`) {
			t.Errorf("getctag is not in the calendarserver namespace: %s", body)
		}
	})

	t.Run("home set, depth 1", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPFIND", path: calendar.HomeSetPath("adv"), user: w.advocate,
			body: fixture(t, "propfind_calendar.xml"), header: map[string]string{"Depth": "1"}})
		ms := parseMultistatus(t, resp, body)
		if found, _ := ms.response(t, cal).props(); found["getctag"].Text != token {
			t.Errorf("calendar in the home set: getctag %q", found["getctag"].Text)
		}
		if found, _ := ms.response(t, calendar.HomeSetPath("adv")).props(); found["getctag"].Text != "" || found["sync-token"].Text != "" {
			t.Errorf("the home set has calendar properties: %+v", found)
		}
	})

	t.Run("calendar, depth 1", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: w.advocate, body: fixture(t, "propfind_calendar.xml"),
			header: map[string]string{"Depth": "1"}})
		ms := parseMultistatus(t, resp, body)
		if len(ms.Responses) != 3 {
			t.Fatalf("%d responses: %s", len(ms.Responses), body)
		}
		if found, _ := ms.response(t, calendar.HearingPath("adv", w.h1.ID)).props(); len(found) != 0 {
			t.Errorf("an object has calendar properties: %+v", found)
		}
	})

	t.Run("propname", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: w.advocate,
			body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, header: map[string]string{"Depth": "0"}})
		found, _ := parseMultistatus(t, resp, body).response(t, cal).props()
		for _, name := range []string{"getctag", "sync-token", "current-user-privilege-set", "supported-report-set", "displayname"} {
			if _, ok := found[name]; !ok {
				t.Errorf("propname lacks %s: %s", name, body)
			}
		}
	})

	t.Run("allprop", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: w.advocate,
			body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, header: map[string]string{"Depth": "0"}})
		found, _ := parseMultistatus(t, resp, body).response(t, cal).props()
		if _, ok := found["sync-token"]; ok || found["displayname"].Text != "Hearings" {
			t.Errorf("allprop: %s", body)
		}
	})

	t.Run("PROPPATCH still refuses", func(t *testing.T) {
		resp, body := w.do(request{method: "PROPPATCH", path: cal, user: w.advocate, body: `<?xml version="1.0"?>
			<D:propertyupdate xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:set><D:prop><CS:getctag>x</CS:getctag>
			</D:prop></D:set></D:propertyupdate>`})
		ms := parseMultistatus(t, resp, body)
		if len(ms.Responses) != 1 || len(ms.Responses[0].PropStats) != 1 || !strings.Contains(ms.Responses[0].PropStats[0].Status, " 403 ") {
			t.Errorf("PROPPATCH: %s", body)
		}
	})
}

func TestSyncCollection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	ctx := context.Background()
	cal := calendar.HearingsPath("adv")
	h1, h2 := calendar.HearingPath("adv", w.h1.ID), calendar.HearingPath("adv", w.h2.ID)
	ctag := func() string {
		t.Helper()
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: w.advocate, body: fixture(t, "propfind_calendar.xml"),
			header: map[string]string{"Depth": "0"}})
		found, _ := parseMultistatus(t, resp, body).response(t, cal).props()
		return found["getctag"].Text
	}

	// The first sync lists every hearing with the ETag that GET serves.
	resp, body := w.sync(w.advocate, "", "")
	ms := parseMultistatus(t, resp, body)
	got, gone := etags(t, ms)
	if len(got) != 2 || got[h1] != w.getETag(w.advocate, w.h1.ID) || got[h2] != w.getETag(w.advocate, w.h2.ID) || gone != nil {
		t.Fatalf("first sync: %v, gone %v: %s", got, gone, body)
	}
	t0 := ms.SyncToken
	if t0 != calendar.SyncToken(w.advocate.ID, w.version(w.advocate)) || t0 != ctag() {
		t.Fatalf("first sync token %q, calendar ctag %q", t0, ctag())
	}
	// Nothing changed: nothing reported, the same token.
	if ms := w.syncMS(t, w.advocate, t0, ""); len(ms.Responses) != 0 || ms.SyncToken != t0 {
		t.Fatalf("unchanged: %+v", ms)
	}

	// A reschedule, once projected, is reported alone, with its new ETag and a new token.
	newStart := time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h1.ID, courtside.HearingUpdate{StartsAt: newStart,
		EndsAt: newStart.Add(time.Hour), Reason: "court closed"}); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	resp, body = w.sync(w.advocate, t0, "")
	ms = parseMultistatus(t, resp, body)
	got, gone = etags(t, ms)
	if len(got) != 1 || got[h1] == "" || got[h1] != w.getETag(w.advocate, w.h1.ID) || got[h1] == w.getETag(w.advocate, w.h2.ID) || gone != nil {
		t.Fatalf("after the reschedule: %v, gone %v: %s", got, gone, body)
	}
	t1 := ms.SyncToken
	if t1 == t0 || t1 != ctag() {
		t.Fatalf("token after the reschedule %q (before %q), ctag %q", t1, t0, ctag())
	}

	// Two more changes, fetched one at a time: the limit truncates with a 507 for the
	// calendar and a token to go on from.
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h2.ID, courtside.HearingUpdate{StartsAt: newStart.Add(48 * time.Hour),
		EndsAt: newStart.Add(49 * time.Hour), Reason: "judge ill"}); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.h1.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	resp, body = w.sync(w.advocate, t1, "1")
	ms = parseMultistatus(t, resp, body)
	if len(ms.Responses) != 2 || ms.Responses[0].Href != h2 || ms.Responses[1].Href != cal ||
		!strings.Contains(ms.Responses[1].Status, " 507 ") || ms.Responses[1].Error == nil ||
		!slices.Equal(childNames(t, ms.Responses[1].Error.Inner), []string{"number-of-matches-within-limits"}) {
		t.Fatalf("truncated: %s", body)
	}
	t2 := ms.SyncToken
	resp, body = w.sync(w.advocate, t2, "1")
	ms = parseMultistatus(t, resp, body)
	if got, _ := etags(t, ms); len(ms.Responses) != 1 || got[h1] != w.getETag(w.advocate, w.h1.ID) || ms.SyncToken != ctag() {
		t.Fatalf("the rest: %s", body)
	}

	// Another user's view of the same hearings has its own tokens.
	resp, body = w.sync(w.prosecutor, "", "")
	if ms := parseMultistatus(t, resp, body); len(ms.Responses) != 3 ||
		ms.SyncToken != calendar.SyncToken(w.prosecutor.ID, w.version(w.prosecutor)) {
		t.Fatalf("prosecutor: %s", body)
	}
	_ = ctx
}

func TestSyncCollectionRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	v := w.version(w.advocate)
	tests := []struct {
		name, path, depth, body string
		want                    int
		condition               string // the DAV:error precondition, "" for a plain error
	}{
		{"garbage token", "", "0", syncBody(t, "not-a-token", "1", ""), http.StatusForbidden, "valid-sync-token"},
		{"another user's token", "", "0", syncBody(t, calendar.SyncToken(w.prosecutor.ID, 1), "1", ""), http.StatusForbidden, "valid-sync-token"},
		{"future token", "", "0", syncBody(t, calendar.SyncToken(w.advocate.ID, v+10), "1", ""), http.StatusForbidden, "valid-sync-token"},
		{"non-canonical token", "", "0", syncBody(t, strings.Replace(calendar.SyncToken(w.advocate.ID, v), "/", "/0", 4), "1", ""),
			http.StatusForbidden, "valid-sync-token"},
		{"sync-level infinite", "", "0", syncBody(t, "", "infinite", ""), http.StatusForbidden, "sync-traversal-supported"},
		{"depth infinity", "", "infinity", syncBody(t, "", "1", ""), http.StatusBadRequest, ""},
		{"first sync over the limit", "", "0", syncBody(t, "", "1", "1"), http.StatusForbidden, "number-of-matches-within-limits"},
		{"on the home set", calendar.HomeSetPath("adv"), "0", syncBody(t, "", "1", ""), http.StatusForbidden, "supported-report"},
		{"on an object", calendar.HearingPath("adv", w.h1.ID), "0", syncBody(t, "", "1", ""), http.StatusForbidden, "supported-report"},
		{"another user's calendar", calendar.HearingsPath("pros"), "0", syncBody(t, "", "1", ""), http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = calendar.HearingsPath("adv")
			}
			resp, body := w.do(request{method: "REPORT", path: path, user: w.advocate, body: tt.body,
				header: map[string]string{"Depth": tt.depth}})
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.condition == "" {
				checkPlainError(t, resp, body)
				return
			}
			var e struct {
				XMLName xml.Name `xml:"DAV: error"`
				Inner   string   `xml:",innerxml"`
			}
			if err := xml.Unmarshal([]byte(body), &e); err != nil || !slices.Equal(childNames(t, e.Inner), []string{tt.condition}) {
				t.Errorf("body %q (%v), want DAV:%s", body, err, tt.condition)
			}
		})
	}
	// A valid token older than the calendar still works (nothing is ever forgotten).
	if ms := w.syncMS(t, w.advocate, calendar.SyncToken(w.advocate.ID, 0), ""); len(ms.Responses) != 2 {
		t.Errorf("from version 0: %+v", ms)
	}
}

// TestSyncCollectionDeleted syncs an interpreter's calendar through a hearing leaving it: the
// sync reports it as 404.
func TestSyncCollectionDeleted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), w.h3.ID, "es", nil)
	if err != nil || b.InterpreterID != w.interpreter.ID {
		t.Fatalf("request interpreter: %v %+v", err, b)
	}
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(w.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	h3 := calendar.HearingPath("interp", w.h3.ID)
	ms := w.syncMS(t, w.interpreter, "", "")
	if got, _ := etags(t, ms); len(got) != 1 || got[h3] != w.getETag(w.interpreter, w.h3.ID) {
		t.Fatalf("interpreter's first sync: %+v", ms)
	}
	token := ms.SyncToken

	// Nothing in Courtside takes an accepted booking back yet (a decline at reconfirmation
	// will): do it underneath, with the event the projection would get.
	ctx := context.Background()
	if _, err := w.db.Writer.ExecContext(ctx, `UPDATE interpreter_bookings SET status = 'DECLINED' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	tx, err := w.db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := storage.NewCalendarService(w.db).ProjectCalendar(ctx, tx, courtside.Event{Type: courtside.EventBookingDeclined, HearingID: w.h3.ID,
		UserID: w.interpreter.ID, At: w.now.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil && err != sql.ErrTxDone {
		t.Fatal(err)
	}
	resp, body := w.sync(w.interpreter, token, "")
	ms = parseMultistatus(t, resp, body)
	if got, gone := etags(t, ms); len(got) != 0 || !slices.Equal(gone, []string{h3}) || ms.SyncToken == token {
		t.Fatalf("after leaving: %s", body)
	}
	if resp, _ := w.do(request{method: http.MethodGet, path: h3, user: w.interpreter}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET after leaving: %d", resp.StatusCode)
	}
}
