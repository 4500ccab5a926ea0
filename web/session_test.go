package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/web"
)

// TestApp_SignInAndOut: the sign-in page at / has the labelled fields and the button; a wrong
// password answers 401 with the one calm message; the right one sets an HttpOnly,
// SameSite=Strict session cookie (not Secure over http) and leads to the role's page; signing
// out ends the session in storage at once.
func TestApp_SignInAndOut(t *testing.T) {
	w := newAppWorld(t)
	b := w.newBrowser()
	p := b.get("/")
	for _, want := range []string{`<label for="username">Username</label>`, `<label for="password">Password</label>`,
		`<button type="submit" class="primary">Sign in</button>`, `autocomplete="current-password"`} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("sign-in page lacks %s:\n%s", want, p.body)
		}
	}
	bad := b.post("/signin", url.Values{"csrf": {p.csrf()}, "username": {"coordinator"}, "password": {"wrong password here"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "Wrong username or password") {
		t.Fatalf("wrong password: %d %s", bad.status, bad.body)
	}
	ok := b.post("/signin", url.Values{"csrf": {bad.csrf()}, "username": {"coordinator"}, "password": {password}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/" {
		t.Fatalf("sign in: %d %v", ok.status, ok.header)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: ok.header}).Cookies() {
		if c.Name == "cs_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/" {
		t.Fatalf("session cookie: %+v", session)
	}
	if _, _, err := storage.NewSessionService(w.db).AuthenticateSession(context.Background(), session.Value); err != nil {
		t.Fatalf("the cookie is not a live session: %v", err)
	}
	if home := b.get("/"); home.status != http.StatusSeeOther || home.header.Get("Location") != "/week" {
		t.Fatalf("home of a coordinator: %d %v", home.status, home.header.Get("Location"))
	}
	week := b.get("/week")
	if week.status != http.StatusOK || !strings.Contains(week.body, "26-CR-01042") {
		t.Fatalf("week: %d %s", week.status, week.body)
	}
	out := b.post("/signout", url.Values{"csrf": {week.csrf()}})
	if out.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d %s", out.status, out.body)
	}
	if _, _, err := storage.NewSessionService(w.db).AuthenticateSession(context.Background(), session.Value); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("session after sign-out: %v", err)
	}
	if after := b.get("/week"); after.status != http.StatusUnauthorized || !strings.Contains(after.body, `name="password"`) {
		t.Fatalf("week after sign-out: %d", after.status)
	}
	if n := w.auditCount("login", "user:"+itoa(w.users["coordinator"].ID)); n < 2 {
		t.Fatalf("sign-in attempts audited: %d", n)
	}
}

