package graph_test

import (
	"fmt"
	"testing"
	"time"
)

// TestNestedQueryStatementsDoNotGrow counts the SQL statements of one nested query over 10 and
// over 100 hearings: with the per-request loader the count must not grow with the hearings.
func TestNestedQueryStatementsDoNotGrow(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-7", legalName: "Name Seven", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	adv := fmt.Sprint(e.users["adv"].ID)

	base := time.Date(2031, 1, 6, 15, 0, 0, 0, time.UTC)
	post := func(from, to int) {
		for i := from; i < to; i++ {
			starts := base.Add(time.Duration(i) * 24 * time.Hour)
			var h struct{ PostHearing struct{ ID string } }
			e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, fmt.Sprintf("N-%d", i),
				starts.Format(time.RFC3339), starts.Add(time.Hour).Format(time.RFC3339))}).ok(&h)
			e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
				map[string]any{"h": h.PostHearing.ID, "v": v.RegisterVictim.ID, "a": adv}).ok(nil)
			e.gql("pros", `mutation($id: ID!, $s: DateTime!, $e: DateTime!) { rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, reason: "moved") { id } }`,
				map[string]any{"id": h.PostHearing.ID, "s": starts.Add(time.Hour).Format(time.RFC3339), "e": starts.Add(2 * time.Hour).Format(time.RFC3339)}).ok(nil)
		}
	}
	const nested = `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 200) { edges {
		id kind startsAt status sequence court { name timeZone } history { reason by fromStartsAt }
		case { docket court { name } victims { attends victim { pseudonym legalName } } }
		accompaniments { status advocate { username } victim { pseudonym } } } } }`
	vars := map[string]any{"f": base.Add(-time.Hour).Format(time.RFC3339), "t": base.Add(200 * 24 * time.Hour).Format(time.RFC3339)}
	statements := func(user string, want int) int64 {
		var out struct {
			Hearings struct{ Edges []struct{ ID string } }
		}
		before := e.db.Statements()
		e.gql(user, nested, vars).ok(&out)
		if got := len(out.Hearings.Edges); got != want {
			t.Fatalf("%s sees %d hearings, want %d", user, got, want)
		}
		return e.db.Statements() - before
	}

	post(0, 10)
	for _, user := range []string{"pros", "coord", "adv"} {
		ten := statements(user, 10)
		if ten == 0 {
			t.Fatalf("%s: no statements counted", user)
		}
		t.Logf("%s: %d statements over 10 hearings", user, ten)
	}
	tens := map[string]int64{}
	for _, user := range []string{"pros", "coord", "adv"} {
		tens[user] = statements(user, 10)
	}
	post(10, 100)
	for _, user := range []string{"pros", "coord", "adv"} {
		hundred := statements(user, 100)
		t.Logf("%s: %d statements over 100 hearings", user, hundred)
		if hundred > tens[user] {
			t.Errorf("%s: %d statements over 100 hearings, %d over 10: the count grows with the hearings", user, hundred, tens[user])
		}
	}
}
