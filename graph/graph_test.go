package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/graph"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// counting is the real storage's services with call counters on the methods that batching
// must keep to one call per list.
type counting struct {
	*storage.UserService
	*storage.TokenService
	*storage.SessionService
	*storage.CourtService
	*storage.CaseService
	*storage.HearingService
	*storage.VictimService
	*storage.AccompanimentService
	*storage.ImportService
	*storage.DeliveryService
	*storage.BookingService
	*storage.CoordinationService
	*storage.RequestService
	hearingChanges atomic.Int32
	accompaniments atomic.Int32
	caseLookups    atomic.Int32
	victimLookups  atomic.Int32
}

// newCounting returns the services of db with no calls counted yet.
func newCounting(db *storage.DB) *counting {
	return &counting{UserService: storage.NewUserService(db), TokenService: storage.NewTokenService(db),
		SessionService: storage.NewSessionService(db), CourtService: storage.NewCourtService(db), CaseService: storage.NewCaseService(db),
		HearingService: storage.NewHearingService(db), VictimService: storage.NewVictimService(db),
		AccompanimentService: storage.NewAccompanimentService(db), ImportService: storage.NewImportService(db),
		DeliveryService: storage.NewDeliveryService(db), BookingService: storage.NewBookingService(db),
		CoordinationService: storage.NewCoordinationService(db), RequestService: storage.NewRequestService(db)}
}

func (c *counting) FindHearingChanges(ctx context.Context, ids ...int64) ([]*courtside.HearingChange, error) {
	c.hearingChanges.Add(1)
	return c.HearingService.FindHearingChanges(ctx, ids...)
}

func (c *counting) FindAccompaniments(ctx context.Context, f courtside.AccompanimentFilter) ([]*courtside.Accompaniment, error) {
	c.accompaniments.Add(1)
	return c.AccompanimentService.FindAccompaniments(ctx, f)
}

func (c *counting) FindCases(ctx context.Context, ids ...int64) ([]*courtside.Case, error) {
	c.caseLookups.Add(1)
	return c.CaseService.FindCases(ctx, ids...)
}

func (c *counting) FindCaseByID(ctx context.Context, id int64) (*courtside.Case, error) {
	c.caseLookups.Add(1)
	return c.CaseService.FindCaseByID(ctx, id)
}

func (c *counting) FindVictims(ctx context.Context, ids ...int64) ([]*courtside.Victim, error) {
	c.victimLookups.Add(1)
	return c.VictimService.FindVictims(ctx, ids...)
}

// env is a GraphQL server over a real database, with a token for each test user.
type env struct {
	t      testing.TB
	db     *storage.DB
	calls  *counting
	srv    *httptest.Server
	tokens map[string]string
	users  map[string]*courtside.User
}

// newEnv opens a database in a temporary directory, creates the test users and their API
// tokens, and serves the GraphQL handler. configure may change the handler's Config.
func newEnv(t testing.TB, configure ...func(*graph.Config)) *env {
	t.Helper()
	ctx := context.Background()
	db := storage.NewDB(storagetest.Path(t))
	db.Publish = events.PublishTx
	var err error
	if db.Sealer, err = storage.NewSealer(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	e := &env{t: t, db: db, calls: newCounting(db), tokens: map[string]string{}, users: map[string]*courtside.User{}}
	for _, u := range []struct {
		name  string
		role  courtside.Role
		org   string
		langs []courtside.InterpreterLanguage
	}{
		{"admin", courtside.RoleAdmin, "", nil},
		{"pros", courtside.RoleProsecutor, "County Prosecutor", nil},
		{"pros2", courtside.RoleProsecutor, "Other County Prosecutor", nil},
		{"coord", courtside.RoleCoordinator, "Safe Harbor", nil},
		{"adv", courtside.RoleAdvocate, "Safe Harbor", nil},
		{"adv2", courtside.RoleAdvocate, "Safe Harbor", nil},
		{"interp", courtside.RoleInterpreter, "", []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}},
	} {
		user, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{
			User:             courtside.User{Username: u.name, Role: u.role, Languages: u.langs},
			OrganizationName: u.org,
		})
		if err != nil {
			t.Fatalf("create user %s: %v", u.name, err)
		}
		_, secret, err := storage.NewTokenService(db).CreateToken(ctx, user.ID, courtside.TokenAPI, "test")
		if err != nil {
			t.Fatalf("create token %s: %v", u.name, err)
		}
		e.users[u.name], e.tokens[u.name] = user, secret
	}

	return newEnvOn(e, configure...)
}

