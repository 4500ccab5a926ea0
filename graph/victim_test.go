package graph_test

import (
	"strconv"
	"testing"
)

// victimView is what the tests read of a victim.
type victimView struct {
	ID                string
	Pseudonym         string
	PreferredLanguage string
	LegalName         *string
	Contacts          *[]struct{ Channel, Address string }
	Policy            *struct{ Channels []struct{ Channel string } }
}

const readVictim = `query($id: ID!) { victim(id: $id) { id pseudonym preferredLanguage legalName contacts { channel address } policy { channels { channel } } } }`

// victimFixture adds to fixture a victim registered by coord, the case shared with coord's
// organisation, the victim's release to the office, the victim linked to the case, and adv
// assigned to accompany the victim to the hearing.
type victimFixture struct {
	fixture
	victimID string
}

func (e *env) setUpVictim() victimFixture {
	e.t.Helper()
	f := victimFixture{fixture: e.setUp()}
	var reg struct{ RegisterVictim victimView }
	e.gql("coord", `mutation($in: RegisterVictimInput!) {
  registerVictim(input: $in) { id pseudonym preferredLanguage legalName contacts { channel address } }
}`, map[string]any{"in": map[string]any{"pseudonym": "V-17-R", "legalName": "Demo Person A", "preferredLanguage": "es-MX",
		"contacts": []any{map[string]any{"channel": "SMS", "address": "+12025550100"}}}}).ok(&reg)
	v := reg.RegisterVictim
	if v.Pseudonym != "V-17-R" || v.PreferredLanguage != "es-MX" || v.LegalName == nil || *v.LegalName != "Demo Person A" ||
		v.Contacts == nil || len(*v.Contacts) != 1 || (*v.Contacts)[0].Address != "+12025550100" {
		e.t.Fatalf("registered victim as the coordinator sees it: %+v", v)
	}
	f.victimID = v.ID
	// The office shares the case with Safe Harbor, and the victim releases to the office what
	// case coordination needs (pseudonym, attendance, accompaniment).
	e.share("pros", f.caseID, "Safe Harbor")
	e.release("coord", f.victimID, "County Prosecutor")

	var link struct {
		LinkVictim struct {
			ID      string
			Victims []struct {
				Attends bool
				Victim  struct{ ID, Pseudonym string }
			}
		}
	}
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id victims { attends victim { id pseudonym } } } }`,
		map[string]any{"c": f.caseID, "v": f.victimID}).ok(&link)
	if l := link.LinkVictim; l.ID != f.caseID || len(l.Victims) != 1 || !l.Victims[0].Attends || l.Victims[0].Victim.ID != f.victimID {
		e.t.Fatalf("linked case: %+v", l)
	}

	var acc struct {
		AssignAdvocate struct {
			ID, Status string
			Advocate   struct{ Username, Role string }
			Victim     struct{ Pseudonym string }
			Hearing    struct{ ID string }
		}
	}
	e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) {
  assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id status advocate { username role } victim { pseudonym } hearing { id } }
}`, map[string]any{"h": f.hearingID, "v": f.victimID, "a": strconv.FormatInt(e.users["adv"].ID, 10)}).ok(&acc)
	if a := acc.AssignAdvocate; a.Status != "ASSIGNED" || a.Advocate.Username != "adv" || a.Advocate.Role != "ADVOCATE" ||
		a.Victim.Pseudonym != "V-17-R" || a.Hearing.ID != f.hearingID {
		e.t.Fatalf("accompaniment: %+v", a)
	}
	return f
}

