package calendar_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// storedWant is what one user's hearings calendar must serve: for each hearing path, the
// object rendered now from the membership rule read live (FindCalendarHearings), which the
// projection's stored object must equal.
type storedWant map[string]struct{ etag, data string }

// liveCalendar renders the user's hearings calendar from the domain tables, as it is now.
func (w *world) liveCalendar(t *testing.T, u *courtside.User) storedWant {
	t.Helper()
	live, err := storage.NewCalendarService(w.db).FindCalendarHearings(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := storedWant{}
	for _, ch := range live {
		r, err := calendar.RenderStored(ch)
		if err != nil {
			t.Fatal(err)
		}
		out[calendar.HearingPath(u.Username, ch.Hearing.ID)] = struct{ etag, data string }{r.ETag, string(r.Data)}
	}
	return out
}

// objectResponses returns the 200 responses of a multistatus that carry a getetag, with the
// ETag and the calendar-data, by href, and the hrefs answered 404.
func objectResponses(t *testing.T, ms davMultistatus) (map[string][2]string, []string) {
	t.Helper()
	out, missing := map[string][2]string{}, []string(nil)
	for _, r := range ms.Responses {
		if strings.Contains(r.Status, " 404 ") {
			missing = append(missing, r.Href)
			continue
		}
		found, _ := r.props()
		if etag, ok := found["getetag"]; ok {
			out[r.Href] = [2]string{strings.Trim(etag.Text, `"`), found["calendar-data"].Text}
		}
	}
	return out, missing
}

// checkServed checks every read of the user's hearings calendar against want: GET (body, ETag,
// and the ETag is the body's hash), PROPFIND Depth 1 with and without calendar-data,
// calendar-query, calendar-multiget and an initial sync-collection; hearings outside the
// calendar are not found.
func (w *world) checkServed(t *testing.T, step string, u *courtside.User, want storedWant) {
	t.Helper()
	all := []*courtside.Hearing{w.h1, w.h2, w.h3}
	for _, h := range all {
		path := calendar.HearingPath(u.Username, h.ID)
		resp, body := w.do(request{method: http.MethodGet, path: path, user: u})
		wt, in := want[path]
		switch {
		case !in && resp.StatusCode != http.StatusNotFound:
			t.Errorf("%s: GET %s: %d, want 404", step, path, resp.StatusCode)
		case in && (resp.StatusCode != http.StatusOK || body != wt.data || resp.Header.Get("ETag") != `"`+wt.etag+`"` ||
			calendar.ETag([]byte(body)) != wt.etag):
			t.Errorf("%s: GET %s: %d ETag %s (want %s)\n%s\nwant\n%s", step, path, resp.StatusCode, resp.Header.Get("ETag"), wt.etag, body, wt.data)
		}
	}
	same := func(what string, got map[string][2]string, withData bool) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %s answers %d objects, want %d: %v", step, what, len(got), len(want), got)
		}
		for href, wt := range want {
			g, ok := got[href]
			if !ok || g[0] != wt.etag || (withData && g[1] != wt.data) || (!withData && g[1] != "") {
				t.Errorf("%s: %s: %s = %q, want ETag %s", step, what, href, g, wt.etag)
			}
		}
	}
	cal := calendar.HearingsPath(u.Username)
	for _, withData := range []bool{false, true} {
		prop := `<D:getetag/><D:getcontenttype/>`
		if withData {
			prop += `<C:calendar-data/>`
		}
		resp, body := w.do(request{method: "PROPFIND", path: cal, user: u, header: map[string]string{"Depth": "1"},
			body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + prop + `</D:prop></D:propfind>`})
		got, _ := objectResponses(t, parseMultistatus(t, resp, body))
		same("PROPFIND Depth 1", got, withData)
	}
	resp, body := w.do(request{method: "REPORT", path: cal, user: u, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
			<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`})
	got, _ := objectResponses(t, parseMultistatus(t, resp, body))
	same("calendar-query", got, true)
	var hrefs strings.Builder
	for _, h := range all {
		hrefs.WriteString("<D:href>" + calendar.HearingPath(u.Username, h.ID) + "</D:href>")
	}
	resp, body = w.do(request{method: "REPORT", path: cal, user: u, header: map[string]string{"Depth": "1"},
		body: `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` +
			hrefs.String() + `</C:calendar-multiget>`})
	got, missing := objectResponses(t, parseMultistatus(t, resp, body))
	same("calendar-multiget", got, true)
	if len(missing) != len(all)-len(want) {
		t.Errorf("%s: calendar-multiget: not found %v", step, missing)
	}
	resp, body = w.do(request{method: "REPORT", path: cal, user: u, header: map[string]string{"Depth": "0"},
		body: `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:sync-token/>
			<D:sync-level>1</D:sync-level><D:prop><D:getetag/><C:calendar-data/></D:prop></D:sync-collection>`})
	got, _ = objectResponses(t, parseMultistatus(t, resp, body))
	same("initial sync-collection", got, true)
}

// TestStoredObjects_EveryReadServesTheMembershipRule checks every read of every user's hearings
// calendar against the membership rule rendered now, before and after changes: a reschedule, an
// offer, an answer by PARTSTAT, a move that asks for reconfirmation, a decline at
// reconfirmation (the hearing leaves the interpreter's calendar) and a cancellation.
func TestStoredObjects_EveryReadServesTheMembershipRule(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	users := []*courtside.User{w.prosecutor, w.otherProsecutor, w.advocate, w.otherAdvocate, w.interpreter, w.coordinator, w.admin}
	check := func(step string) map[*courtside.User]storedWant {
		t.Helper()
		out := map[*courtside.User]storedWant{}
		for _, u := range users {
			out[u] = w.liveCalendar(t, u)
			w.checkServed(t, step, u, out[u])
		}
		return out
	}
	before := check("set up")
	if len(before[w.prosecutor]) != 3 || len(before[w.advocate]) != 2 || len(before[w.interpreter]) != 0 {
		t.Fatalf("the world's calendars: %v", before)
	}

	// A reschedule of the first hearing changes its object in the calendars that hold it, and
	// nothing else.
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h1.ID, courtside.HearingUpdate{StartsAt: w.h1.StartsAt.Add(time.Hour),
		EndsAt: w.h1.EndsAt.Add(time.Hour), Reason: "judge's calendar"}); err != nil {
		t.Fatal(err)
	}
	after := check("rescheduled")
	for _, u := range []*courtside.User{w.prosecutor, w.advocate} {
		for path, wt := range after[u] {
			changed := before[u][path].etag != wt.etag
			if changed != (path == calendar.HearingPath(u.Username, w.h1.ID)) {
				t.Errorf("%s: %s changed %v", u.Username, path, changed)
			}
		}
	}

	// An offer, accepted from the calendar app: the PUT's ETag is the one GET serves next.
	w.offered(t)
	check("offered")
	path := calendar.HearingPath("interp", w.h3.ID)
	_, object := w.do(request{method: http.MethodGet, path: path, user: w.interpreter})
	resp, _ := w.do(request{method: http.MethodPut, path: path, user: w.interpreter, body: answer(t, object, "ACCEPTED"), header: icalHeader})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") != w.getETag(w.interpreter, w.h3.ID) {
		t.Fatalf("accept: %d, ETag %q, GET's %q", resp.StatusCode, resp.Header.Get("ETag"), w.getETag(w.interpreter, w.h3.ID))
	}
	accepted := check("accepted")
	if !strings.Contains(accepted[w.interpreter][path].data, "PARTSTAT=ACCEPTED") {
		t.Fatalf("the accepted object:\n%s", accepted[w.interpreter][path].data)
	}

	// A move: the interpreter must reconfirm, and declines; the hearing leaves their calendar.
	token := w.syncMS(t, w.interpreter, "", "").SyncToken
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h3.ID, courtside.HearingUpdate{StartsAt: w.h3.StartsAt.Add(24 * time.Hour),
		EndsAt: w.h3.EndsAt.Add(24 * time.Hour), Reason: "court closed"}); err != nil {
		t.Fatal(err)
	}
	moved := check("moved")
	if !strings.Contains(moved[w.interpreter][path].data, "PARTSTAT=NEEDS-ACTION") {
		t.Fatalf("the object to reconfirm:\n%s", moved[w.interpreter][path].data)
	}
	resp, _ = w.do(request{method: http.MethodPut, path: path, user: w.interpreter, body: answer(t, moved[w.interpreter][path].data, "DECLINED"), header: icalHeader})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") != "" {
		t.Fatalf("decline at reconfirmation: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if got := check("declined"); len(got[w.interpreter]) != 0 {
		t.Fatalf("the interpreter's calendar after declining: %v", got[w.interpreter])
	}
	ms := w.syncMS(t, w.interpreter, token, "")
	if len(ms.Responses) != 1 || ms.Responses[0].Href != path || !strings.Contains(ms.Responses[0].Status, " 404 ") {
		t.Fatalf("the interpreter's sync after the decline: %+v", ms)
	}

	// A cancellation: the advocate keeps the hearing, cancelled, without the pseudonym.
	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.h2.ID, "plea agreement", nil); err != nil {
		t.Fatal(err)
	}
	cancelled := check("cancelled")
	adv := cancelled[w.advocate][calendar.HearingPath("adv", w.h2.ID)].data
	if !strings.Contains(adv, "STATUS:CANCELLED") || strings.Contains(adv, pseudonym) {
		t.Fatalf("the advocate's cancelled hearing:\n%s", adv)
	}
}

// TestStoredObjects_PseudonymsPerAdvocate checks that each advocate's stored objects name the
// victims that advocate accompanies, every one of them and no other, and that the office's and
// the feeds' name none.
func TestStoredObjects_PseudonymsPerAdvocate(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	second := &courtside.Victim{Pseudonym: "V-77-Q", LegalName: "Second Legalname", PreferredLanguage: "es"}
	f.must(storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), second))
	f.must(storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, second.ID, false))
	for _, adv := range []*courtside.User{f.advocate, f.otherAdvocate} {
		if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), f.h1.ID, second.ID, adv.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		u          *courtside.User
		h          *courtside.Hearing
		want, none []string
	}{
		{f.advocate, f.h1, []string{`Accompanying: V-12-R\, V-77-Q`}, nil},
		{f.advocate, f.h2, []string{"Accompanying: V-12-R\r\n"}, []string{"V-77-Q"}},
		{f.otherAdvocate, f.h1, []string{"Accompanying: V-77-Q\r\n"}, []string{pseudonym}},
		{f.prosecutor, f.h1, nil, []string{pseudonym, "V-77-Q", "Accompanying"}},
	} {
		resp, body := f.do(request{method: http.MethodGet, path: calendar.HearingPath(tc.u.Username, tc.h.ID), user: tc.u})
		unfolded := strings.ReplaceAll(body, "\r\n ", "")
		for _, s := range tc.want {
			if resp.StatusCode != http.StatusOK || !strings.Contains(unfolded, s) {
				t.Errorf("%s's hearing %d lacks %q:\n%s", tc.u.Username, tc.h.ID, s, body)
			}
		}
		for _, s := range tc.none {
			if strings.Contains(unfolded, s) {
				t.Errorf("%s's hearing %d names %q:\n%s", tc.u.Username, tc.h.ID, s, body)
			}
		}
	}
	for _, secret := range []string{f.advFeed, f.prosFeed} {
		if _, body := f.feed(secret); strings.Contains(body, pseudonym) || strings.Contains(body, "V-77-Q") || strings.Contains(body, "Legalname") {
			t.Errorf("a feed names a victim:\n%s", body)
		}
	}
}

// TestFeed_StoredBodyPerVersion checks the feeds kept per calendar version: 304 while the user's
// calendar and the window leave the feed as it is, whatever changes in other calendars; a new
// body when the user's calendar changes, or when time moves a hearing out of the window, and
// back when the clock goes back.
func TestFeed_StoredBodyPerVersion(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	resp, first := f.feed(f.advFeed)
	etag := resp.Header.Get("ETag")
	notModified := func(step string) {
		t.Helper()
		resp, body := f.get(http.MethodGet, calendar.FeedPath(f.advFeed), "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || body != "" || resp.Header.Get("ETag") != etag {
			t.Errorf("%s: %s ETag %q (was %q)", step, resp.Status, resp.Header.Get("ETag"), etag)
		}
	}
	notModified("unchanged")

	// A change to a hearing the advocate does not accompany: the prosecutor's feed changes,
	// the advocate's does not.
	_, pros := f.feed(f.prosFeed)
	if _, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.h3.ID, courtside.HearingUpdate{StartsAt: f.h3.StartsAt.Add(time.Hour),
		EndsAt: f.h3.EndsAt.Add(time.Hour), Reason: "judge's calendar"}); err != nil {
		t.Fatal(err)
	}
	if _, again := f.feed(f.prosFeed); again == pros {
		t.Error("the prosecutor's feed did not change")
	}
	notModified("another calendar changed")

	// Time moves on: the same body until the first hearing has ended 30 days ago, then a new
	// one without it; the clock set back, the first body again.
	t0 := f.now.Now()
	f.now.Set(f.h1.EndsAt.Add(calendar.DefaultFeedWindowBack - time.Second))
	notModified("just before the first hearing leaves the window")
	f.now.Set(f.h1.EndsAt.Add(calendar.DefaultFeedWindowBack))
	resp, body := f.feed(f.advFeed)
	if resp.Header.Get("ETag") == etag || slices.Contains(feedUIDs(body), calendar.UID(f.h1.ID)) ||
		!slices.Contains(feedUIDs(body), calendar.UID(f.h2.ID)) {
		t.Errorf("after the first hearing left the window: ETag %q\n%s", resp.Header.Get("ETag"), body)
	}
	f.now.Set(t0)
	if _, again := f.feed(f.advFeed); again != first {
		t.Errorf("the clock set back:\n%s\nwant\n%s", again, first)
	}

	// A change to the advocate's own hearing: a new body and ETag.
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.h2.ID, "plea agreement", nil); err != nil {
		t.Fatal(err)
	}
	resp, body = f.get(http.MethodGet, calendar.FeedPath(f.advFeed), "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || !strings.Contains(vevents(t, body)[calendar.UID(f.h2.ID)], "STATUS:CANCELLED") {
		t.Errorf("after the cancellation: %s ETag %q\n%s", resp.Status, resp.Header.Get("ETag"), body)
	}
	if resp.Header.Get("ETag") != `"`+calendar.ETag([]byte(body))+`"` {
		t.Errorf("the ETag %s is not the body's", resp.Header.Get("ETag"))
	}
}

// TestStoredObjects_QueryTimeRanges checks calendar-query on a hearings calendar answered from
// the stored extents against the overlap rule of RFC 4791 section 9.9 on the hearings' own
// times, at the edges, for a range on the VEVENT or on the VCALENDAR, for VTODOs (which no
// hearing object holds), and for a filter the stored answer leaves to go-webdav (a
// prop-filter), which must agree.
func TestStoredObjects_QueryTimeRanges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const f = "20060102T150405Z"
	h1, h2 := w.h1, w.h2
	query := func(filter string) []string {
		t.Helper()
		resp, body := w.do(request{method: "REPORT", path: calendar.HearingsPath("pros"), user: w.prosecutor, header: map[string]string{"Depth": "1"},
			body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>
				<C:filter><C:comp-filter name="VCALENDAR">` + filter + `</C:comp-filter></C:filter></C:calendar-query>`})
		got, _ := objectResponses(t, parseMultistatus(t, resp, body))
		var hrefs []string
		for href, v := range got {
			if v[0] != strings.Trim(w.getETag(w.prosecutor, hearingOf(t, href)), `"`) {
				t.Errorf("%s: ETag %s", href, v[0])
			}
			hrefs = append(hrefs, href)
		}
		slices.Sort(hrefs)
		return hrefs
	}
	path := func(hs ...*courtside.Hearing) []string {
		var out []string
		for _, h := range hs {
			out = append(out, calendar.HearingPath("pros", h.ID))
		}
		slices.Sort(out)
		return out
	}
	event := func(start, end time.Time) string {
		attrs := ""
		if !start.IsZero() {
			attrs += ` start="` + start.UTC().Format(f) + `"`
		}
		if !end.IsZero() {
			attrs += ` end="` + end.UTC().Format(f) + `"`
		}
		return `<C:comp-filter name="VEVENT"><C:time-range` + attrs + `/></C:comp-filter>`
	}
	for _, tc := range []struct {
		name, filter string
		want         []string
	}{
		{"everything", ``, path(w.h1, w.h2, w.h3)},
		{"every event", `<C:comp-filter name="VEVENT"/>`, path(w.h1, w.h2, w.h3)},
		{"exactly the first", event(h1.StartsAt, h1.EndsAt), path(h1)},
		{"a minute inside the first", event(h1.StartsAt.Add(time.Minute), h1.StartsAt.Add(2*time.Minute)), path(h1)},
		{"ending at its start", event(h1.StartsAt.Add(-time.Hour), h1.StartsAt), nil},
		{"starting at its end", event(h1.EndsAt, h2.StartsAt), nil},
		{"up to the second's start", event(time.Time{}, h2.StartsAt), path(h1)},
		{"from the first's last second", event(h1.EndsAt.Add(-time.Second), time.Time{}), path(h1, w.h2, w.h3)},
		{"a range on the VCALENDAR", `<C:time-range start="` + h2.StartsAt.Format(f) + `" end="` + h2.EndsAt.Format(f) + `"/>`, path(h2)},
		{"VTODOs", `<C:comp-filter name="VTODO"/>`, nil},
		{"a prop-filter (go-webdav's)", `<C:comp-filter name="VEVENT">` + strings.TrimPrefix(strings.TrimSuffix(event(h1.StartsAt, h2.EndsAt), `</C:comp-filter>`), `<C:comp-filter name="VEVENT">`) +
			`<C:prop-filter name="SUMMARY"><C:text-match>Restitution</C:text-match></C:prop-filter></C:comp-filter>`, path(h2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := query(tc.filter); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// hearingOf returns the hearing ID of a hearing object's path.
func hearingOf(t *testing.T, href string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(href[strings.LastIndex(href, "/")+1:], "hearing-%d.ics", &id); err != nil {
		t.Fatalf("%s: %v", href, err)
	}
	return id
}
