package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/storage"
	"courtside/storage/storagetest"
	"courtside/web"
)

// ackWorld is a real database with a hearing whose victim (Spanish, texted at detail) was
// sent the notice of it, and the acknowledgement page in front of it.
type ackWorld struct {
	db       *storage.DB
	srv      *httptest.Server
	now      time.Time
	coord    *courtside.User
	victim   *courtside.Victim
	delivery *courtside.PendingDelivery
}

func newAckWorld(t *testing.T, detail courtside.DetailLevel) *ackWorld {
	t.Helper()
	w := &ackWorld{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	w.db = storagetest.Open(t, func() time.Time { return w.now })
	ctx := context.Background()
	mk := func(name string, role courtside.Role, org string) *courtside.User {
		u, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: name, Role: role}, OrganizationName: org})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mk("admin", courtside.RoleAdmin, "")
	pros := mk("pros", courtside.RoleProsecutor, "DA Office")
	w.coord = mk("coord", courtside.RoleCoordinator, "Advocacy Org")
	court := &courtside.Court{Name: "County Courthouse", TimeZone: "America/Chicago"}
	if err := storage.NewCourtService(w.db).CreateCourt(as(admin), court); err != nil {
		t.Fatal(err)
	}
	kase := &courtside.Case{Docket: "26-CR-9", CourtID: court.ID}
	if err := storage.NewCaseService(w.db).OpenCase(as(pros), kase); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewCaseService(w.db).ShareCase(as(pros), kase.ID, "Advocacy Org"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)
	h := &courtside.Hearing{CaseID: kase.ID, Kind: courtside.KindPlea, StartsAt: start, EndsAt: start.Add(time.Hour), Courtroom: "7C"}
	if _, err := storage.NewHearingService(w.db).PostHearing(as(pros), h); err != nil {
		t.Fatal(err)
	}
	w.victim = &courtside.Victim{Pseudonym: "V-41-K", LegalName: "Hidden Legal Name", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550187"}}}
	if err := storage.NewVictimService(w.db).RegisterVictim(as(w.coord), w.victim); err != nil {
		t.Fatal(err)
	}
	policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: detail}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(as(w.coord), w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewCaseService(w.db).LinkVictim(as(w.coord), kase.ID, w.victim.ID, true); err != nil {
		t.Fatal(err)
	}
	var last int64
	storagetest.Drain(t, w.db, &last, (&storage.NoticePlanner{DB: w.db}).Handle)
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 10, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("leased %d, %v", len(leased), err)
	}
	w.delivery = leased[0]
	if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, w.delivery, courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true, Detail: detail}); err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(web.NewAckHandler(web.AckConfig{Notices: storage.NewNoticeLinkService(w.db), Pages: notify.DefaultTemplates()}))
	t.Cleanup(w.srv.Close)
	return w
}

// link returns the path and token of the notice's link, valid until expires.
func (w *ackWorld) link(expires time.Time) (string, string) {
	return fmt.Sprintf("/m/%d", w.delivery.ID), storage.NewNoticeLinkService(w.db).NoticeLinkToken(w.delivery.ID, w.victim.ID, expires)
}

// do sends a request and returns the status and body, checking the security headers.
func (w *ackWorld) do(t *testing.T, method, path string, form url.Values, header ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		for h, want := range map[string]string{"Content-Security-Policy": web.ContentSecurityPolicy, "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s %s: %s = %q, want %q", method, path, h, got, want)
			}
		}
	}
	return resp.StatusCode, string(b)
}

func (w *ackWorld) acknowledged(t *testing.T) string {
	t.Helper()
	var by *string
	if err := w.db.Writer.QueryRow(`SELECT acknowledged_by FROM deliveries WHERE id = ?`, w.delivery.ID).Scan(&by); err != nil {
		t.Fatal(err)
	}
	if by == nil {
		return ""
	}
	return *by
}

func TestAckPage_GetShowsNeutrallyAndOnlyPostActs(t *testing.T) {
	w := newAckWorld(t, courtside.DetailContentFree)
	path, token := w.link(w.delivery.Notice.Hearing.StartsAt)
	page := path + "?t=" + url.QueryEscape(token)
	for i := 0; i < 2; i++ {
		code, body := w.do(t, http.MethodGet, page, nil)
		if !strings.Contains(body, `name="t" value="`+token+`"`) {
			t.Fatalf("the form does not carry the token:\n%s", body)
		}
		body = strings.ReplaceAll(body, token, "") // the rest of the page is what a reader sees
		if code != http.StatusOK || !strings.Contains(body, `lang="es"`) || !strings.Contains(body, "Tiene un mensaje nuevo") ||
			!strings.Contains(body, `method="post"`) || !strings.Contains(body, "Recibí este mensaje") {
			t.Fatalf("GET: %d\n%s", code, body)
		}
		// Neutral: no product name, no court, no victim, no answers to offer, no script.
		for _, leak := range []string{"Courtside", "County Courthouse", "7C", "26-CR-9", "V-41-K", "Hidden", "tribunal", "audiencia",
			"court", "<script", `name="answer"`, "intérprete"} {
			if strings.Contains(body, leak) {
				t.Errorf("the content-free page shows %q:\n%s", leak, body)
			}
		}
	}
	if code, _ := w.do(t, http.MethodHead, page, nil); code != http.StatusOK || w.acknowledged(t) != "" {
		t.Fatalf("HEAD: %d, acknowledged %q", code, w.acknowledged(t))
	}
	if w.acknowledged(t) != "" {
		t.Fatal("GET acknowledged the notice")
	}
	code, body := w.do(t, http.MethodPost, path, url.Values{"t": {token}})
	if code != http.StatusOK || !strings.Contains(body, "Gracias") {
		t.Fatalf("POST: %d\n%s", code, body)
	}
	if w.acknowledged(t) != "LINK" {
		t.Fatalf("acknowledged by %q", w.acknowledged(t))
	}
	// Used: 410, in the browser's language.
	if code, body := w.do(t, http.MethodGet, page, nil, "Accept-Language", "es-MX,es;q=0.9"); code != http.StatusGone || !strings.Contains(body, "ya se usó") {
		t.Errorf("the used link: %d\n%s", code, body)
	}
	if code, _ := w.do(t, http.MethodPost, path, url.Values{"t": {token}}); code != http.StatusGone {
		t.Errorf("the used link again: %d", code)
	}
}