// itoa writes an ID as the pages do.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestApp_SecureCookiesBehindTLS: with an https base URL the cookies are Secure and carry
// the __Host- prefix.
func TestApp_SecureCookiesBehindTLS(t *testing.T) {
	w := newAppWorld(t, func(c *web.Config, _ *storage.DB) { c.BaseURL = "https://courtside.example.org" })
	b := w.newBrowser()
	b.origin = "https://courtside.example.org"
	p := b.get("/")
	pre := (&http.Response{Header: p.header}).Cookies()
	if len(pre) != 1 || pre[0].Name != "__Host-cs_pre" || !pre[0].Secure || !pre[0].HttpOnly || pre[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("pre-session cookie: %+v", pre)
	}
	// The test server is plain http, so the jar would not send a Secure cookie back: send it.
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/signin", strings.NewReader(url.Values{"csrf": {p.csrf()}, "username": {"advocate"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://courtside.example.org")
	req.AddCookie(&http.Cookie{Name: pre[0].Name, Value: pre[0].Value})
	resp := b.do(req)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", resp.status, resp.body)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == "__Host-cs_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Domain != "" {
		t.Fatalf("session cookie behind TLS: %+v", session)
	}
	// An Origin that is not the base URL's is refused, even the test server's own.
	b.origin = w.srv.URL
	req, _ = http.NewRequest(http.MethodPost, w.srv.URL+"/signin", strings.NewReader(url.Values{"csrf": {p.csrf()}, "username": {"advocate"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.srv.URL)
	req.AddCookie(&http.Cookie{Name: pre[0].Name, Value: pre[0].Value})
	if resp := b.do(req); resp.status != http.StatusForbidden {
		t.Fatalf("foreign origin: %d", resp.status)
	}
}

// TestApp_FormsRefusedWithoutToken: a POST without the session's form token, with another
// session's, with a foreign Origin or a cross-site Sec-Fetch-Site is refused with 403 and
// writes nothing; the same form with everything right is accepted.
func TestApp_FormsRefusedWithoutToken(t *testing.T) {
	w := newAppWorld(t)
	coord := w.signedIn("coordinator")
	other := w.signedIn("othercoord")
	path := "/hearings/" + itoa(w.hearing.ID) + "/assign"
	form := func(token string) url.Values {
		return url.Values{"csrf": {token}, "victim": {itoa(w.victim.ID)}, "advocate": {itoa(w.users["advocate"].ID)}}
	}
	good := coord.token()
	for name, try := range map[string]func() *page{
		"no token":              func() *page { return coord.post(path, form("")) },
		"another session's":     func() *page { return coord.post(path, form(other.token())) },
		"a made-up token":       func() *page { return coord.post(path, form(strings.Repeat("A", 43))) },
		"foreign Origin":        func() *page { return coord.post(path, form(good), "Origin", "https://evil.example") },
		"cross-site fetch":      func() *page { return coord.post(path, form(good), "Sec-Fetch-Site", "cross-site") },
		"same-site, not origin": func() *page { return coord.post(path, form(good), "Sec-Fetch-Site", "same-site") },
		"null Origin":           func() *page { return coord.post(path, form(good), "Origin", "null") },
	} {
		if p := try(); p.status != http.StatusForbidden {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
	}
	if n := w.count("accompaniments"); n != 0 {
		t.Fatalf("a refused form wrote %d accompaniments", n)
	}
	// A sign-in without the pre-session token is refused too (login CSRF).
	if p := w.newBrowser().post("/signin", url.Values{"username": {"coordinator"}, "password": {password}}); p.status != http.StatusForbidden {
		t.Fatalf("sign-in without a token: %d", p.status)
	}
	// Without Origin and Sec-Fetch-Site (an older browser) the token alone decides.
	if p := coord.post(path, form(good), "Origin", "", "Sec-Fetch-Site", ""); p.status != http.StatusSeeOther {
		t.Fatalf("good form: %d %s", p.status, p.body)
	}
	if n := w.count("accompaniments"); n != 1 {
		t.Fatalf("accompaniments after the good form: %d", n)
	}
}

// TestApp_CrossRoleRefused: a signed-in user of another role gets 403 for another role's pages
// and forms (with a valid token), and nothing is written; an object outside the user's scope
// answers 404 as one that does not exist.
func TestApp_CrossRoleRefused(t *testing.T) {
	w := newAppWorld(t)
	hid := itoa(w.hearing.ID)
	for _, tc := range []struct {
		user, path string
		form       url.Values
	}{
		{"advocate", "/hearings/" + hid + "/assign", url.Values{"victim": {itoa(w.victim.ID)}, "advocate": {itoa(w.users["advocate"].ID)}}},
		{"interpreter", "/hearings/" + hid + "/interpreter", url.Values{"language": {"es"}}},
		{"coordinator", "/hearings/" + hid + "/cancel", url.Values{"reason": {"no"}, "sequence": {"0"}}},
		{"advocate", "/hearings/" + hid + "/continue", url.Values{"date": {"2026-12-11"}, "start": {"09:00"}, "end": {"10:00"}, "reason": {"x"}}},
		{"clerk", "/victims/" + itoa(w.victim.ID) + "/policy", url.Values{"allowed_sms": {"on"}, "detail_sms": {"FULL"}}},
		{"coordinator", "/admin/users", url.Values{"username": {"intruder"}, "role": {"ADMIN"}, "password": {password}}},
		{"admin", "/docket/hearings", url.Values{"case": {itoa(w.kase.ID)}, "kind": {"PLEA"}, "date": {"2026-12-11"}, "start": {"09:00"}, "end": {"10:00"}}},
	} {
		b := w.signedIn(tc.user)
		tc.form.Set("csrf", b.token())
		if p := b.post(tc.path, tc.form); p.status != http.StatusForbidden {
			t.Errorf("%s POST %s: %d %s", tc.user, tc.path, p.status, p.body)
		}
	}
	for _, tc := range [][2]string{{"interpreter", "/week"}, {"advocate", "/report"}, {"clerk", "/admin"}, {"coordinator", "/docket"}, {"admin", "/offers"}} {
		if p := w.signedIn(tc[0]).get(tc[1]); p.status != http.StatusForbidden {
			t.Errorf("%s GET %s: %d", tc[0], tc[1], p.status)
		}
	}
	if n, u := w.count("accompaniments"), w.count("users"); n != 0 || u != len(w.users) {
		t.Fatalf("cross-role posts wrote: %d accompaniments, %d users", n, u)
	}
	h, err := storage.NewHearingService(w.db).FindHearingByID(w.as("clerk"), w.hearing.ID)
	if err != nil || h.Status != courtside.HearingScheduled || h.Sequence != 0 {
		t.Fatalf("hearing after cross-role posts: %+v %v", h, err)
	}
	// Another organisation's coordinator: the hearing and the victim are not found, like
	// missing ones.
	other := w.signedIn("othercoord")
	for _, path := range []string{"/hearings/" + hid, "/victims/" + itoa(w.victim.ID), "/hearings/999999"} {
		if p := other.get(path); p.status != http.StatusNotFound || !strings.Contains(p.body, "Not found, or not yours to see.") {
			t.Errorf("othercoord GET %s: %d", path, p.status)
		}
	}
	if p := other.post("/victims/"+itoa(w.victim.ID)+"/show", url.Values{"csrf": {other.token()}}); p.status != http.StatusNotFound || strings.Contains(p.body, w.legalName) {
		t.Fatalf("othercoord show: %d", p.status)
	}
}

// TestApp_SignInThrottled: when sign-in attempts come too often the page answers 429 with
// Retry-After and says calmly when to try again; nothing is checked.
func TestApp_SignInThrottled(t *testing.T) {
	w := newAppWorld(t)
	w.db.LoginLimits = storage.LoginLimits{AddressBurst: 2, AddressEvery: time.Hour, AccountBurst: 100, AccountEvery: time.Second}
	b := w.newBrowser()
	token := b.get("/").csrf()
	var last *page
	for i := 0; i < 3; i++ {
		last = b.post("/signin", url.Values{"csrf": {token}, "username": {"coordinator"}, "password": {"wrong password here"}})
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("third attempt: %d %s", last.status, last.body)
	}
	if ra := last.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After: %q", ra)
	}
	if !strings.Contains(last.body, "Too many sign-in attempts for now. Nothing is wrong with your account: please wait") {
		t.Fatalf("throttled page: %s", last.body)
	}
	if n := w.auditCount("login", "user:"+itoa(w.users["coordinator"].ID)); n != 2 {
		t.Fatalf("attempts checked: %d, want 2", n)
	}
}

var scriptRE = regexp.MustCompile(`<script[^>]*>`)

// TestApp_SecurityHeadersAndNoThirdParty: every page carries the strict policy with a fresh
// nonce that its one script tag holds; nothing on any page points at another origin; assets
// are served from the app with their types.
func TestApp_SecurityHeadersAndNoThirdParty(t *testing.T) {
	w := newAppWorld(t)
	pages := map[string][]string{
		"coordinator": {"/week", "/week?view=grid", "/hearings/" + itoa(w.hearing.ID) + "?language=es", "/victims", "/victims/" + itoa(w.victim.ID), "/report", "/requests", "/calendar"},
		"advocate":    {"/my", "/calendar"},
		"interpreter": {"/offers"},
		"clerk":       {"/docket", "/cases/" + itoa(w.kase.ID), "/import", "/hearings/" + itoa(w.hearing.ID)},
		"admin":       {"/admin", "/admin/courts", "/admin/webhooks", "/admin/events"},
	}
	external := regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`)
	seen := map[string]bool{}
	for user, paths := range pages {
		b := w.signedIn(user)
		for _, path := range paths {
			p := b.get(path)
			if p.status != http.StatusOK {
				t.Errorf("%s %s: %d %s", user, path, p.status, p.body)
				continue
			}
			csp := p.header.Get("Content-Security-Policy")
			m := regexp.MustCompile(`script-src 'nonce-([^']+)'`).FindStringSubmatch(csp)
			if m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") {
				t.Errorf("%s %s: CSP %q", user, path, csp)
				continue
			}
			if seen[m[1]] {
				t.Errorf("nonce reused: %s", m[1])
			}
			seen[m[1]] = true
			for _, tag := range scriptRE.FindAllString(p.body, -1) {
				if !strings.Contains(tag, `nonce="`+m[1]+`"`) || !strings.Contains(tag, `src="/static/`) {
					t.Errorf("%s %s: script tag %s", user, path, tag)
				}
			}
			if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<style") {
				t.Errorf("%s %s: inline style (refused by the CSP)", user, path)
			}
			if loc := external.FindString(p.body); loc != "" {
				t.Errorf("%s %s: points elsewhere: %s", user, path, loc)
			}
			for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
				if p.header.Get(h) == "" {
					t.Errorf("%s %s: no %s", user, path, h)
				}
			}
			if p.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s: Cache-Control %q", user, path, p.header.Get("Cache-Control"))
			}
		}
	}
	b := w.newBrowser()
	for name, ct := range map[string]string{"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"} {
		if p := b.get("/static/" + name); p.status != http.StatusOK || p.header.Get("Content-Type") != ct {
			t.Errorf("/static/%s: %d %s", name, p.status, p.header.Get("Content-Type"))
		}
	}
	if p := b.get("/no/such/page"); p.status != http.StatusNotFound || p.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("404: %d %v", p.status, p.header)
	}
}