// newEnvOn returns a copy of e with its own server, over the same database and users.
func newEnvOn(e *env, configure ...func(*graph.Config)) *env {
	e.t.Helper()
	c := *e
	cfg := graph.Config{
		Users: e.calls, Tokens: e.calls, Courts: e.calls, Cases: e.calls, Hearings: e.calls,
		Victims: e.calls, Accompaniments: e.calls, Sessions: e.calls, Imports: e.calls, Deliveries: e.calls, Bookings: e.calls,
		Coordination: e.calls, Requests: e.calls,
	}
	for _, f := range configure {
		f(&cfg)
	}
	h, err := graph.NewHandler(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	c.srv = httptest.NewServer(h)
	e.t.Cleanup(c.srv.Close)
	return &c
}

// with returns a copy of e that reports to t, for subtests.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// response is a decoded GraphQL answer.
type response struct {
	t      testing.TB
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// code returns the code of the first error, or "".
func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["code"].(string)
	return s
}

// field returns extensions.field of the first error, or "".
func (r *response) field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions["field"].(string)
	return s
}

// ok fails the test unless the operation answered without errors, and decodes data into v.
func (r *response) ok(v any) *response {
	r.t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		r.t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			r.t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
	return r
}

// fails fails the test unless the first error has the code (and, when given, the field).
func (r *response) fails(code string, field ...string) *response {
	r.t.Helper()
	if r.code() != code {
		r.t.Fatalf("want code %s, got status %d, errors %+v, data %s", code, r.Status, r.Errors, r.Data)
	}
	if len(field) > 0 && r.field() != field[0] {
		r.t.Fatalf("want field %q, got %q (%+v)", field[0], r.field(), r.Errors)
	}
	return r
}

// post sends a raw POST with the given content type and body, as user (none when "").
func (e *env) post(user, contentType string, body []byte) *response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	return e.send(req)
}

// send sends a request and decodes the JSON answer.
func (e *env) send(req *http.Request) *response {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &response{t: e.t, Status: res.StatusCode, Header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, r); err != nil {
			e.t.Fatalf("decode %s: %v", body, err)
		}
	}
	return r
}

// gql runs an operation as user (anonymously when "").
func (e *env) gql(user, query string, vars map[string]any) *response {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(user, "application/json", body)
}

// The times of the test hearings: in the future, given in New York time.
const (
	start1 = "2030-03-04T09:30:00-05:00"
	end1   = "2030-03-04T11:00:00-05:00"
	start2 = "2030-04-08T13:00:00-04:00"
	end2   = "2030-04-08T15:00:00-04:00"
)

// fixture is what setUp creates: a court, a case of pros's office and one hearing in it.
type fixture struct {
	courtID, caseID, hearingID string
}

// setUp creates a court (as admin), a case and a hearing (as pros) through the API.
func (e *env) setUp() fixture {
	e.t.Helper()
	var f fixture
	var court struct{ CreateCourt struct{ ID string } }
	e.gql("admin", `mutation($in: CourtInput!) { createCourt(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "County Courthouse", "timeZone": "America/New_York", "address": "1 Main St"}}).ok(&court)
	f.courtID = court.CreateCourt.ID
	var c struct{ OpenCase struct{ ID string } }
	e.gql("pros", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0042", "courtId": f.courtID}}).ok(&c)
	f.caseID = c.OpenCase.ID
	var h struct{ PostHearing struct{ ID string } }
	e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-1", start1, end1)}).ok(&h)
	f.hearingID = h.PostHearing.ID
	return f
}

// share shares a case, as the office's prosecutor (pros or pros2), with an advocacy
// organisation, as the office must before the organisation may link victims to it.
func (e *env) share(office, caseID, organisation string) {
	e.t.Helper()
	e.gql(office, `mutation($c: ID!, $o: String!) { shareCase(caseId: $c, organisation: $o) { sharedAt } }`,
		map[string]any{"c": caseID, "o": organisation}).ok(nil)
}

// release records, as the victim's coordinator, the victim's written release to the office
// for case coordination, good for 90 days.
func (e *env) release(coordinator, victimID, office string) string {
	e.t.Helper()
	var out struct{ RecordRelease struct{ ID string } }
	e.gql(coordinator, `mutation($in: RecordReleaseInput!) { recordRelease(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"victimId": victimID, "recipient": office, "purpose": "CASE_COORDINATION", "reference": "signed form in the victim's file",
		"expiresAt": time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)}}).ok(&out)
	return out.RecordRelease.ID
}

// postHearing posts a hearing and reads back what the tests look at.
const postHearing = `mutation($in: PostHearingInput!) {
  postHearing(input: $in) { id sequence status startsAt endsAt courtroom externalId case { id docket } court { name } history { reason } }
}`

// hearingInput is a PostHearingInput.
func hearingInput(caseID, externalID, startsAt, endsAt string) map[string]any {
	return map[string]any{"caseId": caseID, "kind": "ARRAIGNMENT", "startsAt": startsAt, "endsAt": endsAt,
		"courtroom": "4B", "judge": "Judge of Part 4", "externalId": externalID}
}
