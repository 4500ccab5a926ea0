package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"courtside"
	"courtside/graph"
	"courtside/storage"

	"github.com/coder/websocket"
)

// importCase imports n hearings of one case (docket CR-2030-0042, the fixture's) as pros.
func (e *env) importCase(n int) {
	e.t.Helper()
	var b strings.Builder
	b.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
	for i := range n {
		d := time.Date(2030, 6, 3, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
		fmt.Fprintf(&b, "N-%d,CR-2030-0042,County Courthouse,ARRAIGNMENT,%s,%s,4B,Judge of Part 4,\n", i,
			d.Format("2006-01-02 15:04"), d.Add(time.Hour).Format("2006-01-02 15:04"))
	}
	e.gql("pros", `mutation($csv: String!) { importHearings(csv: $csv) { created } }`, map[string]any{"csv": b.String()}).ok(nil)
}

// findCounting counts FindHearings calls: none means nothing was looked up.
type findCounting struct {
	courtside.HearingService
	finds atomic.Int32
}

func (f *findCounting) FindHearings(ctx context.Context, filter courtside.HearingFilter) ([]*courtside.Hearing, error) {
	f.finds.Add(1)
	return f.HearingService.FindHearings(ctx, filter)
}

// TestNodeBudget shows the budget of returned objects: the nested-list attack (a case's
// hearings, their case's hearings, and again) is refused with INVALID, rule "nodes", naming the
// budget, before anything is looked up, whether its sizes are literals, variables or absent,
// and when it hides in fragments; the same shape with small pages runs.
func TestNodeBudget(t *testing.T) {
	counting := &findCounting{}
	e := newEnv(t, func(c *graph.Config) { counting.HearingService = c.Hearings; c.Hearings = counting })
	e.setUp()
	e.importCase(150)
	const from = `from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z"`
	refused := func(name, q string, vars map[string]any) {
		t.Helper()
		before := counting.finds.Load()
		r := e.gql("pros", q, vars).fails("INVALID")
		if r.Errors[0].Extensions["rule"] != "nodes" || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("the limit is %d", graph.DefaultMaxNodes)) {
			t.Fatalf("%s: %+v", name, r.Errors)
		}
		if r.Data != nil {
			t.Fatalf("%s: data %s: the operation ran", name, r.Data)
		}
		if n := counting.finds.Load() - before; n != 0 {
			t.Fatalf("%s: %d hearing lookups before the refusal", name, n)
		}
	}
	refused("the attack", `{ hearings(`+from+`, first: 20) { edges { case { hearings { case { hearings { id } } } } } } }`, nil)
	refused("sizes from variables", `query($n: Int, $m: Int) { hearings(`+from+`, first: $n) { edges { case { hearings(first: $m) { case { hearings(first: $m) { id } } } } } } }`,
		map[string]any{"n": 20, "m": 100})
	refused("sizes from variables' defaults", `query($n: Int = 20, $m: Int = 100) { hearings(`+from+`, first: $n) { edges { case { hearings(first: $m) { case { hearings(first: $m) { id } } } } } } }`, nil)
	refused("fragments", `{ hearings(`+from+`, first: 20) { edges { ...H } } }
fragment H on Hearing { case { hearings { ...C } } }
fragment C on Hearing { case { hearings { id } } }`, nil)
	// Each alias of a page of 200 hearings with their case's hearings could answer 20,401
	// objects: four fit the budget, five do not.
	page := func(alias string) string {
		return alias + `: hearings(` + from + `, first: 200) { edges { case { hearings { id } } } } `
	}
	refused("aliases", "{ "+page("a")+page("b")+page("c")+page("d")+page("e")+"}", nil)
	before := counting.finds.Load()
	e.gql("pros", "{ "+page("a")+page("b")+page("c")+page("d")+"}", nil).ok(nil)
	if counting.finds.Load() == before {
		t.Fatal("four pages ran no lookup")
	}

	// Small pages of the same shape run, and return what they may.
	var out struct {
		Hearings struct {
			Edges []struct {
				Case struct {
					Hearings []struct {
						Case struct{ Hearings []struct{ ID string } }
					}
				}
			}
		}
	}
	e.gql("pros", `query($n: Int) { hearings(`+from+`, first: 3) { edges { case { hearings(first: $n) { case { hearings(first: 2) { id } } } } } } }`,
		map[string]any{"n": 4}).ok(&out)
	if len(out.Hearings.Edges) != 3 || len(out.Hearings.Edges[0].Case.Hearings) != 4 || len(out.Hearings.Edges[0].Case.Hearings[0].Case.Hearings) != 2 {
		t.Fatalf("small pages: %+v", out)
	}

	// The budget is the handler's to set.
	small := newEnvOn(e, func(c *graph.Config) { c.MaxNodes = 10 })
	r := small.gql("pros", `{ hearings(`+from+`, first: 11) { edges { id } } }`, nil).fails("INVALID")
	if r.Errors[0].Extensions["rule"] != "nodes" || !strings.Contains(r.Errors[0].Message, "the limit is 10") {
		t.Fatalf("%+v", r.Errors)
	}
	small.gql("pros", `{ hearings(`+from+`, first: 9) { edges { id } } }`, nil).ok(nil)
}