// TestApp_VictimPIIShownOnlyAfterShowAndAudited: the victim page names the victim by
// pseudonym; the legal name and contacts appear only after the POST of "Show", which writes
// one victim.read_pii audit row; reading the page writes none.
func TestApp_VictimPIIShownOnlyAfterShowAndAudited(t *testing.T) {
	w := newAppWorld(t)
	b := w.signedIn("coordinator")
	object := "victim:" + itoa(w.victim.ID)
	before := w.auditCount("victim.read_pii", object)
	p := b.get("/victims/" + itoa(w.victim.ID))
	if p.status != http.StatusOK || !strings.Contains(p.body, "V-1042-A") || strings.Contains(p.body, w.legalName) || strings.Contains(p.body, "2025550143") {
		t.Fatalf("victim page before Show: %d %s", p.status, p.body)
	}
	if w.auditCount("victim.read_pii", object) != before {
		t.Fatal("reading the victim page opened PII")
	}
	shown := b.post("/victims/"+itoa(w.victim.ID)+"/show", url.Values{"csrf": {p.csrf()}})
	if shown.status != http.StatusOK || !strings.Contains(shown.body, w.legalName) || !strings.Contains(shown.body, "2025550143") {
		t.Fatalf("after Show: %d %s", shown.status, shown.body)
	}
	if n := w.auditCount("victim.read_pii", object); n != before+1 {
		t.Fatalf("audit rows after Show: %d, want %d", n, before+1)
	}
	// The policy editor saves through SetContactPolicy.
	saved := b.post("/victims/"+itoa(w.victim.ID)+"/policy", url.Values{"csrf": {shown.csrf()}, "allowed_sms": {"on"}, "detail_sms": {"MINIMAL"},
		"rank_sms": {"1"}, "confirm_sms": {"on"}, "detail_email": {"CONTENT_FREE"}, "rank_email": {"2"}, "detail_webhook": {"CONTENT_FREE"}, "rank_webhook": {"3"},
		"quiet_start": {"21:00"}, "quiet_end": {"07:30"}, "neutral_sender": {"Harbor Health"}})
	if saved.status != http.StatusSeeOther {
		t.Fatalf("save policy: %d %s", saved.status, saved.body)
	}
	opened, err := storage.NewVictimService(w.db).OpenVictimPII(w.as("coordinator"), w.victim.ID)
	if err != nil || len(opened) != 1 {
		t.Fatal(err)
	}
	pol := opened[0].Policy
	if pol == nil || pol.Rule(courtside.ChannelSMS) != (courtside.ChannelRule{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal}) ||
		pol.QuietHoursStart != "21:00" || pol.NeutralSender != "Harbor Health" || opened[0].Contacts[0].ConfirmedSafeAt == nil {
		t.Fatalf("saved policy: %+v %+v", pol, opened[0].Contacts)
	}
	// An advocate who does not accompany the victim sees no Show button and gets 404 for it.
	adv := w.signedIn("advocate")
	if p := adv.post("/victims/"+itoa(w.victim.ID)+"/show", url.Values{"csrf": {adv.token()}}); p.status != http.StatusNotFound || strings.Contains(p.body, w.legalName) {
		t.Fatalf("advocate show: %d", p.status)
	}
}

