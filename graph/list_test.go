package graph_test

import (
	"testing"
)

const (
	myCases   = `query($first: Int, $after: String) { myCases(first: $first, after: $after) { edges { id docket court { name } } endCursor hasNextPage } }`
	myVictims = `query($first: Int, $after: String) { myVictims(first: $first, after: $after) { edges { id pseudonym legalName } endCursor hasNextPage } }`
)

// casePage and victimPage are what the tests read of a page.
type casePage struct {
	MyCases struct {
		Edges       []struct{ ID, Docket string }
		EndCursor   *string
		HasNextPage bool
	}
}

type victimPage struct {
	MyVictims struct {
		Edges []struct {
			ID, Pseudonym string
			LegalName     *string
		}
		EndCursor   *string
		HasNextPage bool
	}
}

// TestMyCasesAndVictims: each role lists exactly the cases and victims that case(id:) and
// victim(id:) answer for it, redacted the same way, page by page.
func TestMyCasesAndVictims(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	// A second case of pros's office, and one of another office nobody here may see.
	var c struct{ OpenCase struct{ ID string } }
	e.gql("pros", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0043", "courtId": f.courtID}}).ok(&c)
	second := c.OpenCase.ID
	var other struct{ OpenCase struct{ ID string } }
	e.gql("pros2", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "OTHER-1", "courtId": f.courtID}}).ok(&other)

	for _, tt := range []struct {
		user    string
		cases   []string
		victims []string
		pii     bool
	}{
		{"pros", []string{f.caseID, second}, []string{f.victimID}, false},
		{"pros2", []string{other.OpenCase.ID}, nil, false},
		{"coord", []string{f.caseID}, []string{f.victimID}, true},
		{"adv", []string{f.caseID}, []string{f.victimID}, true},
		{"adv2", nil, nil, false},
		{"interp", nil, nil, false},
		{"admin", []string{f.caseID, second, other.OpenCase.ID}, nil, false},
	} {
		var cp casePage
		e.gql(tt.user, myCases, nil).ok(&cp)
		if got := ids(cp.MyCases.Edges, func(c struct{ ID, Docket string }) string { return c.ID }); !sameIDs(got, tt.cases) {
			t.Errorf("%s: myCases %v, want %v", tt.user, got, tt.cases)
		}
		for _, id := range tt.cases {
			e.gql(tt.user, `query($id: ID!) { case(id: $id) { id } }`, map[string]any{"id": id}).ok(nil)
		}
		var vp victimPage
		e.gql(tt.user, myVictims, nil).ok(&vp)
		var got []string
		for _, v := range vp.MyVictims.Edges {
			got = append(got, v.ID)
			if (v.LegalName != nil) != tt.pii || v.Pseudonym != "V-17-R" {
				t.Errorf("%s: myVictims shows %+v; legal name visible %v, want %v", tt.user, v, v.LegalName != nil, tt.pii)
			}
			var one struct{ Victim victimView }
			e.gql(tt.user, readVictim, map[string]any{"id": v.ID}).ok(&one)
			if (one.Victim.LegalName != nil) != (v.LegalName != nil) {
				t.Errorf("%s: myVictims and victim(id:) redact differently", tt.user)
			}
		}
		if !sameIDs(got, tt.victims) {
			t.Errorf("%s: myVictims %v, want %v", tt.user, got, tt.victims)
		}
	}

	// Pages: first and after walk the admin's three cases one by one.
	var seen []string
	var after any
	for range 4 {
		var cp casePage
		e.gql("admin", myCases, map[string]any{"first": 1, "after": after}).ok(&cp)
		for _, c := range cp.MyCases.Edges {
			seen = append(seen, c.ID)
		}
		if !cp.MyCases.HasNextPage {
			break
		}
		after = *cp.MyCases.EndCursor
	}
	if !sameIDs(seen, []string{f.caseID, second, other.OpenCase.ID}) {
		t.Errorf("paging myCases by one: %v", seen)
	}
	e.gql("admin", myCases, map[string]any{"first": 0}).fails("INVALID", "first")
	e.gql("admin", myCases, map[string]any{"first": 501}).fails("INVALID", "first")
	e.gql("admin", myVictims, map[string]any{"after": "x"}).fails("INVALID", "after")
	e.gql("", myCases, nil).fails("UNAUTHENTICATED")
}

// ids maps a list to its IDs.
func ids[T any](list []T, id func(T) string) []string {
	var out []string
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

// sameIDs reports whether a and b hold the same strings in the same order.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