// TestListCapsHeld shows the resolvers keep to the caps the budget counts with: a list field
// returns at most its first, refuses a first outside 1 to its cap, and without first returns at
// most its cap (Case.hearings: 100 of a case's 150).
func TestListCapsHeld(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	e.importCase(150)
	var out struct {
		Case struct {
			Hearings []struct{ ID string }
		}
	}
	e.gql("pros", `query($c: ID!) { case(id: $c) { hearings(first: 7) { id } } }`, map[string]any{"c": f.caseID}).ok(&out)
	if len(out.Case.Hearings) != 7 {
		t.Fatalf("first: 7 gave %d", len(out.Case.Hearings))
	}
	e.gql("pros", `query($c: ID!) { case(id: $c) { hearings { id } } }`, map[string]any{"c": f.caseID}).ok(&out)
	if len(out.Case.Hearings) != 100 {
		t.Fatalf("no first gave %d of 151, want the cap of 100", len(out.Case.Hearings))
	}
	for _, n := range []int{0, -1, 101} {
		e.gql("pros", `query($c: ID!, $n: Int) { case(id: $c) { hearings(first: $n) { id } } }`, map[string]any{"c": f.caseID, "n": n}).
			fails("INVALID", "first")
	}
	// A connection's edges are its page, whatever the default cap of lists.
	var page struct {
		Hearings struct{ Edges []struct{ ID string } }
	}
	e.gql("pros", `{ hearings(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z", first: 150) { edges { id } } }`, nil).ok(&page)
	if len(page.Hearings.Edges) != 150 {
		t.Fatalf("hearings(first: 150) gave %d edges", len(page.Hearings.Edges))
	}
	var courts struct{ Courts []struct{ Name string } }
	e.gql("pros", `{ courts(first: 1) { name } }`, nil).ok(&courts)
	if len(courts.Courts) != 1 {
		t.Fatalf("courts(first: 1): %+v", courts)
	}
}

// logRecorder is a slog.Handler that keeps the records' messages and attributes.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]string
	signal  chan map[string]string
}

func newLogRecorder() *logRecorder { return &logRecorder{signal: make(chan map[string]string, 64)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { rec[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	select {
	case l.signal <- rec:
	default:
	}
	return nil
}

// wait returns the next record with message msg.
func (l *logRecorder) wait(t *testing.T, msg string) map[string]string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case rec := <-l.signal:
			if rec["msg"] == msg {
				return rec
			}
		case <-timeout:
			t.Fatalf("no log line %q", msg)
		}
	}
}

