package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
	"courtside/web"
)

// world is a real SQLite database with a court in Chicago, a prosecutor's case with a hearing,
// two certified Spanish interpreters, and the respond handler in front of it.
type world struct {
	db            *storage.DB
	srv           *httptest.Server
	prosecutor    *courtside.User
	first, second *courtside.User
	hearing       *courtside.Hearing
	offer         *courtside.InterpreterBooking
	now           time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	w.db = storagetest.Open(t, func() time.Time { return w.now })
	ctx := context.Background()
	mk := func(name string, role courtside.Role, org string) *courtside.User {
		nu := courtside.NewUser{User: courtside.User{Username: name, Role: role}, OrganizationName: org}
		if role == courtside.RoleInterpreter {
			nu.User.Languages = []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}
		}
		u, err := storage.NewUserService(w.db).CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mk("admin", courtside.RoleAdmin, "")
	w.prosecutor = mk("pros", courtside.RoleProsecutor, "DA Office")
	w.first = mk("interp1", courtside.RoleInterpreter, "")
	w.second = mk("interp2", courtside.RoleInterpreter, "")
	court := &courtside.Court{Name: "County Courthouse", TimeZone: "America/Chicago"}
	if err := storage.NewCourtService(w.db).CreateCourt(as(admin), court); err != nil {
		t.Fatal(err)
	}
	kase := &courtside.Case{Docket: "26-CR-9", CourtID: court.ID}
	if err := storage.NewCaseService(w.db).OpenCase(as(w.prosecutor), kase); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC) // 09:30 in Chicago
	w.hearing = &courtside.Hearing{CaseID: kase.ID, Kind: courtside.KindPlea, StartsAt: start, EndsAt: start.Add(time.Hour),
		Courtroom: "7C", Judge: "Judge of Part 4", ExternalID: "EXT-SECRET-1"}
	if _, err := storage.NewHearingService(w.db).PostHearing(as(w.prosecutor), w.hearing); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.offer, err = storage.NewBookingService(w.db).RequestInterpreter(as(w.prosecutor), w.hearing.ID, "es-MX", nil); err != nil {
		t.Fatal(err)
	}
	if w.offer.InterpreterID != w.first.ID {
		t.Fatalf("offered to %d", w.offer.InterpreterID)
	}
	w.srv = httptest.NewServer(web.NewRespondHandler(web.RespondConfig{Links: storage.NewBookingLinkService(w.db)}))
	t.Cleanup(w.srv.Close)
	return w
}

func as(u *courtside.User) context.Context {
	return courtside.NewContextWithUser(context.Background(), u)
}

// link returns the path and token of b's one-click link.
func (w *world) link(b *courtside.InterpreterBooking) (string, string) {
	return fmt.Sprintf("/bookings/%d/respond", b.ID), storage.NewBookingLinkService(w.db).BookingLinkToken(b.ID, b.InterpreterID, *b.RespondBy)
}

// booking returns the stored booking.
func (w *world) booking(t *testing.T, id int64) *courtside.InterpreterBooking {
	t.Helper()
	bs, err := storage.NewBookingService(w.db).FindBookings(as(w.prosecutor), courtside.BookingFilter{IDs: []int64{id}})
	if err != nil || len(bs) != 1 {
		t.Fatalf("booking %d: %v %v", id, err, bs)
	}
	return bs[0]
}

// count returns the rows of table.
func (w *world) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// do sends a request and returns the status and body, checking the security headers.
func (w *world) do(t *testing.T, method, path string, form url.Values) (int, string) {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s %s: %s = %q, want %q", method, path, name, got, want)
		}
	}
	return resp.StatusCode, string(b)
}