func TestAckPage_RefusesWithNothingChanged(t *testing.T) {
	w := newAckWorld(t, courtside.DetailMinimal)
	path, token := w.link(w.delivery.Notice.Hearing.StartsAt)
	_, expired := w.link(w.now.Add(-time.Minute))
	forged := strings.ToLower(token[:10]) + token[10:]
	if forged == token {
		forged = "A" + token[1:]
	}
	count := func() int {
		var n int
		if err := w.db.Writer.QueryRow(`SELECT (SELECT COUNT(*) FROM requests) + (SELECT COUNT(*) FROM notice_link_uses) +
			(SELECT COUNT(*) FROM deliveries WHERE acknowledged_at IS NOT NULL)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	cases := []struct {
		name, method, path string
		form               url.Values
		header             []string
		want               int
		says               string
	}{
		{"forged GET", http.MethodGet, path + "?t=" + forged, nil, nil, http.StatusNotFound, "This link does not work"},
		{"forged POST", http.MethodPost, path, url.Values{"t": {forged}}, nil, http.StatusNotFound, ""},
		{"no token", http.MethodPost, path, url.Values{}, []string{"Accept-Language", "ru"}, http.StatusNotFound, "Эта ссылка не работает"},
		{"another delivery", http.MethodGet, fmt.Sprintf("/m/%d?t=%s", w.delivery.ID+1, token), nil, nil, http.StatusNotFound, ""},
		{"not a number", http.MethodGet, "/m/12x?t=" + token, nil, nil, http.StatusNotFound, ""},
		{"expired GET", http.MethodGet, path + "?t=" + expired, nil, nil, http.StatusGone, "This link has expired"},
		{"expired POST", http.MethodPost, path, url.Values{"t": {expired}}, nil, http.StatusGone, ""},
		{"an answer not offered", http.MethodPost, path, url.Values{"t": {token}, "answer": {"SMS_RESTART"}}, nil, http.StatusBadRequest, ""},
		{"too many answers", http.MethodPost, path, url.Values{"t": {token}, "answer": {"ATTEND", "ATTEND", "ATTEND", "ATTEND", "ATTEND"}}, nil, http.StatusBadRequest, ""},
		{"a body over the limit", http.MethodPost, path, url.Values{"t": {token}, "x": {strings.Repeat("x", web.MaxFormBytes)}}, nil, http.StatusRequestEntityTooLarge, ""},
		{"another method", http.MethodPut, path, url.Values{"t": {token}}, nil, http.StatusMethodNotAllowed, ""},
	}
	for _, c := range cases {
		code, body := w.do(t, c.method, c.path, c.form, c.header...)
		if code != c.want || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", c.name, code, c.want, c.says, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+path, strings.NewReader(`{"t":"`+token+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %v %v", resp, err)
	}
	if after := count(); after != before || w.acknowledged(t) != "" {
		t.Errorf("refused requests changed something: %d -> %d, acknowledged %q", before, after, w.acknowledged(t))
	}
}

func TestAckPage_AnswersBecomeRequests(t *testing.T) {
	w := newAckWorld(t, courtside.DetailMinimal)
	path, token := w.link(w.delivery.Notice.Hearing.StartsAt)
	code, body := w.do(t, http.MethodGet, path+"?t="+url.QueryEscape(token), nil)
	body = strings.ReplaceAll(body, token, "")
	// MINIMAL: the date and time, no court; the four answers.
	if code != http.StatusOK || !strings.Contains(body, "2026") || strings.Contains(body, "County Courthouse") ||
		strings.Count(body, `name="answer"`) != 4 || !strings.Contains(body, "Necesito un intérprete") {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	code, body = w.do(t, http.MethodPost, path, url.Values{"t": {token}, "answer": {"INTERPRETER", "TRANSPORT"}})
	if code != http.StatusOK || !strings.Contains(body, "Alguien se comunicará con usted") {
		t.Fatalf("POST: %d\n%s", code, body)
	}
	rs, err := storage.NewRequestService(w.db).FindRequests(as(w.coord), courtside.RequestFilter{})
	if err != nil || len(rs) != 2 || rs[0].Kind != courtside.RequestInterpreter || rs[1].Kind != courtside.RequestTransport {
		t.Fatalf("requests: %+v, %v", rs, err)
	}
}
