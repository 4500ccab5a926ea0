package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/graph"
	"courtside/storage"
)

const caseloadQuery = `query($from: DateTime!, $to: DateTime!) { caseloadReport(from: $from, to: $to) {
  from to rows { courtId courtName kind hearings { value suppressed } victimsAccompanied { value suppressed }
  withInterpreter { value suppressed } notices { pending { value suppressed } sent { value suppressed }
  delivered { value suppressed } failed { value suppressed } suppressed { value suppressed } } } } }`

// reportCount is a ReportCount as the tests read it.
type reportCount struct {
	Value      *int
	Suppressed bool
}

// String renders a count as "12" or "-" when suppressed, for compact comparisons.
func (c reportCount) String() string {
	if c.Suppressed {
		if c.Value != nil {
			return "suppressed-but-valued"
		}
		return "-"
	}
	if c.Value == nil {
		return "null"
	}
	return fmt.Sprint(*c.Value)
}

type caseloadPage struct {
	CaseloadReport struct {
		From, To string
		Rows     []struct {
			CourtID, CourtName, Kind                      string
			Hearings, VictimsAccompanied, WithInterpreter reportCount
			Notices                                       struct{ Pending, Sent, Delivered, Failed, Suppressed reportCount }
		}
	}
}

// rows renders the report as one line per row.
func (p caseloadPage) rows() []string {
	var out []string
	for _, r := range p.CaseloadReport.Rows {
		n := r.Notices
		out = append(out, fmt.Sprintf("%s/%s h=%v v=%v i=%v n=%v,%v,%v,%v,%v", r.CourtName, r.Kind, r.Hearings, r.VictimsAccompanied,
			r.WithInterpreter, n.Pending, n.Sent, n.Delivered, n.Failed, n.Suppressed))
	}
	return out
}

