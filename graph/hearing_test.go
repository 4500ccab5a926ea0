package graph_test

import (
	"testing"
)

// hearingView is what the hearing tests read of a hearing.
type hearingView struct {
	ID         string
	Sequence   int
	Status     string
	StartsAt   string
	EndsAt     string
	Courtroom  *string
	ExternalID *string
	Case       struct{ ID, Docket string }
	Court      struct{ Name string }
	History    []struct {
		Reason       string
		Status       string
		FromStartsAt *string
		ToStartsAt   *string
		By           string
	}
}

const readHearing = `query($id: ID!) {
  hearing(id: $id) { id sequence status startsAt endsAt courtroom externalId case { id docket } court { name }
    history { reason status fromStartsAt toStartsAt by } }
}`

func (e *env) hearing(user, id string) hearingView {
	e.t.Helper()
	var out struct{ Hearing hearingView }
	e.gql(user, readHearing, map[string]any{"id": id}).ok(&out)
	return out.Hearing
}

func TestPostHearing(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()

	h := e.hearing("pros", f.hearingID)
	if h.Sequence != 0 || h.Status != "SCHEDULED" || h.Case.ID != f.caseID || h.Case.Docket != "CR-2030-0042" ||
		h.Court.Name != "County Courthouse" || h.ExternalID == nil || *h.ExternalID != "EXT-1" {
		t.Fatalf("posted hearing: %+v", h)
	}
	// DateTime answers are UTC with Z, whatever offset the input had.
	if h.StartsAt != "2030-03-04T14:30:00Z" || h.EndsAt != "2030-03-04T16:00:00Z" {
		t.Fatalf("times: %s %s", h.StartsAt, h.EndsAt)
	}
	if len(h.History) != 1 {
		t.Fatalf("history of a new hearing: %+v", h.History)
	}

	t.Run("same externalId returns the same hearing", func(t *testing.T) {
		e := e.with(t)
		var again struct{ PostHearing hearingView }
		e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-1", start1, end1)}).ok(&again)
		if again.PostHearing.ID != f.hearingID || again.PostHearing.Sequence != 0 || len(again.PostHearing.History) != 1 {
			t.Fatalf("re-post: %+v", again.PostHearing)
		}
		if n := len(e.hearings("pros", f.caseID)); n != 1 {
			t.Fatalf("%d hearings after re-posting the same externalId", n)
		}
	})

	t.Run("invalid input names the field and writes nothing", func(t *testing.T) {
		e := e.with(t)
		e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-2", start1, start1)}).
			fails("INVALID", "input.endsAt")
		e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-2", "next tuesday", end1)}).
			fails("INVALID", "input.startsAt")
		e.gql("pros", postHearing, map[string]any{"in": hearingInput("abc", "EXT-2", start1, end1)}).
			fails("INVALID", "input.caseId")
		// The same mistakes written inline in the document.
		e.gql("pros", `mutation { postHearing(input: {caseId: "`+f.caseID+`", kind: TRIAL, startsAt: "soon", endsAt: "`+end1+`"}) { id } }`, nil).
			fails("INVALID", "input.startsAt")
		if n := len(e.hearings("pros", f.caseID)); n != 1 {
			t.Fatalf("%d hearings after invalid posts", n)
		}
	})

	t.Run("a role that may not post is refused and nothing is written", func(t *testing.T) {
		e := e.with(t)
		r := e.gql("coord", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-3", start2, end2)}).fails("FORBIDDEN")
		if string(r.Data) != "null" {
			t.Fatalf("data of a refused mutation: %s", r.Data)
		}
		// Another office's prosecutor does not even see the case.
		e.gql("pros2", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-3", start2, end2)}).fails("NOT_FOUND")
		if n := len(e.hearings("pros", f.caseID)); n != 1 {
			t.Fatalf("%d hearings after refused posts", n)
		}
	})
}

func TestRescheduleAndCancel(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	const reschedule = `mutation($id: ID!, $s: DateTime!, $e: DateTime!, $room: String, $seq: Int) {
  rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, courtroom: $room, reason: "defence asked for time", expectedSequence: $seq) {
    id sequence status startsAt courtroom history { reason status fromStartsAt toStartsAt by } }
}`
	var out struct{ RescheduleHearing hearingView }
	e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "s": start2, "e": end2, "room": "7A", "seq": 0}).ok(&out)
	h := out.RescheduleHearing
	if h.Sequence != 1 || h.Status != "CONTINUED" || h.StartsAt != "2030-04-08T17:00:00Z" || h.Courtroom == nil || *h.Courtroom != "7A" {
		t.Fatalf("rescheduled: %+v", h)
	}
	if len(h.History) != 2 {
		t.Fatalf("history: %+v", h.History)
	}
	last := h.History[1]
	if last.Reason != "defence asked for time" || last.Status != "CONTINUED" || last.By != "pros" ||
		last.FromStartsAt == nil || *last.FromStartsAt != "2030-03-04T14:30:00Z" ||
		last.ToStartsAt == nil || *last.ToStartsAt != "2030-04-08T17:00:00Z" {
		t.Fatalf("last change: %+v", last)
	}

	t.Run("stale expectedSequence answers CONFLICT", func(t *testing.T) {
		e := e.with(t)
		e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "s": start1, "e": end1, "seq": 0}).fails("CONFLICT")
		if h := e.hearing("pros", f.hearingID); h.Sequence != 1 || h.StartsAt != "2030-04-08T17:00:00Z" {
			t.Fatalf("hearing after a conflict: %+v", h)
		}
	})

	t.Run("invalid times name the argument", func(t *testing.T) {
		e := e.with(t)
		e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "s": start2, "e": start2, "seq": 1}).fails("INVALID", "endsAt")
		e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "s": "2030-13-01", "e": end2}).fails("INVALID", "startsAt")
		e.gql("pros", reschedule, map[string]any{"id": "-1", "s": start2, "e": end2}).fails("INVALID", "id")
	})

	t.Run("another role may not reschedule", func(t *testing.T) {
		e := e.with(t)
		e.gql("coord", reschedule, map[string]any{"id": f.hearingID, "s": start1, "e": end1}).fails("FORBIDDEN")
		if h := e.hearing("pros", f.hearingID); h.Sequence != 1 {
			t.Fatalf("hearing after a refused reschedule: %+v", h)
		}
	})

	const cancel = `mutation($id: ID!, $seq: Int) {
  cancelHearing(id: $id, reason: "charges dropped", expectedSequence: $seq) { id sequence status history { reason status } }
}`
	t.Run("cancel", func(t *testing.T) {
		e := e.with(t)
		e.gql("pros", cancel, map[string]any{"id": f.hearingID, "seq": 0}).fails("CONFLICT")
		var out struct{ CancelHearing hearingView }
		e.gql("pros", cancel, map[string]any{"id": f.hearingID, "seq": 1}).ok(&out)
		h := out.CancelHearing
		if h.Status != "CANCELLED" || h.Sequence != 2 || len(h.History) != 3 || h.History[2].Reason != "charges dropped" {
			t.Fatalf("cancelled: %+v", h)
		}
		e.gql("pros", cancel, map[string]any{"id": f.hearingID}).fails("CONFLICT")
		e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "s": start1, "e": end1}).fails("CONFLICT")
	})

	t.Run("two mutations in one request see each other's writes", func(t *testing.T) {
		e := e.with(t)
		var posted struct{ PostHearing struct{ ID string } }
		e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-9", start1, end1)}).ok(&posted)
		var out struct{ A, B hearingView }
		e.gql("pros", `mutation($id: ID!) {
  a: rescheduleHearing(id: $id, startsAt: "2030-05-01T09:00:00Z", endsAt: "2030-05-01T10:00:00Z", reason: "one") { sequence history { reason } }
  b: rescheduleHearing(id: $id, startsAt: "2030-05-02T09:00:00Z", endsAt: "2030-05-02T10:00:00Z", reason: "two") { sequence history { reason } }
}`, map[string]any{"id": posted.PostHearing.ID}).ok(&out)
		if out.A.Sequence != 1 || out.B.Sequence != 2 || len(out.A.History) != 2 || len(out.B.History) != 3 || out.B.History[2].Reason != "two" {
			t.Fatalf("a: %+v, b: %+v", out.A, out.B)
		}
	})
}