func TestVictimVisibility(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()

	read := func(e *env, user string) (*response, *victimView) {
		var out struct{ Victim *victimView }
		r := e.gql(user, readVictim, map[string]any{"id": f.victimID})
		if len(r.Errors) == 0 {
			r.ok(&out)
		}
		return r, out.Victim
	}

	t.Run("the accompanying advocate sees the legal name", func(t *testing.T) {
		e := e.with(t)
		_, v := read(e, "adv")
		if v == nil || v.LegalName == nil || *v.LegalName != "Demo Person A" || v.Contacts == nil || len(*v.Contacts) != 1 || v.Policy == nil {
			t.Fatalf("adv sees %+v", v)
		}
	})
	t.Run("the coordinator sees the legal name", func(t *testing.T) {
		e := e.with(t)
		_, v := read(e, "coord")
		if v == nil || v.LegalName == nil || *v.LegalName != "Demo Person A" {
			t.Fatalf("coord sees %+v", v)
		}
	})
	t.Run("the prosecutor sees the pseudonym only", func(t *testing.T) {
		e := e.with(t)
		_, v := read(e, "pros")
		if v == nil || v.Pseudonym != "V-17-R" || v.LegalName != nil || v.Contacts != nil || v.Policy != nil {
			t.Fatalf("pros sees %+v", v)
		}
	})
	t.Run("an interpreter does not see the victim at all", func(t *testing.T) {
		e := e.with(t)
		r, v := read(e, "interp")
		r.fails("NOT_FOUND")
		if v != nil || string(r.Data) != `{"victim":null}` {
			t.Fatalf("interp sees %s", r.Data)
		}
	})
	t.Run("an advocate who does not accompany the victim sees no legal name", func(t *testing.T) {
		e := e.with(t)
		r, v := read(e, "adv2")
		if v != nil && (v.LegalName != nil || v.Contacts != nil) {
			t.Fatalf("adv2 sees %s", r.Data)
		}
	})
	t.Run("through the hearing, the prosecutor sees the accompaniment by pseudonym", func(t *testing.T) {
		e := e.with(t)
		var out struct {
			Hearing struct {
				Accompaniments []struct {
					Status   string
					Advocate struct{ Username string }
					Victim   victimView
				}
				Case struct {
					Victims []struct{ Victim victimView }
				}
			}
		}
		e.gql("pros", `query($id: ID!) { hearing(id: $id) {
  accompaniments { status advocate { username } victim { pseudonym legalName contacts { address } } }
  case { victims { victim { pseudonym legalName contacts { address } } } } } }`, map[string]any{"id": f.hearingID}).ok(&out)
		as := out.Hearing.Accompaniments
		if len(as) != 1 || as[0].Advocate.Username != "adv" || as[0].Victim.Pseudonym != "V-17-R" || as[0].Victim.LegalName != nil || as[0].Victim.Contacts != nil {
			t.Fatalf("accompaniments: %+v", as)
		}
		vs := out.Hearing.Case.Victims
		if len(vs) != 1 || vs[0].Victim.Pseudonym != "V-17-R" || vs[0].Victim.LegalName != nil {
			t.Fatalf("case victims: %+v", vs)
		}
	})
	t.Run("the accompanying advocate reads the hearing with the legal name", func(t *testing.T) {
		e := e.with(t)
		var out struct {
			Hearing struct {
				Accompaniments []struct{ Victim victimView }
			}
		}
		e.gql("adv", `query($id: ID!) { hearing(id: $id) { accompaniments { victim { legalName } } } }`,
			map[string]any{"id": f.hearingID}).ok(&out)
		if as := out.Hearing.Accompaniments; len(as) != 1 || as[0].Victim.LegalName == nil || *as[0].Victim.LegalName != "Demo Person A" {
			t.Fatalf("adv's accompaniments: %+v", as)
		}
	})
}

func TestVictimMutationsRefused(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	adv := strconv.FormatInt(e.users["adv"].ID, 10)

	e.gql("pros", `mutation { registerVictim(input: {pseudonym: "X", preferredLanguage: "en"}) { id } }`, nil).fails("FORBIDDEN")
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "", preferredLanguage: "en"}) { id } }`, nil).
		fails("INVALID", "input.pseudonym")
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "Y", preferredLanguage: "not a language!"}) { id } }`, nil).
		fails("INVALID", "input.preferredLanguage")
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "Y", preferredLanguage: "en", contacts: [{channel: SMS, address: " "}]}) { id } }`, nil).
		fails("INVALID", "input.contacts")
	e.gql("pros", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: false) { id } }`,
		map[string]any{"c": f.caseID, "v": f.victimID}).fails("FORBIDDEN")
	e.gql("pros", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": f.hearingID, "v": f.victimID, "a": adv}).fails("FORBIDDEN")
	e.gql("coord", `mutation($h: ID!, $v: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: "x") { id } }`,
		map[string]any{"h": f.hearingID, "v": f.victimID}).fails("INVALID", "advocateId")

	// Nothing was written: the case still has one victim who attends, the hearing one accompaniment.
	var out struct {
		Hearing struct {
			Accompaniments []struct{ ID string }
			Case           struct {
				Victims []struct{ Attends bool }
			}
		}
	}
	e.gql("coord", `query($id: ID!) { hearing(id: $id) { accompaniments { id } case { victims { attends } } } }`,
		map[string]any{"id": f.hearingID}).ok(&out)
	if len(out.Hearing.Accompaniments) != 1 || len(out.Hearing.Case.Victims) != 1 || !out.Hearing.Case.Victims[0].Attends {
		t.Fatalf("after refused mutations: %+v", out.Hearing)
	}
}