// TestCaseloadReport_AggregatesScopedAndSuppressed shows Query.caseloadReport: a coordinator
// gets the counts of its own organisation only, per court and kind, with counts 1..10
// suppressed and their complements; every other role gets FORBIDDEN, audited; the answer
// names no victim.
func TestCaseloadReport_AggregatesScopedAndSuppressed(t *testing.T) {
	base := newEnv(t)
	e := newEnvOn(base, func(c *graph.Config) { c.Reports = storage.NewReportService(base.db) })
	ctx := context.Background()
	f := e.setUpVictim() // County Courthouse, one ARRAIGNMENT in Safe Harbor's victim's case, adv assigned

	// 12 more ARRAIGNMENT hearings (one of them cancelled: not counted) and 11 SENTENCING.
	day := time.Date(2030, 5, 1, 14, 0, 0, 0, time.UTC)
	var hearingIDs []string
	post := func(caseID, kind string, n int) {
		for i := 0; i < n; i++ {
			in := hearingInput(caseID, "", day.Format(time.RFC3339), day.Add(time.Hour).Format(time.RFC3339))
			delete(in, "externalId")
			in["kind"] = kind
			var h struct{ PostHearing struct{ ID string } }
			user := "pros"
			if caseID != f.caseID {
				user = "pros2"
			}
			e.gql(user, postHearing, map[string]any{"in": in}).ok(&h)
			hearingIDs = append(hearingIDs, h.PostHearing.ID)
			day = day.Add(24 * time.Hour)
		}
	}
	post(f.caseID, "ARRAIGNMENT", 12)
	e.gql("pros", `mutation($id: ID!) { cancelHearing(id: $id, reason: "charges dropped") { id } }`, map[string]any{"id": hearingIDs[0]}).ok(nil)
	post(f.caseID, "SENTENCING", 11)

	// Notices: 12 SENT and one FAILED to Safe Harbor's victim about the first hearing.
	for i := 0; i < 13; i++ {
		status := "SENT"
		if i == 12 {
			status = "FAILED"
		}
		if _, err := e.db.Writer.Exec(`INSERT INTO deliveries (kind, hearing_id, victim_id, channel, language, status, idempotency_key, created_at)
			VALUES ('HEARING_SCHEDULED', ?, ?, 'SMS', 'es', ?, ?, '2030-01-01T00:00:00.000Z')`, f.hearingID, f.victimID, status, fmt.Sprintf("k-%d", i)); err != nil {
			t.Fatal(err)
		}
	}

	// Another organisation: its coordinator, its victim, in a case of another office at another court.
	coord2, err := storage.NewUserService(e.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "coord2", Role: courtside.RoleCoordinator}, OrganizationName: "Other Harbor"})
	if err != nil {
		t.Fatal(err)
	}
	if _, e.tokens["coord2"], err = storage.NewTokenService(e.db).CreateToken(ctx, coord2.ID, courtside.TokenAPI, "test"); err != nil {
		t.Fatal(err)
	}
	var court struct{ CreateCourt struct{ ID string } }
	e.gql("admin", `mutation { createCourt(input: {name: "North Courthouse", timeZone: "America/New_York"}) { id } }`, nil).ok(&court)
	var kase struct{ OpenCase struct{ ID string } }
	e.gql("pros2", `mutation($c: ID!) { openCase(input: {docket: "CR-2030-0099", courtId: $c}) { id } }`, map[string]any{"c": court.CreateCourt.ID}).ok(&kase)
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord2", `mutation { registerVictim(input: {pseudonym: "V-North-1", legalName: "Demo Person A", preferredLanguage: "en"}) { id } }`, nil).ok(&v)
	e.share("pros2", kase.OpenCase.ID, "Other Harbor")
	e.gql("coord2", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": kase.OpenCase.ID, "v": v.RegisterVictim.ID}).ok(nil)
	post(kase.OpenCase.ID, "TRIAL", 11)

	period := map[string]any{"from": "2030-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"}
	var p caseloadPage
	r := e.gql("coord", caseloadQuery, period).ok(&p)
	// ARRAIGNMENT: 12 hearings; one victim accompanied (suppressed, nothing non-zero to pair
	// with in its column); notices: FAILED 1 suppressed, so SENT 12 is suppressed with it.
	want := []string{
		"County Courthouse/ARRAIGNMENT h=12 v=- i=0 n=0,-,0,-,0",
		"County Courthouse/SENTENCING h=11 v=0 i=0 n=0,0,0,0,0",
	}
	if got := p.rows(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("coord's report:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.CaseloadReport.From != "2030-01-01T00:00:00Z" || p.CaseloadReport.Rows[0].CourtID != f.courtID {
		t.Fatalf("report: %+v", p.CaseloadReport)
	}
	for _, secret := range []string{"V-17-R", "Demo Person", "V-North", `"victim"`, `"victimId"`, "pseudonym"} {
		if strings.Contains(string(r.Data), secret) {
			t.Fatalf("the report carries %q: %s", secret, r.Data)
		}
	}

	var p2 caseloadPage
	e.gql("coord2", caseloadQuery, period).ok(&p2)
	if got := p2.rows(); fmt.Sprint(got) != "[North Courthouse/TRIAL h=11 v=0 i=0 n=0,0,0,0,0]" {
		t.Fatalf("coord2's report: %v", got)
	}
	// Outside the period, nothing.
	var p3 caseloadPage
	e.gql("coord", caseloadQuery, map[string]any{"from": "2029-01-01T00:00:00Z", "to": "2029-12-31T00:00:00Z"}).ok(&p3)
	if len(p3.CaseloadReport.Rows) != 0 {
		t.Fatalf("report of an empty period: %v", p3.rows())
	}

	for _, user := range []string{"admin", "pros", "adv", "interp"} {
		e.gql(user, caseloadQuery, period).fails(graph.CodeForbidden)
	}
	e.gql("", caseloadQuery, period).fails(graph.CodeUnauthenticated)
	e.gql("coord", caseloadQuery, map[string]any{"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}).fails(graph.CodeInvalid, "to")
	e.gql("coord", caseloadQuery, map[string]any{"from": "2030-01-01T00:00:00Z", "to": "2032-01-01T00:00:00Z"}).fails(graph.CodeInvalid, "to")
	e.gql("coord", caseloadQuery, map[string]any{"from": "yesterday", "to": "2030-01-01T00:00:00Z"}).fails(graph.CodeInvalid, "from")

	var ok, denied int
	if err := e.db.Reader.QueryRow(`SELECT COUNT(*) FILTER (WHERE outcome = 'ok'), COUNT(*) FILTER (WHERE outcome = 'denied')
		FROM audit_log WHERE action = 'report.caseload'`).Scan(&ok, &denied); err != nil {
		t.Fatal(err)
	}
	if ok != 3 || denied != 4 {
		t.Fatalf("report.caseload audit rows: %d ok, %d denied; want 3 and 4", ok, denied)
	}
}