// hearings lists the hearings of a case that user sees in 2030.
func (e *env) hearings(user, caseID string) []hearingView {
	e.t.Helper()
	var out struct {
		Hearings struct{ Edges []hearingView }
	}
	e.gql(user, `query($c: ID) { hearings(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z", caseId: $c, first: 200) { edges { id sequence } } }`,
		map[string]any{"c": caseID}).ok(&out)
	return out.Hearings.Edges
}

func TestHearingsConnection(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	for i, start := range []string{"2030-03-05T09:00:00Z", "2030-03-06T09:00:00Z", "2030-03-07T09:00:00Z", "2030-03-08T09:00:00Z"} {
		end := start[:11] + "10:00:00Z"
		e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-P"+string(rune('a'+i)), start, end)}).ok(nil)
	}
	const page = `query($first: Int, $after: String, $court: ID) {
  hearings(from: "2030-03-01T00:00:00Z", to: "2030-04-01T00:00:00Z", courtId: $court, first: $first, after: $after) {
    edges { id startsAt history { reason } accompaniments { id } case { docket } court { name } } endCursor hasNextPage }
}`
	type conn struct {
		Hearings struct {
			Edges       []hearingView
			EndCursor   *string
			HasNextPage bool
		}
	}
	var seen []string
	var after any
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		before := e.calls.hearingChanges.Load()
		beforeCases := e.calls.caseLookups.Load()
		beforeAcc := e.calls.accompaniments.Load()
		var out conn
		e.gql("pros", page, map[string]any{"first": 2, "after": after, "court": f.courtID}).ok(&out)
		if n := e.calls.hearingChanges.Load() - before; n != 1 {
			t.Fatalf("page %d: %d FindHearingChanges calls for %d hearings, want 1", pages, n, len(out.Hearings.Edges))
		}
		if n := e.calls.caseLookups.Load() - beforeCases; n != 1 {
			t.Fatalf("page %d: %d case lookups, want 1", pages, n)
		}
		if n := e.calls.accompaniments.Load() - beforeAcc; n != 1 {
			t.Fatalf("page %d: %d FindAccompaniments calls, want 1", pages, n)
		}
		for _, h := range out.Hearings.Edges {
			seen = append(seen, h.StartsAt)
			if len(h.History) == 0 || h.Case.Docket != "CR-2030-0042" || h.Court.Name != "County Courthouse" {
				t.Fatalf("edge: %+v", h)
			}
		}
		if !out.Hearings.HasNextPage {
			break
		}
		if out.Hearings.EndCursor == nil {
			t.Fatal("hasNextPage without endCursor")
		}
		after = *out.Hearings.EndCursor
	}
	want := []string{"2030-03-04T14:30:00Z", "2030-03-05T09:00:00Z", "2030-03-06T09:00:00Z", "2030-03-07T09:00:00Z", "2030-03-08T09:00:00Z"}
	if len(seen) != len(want) {
		t.Fatalf("paged through %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("paged through %v, want %v", seen, want)
		}
	}

	e.gql("pros", page, map[string]any{"after": "bm9wZQ"}).fails("INVALID", "after")
	e.gql("pros", page, map[string]any{"first": 0}).fails("INVALID", "first")
	e.gql("pros", page, map[string]any{"first": 1000}).fails("INVALID", "first")
	e.gql("pros", `{ hearings(from: "2030-03-01T00:00:00Z", to: "2030-02-01T00:00:00Z") { hasNextPage } }`, nil).fails("INVALID", "to")

	// Another office sees none of them; an interpreter neither (no bookings yet).
	for _, user := range []string{"pros2", "interp"} {
		var out conn
		e.gql(user, page, nil).ok(&out)
		if len(out.Hearings.Edges) != 0 || out.Hearings.HasNextPage || out.Hearings.EndCursor != nil {
			t.Fatalf("%s sees %+v", user, out.Hearings)
		}
	}
}

