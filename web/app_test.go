package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
	"courtside/web"
)

// password is every fixture user's password.
const password = "a long test password 2026"

// appWorld is a real database with an office, an advocacy organisation, an interpreter, a court,
// a shared case with a hearing next week and a linked victim, and the web app in front of it.
type appWorld struct {
	t   testing.TB
	db  *storage.DB
	srv *httptest.Server
	now time.Time

	users     map[string]*courtside.User
	court     *courtside.Court
	kase      *courtside.Case
	hearing   *courtside.Hearing
	victim    *courtside.Victim
	legalName string
}

// newAppWorld builds the appWorld; configure may change the app's configuration.
func newAppWorld(t testing.TB, configure ...func(*web.Config, *storage.DB)) *appWorld {
	t.Helper()
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC) // a Monday
	w := &appWorld{t: t, now: now, users: map[string]*courtside.User{}, legalName: "Sentinel Legalname-Web"}
	w.db = storagetest.Open(t, func() time.Time { return now })
	ctx := context.Background()
	for _, u := range []struct {
		name, org string
		role      courtside.Role
		langs     []courtside.InterpreterLanguage
	}{
		{"admin", "", courtside.RoleAdmin, nil},
		{"clerk", "County DA", courtside.RoleProsecutor, nil},
		{"coordinator", "Harbor Advocacy", courtside.RoleCoordinator, nil},
		{"advocate", "Harbor Advocacy", courtside.RoleAdvocate, nil},
		{"interpreter", "", courtside.RoleInterpreter, []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}},
		{"othercoord", "Other Advocates", courtside.RoleCoordinator, nil},
	} {
		created, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: u.name, Role: u.role, Languages: u.langs},
			OrganizationName: u.org, Password: password})
		if err != nil {
			t.Fatalf("user %s: %v", u.name, err)
		}
		w.users[u.name] = created
	}
	w.court = &courtside.Court{Name: "Superior Court", TimeZone: "America/New_York"}
	must(t, storage.NewCourtService(w.db).CreateCourt(w.as("admin"), w.court))
	w.kase = &courtside.Case{Docket: "26-CR-01042", CourtID: w.court.ID}
	must(t, storage.NewCaseService(w.db).OpenCase(w.as("clerk"), w.kase))
	if _, err := storage.NewCaseService(w.db).ShareCase(w.as("clerk"), w.kase.ID, "Harbor Advocacy"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 10, 14, 30, 0, 0, time.UTC) // Thursday 09:30 in New York
	w.hearing = &courtside.Hearing{CaseID: w.kase.ID, Kind: courtside.KindArraignment, StartsAt: start, EndsAt: start.Add(time.Hour), Courtroom: "3A"}
	if _, err := storage.NewHearingService(w.db).PostHearing(w.as("clerk"), w.hearing); err != nil {
		t.Fatal(err)
	}
	w.victim = &courtside.Victim{Pseudonym: "V-1042-A", LegalName: w.legalName, PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550143"}}}
	must(t, storage.NewVictimService(w.db).RegisterVictim(w.as("coordinator"), w.victim))
	must(t, storage.NewCaseService(w.db).LinkVictim(w.as("coordinator"), w.kase.ID, w.victim.ID, true))
	cfg := web.Config{Users: storage.NewUserService(w.db), Sessions: storage.NewSessionService(w.db), Tokens: storage.NewTokenService(w.db), Courts: storage.NewCourtService(w.db), Cases: storage.NewCaseService(w.db), Hearings: storage.NewHearingService(w.db), Victims: storage.NewVictimService(w.db),
		Accompaniments: storage.NewAccompanimentService(w.db), Bookings: storage.NewBookingService(w.db), Deliveries: storage.NewDeliveryService(w.db), Coordination: storage.NewCoordinationService(w.db), Reports: storage.NewReportService(w.db), Imports: storage.NewImportService(w.db),
		Now: func() time.Time { return now }}
	for _, c := range configure {
		c(&cfg, w.db)
	}
	app, err := web.NewApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(app)
	t.Cleanup(w.srv.Close)
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// as returns a context acting as the named user.
func (w *appWorld) as(name string) context.Context {
	return courtside.NewContextWithUser(context.Background(), w.users[name])
}

// browser is a client with its own cookies, like one browser.
type browser struct {
	w      *appWorld
	client *http.Client
	origin string
}

// newBrowser returns a signed-out browser.
func (w *appWorld) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{w: w, origin: w.srv.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a browser signed in as the named user.
func (w *appWorld) signedIn(name string) *browser {
	w.t.Helper()
	b := w.newBrowser()
	page := b.get("/")
	resp := b.post("/signin", url.Values{"csrf": {page.csrf()}, "username": {name}, "password": {password}})
	if resp.status != http.StatusSeeOther {
		w.t.Fatalf("sign in as %s: %d %s", name, resp.status, resp.body)
	}
	return b
}

// page is an answer.
type page struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the first form token of the page.
func (p *page) csrf() string {
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (b *browser) do(req *http.Request) *page {
	b.w.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// get fetches a page.
func (b *browser) get(path string, header ...string) *page {
	req, _ := http.NewRequest(http.MethodGet, b.w.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post sends a form as a browser does: Origin and Sec-Fetch-Site of the same origin, unless
// header overrides them.
func (b *browser) post(path string, form url.Values, header ...string) *page {
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return b.do(req)
}

// token returns a form token of the signed-in browser (from a page every role may open).
func (b *browser) token() string {
	b.w.t.Helper()
	p := b.get("/calendar")
	if p.csrf() == "" {
		p = b.get("/admin")
	}
	if p.csrf() == "" {
		b.w.t.Fatalf("no form token on the page: %d %s", p.status, p.body)
	}
	return p.csrf()
}

// auditCount counts the audit rows of action on object.
func (w *appWorld) auditCount(action, object string) int {
	w.t.Helper()
	var n int
	if err := w.db.Reader.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = ? AND object = ?`, action, object).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// count counts the rows of a table.
func (w *appWorld) count(table string) int {
	w.t.Helper()
	var n int
	if err := w.db.Reader.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}