func TestRespond_GetShowsAndNeverActs(t *testing.T) {
	w := newWorld(t)
	path, token := w.link(w.offer)
	audits, evs := w.count(t, "audit_log"), w.count(t, "events")
	for i := 0; i < 3; i++ { // a mail scanner, a preview, the interpreter
		status, body := w.do(t, "GET", path+"?token="+url.QueryEscape(token), nil)
		if status != http.StatusOK {
			t.Fatalf("GET: %d %s", status, body)
		}
		for _, want := range []string{"Plea", "Tuesday 1 December 2026", "09:30 to 10:30 CST", "County Courthouse", "7C", "es-MX",
			`method="post"`, `name="token" value="` + token + `"`, `value="accept"`, `value="decline"`, "Answer by"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q:\n%s", want, body)
			}
		}
		for _, secret := range []string{"Judge of Part 4", "EXT-SECRET-1", "26-CR-9", "<script"} {
			if strings.Contains(body, secret) {
				t.Errorf("the page shows %q", secret)
			}
		}
	}
	if status, _ := w.do(t, "HEAD", path+"?token="+url.QueryEscape(token), nil); status != http.StatusOK {
		t.Fatalf("HEAD: %d", status)
	}
	if w.booking(t, w.offer.ID).Status != courtside.BookingOffered || w.count(t, "audit_log") != audits || w.count(t, "events") != evs ||
		w.count(t, "booking_link_uses") != 0 {
		t.Fatal("GET changed something")
	}
}

func TestRespond_AcceptOnce(t *testing.T) {
	w := newWorld(t)
	path, token := w.link(w.offer)
	audits := w.count(t, "audit_log")
	status, body := w.do(t, "POST", path, url.Values{"token": {token}, "answer": {"accept"}})
	if status != http.StatusOK || !strings.Contains(body, "Booking accepted") {
		t.Fatalf("accept: %d %s", status, body)
	}
	if b := w.booking(t, w.offer.ID); b.Status != courtside.BookingAccepted {
		t.Fatalf("stored %s", b.Status)
	}
	entries, err := storage.NewAuditService(w.db).FindAuditEntries(context.Background())
	if err != nil || len(entries) != audits+2 {
		t.Fatalf("audit: %v %d rows, want %d", err, len(entries), audits+2)
	}
	if last := entries[len(entries)-1]; last.Action != "booking.accept" || last.ActorID != w.first.ID {
		t.Fatalf("audit row %+v", last)
	}
	// Used: both the page and a second answer say so, with 410.
	for _, tt := range []struct {
		method string
		form   url.Values
	}{
		{"POST", url.Values{"token": {token}, "answer": {"accept"}}},
		{"POST", url.Values{"token": {token}, "answer": {"decline"}}},
		{"GET", nil},
	} {
		p := path
		if tt.form == nil {
			p += "?token=" + url.QueryEscape(token)
		}
		status, body := w.do(t, tt.method, p, tt.form)
		if status != http.StatusGone || !strings.Contains(body, "already used") {
			t.Errorf("%s after use: %d %s", tt.method, status, body)
		}
	}
	if w.count(t, "audit_log") != audits+2 {
		t.Fatal("a used link wrote")
	}
}

