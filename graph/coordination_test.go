package graph_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

const coverageQuery = `query($f: DateTime!, $t: DateTime!) { coverage(from: $f, to: $t) {
  missing hearing { id startsAt court { name timeZone } case { docket } bookings { status language } accompaniments { status } } } }`

const conflictsQuery = `query($f: DateTime!, $t: DateTime!) { conflicts(from: $f, to: $t) {
  kind who hearings { id startsAt court { name } case { docket } } } }`

type gapView struct {
	Missing string
	Hearing struct {
		ID, StartsAt string
		Court        struct{ Name, TimeZone string }
		Case         struct{ Docket string }
		Bookings     []struct{ Status, Language string }
	}
}

type conflictView struct {
	Kind, Who string
	Hearings  []struct {
		ID, StartsAt string
		Court        struct{ Name string }
		Case         struct{ Docket string }
	}
}

// March 2030, around setUp's hearing on Monday 4 March.
var march = map[string]any{"f": "2030-03-01T00:00:00-05:00", "t": "2030-04-01T00:00:00-04:00"}

func (e *env) coverage(user string) []string {
	e.t.Helper()
	var out struct{ Coverage []gapView }
	r := e.gql(user, coverageQuery, march).ok(&out)
	noVictimData(e.t, r)
	got := []string{}
	for _, g := range out.Coverage {
		got = append(got, g.Hearing.ID+": "+g.Missing)
	}
	return got
}

func (e *env) conflicts(user string) []string {
	e.t.Helper()
	var out struct{ Conflicts []conflictView }
	r := e.gql(user, conflictsQuery, march).ok(&out)
	noVictimData(e.t, r)
	got := []string{}
	for _, c := range out.Conflicts {
		var ids []string
		for _, h := range c.Hearings {
			ids = append(ids, h.ID)
		}
		got = append(got, fmt.Sprintf("%s %s: %s", c.Kind, c.Who, strings.Join(ids, ",")))
	}
	return got
}

// noVictimData fails when an answer holds the legal name or contact of setUpVictim's victim.
func noVictimData(t testing.TB, r *response) {
	t.Helper()
	for _, secret := range []string{"Demo Person A", "+12025550100"} {
		if strings.Contains(string(r.Data), secret) {
			t.Fatalf("the answer holds %q: %s", secret, r.Data)
		}
	}
}

func same(got []string, want ...string) bool {
	return strings.Join(got, "; ") == strings.Join(want, "; ")
}