// TestApp_LanguageChosenAndSwitched: Accept-Language picks Spanish; the switch sets a cookie
// that wins over the header; dates are written in the language and the court's zone.
func TestApp_LanguageChosenAndSwitched(t *testing.T) {
	w := newAppWorld(t)
	b := w.newBrowser()
	p := b.get("/", "Accept-Language", "es-MX,es;q=0.9,en;q=0.5")
	if !strings.Contains(p.body, `<html lang="es">`) || !strings.Contains(p.body, "Iniciar sesión") || !strings.Contains(p.body, ">Usuario</label>") {
		t.Fatalf("Spanish sign-in page: %s", p.body)
	}
	switched := b.post("/language", url.Values{"csrf": {p.csrf()}, "lang": {"en"}, "back": {"/"}})
	if switched.status != http.StatusSeeOther {
		t.Fatalf("switch: %d %s", switched.status, switched.body)
	}
	if p := b.get("/", "Accept-Language", "es"); !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, ">Sign in</button>") {
		t.Fatalf("after switching to English: %s", p.body)
	}
	if p := b.post("/language", url.Values{"csrf": {p.csrf()}, "lang": {"es"}, "back": {"//evil.example/"}}); p.header.Get("Location") != "/" {
		t.Fatalf("open redirect: %v", p.header.Get("Location"))
	}
	c := w.signedIn("coordinator")
	c.post("/language", url.Values{"csrf": {c.token()}, "lang": {"es"}, "back": {"/week"}})
	week := c.get("/week")
	if !strings.Contains(week.body, "jue 10 dic 2026, 09:30 EST") || !strings.Contains(week.body, "Lectura de cargos") {
		t.Fatalf("Spanish week: %s", week.body)
	}
}
