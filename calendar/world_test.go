package calendar_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// world is a real database behind a real CalDAV server: a court, a prosecutor's office with a
// case and three hearings, an advocacy organisation whose advocate accompanies a victim to the
// first two, and users with app passwords. The calendar projection runs as in the server
// (startProjection).
type world struct {
	t   testing.TB
	db  *storage.DB
	h   http.Handler
	srv *httptest.Server
	now *clock

	admin, prosecutor, otherProsecutor, coordinator, advocate, otherAdvocate, interpreter *courtside.User

	secrets    map[string]string // username -> app password
	tokenIDs   map[string]int64  // username -> app password's token ID
	victim     *courtside.Victim
	kase       *courtside.Case
	h1, h2, h3 *courtside.Hearing
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Secret values that must never appear in a calendar.
const (
	legalName    = "Sentinel Legalname"
	victimEmail  = "sentinel.private@example.org"
	victimPhone  = "+12025550123"
	accountPass  = "correct horse battery staple 42"
	pseudonym    = "V-12-R"
	docketNumber = "1:26-cr-00042"
	// organizerAddress is Courtside's ORGANIZER in the scheduling inbox's invitations.
	organizerAddress = "bookings@courtside.test"
)

// newWorld builds the world and starts the server.
func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, now: &clock{t: time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)}, secrets: map[string]string{},
		tokenIDs: map[string]int64{}}
	w.db = storagetest.Open(t, w.now.Now)
	w.startProjection(t)
	ctx := context.Background()

	mk := func(name string, role courtside.Role, org string) *courtside.User {
		nu := courtside.NewUser{User: courtside.User{Username: name, Role: role}, OrganizationName: org}
		if name == "adv" {
			nu.Password = accountPass // argon2id is slow on purpose: only the user whose password a test tries
		}
		if role == courtside.RoleInterpreter {
			nu.User.Email = name + "@example.org"
			nu.User.Languages = []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}
		}
		u, err := storage.NewUserService(w.db).CreateUser(ctx, nu)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		tok, secret, err := storage.NewTokenService(w.db).CreateToken(w.as(u), u.ID, courtside.TokenApp, "phone")
		if err != nil {
			t.Fatalf("app password for %s: %v", name, err)
		}
		w.secrets[name], w.tokenIDs[name] = secret, tok.ID
		return u
	}
	w.admin = mk("admin", courtside.RoleAdmin, "")
	w.prosecutor = mk("pros", courtside.RoleProsecutor, "Eastern District USAO")
	w.otherProsecutor = mk("pros2", courtside.RoleProsecutor, "Other DA Office")
	w.coordinator = mk("coord", courtside.RoleCoordinator, "Safe Harbor Advocates")
	w.advocate = mk("adv", courtside.RoleAdvocate, "Safe Harbor Advocates")
	w.otherAdvocate = mk("adv2", courtside.RoleAdvocate, "Safe Harbor Advocates")
	w.interpreter = mk("interp", courtside.RoleInterpreter, "")

	court := &courtside.Court{Name: "U.S. District Court, E.D.N.Y.", TimeZone: "America/New_York",
		Address: "225 Cadman Plaza East, Brooklyn, NY 11201"}
	w.must(storage.NewCourtService(w.db).CreateCourt(w.as(w.admin), court))
	w.kase = &courtside.Case{Docket: docketNumber, CourtID: court.ID}
	w.must(storage.NewCaseService(w.db).OpenCase(w.as(w.prosecutor), w.kase))

	post := func(kind courtside.HearingKind, start time.Time) *courtside.Hearing {
		h := &courtside.Hearing{CaseID: w.kase.ID, Kind: kind, StartsAt: start, EndsAt: start.Add(90 * time.Minute),
			Courtroom: "4B", Judge: "Judge of Part 4"}
		if _, err := storage.NewHearingService(w.db).PostHearing(w.as(w.prosecutor), h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	w.h1 = post(courtside.KindSentencing, time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC))
	w.h2 = post(courtside.KindRestitution, time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC))
	w.h3 = post(courtside.KindStatus, time.Date(2027, 1, 12, 16, 0, 0, 0, time.UTC))

	w.victim = &courtside.Victim{Pseudonym: pseudonym, LegalName: legalName, PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelEmail, Address: victimEmail},
			{Channel: courtside.ChannelSMS, Address: victimPhone}}}
	w.must(storage.NewVictimService(w.db).RegisterVictim(w.as(w.coordinator), w.victim))
	if _, err := storage.NewCaseService(w.db).ShareCase(w.as(w.prosecutor), w.kase.ID, "Safe Harbor Advocates"); err != nil {
		t.Fatal(err)
	}
	w.must(storage.NewCaseService(w.db).LinkVictim(w.as(w.coordinator), w.kase.ID, w.victim.ID, true))
	for _, h := range []*courtside.Hearing{w.h1, w.h2} {
		if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), h.ID, w.victim.ID, w.advocate.ID); err != nil {
			t.Fatal(err)
		}
	}

	w.h = calendar.NewHandler(calendar.Config{Users: storage.NewUserService(w.db), Tokens: storage.NewTokenService(w.db), Calendars: storage.NewCalendarService(w.db), Availability: storage.NewAvailabilityService(w.db), Bookings: storage.NewBookingService(w.db),
		Scheduling: storage.NewSchedulingService(w.db), InvitationUID: storage.NewInvitationService(w.db).InvitationUID, Organizer: organizerAddress, MaxBodyBytes: 64 << 10})
	w.srv = httptest.NewServer(w.h)
	t.Cleanup(w.srv.Close)
	return w
}

