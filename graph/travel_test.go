package graph_test

import (
	"testing"
)

func TestCourtHoursAndTravelTime(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	const create = `mutation($in: CourtInput!) { createCourt(input: $in) { id opensAt closesAt } }`
	var night struct {
		CreateCourt struct{ ID, OpensAt, ClosesAt string }
	}
	e.gql("admin", create, map[string]any{"in": map[string]any{"name": "Night Court", "timeZone": "America/Chicago",
		"opensAt": "12:00", "closesAt": "24:00"}}).ok(&night)
	if night.CreateCourt.OpensAt != "12:00" || night.CreateCourt.ClosesAt != "24:00" {
		t.Fatalf("night court %+v", night)
	}
	var courts struct {
		Courts []struct{ ID, Name, OpensAt, ClosesAt string }
	}
	e.gql("adv", `{ courts { id name opensAt closesAt } }`, nil).ok(&courts)
	if len(courts.Courts) != 2 || courts.Courts[0].Name != "County Courthouse" || courts.Courts[0].OpensAt != "08:00" ||
		courts.Courts[0].ClosesAt != "18:00" || courts.Courts[1].OpensAt != "12:00" {
		t.Fatalf("courts %+v", courts)
	}
	for _, tt := range []struct {
		name, opens, closes, field string
	}{
		{"not a time", "8am", "18:00", "input.opensAt"},
		{"past midnight", "08:00", "24:30", "input.closesAt"},
		{"closes before it opens", "18:00", "09:00", "input.closesAt"},
		{"only an opening after the default close", "19:00", "", "input.closesAt"},
	} {
		in := map[string]any{"name": "Court " + tt.name, "timeZone": "UTC", "opensAt": tt.opens}
		if tt.closes != "" {
			in["closesAt"] = tt.closes
		}
		t.Run(tt.name, func(t *testing.T) {
			e.with(t).gql("admin", create, map[string]any{"in": in}).fails("INVALID", tt.field)
		})
	}

	const set = `mutation($a: ID!, $b: ID!, $m: Int!) { setTravelTime(fromCourtId: $a, toCourtId: $b, minutes: $m) }`
	const get = `query($a: ID!, $b: ID!) { travelTime(fromCourtId: $a, toCourtId: $b) }`
	pair := func(m int) map[string]any { return map[string]any{"a": f.courtID, "b": night.CreateCourt.ID, "m": m} }
	var travel struct{ TravelTime int }
	e.gql("adv", get, pair(0)).ok(&travel)
	if travel.TravelTime != 60 {
		t.Fatalf("default travel time %d", travel.TravelTime)
	}
	var setOut struct{ SetTravelTime int }
	e.gql("admin", set, pair(95)).ok(&setOut)
	if setOut.SetTravelTime != 95 {
		t.Fatalf("set %d", setOut.SetTravelTime)
	}
	e.gql("interp", get, map[string]any{"a": night.CreateCourt.ID, "b": f.courtID}).ok(&travel)
	if travel.TravelTime != 95 {
		t.Fatalf("the other way round: %d", travel.TravelTime)
	}
	e.gql("admin", set, map[string]any{"a": f.courtID, "b": f.courtID, "m": 5}).fails("INVALID", "toCourtId")
	e.gql("admin", set, pair(721)).fails("INVALID", "minutes")
	e.gql("admin", set, pair(-5)).fails("INVALID", "minutes")
	e.gql("admin", set, map[string]any{"a": f.courtID, "b": "999", "m": 5}).fails("NOT_FOUND")
	e.gql("admin", set, map[string]any{"a": "x", "b": f.courtID, "m": 5}).fails("INVALID", "fromCourtId")
	// Travel times are every organisation's: a coordinator may no longer change the buffers
	// other organisations plan with.
	e.gql("coord", set, pair(5)).fails("FORBIDDEN")
	e.gql("adv", set, pair(5)).fails("FORBIDDEN")
	e.gql("pros", set, pair(5)).fails("FORBIDDEN")
	e.gql("", set, pair(5)).fails("UNAUTHENTICATED")
	e.gql("", get, pair(0)).fails("UNAUTHENTICATED")
	e.gql("admin", get, map[string]any{"a": f.courtID, "b": "999"}).fails("NOT_FOUND")
	e.gql("admin", get, pair(0)).ok(&travel)
	if travel.TravelTime != 95 {
		t.Fatalf("refused settings changed the time: %d", travel.TravelTime)
	}
}