// gatedPage holds the first page lookup of Query.hearings until released or until the
// request's context ends; then it returns the page all the same, as a query that finished just
// as the client left would. after is the statement count at that moment.
type gatedPage struct {
	courtside.HearingService
	db      *storage.DB
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	after   atomic.Int64
}

func (g *gatedPage) FindHearings(ctx context.Context, f courtside.HearingFilter) ([]*courtside.Hearing, error) {
	if f.From == nil || !g.armed.CompareAndSwap(true, false) {
		return g.HearingService.FindHearings(ctx, f)
	}
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	hs, err := g.HearingService.FindHearings(context.WithoutCancel(ctx), f)
	g.after.Store(g.db.Statements())
	return hs, err
}

// stoppedEnv is an env whose Query.hearings page lookup is gated, with its log recorded.
func stoppedEnv(t *testing.T) (*env, *gatedPage, *logRecorder) {
	gate := &gatedPage{entered: make(chan struct{}, 1), release: make(chan struct{})}
	logs := newLogRecorder()
	e := newEnv(t, func(c *graph.Config) {
		gate.HearingService = c.Hearings
		c.Hearings = gate
		c.Logger = slog.New(logs)
	})
	gate.db = e.db
	f := e.setUp()
	e.importCase(30)
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-9", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	e.release("coord", v.RegisterVictim.ID, "County Prosecutor")
	return e, gate, logs
}

// nestedPage is a page of hearings whose fields need one lookup each after the page's own.
const nestedPage = `{ hearings(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z", first: 50) { edges {
	id history { reason } case { docket victims { attends } } court { name } bookings { status } accompaniments { status } } } }`

// TestClientGoneStopsWork shows a request whose client went away stops: the page lookup in
// progress finishes, and then not one more statement runs for it (the same request left alone
// runs several more), and the log says so once the work has ended.
func TestClientGoneStopsWork(t *testing.T) {
	e, gate, logs := stoppedEnv(t)

	// Left alone, the nested fields after the page cost statements of their own.
	gate.armed.Store(true)
	body, _ := json.Marshal(map[string]any{"query": nestedPage})
	post := func(ctx context.Context) (int, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens["coord"])
		res, err := e.srv.Client().Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, string(b), err
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() { s, b, err := post(context.Background()); done <- answer{s, b, err} }()
	<-gate.entered
	close(gate.release)
	if a := <-done; a.err != nil || a.status != http.StatusOK || strings.Contains(a.body, `"errors"`) {
		t.Fatalf("left alone: %d %s %v", a.status, a.body, a.err)
	}
	if n := e.db.Statements() - gate.after.Load(); n < 3 {
		t.Fatalf("left alone, the request ran %d statements after its page; the test needs it to run more", n)
	}

	// The client goes away while the page is being looked up.
	gate.release = make(chan struct{})
	gate.armed.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { s, b, err := post(ctx); done <- answer{s, b, err} }()
	<-gate.entered
	cancel()
	if a := <-done; a.err == nil {
		t.Fatalf("the cancelled request got an answer: %d %s", a.status, a.body)
	}
	rec := logs.wait(t, "graphql: operation stopped")
	if rec["reason"] != "client gone" || rec["refused"] == "0" {
		t.Fatalf("log %v", rec)
	}
	if n := e.db.Statements() - gate.after.Load(); n != 0 {
		t.Fatalf("%d statements after the client went away", n)
	}
}

// deadlineCtx is a context whose deadline the test says has passed.
type deadlineCtx struct {
	context.Context
	done chan struct{}
}

func (d *deadlineCtx) Done() <-chan struct{} { return d.done }