func TestRespond_DeclineOffersTheNextAndOldLinkIsDead(t *testing.T) {
	w := newWorld(t)
	path, token := w.link(w.offer)
	status, body := w.do(t, "POST", path, url.Values{"token": {token}, "answer": {"decline"}, "reason": {"in trial elsewhere"}})
	if status != http.StatusOK || !strings.Contains(body, "Booking declined") {
		t.Fatalf("decline: %d %s", status, body)
	}
	if b := w.booking(t, w.offer.ID); b.Status != courtside.BookingDeclined || b.DeclineReason != "in trial elsewhere" {
		t.Fatalf("stored %+v", b)
	}
	bs, err := storage.NewBookingService(w.db).FindBookings(as(w.prosecutor), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	if err != nil || len(bs) != 2 || bs[1].InterpreterID != w.second.ID || bs[1].Status != courtside.BookingOffered {
		t.Fatalf("after the decline: %v %+v", err, bs)
	}
	next := bs[1]
	// The old link: 410 on its own booking, 404 on the re-offer.
	if status, _ := w.do(t, "GET", path+"?token="+url.QueryEscape(token), nil); status != http.StatusGone {
		t.Errorf("old link: %d", status)
	}
	nextPath, nextToken := w.link(next)
	if status, _ := w.do(t, "POST", nextPath, url.Values{"token": {token}, "answer": {"accept"}}); status != http.StatusNotFound {
		t.Errorf("old token on the re-offer: %d", status)
	}
	if status, body := w.do(t, "POST", nextPath, url.Values{"token": {nextToken}, "answer": {"accept"}}); status != http.StatusOK {
		t.Fatalf("accepting the re-offer: %d %s", status, body)
	}
	if w.booking(t, next.ID).Status != courtside.BookingAccepted {
		t.Fatal("the re-offer is not accepted")
	}
}

func TestRespond_BadRequests(t *testing.T) {
	w := newWorld(t)
	path, token := w.link(w.offer)
	forged := []byte(token) // a changed MAC
	if forged[len(forged)-3] == 'A' {
		forged[len(forged)-3] = 'B'
	} else {
		forged[len(forged)-3] = 'A'
	}
	long := strings.Repeat("x", web.MaxFormBytes+1)
	for _, tt := range []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"no token", "GET", path, nil, http.StatusNotFound},
		{"a forged token", "GET", path + "?token=" + url.QueryEscape(string(forged)), nil, http.StatusNotFound},
		{"a malformed token", "GET", path + "?token=B" + token[1:], nil, http.StatusNotFound},
		{"a forged token, POST", "POST", path, url.Values{"token": {string(forged)}, "answer": {"accept"}}, http.StatusNotFound},
		{"another booking", "GET", fmt.Sprintf("/bookings/%d/respond?token=%s", w.offer.ID+7, token), nil, http.StatusNotFound},
		{"a bad ID", "GET", "/bookings/x1/respond?token=" + token, nil, http.StatusNotFound},
		{"a zero ID", "GET", "/bookings/0/respond?token=" + token, nil, http.StatusNotFound},
		{"another path", "GET", fmt.Sprintf("/bookings/%d?token=%s", w.offer.ID, token), nil, http.StatusNotFound},
		{"a trailing slash", "GET", path + "/?token=" + token, nil, http.StatusNotFound},
		{"PUT", "PUT", path, url.Values{"token": {token}}, http.StatusMethodNotAllowed},
		{"DELETE", "DELETE", path, nil, http.StatusMethodNotAllowed},
		{"no answer", "POST", path, url.Values{"token": {token}}, http.StatusBadRequest},
		{"an odd answer", "POST", path, url.Values{"token": {token}, "answer": {"maybe"}}, http.StatusBadRequest},
		{"a long reason", "POST", path, url.Values{"token": {token}, "answer": {"decline"}, "reason": {strings.Repeat("r", 501)}}, http.StatusBadRequest},
		{"a body over the cap", "POST", path, url.Values{"token": {token}, "answer": {"accept"}, "pad": {long}}, http.StatusRequestEntityTooLarge},
	} {
		status, body := w.do(t, tt.method, tt.path, tt.form)
		if status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, status, tt.status, body)
		}
	}
	// A POST that is not a form.
	resp, err := http.Post(w.srv.URL+path, "application/json", strings.NewReader(`{"token":"`+token+`","answer":"accept"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON POST: %d", resp.StatusCode)
	}
	if w.booking(t, w.offer.ID).Status != courtside.BookingOffered || w.count(t, "booking_link_uses") != 0 {
		t.Fatal("a bad request changed the booking")
	}
}

func TestRespond_Expired(t *testing.T) {
	w := newWorld(t)
	path, token := w.link(w.offer)
	w.now = w.offer.RespondBy.Add(time.Minute)
	status, body := w.do(t, "GET", path+"?token="+url.QueryEscape(token), nil)
	if status != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("GET after the deadline: %d %s", status, body)
	}
	if status, _ := w.do(t, "POST", path, url.Values{"token": {token}, "answer": {"accept"}}); status != http.StatusGone {
		t.Fatalf("POST after the deadline: %d", status)
	}
	if w.booking(t, w.offer.ID).Status != courtside.BookingOffered || w.count(t, "booking_link_uses") != 0 {
		t.Fatal("an expired link acted")
	}
}

// panicking is a BookingLinkService that panics, or fails with an internal error.
type panicking struct {
	courtside.BookingLinkService
	fail bool
}

func (p panicking) FindBookingByLink(context.Context, int64, string) (*courtside.BookingLinkOffer, error) {
	if p.fail {
		return nil, errors.New("disk on fire at /var/lib/secret")
	}
	panic("boom with internal detail")
}

func TestRespond_PanicsAndInternalErrors(t *testing.T) {
	for _, fail := range []bool{false, true} {
		srv := httptest.NewServer(web.NewRespondHandler(web.RespondConfig{Links: panicking{fail: fail}}))
		resp, err := http.Get(srv.URL + "/bookings/1/respond?token=x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusInternalServerError || strings.TrimSpace(string(b)) != "Internal error." ||
			resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("fail %v: %d %q", fail, resp.StatusCode, b)
		}
	}
}