// startProjection runs the calendar projection over the world's event log as the server does:
// a consumer group of the event router, woken by each commit, the objects rendered by
// calendar.RenderStored, and the calendars' reads waiting for it to handle what was committed
// before them (with a generous bound, on this shared machine). The world then answers as the
// server does.
func (w *world) startProjection(t testing.TB) {
	t.Helper()
	w.db.RenderCalendar = calendar.RenderStored
	w.db.CalendarGroup, w.db.CalendarWait = projectionGroup, time.Minute
	router, err := events.NewRouter(w.db.Writer, nil, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	router.Handle(projectionGroup, storage.NewCalendarService(w.db).ProjectCalendar)
	done := make(chan error, 1)
	go func() { done <- router.Run(context.Background()) }()
	select {
	case <-router.Running():
	case err := <-done:
		t.Fatalf("router stopped: %v", err)
	}
	w.db.Committed = router.Wake
	t.Cleanup(func() {
		if err := router.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// waitProjected waits, with a generous deadline, until the projection has handled every event
// written so far.
func (w *world) waitProjected() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := events.Pending(context.Background(), w.db.Reader, projectionGroup)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the calendar projection has %d events pending", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (w *world) as(u *courtside.User) context.Context {
	return courtside.NewContextWithUser(context.Background(), u)
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// httpServer starts a test server for h and returns its URL.
func httpServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// request is a raw HTTP request to the server.
type request struct {
	method, path string
	user         *courtside.User // app password of user; nil for none
	username     string          // overrides user.Username in the credentials
	password     string          // overrides the app password
	body         string
	header       map[string]string
}

// do sends r and returns the response with its body read.
func (w *world) do(r request) (*http.Response, string) {
	w.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, w.srv.URL+r.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if r.body != "" && strings.HasPrefix(strings.TrimSpace(r.body), "<") {
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.user != nil || r.username != "" {
		username, password := r.username, r.password
		if r.user != nil {
			if username == "" {
				username = r.user.Username
			}
			if password == "" {
				password = w.secrets[r.user.Username]
			}
		}
		req.SetBasicAuth(username, password)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp, string(b)
}