func TestCoverageAndConflicts(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim() // V-17-R attends case 1; adv accompanies them to hearing 1, Monday 4 March 09:30-11:00 EST
	h1 := f.hearingID
	if got := e.coverage("coord"); !same(got) {
		t.Fatalf("coverage at first: %q", got)
	}

	// A second case in Los Angeles, where V-17-R attends too: its hearing is first set for 10:30
	// there, time enough to travel from h1, and later moved to 08:30, 30 minutes after h1 ends.
	var court struct{ CreateCourt struct{ ID string } }
	e.gql("admin", `mutation($in: CourtInput!) { createCourt(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "Harbor Courthouse", "timeZone": "America/Los_Angeles"}}).ok(&court)
	var kase struct{ OpenCase struct{ ID string } }
	e.gql("pros", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0099", "courtId": court.CreateCourt.ID}}).ok(&kase)
	e.share("pros", kase.OpenCase.ID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": kase.OpenCase.ID, "v": f.victimID}).ok(nil)
	var posted struct{ PostHearing struct{ ID string } }
	e.gql("pros", postHearing, map[string]any{"in": hearingInput(kase.OpenCase.ID, "EXT-LA", "2030-03-04T10:30:00-08:00", "2030-03-04T11:30:00-08:00")}).ok(&posted)
	h2 := posted.PostHearing.ID
	// A Saturday hearing in New York.
	e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-SAT", "2030-03-09T10:00:00-05:00", "2030-03-09T11:00:00-05:00")}).ok(&posted)
	h3 := posted.PostHearing.ID

	// Nobody accompanies V-17-R to h2 and h3; h1 needs an interpreter once one is requested.
	var req struct{ RequestInterpreter bookingView }
	e.requestInterpreter("coord", h1, "es", nil).ok(&req)
	if got := e.coverage("coord"); !same(got, h1+": interpreter (es)", h2+": advocate", h3+": advocate") {
		t.Fatalf("coverage: %q", got)
	}
	if got := e.coverage("pros"); !same(got, h1+": interpreter (es)", h2+": advocate", h3+": advocate") {
		t.Fatalf("the prosecutor's coverage: %q", got)
	}
	if got := e.coverage("pros2"); !same(got) {
		t.Fatalf("another office's coverage: %q", got)
	}

	t.Run("the hearings of the answer are whole hearings", func(t *testing.T) {
		e := e.with(t)
		var out struct{ Coverage []gapView }
		e.gql("coord", coverageQuery, march).ok(&out)
		g := out.Coverage[0]
		if g.Hearing.ID != h1 || g.Hearing.StartsAt != "2030-03-04T14:30:00Z" || g.Hearing.Court.Name != "County Courthouse" ||
			g.Hearing.Court.TimeZone != "America/New_York" || g.Hearing.Case.Docket != "CR-2030-0042" ||
			len(g.Hearing.Bookings) != 1 || g.Hearing.Bookings[0].Status != "OFFERED" || g.Hearing.Bookings[0].Language != "es" {
			t.Fatalf("gap %+v", g)
		}
		if h := out.Coverage[1].Hearing; h.ID != h2 || h.Court.Name != "Harbor Courthouse" || h.Case.Docket != "CR-2030-0099" {
			t.Fatalf("second gap %+v", h)
		}
	})

	// adv goes with V-17-R to h2 as well, and interp takes both hearings.
	e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": h2, "v": f.victimID, "a": strconv.FormatInt(e.users["adv"].ID, 10)}).ok(nil)
	e.respond("interp", req.RequestInterpreter.ID, true, nil).ok(nil)
	e.requestInterpreter("coord", h2, "es", nil).ok(&req)
	if req.RequestInterpreter.Interpreter == nil || req.RequestInterpreter.Interpreter.Name != "interp" {
		t.Fatalf("h2 offered to %+v", req.RequestInterpreter.Interpreter)
	}
	if got := e.coverage("coord"); !same(got, h2+": interpreter (es)", h3+": advocate") {
		t.Fatalf("coverage after the assignments: %q", got)
	}
	e.respond("interp", req.RequestInterpreter.ID, true, nil).ok(nil)
	if got := e.coverage("coord"); !same(got, h3+": advocate") {
		t.Fatalf("coverage after the acceptance: %q", got)
	}

	// Moved up to 08:30, h2 clashes with h1 for all three (ranking would no longer have offered
	// interp both hearings, travel buffer included); interp must reconfirm it.
	e.gql("pros", `mutation($id: ID!) { rescheduleHearing(id: $id, startsAt: "2030-03-04T08:30:00-08:00",
		endsAt: "2030-03-04T09:30:00-08:00", reason: "moved up") { id } }`, map[string]any{"id": h2}).ok(nil)
	if got := e.coverage("coord"); !same(got, h2+": interpreter (es)", h3+": advocate") {
		t.Fatalf("coverage after the move: %q", got)
	}

	pair := h1 + "," + h2
	if got := e.conflicts("coord"); !same(got, "ADVOCATE_DOUBLE_BOOKED adv: "+pair, "INTERPRETER_DOUBLE_BOOKED interp: "+pair,
		"VICTIM_OVERLAP victim V-17-R: "+pair, "OUTSIDE_COURT_HOURS court County Courthouse: "+h3) {
		t.Fatalf("the coordinator's conflicts: %q", got)
	}
	// The admin sees every hearing but no victim.
	if got := e.conflicts("admin"); !same(got, "ADVOCATE_DOUBLE_BOOKED adv: "+pair, "INTERPRETER_DOUBLE_BOOKED interp: "+pair,
		"OUTSIDE_COURT_HOURS court County Courthouse: "+h3) {
		t.Fatalf("the admin's conflicts: %q", got)
	}

	t.Run("who may ask", func(t *testing.T) {
		e := e.with(t)
		for _, user := range []string{"adv", "interp"} {
			e.gql(user, coverageQuery, march).fails("FORBIDDEN")
			e.gql(user, conflictsQuery, march).fails("FORBIDDEN")
		}
		e.gql("pros", conflictsQuery, march).fails("FORBIDDEN")
		e.gql("", coverageQuery, march).fails("UNAUTHENTICATED")
		e.gql("", conflictsQuery, march).fails("UNAUTHENTICATED")
	})

	t.Run("the range", func(t *testing.T) {
		e := e.with(t)
		for _, q := range []string{coverageQuery, conflictsQuery} {
			e.gql("coord", q, map[string]any{"f": "2030-03-01T00:00:00Z", "t": "2031-03-02T00:00:01Z"}).fails("INVALID", "to")
			e.gql("coord", q, map[string]any{"f": "2030-03-01T00:00:00Z", "t": "2030-02-01T00:00:00Z"}).fails("INVALID", "to")
			e.gql("coord", q, map[string]any{"f": "last Monday", "t": "2030-02-01T00:00:00Z"}).fails("INVALID", "from")
			e.gql("coord", q, map[string]any{"f": "2030-03-01T00:00:00Z", "t": "2031-03-01T00:00:00Z"}).ok(nil) // 365 days
		}
		// A week without hearings.
		var out struct {
			Coverage, Conflicts []struct{ Missing, Kind string }
		}
		e.gql("coord", `query($f: DateTime!, $t: DateTime!) { coverage(from: $f, to: $t) { missing } conflicts(from: $f, to: $t) { kind } }`,
			map[string]any{"f": "2030-05-01T00:00:00Z", "t": "2030-05-08T00:00:00Z"}).ok(&out)
		if out.Coverage == nil || out.Conflicts == nil || len(out.Coverage)+len(out.Conflicts) != 0 {
			t.Fatalf("an empty week: %+v", out)
		}
	})

	// Cancelled, h2 clashes with nothing.
	e.gql("pros", `mutation($id: ID!) { cancelHearing(id: $id, reason: "dismissed") { id } }`, map[string]any{"id": h2}).ok(nil)
	if got := e.conflicts("coord"); !same(got, "OUTSIDE_COURT_HOURS court County Courthouse: "+h3) {
		t.Fatalf("conflicts after the cancellation: %q", got)
	}
}

// TestCoordinationStatementsDoNotGrow counts the SQL statements of coverage and conflicts with
// their hearings over 3 and over 12 hearings: the hearings' fields are batched.
func TestCoordinationStatementsDoNotGrow(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	base := time.Date(2031, 1, 4, 15, 0, 0, 0, time.UTC) // a Saturday: weekends are outside court hours
	post := func(from, to int) {
		for i := from; i < to; i++ {
			starts := base.Add(time.Duration(i) * 24 * time.Hour)
			var h struct{ PostHearing struct{ ID string } }
			e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, fmt.Sprintf("C-%d", i),
				starts.Format(time.RFC3339), starts.Add(time.Hour).Format(time.RFC3339))}).ok(&h)
			e.requestInterpreter("coord", h.PostHearing.ID, "es", nil).ok(nil)
		}
	}
	// One root field a query: graphql-go resolves a query's root fields in map order, so two
	// lists in one query would batch their shared children in a varying number of calls.
	const coverage = `query($f: DateTime!, $t: DateTime!) {
  coverage(from: $f, to: $t, first: 100) { missing hearing { id court { name } case { docket victims { attends } } history { reason } bookings { status } accompaniments { status } } } }`
	const conflicts = `query($f: DateTime!, $t: DateTime!) {
  conflicts(from: $f, to: $t) { kind who hearings { id court { name } case { docket } bookings { status } } } }`
	vars := map[string]any{"f": base.Add(-time.Hour).Format(time.RFC3339), "t": base.Add(100 * 24 * time.Hour).Format(time.RFC3339)}
	statements := func(want int) (int64, int64) {
		var cov struct{ Coverage []gapView }
		before := e.db.Statements()
		e.gql("coord", coverage, vars).ok(&cov)
		if got := len(cov.Coverage); got != 2*want { // each lacks an advocate and an interpreter
			t.Fatalf("%d gaps over %d hearings", got, want)
		}
		middle := e.db.Statements()
		var con struct{ Conflicts []conflictView }
		e.gql("coord", conflicts, vars).ok(&con)
		if len(con.Conflicts) == 0 {
			t.Fatalf("no conflicts")
		}
		return middle - before, e.db.Statements() - middle
	}
	post(0, 3)
	fewCoverage, fewConflicts := statements(3)
	post(3, 12)
	manyCoverage, manyConflicts := statements(12)
	if manyCoverage > fewCoverage {
		t.Errorf("coverage: %d statements over 12 hearings, %d over 3: the count grows with the hearings", manyCoverage, fewCoverage)
	}
	if manyConflicts > fewConflicts {
		t.Errorf("conflicts: %d statements over 12 hearings, %d over 3: the count grows with the hearings", manyConflicts, fewConflicts)
	}
}