func (d *deadlineCtx) Err() error {
	select {
	case <-d.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestDeadlineStopsWork shows the request deadline: a request still working when its deadline
// passes is stopped the same way as one whose client left, and answers one TIMEOUT error.
func TestDeadlineStopsWork(t *testing.T) {
	e, gate, logs := stoppedEnv(t)
	gate.armed.Store(true)
	body, _ := json.Marshal(map[string]any{"query": nestedPage})
	deadline := &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
	req := httptest.NewRequestWithContext(deadline, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens["coord"])
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() { e.srv.Config.Handler.ServeHTTP(rec, req); close(served) }()
	<-gate.entered
	close(deadline.done)
	<-served
	r := &response{t: t, Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), r); err != nil {
		t.Fatal(err)
	}
	r.fails("TIMEOUT")
	if len(r.Errors) != 1 || r.Status != http.StatusOK {
		t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	if rec := logs.wait(t, "graphql: operation stopped"); rec["reason"] != "deadline" || rec["refused"] == "0" {
		t.Fatalf("log %v", rec)
	}
	if n := e.db.Statements() - gate.after.Load(); n != 0 {
		t.Fatalf("%d statements after the deadline", n)
	}
}

// TestResponseBound shows an answer over MaxResponseBytes is replaced by INVALID, rule
// "response", and that a mutation whose answer was too large still happened (and says so).
func TestResponseBound(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	small := newEnvOn(e, func(c *graph.Config) { c.MaxResponseBytes = 200 })
	small.gql("pros", `{ me { id } }`, nil).ok(nil)
	r := small.gql("pros", `{ courts { id name timeZone address opensAt closesAt } a: courts { id name timeZone address } b: courts { id name } }`, nil).fails("INVALID")
	if r.Errors[0].Extensions["rule"] != "response" || r.Data != nil || !strings.Contains(r.Errors[0].Message, "200 bytes") {
		t.Fatalf("%+v %s", r.Errors, r.Data)
	}
	r = small.gql("admin", `mutation { createCourt(input: {name: "A Courthouse With A Long Name For The Test", timeZone: "America/New_York",
		address: "1000 Very Long Avenue Name, Building 7, Floor 12, Some City, Some State 00000-0000, Entrance B by the parking structure"}) {
		id name timeZone address opensAt closesAt } }`, nil).fails("INVALID")
	if !strings.Contains(r.Errors[0].Message, "mutations ran") {
		t.Fatalf("%+v", r.Errors)
	}
	var courts struct{ Courts []struct{ Name string } }
	e.gql("pros", `{ courts { name } }`, nil).ok(&courts)
	if len(courts.Courts) != 2 {
		t.Fatalf("the court was not created: %+v", courts)
	}
}

// TestLoginRateLimited shows sign-in throttling through GraphQL: beyond the address's burst a
// login answers HTTP 429 with Retry-After, code RATE_LIMITED and extensions.retryAfter, and no
// session.
func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t)
	e.db.LoginLimits = storage.LoginLimits{AddressBurst: 2, AddressEvery: time.Hour, AccountBurst: 100, AccountEvery: time.Second}
	const login = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`
	for i := range 2 {
		e.gql("", login, map[string]any{"u": fmt.Sprint("nobody-", i), "p": "not the password at all"}).fails("UNAUTHENTICATED")
	}
	r := e.gql("", login, map[string]any{"u": "nobody-3", "p": "not the password at all"}).fails("RATE_LIMITED")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != http.StatusTooManyRequests || err != nil || retry < 1 || r.Errors[0].Extensions["retryAfter"] != float64(retry) {
		t.Fatalf("status %d, Retry-After %q, errors %+v", r.Status, r.Header.Get("Retry-After"), r.Errors)
	}
	if string(r.Data) != "null" {
		t.Fatalf("data %s", r.Data)
	}
}

// TestMySecretsAndReauthentication shows mySecrets lists what the caller minted, never the
// secret, with when each was last used; revokeSecret takes its ids; and minting from a session
// needs the password again (refused without it, FORBIDDEN with a wrong one), not from an API
// token.
func TestMySecretsAndReauthentication(t *testing.T) {
	e := newEnv(t)
	const pw = "tidal basin lantern 42"
	if _, err := storage.NewUserService(e.db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: "maria", Role: courtside.RoleCoordinator},
		OrganizationName: "Safe Harbor", Password: pw}); err != nil {
		t.Fatal(err)
	}
	var login struct{ Login struct{ Token string } }
	e.gql("", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`, map[string]any{"u": "maria", "p": pw}).ok(&login)
	session := login.Login.Token
	const mint = `mutation($l: String!, $p: String) { createApiToken(label: $l, password: $p) { id secret } }`
	e.asBearer(session, mint, map[string]any{"l": "stolen session"}).fails("INVALID", "password")
	e.asBearer(session, mint, map[string]any{"l": "stolen session", "p": "a guess at the password"}).fails("FORBIDDEN")
	e.asBearer(session, `mutation { createAppPassword(label: "phone") { id } }`, nil).fails("INVALID", "password")
	e.asBearer(session, `mutation { createFeedToken(label: "google") { id } }`, nil).fails("INVALID", "password")
	var api struct{ CreateApiToken struct{ ID, Secret string } }
	e.asBearer(session, mint, map[string]any{"l": "case system", "p": pw}).ok(&api)
	var app struct{ CreateAppPassword struct{ ID string } }
	e.asBearer(api.CreateApiToken.Secret, `mutation { createAppPassword(label: "phone") { id } }`, nil).ok(&app)

	type secret struct {
		ID, Kind, Label, CreatedAt string
		LastUsedAt                 *string
	}
	list := func() []secret {
		var out struct{ MySecrets []secret }
		r := e.asBearer(session, `{ mySecrets { id kind label createdAt lastUsedAt } }`, nil).ok(&out)
		if strings.Contains(string(r.Data), api.CreateApiToken.Secret) {
			t.Fatal("mySecrets shows a secret")
		}
		return out.MySecrets
	}
	got := list()
	if len(got) != 2 || got[0].ID != api.CreateApiToken.ID || got[0].Kind != "API" || got[0].Label != "case system" ||
		got[0].CreatedAt == "" || got[0].LastUsedAt == nil || got[1].ID != app.CreateAppPassword.ID || got[1].Kind != "APP" || got[1].LastUsedAt != nil {
		t.Fatalf("mySecrets: %+v", got)
	}
	// Others' secrets are not listed.
	var other struct{ MySecrets []secret }
	e.gql("coord", `{ mySecrets { id } }`, nil).ok(&other)
	for _, s := range other.MySecrets {
		if s.ID == api.CreateApiToken.ID || s.ID == app.CreateAppPassword.ID {
			t.Fatalf("coord's mySecrets lists maria's %s", s.ID)
		}
	}
	// Revoking by a listed id.
	e.asBearer(session, `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": got[0].ID}).ok(nil)
	if got := list(); len(got) != 1 || got[0].ID != app.CreateAppPassword.ID {
		t.Fatalf("after revoking: %+v", got)
	}
	if r := e.asBearer(api.CreateApiToken.Secret, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", r.Status)
	}
}

// TestSubscriptionConnectionsPerUser shows the per-user cap on WebSocket connections: one more
// than the cap is closed with 1008 at connection_init, other users are unaffected, and a
// closed connection frees its place.
func TestSubscriptionConnectionsPerUser(t *testing.T) {
	le := newLiveEnv(t)
	graph.SetMaxConnectionsPerUser(le.srv.Config.Handler, 2)
	a, b := le.connect("coord"), le.connect("coord")
	le.connect("pros")
	third := dial(t, le.srv.URL, "graphql-transport-ws")
	third.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + le.tokens["coord"]}})
	third.closed(websocket.StatusPolicyViolation)
	coord := le.users["coord"].ID
	if n := le.hub.Connections(coord); n != 2 {
		t.Fatalf("coord has %d connections counted", n)
	}
	a.c.Close(websocket.StatusNormalClosure, "")
	poll(t, "the closed connection to be released", func() bool { return le.hub.Connections(coord) == 1 })
	le.connect("coord")
	_ = b
}
