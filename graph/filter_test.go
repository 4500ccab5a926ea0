package graph_test

import "testing"

func TestHearingsFilters(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var second struct{ PostHearing struct{ ID string } }
	e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-2", start2, end2)}).ok(&second)
	e.gql("pros", `mutation($id: ID!) { cancelHearing(id: $id, reason: "dismissed") { id } }`, map[string]any{"id": second.PostHearing.ID}).ok(nil)
	const q = `query($s: HearingStatus, $c: ID, $court: ID) { hearings(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z", status: $s, caseId: $c, courtId: $court) { edges { id status } } }`
	count := func(vars map[string]any) int {
		var out struct {
			Hearings struct{ Edges []struct{ ID, Status string } }
		}
		e.gql("pros", q, vars).ok(&out)
		return len(out.Hearings.Edges)
	}
	for _, tt := range []struct {
		name string
		vars map[string]any
		want int
	}{
		{"all", map[string]any{}, 2},
		{"cancelled", map[string]any{"s": "CANCELLED"}, 1},
		{"scheduled", map[string]any{"s": "SCHEDULED"}, 1},
		{"held", map[string]any{"s": "HELD"}, 0},
		{"by case", map[string]any{"c": f.caseID}, 2},
		{"by court", map[string]any{"court": f.courtID}, 2},
		{"another court", map[string]any{"court": "999"}, 0},
	} {
		if got := count(tt.vars); got != tt.want {
			t.Errorf("%s: %d hearings, want %d", tt.name, got, tt.want)
		}
	}
	e.gql("pros", q, map[string]any{"s": "POSTPONED"}).fails("INVALID")
}