func TestCourtsAndCases(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()

	t.Run("only an admin creates courts; a refusal writes nothing", func(t *testing.T) {
		e := e.with(t)
		e.gql("pros", `mutation { createCourt(input: {name: "Rogue Court", timeZone: "UTC"}) { id } }`, nil).fails("FORBIDDEN")
		e.gql("admin", `mutation { createCourt(input: {name: "Bad Zone Court", timeZone: "Mars/Olympus"}) { id } }`, nil).
			fails("INVALID", "input.timeZone")
		var out struct {
			Courts []struct{ ID, Name, TimeZone string }
		}
		e.gql("pros", `{ courts { id name timeZone } }`, nil).ok(&out)
		if len(out.Courts) != 1 || out.Courts[0].ID != f.courtID || out.Courts[0].TimeZone != "America/New_York" {
			t.Fatalf("courts: %+v", out.Courts)
		}
	})

	t.Run("case", func(t *testing.T) {
		e := e.with(t)
		var out struct {
			Case struct {
				Docket   string
				Court    struct{ ID string }
				Hearings []struct{ ID string }
				Victims  []struct{ Attends bool }
			}
		}
		e.gql("pros", `query($id: ID!) { case(id: $id) { docket court { id } hearings { id } victims { attends } } }`,
			map[string]any{"id": f.caseID}).ok(&out)
		if out.Case.Docket != "CR-2030-0042" || out.Case.Court.ID != f.courtID || len(out.Case.Hearings) != 1 || len(out.Case.Victims) != 0 {
			t.Fatalf("case: %+v", out.Case)
		}
		r := e.gql("pros2", `query($id: ID!) { case(id: $id) { docket } }`, map[string]any{"id": f.caseID}).fails("NOT_FOUND")
		if string(r.Data) != `{"case":null}` {
			t.Fatalf("data: %s", r.Data)
		}
		e.gql("coord", `mutation($c: ID!) { openCase(input: {docket: "X-1", courtId: $c}) { id } }`, map[string]any{"c": f.courtID}).fails("FORBIDDEN")
		e.gql("pros", `mutation { openCase(input: {docket: "", courtId: "1"}) { id } }`, nil).fails("INVALID", "input.docket")
		e.gql("pros", `mutation { openCase(input: {docket: "X-2", courtId: "one"}) { id } }`, nil).fails("INVALID", "input.courtId")
	})

	t.Run("me", func(t *testing.T) {
		e := e.with(t)
		var out struct {
			Me struct {
				ID, Username, Role string
				Organization       *struct{ Name string }
			}
		}
		e.gql("pros", `{ me { id username role organization { name } } }`, nil).ok(&out)
		if out.Me.Username != "pros" || out.Me.Role != "PROSECUTOR" || out.Me.Organization == nil || out.Me.Organization.Name != "County Prosecutor" {
			t.Fatalf("me: %+v", out.Me)
		}
		out.Me.Organization = nil
		e.gql("admin", `{ me { username organization { name } } }`, nil).ok(&out)
		if out.Me.Organization != nil {
			t.Fatalf("admin's organisation: %+v", out.Me.Organization)
		}
	})
}
