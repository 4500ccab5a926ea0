package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"courtside"
	"courtside/storage"
	"courtside/web"
)

// TestCoordinator_WeekHearingAssignAndInterpreter: the week shows the hearing with its gaps;
// the hearing page ranks the candidates with reasons; the two actions write through the
// services and the week shows the coverage filled.
func TestCoordinator_WeekHearingAssignAndInterpreter(t *testing.T) {
	w := newAppWorld(t)
	b := w.signedIn("coordinator")
	week := b.get("/week")
	for _, want := range []string{"Thu 10 Dec 2026, 09:30 EST", "missing for a victim who attends", "Needs attention", "1 hearings; 1 need attention."} {
		if !strings.Contains(week.body, want) {
			t.Fatalf("week lacks %q:\n%s", want, week.body)
		}
	}
	if grid := b.get("/week?view=grid&start=2026-12-09"); !strings.Contains(grid.body, `class="week"`) || !strings.Contains(grid.body, "Thursday 10 Dec") {
		t.Fatalf("grid: %s", grid.body)
	}
	hid := itoa(w.hearing.ID)
	h := b.get("/hearings/" + hid)
	if !strings.Contains(h.body, `value="es"`) || !strings.Contains(h.body, "interpreter</td>") || !strings.Contains(h.body, "V-1042-A") {
		t.Fatalf("hearing page with the victim's language and ranked candidates:\n%s", h.body)
	}
	if p := b.post("/hearings/"+hid+"/interpreter", url.Values{"csrf": {h.csrf()}, "language": {"es"}, "tier": {"CERTIFIED"}}); p.status != http.StatusSeeOther {
		t.Fatalf("request interpreter: %d %s", p.status, p.body)
	}
	bookings, err := storage.NewBookingService(w.db).FindBookings(w.as("coordinator"), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	if err != nil || len(bookings) != 1 || bookings[0].Status != courtside.BookingOffered || bookings[0].InterpreterID != w.users["interpreter"].ID {
		t.Fatalf("bookings: %+v %v", bookings, err)
	}
	if p := b.post("/hearings/"+hid+"/assign", url.Values{"csrf": {h.csrf()}, "victim": {itoa(w.victim.ID)}, "advocate": {itoa(w.users["advocate"].ID)}}); p.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %s", p.status, p.body)
	}
	after := b.get("/hearings/" + hid)
	for _, want := range []string{"The advocate is assigned", `<span class="ok">advocate</span>`, "offered, not yet accepted (es, interpreter)"} {
		if !strings.Contains(after.body, want) {
			t.Fatalf("hearing after the actions lacks %q:\n%s", want, after.body)
		}
	}
	// A second request in the same language while one is live: CONFLICT, said plainly.
	if p := b.post("/hearings/"+hid+"/interpreter", url.Values{"csrf": {h.csrf()}, "language": {"es"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "This could not be done as things stand now:") {
		t.Fatalf("second request: %d %s", p.status, p.body)
	}
	// The caseload report draws its charts as inline SVG.
	rep := b.get("/report?from=2026-12-01&to=2026-12-31")
	if rep.status != http.StatusOK || !strings.Contains(rep.body, `<svg class="chart" role="img"`) || !strings.Contains(rep.body, "suppressed") {
		t.Fatalf("report: %d %s", rep.status, rep.body)
	}
	// The requests page says plainly that they are not available without the service.
	if p := b.get("/requests"); !strings.Contains(p.body, "not available in this version") {
		t.Fatalf("requests without a service: %s", p.body)
	}
}

// TestInterpreter_AcceptAndDecline: the interpreter sees the offer in the court's zone and
// answers it; a decline with a reason is recorded.
func TestInterpreter_AcceptAndDecline(t *testing.T) {
	w := newAppWorld(t)
	if _, err := storage.NewBookingService(w.db).RequestInterpreter(w.as("coordinator"), w.hearing.ID, "es", nil); err != nil {
		t.Fatal(err)
	}
	b := w.signedIn("interpreter")
	offers := b.get("/offers")
	m := regexp.MustCompile(`action="/offers/(\d+)/answer"`).FindStringSubmatch(offers.body)
	if m == nil || !strings.Contains(offers.body, "Thu 10 Dec 2026, 09:30 EST") || strings.Contains(offers.body, "V-1042-A") {
		t.Fatalf("offers page: %s", offers.body)
	}
	if p := b.post("/offers/"+m[1]+"/answer", url.Values{"csrf": {offers.csrf()}, "answer": {"decline"}, "reason": {"in another courthouse"}}); p.status != http.StatusSeeOther {
		t.Fatalf("decline: %d %s", p.status, p.body)
	}
	bookings, _ := storage.NewBookingService(w.db).FindBookings(w.as("coordinator"), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	if len(bookings) != 1 || bookings[0].Status != courtside.BookingDeclined || bookings[0].DeclineReason != "in another courthouse" {
		t.Fatalf("after decline: %+v", bookings[0])
	}
	// A second hearing, offered and accepted.
	h2 := &courtside.Hearing{CaseID: w.kase.ID, Kind: courtside.KindPlea, StartsAt: w.hearing.StartsAt.Add(48 * 3600e9), EndsAt: w.hearing.EndsAt.Add(48 * 3600e9)}
	if _, err := storage.NewHearingService(w.db).PostHearing(w.as("clerk"), h2); err != nil {
		t.Fatal(err)
	}
	offer, err := storage.NewBookingService(w.db).RequestInterpreter(w.as("coordinator"), h2.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := b.post("/offers/"+itoa(offer.ID)+"/answer", url.Values{"csrf": {offers.csrf()}, "answer": {"accept"}}); p.status != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", p.status, p.body)
	}
	if p := b.get("/offers"); !strings.Contains(p.body, "You accepted.") || !strings.Contains(p.body, "Accepted bookings") || !strings.Contains(p.body, "Plea · es") {
		t.Fatalf("after accept: %s", p.body)
	}
	// Answering someone else's booking, or twice, is refused.
	if p := b.post("/offers/"+itoa(offer.ID)+"/answer", url.Values{"csrf": {offers.csrf()}, "answer": {"decline"}}); p.status != http.StatusConflict {
		t.Fatalf("answer twice: %d", p.status)
	}
}

// TestAdvocate_CalendarSecretNeedsThePassword: the advocate's page lists the accompanied
// hearing; a calendar secret is created only with the right password (checked as a sign-in
// attempt), shown once with the steps and a QR code drawn here, and revoked from the list.
func TestAdvocate_CalendarSecretNeedsThePassword(t *testing.T) {
	w2 := newAppWorld(t)
	if _, err := storage.NewAccompanimentService(w2.db).AssignAdvocate(w2.as("coordinator"), w2.hearing.ID, w2.victim.ID, w2.users["advocate"].ID); err != nil {
		t.Fatal(err)
	}
	b := w2.signedIn("advocate")
	my := b.get("/my")
	if !strings.Contains(my.body, "26-CR-01042") || !strings.Contains(my.body, "V-1042-A") {
		t.Fatalf("advocate's page: %s", my.body)
	}
	cal := b.get("/calendar")
	if !strings.Contains(cal.body, `<svg class="qr" role="img"`) || !strings.Contains(cal.body, "/.well-known/caldav") || !strings.Contains(cal.body, "DAVx5") {
		t.Fatalf("calendar page: %s", cal.body)
	}
	wrong := b.post("/calendar/secrets", url.Values{"csrf": {cal.csrf()}, "kind": {"app"}, "label": {"phone"}, "password": {"not my password at all"}})
	if wrong.status != http.StatusForbidden || !strings.Contains(wrong.body, "That is not your password. Nothing was created.") {
		t.Fatalf("wrong password: %d %s", wrong.status, wrong.body)
	}
	if toks, _ := storage.NewTokenService(w2.db).ListTokens(w2.as("advocate"), w2.users["advocate"].ID, 0); len(toks) != 0 {
		t.Fatalf("a secret was created with a wrong password: %+v", toks)
	}
	feed := b.post("/calendar/secrets", url.Values{"csrf": {cal.csrf()}, "kind": {"feed"}, "label": {"Google"}, "password": {password}})
	m := regexp.MustCompile(`/feeds/(cs_[A-Za-z0-9_-]+)\.ics`).FindStringSubmatch(feed.body)
	if feed.status != http.StatusOK || m == nil || !strings.Contains(feed.body, "It is shown only this once.") {
		t.Fatalf("feed: %d %s", feed.status, feed.body)
	}
	if u, err := storage.NewTokenService(w2.db).Authenticate(context.Background(), courtside.TokenFeed, m[1]); err != nil || u.ID != w2.users["advocate"].ID {
		t.Fatalf("the shown feed secret: %v", err)
	}
	if n := w2.auditCount("reauth", "user:"+itoa(w2.users["advocate"].ID)); n != 2 {
		t.Fatalf("re-authentications audited: %d", n)
	}
	toks, _ := storage.NewTokenService(w2.db).ListTokens(w2.as("advocate"), w2.users["advocate"].ID, 0)
	if len(toks) != 1 || strings.Contains(b.get("/calendar").body, m[1]) {
		t.Fatalf("secret listed or shown again: %+v", toks)
	}
	if p := b.post("/calendar/secrets/"+itoa(toks[0].ID)+"/revoke", url.Values{"csrf": {cal.csrf()}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.status, p.body)
	}
	if _, err := storage.NewTokenService(w2.db).Authenticate(context.Background(), courtside.TokenFeed, m[1]); err == nil {
		t.Fatal("the revoked feed still works")
	}
}

// TestClerk_PostContinueCancelShareAndImport: the clerk's actions write through the services
// with the times in the court's zone; a stale form is refused; the import preview lists every
// wrong line and writes nothing; the import then writes all.
func TestClerk_PostContinueCancelShareAndImport(t *testing.T) {
	w := newAppWorld(t, func(c *web.Config, db *storage.DB) { c.PreviewDocket = previewOf(storage.NewImportService(db)) })
	b := w.signedIn("clerk")
	docket := b.get("/docket")
	post := b.post("/docket/hearings", url.Values{"csrf": {docket.csrf()}, "case": {itoa(w.kase.ID)}, "kind": {"PLEA"}, "date": {"2026-12-15"},
		"start": {"10:00"}, "end": {"11:00"}, "courtroom": {"5C"}})
	if post.status != http.StatusSeeOther {
		t.Fatalf("post: %d %s", post.status, post.body)
	}
	id := strings.TrimPrefix(post.header.Get("Location"), "/hearings/")
	page := b.get("/hearings/" + id)
	if !strings.Contains(page.body, "Tue 15 Dec 2026, 10:00 EST") {
		t.Fatalf("posted hearing in the court's zone: %s", page.body)
	}
	cont := b.post("/hearings/"+id+"/continue", url.Values{"csrf": {page.csrf()}, "sequence": {"0"}, "date": {"2026-12-17"}, "start": {"14:00"}, "end": {"15:00"}, "reason": {"defence request"}})
	if cont.status != http.StatusSeeOther {
		t.Fatalf("continue: %d %s", cont.status, cont.body)
	}
	if stale := b.post("/hearings/"+id+"/cancel", url.Values{"csrf": {page.csrf()}, "sequence": {"0"}, "reason": {"plea agreement"}}); stale.status != http.StatusConflict {
		t.Fatalf("cancel with a stale sequence: %d", stale.status)
	}
	if p := b.post("/hearings/"+id+"/cancel", url.Values{"csrf": {page.csrf()}, "sequence": {"1"}, "reason": {"plea agreement"}}); p.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", p.status, p.body)
	}
	after := b.get("/hearings/" + id)
	for _, want := range []string{"Cancelled", "“defence request”", "“plea agreement”", "Thu 17 Dec 2026, 14:00 EST"} {
		if !strings.Contains(after.body, want) {
			t.Fatalf("history lacks %q: %s", want, after.body)
		}
	}
	// Share with a second advocacy organisation.
	if p := b.post("/cases/"+itoa(w.kase.ID)+"/share", url.Values{"csrf": {page.csrf()}, "organisation": {"Other Advocates"}}); p.status != http.StatusSeeOther {
		t.Fatalf("share: %d %s", p.status, p.body)
	}
	if p := b.get("/cases/" + itoa(w.kase.ID)); !strings.Contains(p.body, "Other Advocates") {
		t.Fatalf("case page after sharing: %s", p.body)
	}
	// The import: two wrong lines are both named, nothing is written.
	before := w.count("hearings")
	bad := "external_id,docket,court,kind,starts_at,ends_at\n" +
		"DA-1,26-CR-2001,Superior Court,PLEA,2026-12-21 09:30,2026-12-21 10:30\n" +
		"DA-2,26-CR-2002,Superior Court,BRUNCH,2026-12-21 09:30,2026-12-21 10:30\n" +
		"DA-3,26-CR-2003,Nowhere Court,PLEA,2026-12-21 09:30,2026-12-21 10:30\n"
	pre := b.upload("/import/preview", page.csrf(), bad)
	for _, want := range []string{"2 lines would be refused", "Line 3: column kind: unknown hearing kind", "Line 4: column court: unknown court"} {
		if !strings.Contains(pre.body, want) {
			t.Fatalf("preview lacks %q: %s", want, pre.body)
		}
	}
	if strings.Contains(pre.body, `action="/import"`) || w.count("hearings") != before {
		t.Fatal("a preview with problems offers the import or wrote something")
	}
	good := "external_id,docket,court,kind,starts_at,ends_at\nDA-1,26-CR-2001,Superior Court,PLEA,2026-12-21 09:30,2026-12-21 10:30\n"
	pre = b.upload("/import/preview", page.csrf(), good)
	m := regexp.MustCompile(`name="csv" value="([^"]+)"`).FindStringSubmatch(pre.body)
	if m == nil || !strings.Contains(pre.body, "Mon 21 Dec 2026, 09:30 EST") || w.count("hearings") != before {
		t.Fatalf("good preview: %s", pre.body)
	}
	done := b.post("/import", url.Values{"csrf": {page.csrf()}, "csv": {m[1]}})
	if done.status != http.StatusOK || !strings.Contains(done.body, "Imported: 1 new hearings, 0 changed, 0 unchanged.") || w.count("hearings") != before+1 {
		t.Fatalf("import: %d %s", done.status, done.body)
	}
}

// upload posts a CSV file as the import form does.
func (b *browser) upload(path, token, csv string) *page {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("docket", "docket.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.origin)
	return b.do(req)
}

// previewOf adapts storage's docket preview as cmd/courtside does.
func previewOf(imports *storage.ImportService) func(ctx context.Context, r io.Reader) (*web.DocketPreview, error) {
	return func(ctx context.Context, r io.Reader) (*web.DocketPreview, error) {
		lines, problems, more, err := imports.PreviewDocket(ctx, r)
		if err != nil {
			return nil, err
		}
		out := &web.DocketPreview{More: more}
		for _, l := range lines {
			out.Lines = append(out.Lines, web.DocketLine{Line: l.Line, Docket: l.Docket, Court: l.Court.Name, Zone: l.Court.Location(),
				Kind: string(l.Hearing.Kind), StartsAt: l.Hearing.StartsAt, EndsAt: l.Hearing.EndsAt})
		}
		for _, p := range problems {
			out.Problems = append(out.Problems, web.DocketProblem{Line: p.Line, Message: p.Message})
		}
		return out, nil
	}
}

// TestAdmin_UsersCourtsAndMissingPieces: the admin adds a user and a court with hours, sets a
// travel time; the pages of pieces this build lacks say so plainly.
func TestAdmin_UsersCourtsAndMissingPieces(t *testing.T) {
	w := newAppWorld(t)
	b := w.signedIn("admin")
	admin := b.get("/admin")
	created := b.post("/admin/users", url.Values{"csrf": {admin.csrf()}, "username": {"advocate3"}, "role": {"ADVOCATE"}, "organisation": {"Harbor Advocacy"}, "password": {password}})
	if created.status != http.StatusOK || !strings.Contains(created.body, "Created advocate3 (Advocate).") {
		t.Fatalf("create user: %d %s", created.status, created.body)
	}
	if u, err := storage.NewUserService(w.db).FindUserByUsername(context.Background(), "advocate3"); err != nil || u.Organization == nil || u.Organization.Name != "Harbor Advocacy" {
		t.Fatalf("created user: %+v %v", u, err)
	}
	if p := b.post("/admin/users", url.Values{"csrf": {admin.csrf()}, "username": {"x"}, "role": {"ADVOCATE"}, "organisation": {"Harbour Advocacy"}, "password": {password}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "probably a typo") {
		t.Fatalf("near-duplicate organisation: %d %s", p.status, p.body)
	}
	if p := b.post("/admin/courts", url.Values{"csrf": {admin.csrf()}, "name": {"Night Court"}, "time_zone": {"America/Chicago"}, "opens": {"17:00"}, "closes": {"23:30"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create court: %d %s", p.status, p.body)
	}
	night, err := storage.NewCourtService(w.db).FindCourtByName(context.Background(), "Night Court")
	if err != nil || courtside.FormatClock(night.Hours.Opens) != "17:00" {
		t.Fatalf("court: %+v %v", night, err)
	}
	if p := b.post("/admin/travel", url.Values{"csrf": {admin.csrf()}, "from": {itoa(w.court.ID)}, "to": {itoa(night.ID)}, "minutes": {"90"}}); p.status != http.StatusSeeOther {
		t.Fatalf("travel: %d %s", p.status, p.body)
	}
	if p := b.get("/admin/courts"); !strings.Contains(p.body, "Night Court ↔ Superior Court: 90 minutes") || !strings.Contains(p.body, "17:00–23:30") {
		t.Fatalf("courts page: %s", p.body)
	}
	for path, want := range map[string]string{"/admin/events": "not available in this version", "/admin/webhooks": "cannot be set here in this version"} {
		if p := b.get(path); !strings.Contains(p.body, want) {
			t.Fatalf("%s: %s", path, p.body)
		}
	}
	if p := b.post("/admin/events/1/retry", url.Values{"csrf": {admin.csrf()}}); p.status != http.StatusNotImplemented {
		t.Fatalf("retry without the service: %d", p.status)
	}
}

// TestCoordinator_VictimsRequests: a victim's START after STOP is a request on the
// coordinator's page, by pseudonym; confirming it allows texts again and closes it; another
// organisation's coordinator neither sees nor closes it.
func TestCoordinator_VictimsRequests(t *testing.T) {
	w := newAppWorld(t, func(c *web.Config, db *storage.DB) { c.Requests = storage.NewRequestService(db) })
	ctx := context.Background()
	policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(w.as("coordinator"), w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	for i, action := range []courtside.SMSAction{courtside.SMSStop, courtside.SMSStart} {
		if _, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SM" + itoa(int64(i)), From: "+12025550143", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := storage.NewRequestService(w.db).FindRequests(w.as("coordinator"), courtside.RequestFilter{})
	if err != nil || len(rs) != 1 || rs[0].Kind != courtside.RequestSMSRestart {
		t.Fatalf("requests: %+v %v", rs, err)
	}
	id := itoa(rs[0].ID)

	other := w.signedIn("othercoord")
	if p := other.get("/requests"); p.status != http.StatusOK || strings.Contains(p.body, "V-1042-A") {
		t.Fatalf("another organisation's requests page: %d %s", p.status, p.body)
	}
	if p := other.post("/requests/"+id+"/restart-sms", url.Values{"csrf": {other.get("/requests").csrf()}}); p.status != http.StatusNotFound {
		t.Fatalf("another organisation confirms: %d", p.status)
	}

	b := w.signedIn("coordinator")
	page := b.get("/requests")
	for _, want := range []string{"V-1042-A", "Asks for text messages again (START)", "/requests/" + id + "/restart-sms"} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("requests page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, w.legalName) {
		t.Fatal("the requests page names the victim")
	}
	if p := b.post("/requests/"+id+"/restart-sms", url.Values{"csrf": {page.csrf()}}); p.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", p.status, p.body)
	}
	after := b.get("/requests")
	if !strings.Contains(after.body, "No open request.") || !strings.Contains(after.body, "coordinator · texts allowed again") {
		t.Fatalf("after confirming:\n%s", after.body)
	}
	vs, err := storage.NewVictimService(w.db).OpenVictimPII(w.as("coordinator"), w.victim.ID)
	if err != nil || !vs[0].Policy.Rule(courtside.ChannelSMS).Allowed {
		t.Fatalf("texts not allowed again: %+v %v", vs, err)
	}
	if p := b.post("/requests/"+id+"/close", url.Values{"csrf": {page.csrf()}}); p.status != http.StatusConflict {
		t.Fatalf("closing a closed request: %d", p.status)
	}
}
