package graph_test

import (
	"fmt"
	"testing"
)

// TestPIIOpenedOnlyWhenAsked checks that victim PII is decrypted and audited only when a query
// asks for a PII field, once per victim, however many places the victim appears in.
func TestPIIOpenedOnlyWhenAsked(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-3", legalName: "Name Three", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": f.hearingID, "v": v.RegisterVictim.ID, "a": fmt.Sprint(e.users["adv"].ID)}).ok(nil)
	reads := func() int {
		var n int
		if err := e.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'victim.read_pii'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const withoutPII = `query($h: ID!) { hearing(id: $h) { case { victims { victim { pseudonym } } } accompaniments { victim { pseudonym } } } }`
	const withPII = `query($h: ID!) { hearing(id: $h) { case { victims { victim { pseudonym legalName } } } accompaniments { victim { legalName contacts { address } } } } }`
	for _, user := range []string{"coord", "adv"} {
		before := reads()
		e.gql(user, withoutPII, map[string]any{"h": f.hearingID}).ok(nil)
		if n := reads() - before; n != 0 {
			t.Errorf("%s: a query without PII fields wrote %d PII-read audit rows", user, n)
		}
		var out struct {
			Hearing struct {
				Case struct {
					Victims []struct{ Victim struct{ LegalName string } }
				}
			}
		}
		e.gql(user, withPII, map[string]any{"h": f.hearingID}).ok(&out)
		if n := reads() - before; n != 1 || out.Hearing.Case.Victims[0].Victim.LegalName != "Name Three" {
			t.Errorf("%s: a query with PII fields wrote %d audit rows (want 1) and read %+v", user, n, out)
		}
	}
	before := reads()
	e.gql("pros", withPII, map[string]any{"h": f.hearingID}).ok(nil)
	if n := reads() - before; n != 0 {
		t.Errorf("a prosecutor's query opened PII: %d audit rows", n)
	}
}
