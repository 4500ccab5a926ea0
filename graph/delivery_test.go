package graph_test

import "testing"

func TestDeliveries(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-8", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	// The victim released to the office that notice was given.
	e.release("coord", v.RegisterVictim.ID, "County Prosecutor")
	// The notification pipeline writes delivery rows; the test writes one as it would.
	if _, err := e.db.Writer.Exec(`INSERT INTO deliveries (kind, hearing_id, victim_id, channel, language, status, idempotency_key,
		created_at, sent_at, lead_time_minutes, reason) VALUES ('HEARING_CHANGED', ?, ?, 'SMS', 'es', 'SENT', 'k1',
		'2030-02-01T12:00:00.000Z', '2030-02-01T12:00:04.000Z', 45450, '')`, f.hearingID, v.RegisterVictim.ID); err != nil {
		t.Fatal(err)
	}
	const q = `query($v: ID, $h: ID) { deliveries(victimId: $v, hearingId: $h) { id kind channel language status createdAt sentAt leadTimeMinutes reason } }`
	var out struct {
		Deliveries []struct {
			Kind, Channel, Status, SentAt string
			LeadTimeMinutes               int
			Reason                        *string
		}
	}
	e.gql("coord", q, map[string]any{"v": v.RegisterVictim.ID, "h": f.hearingID}).ok(&out)
	if len(out.Deliveries) != 1 || out.Deliveries[0].Status != "SENT" || out.Deliveries[0].LeadTimeMinutes != 45450 ||
		out.Deliveries[0].SentAt != "2030-02-01T12:00:04Z" || out.Deliveries[0].Reason != nil {
		t.Fatalf("coordinator: %+v", out)
	}
	e.gql("pros", q, map[string]any{"h": f.hearingID}).ok(&out)
	if len(out.Deliveries) != 1 {
		t.Fatalf("prosecutor sees %d deliveries of its hearing", len(out.Deliveries))
	}
	for _, user := range []string{"adv2", "interp", "admin"} {
		e.gql(user, q, nil).ok(&out)
		if len(out.Deliveries) != 0 {
			t.Fatalf("%s sees %d deliveries", user, len(out.Deliveries))
		}
	}
	e.gql("pros2", q, map[string]any{"h": f.hearingID}).fails("NOT_FOUND")
	e.gql("interp", q, map[string]any{"v": v.RegisterVictim.ID}).fails("NOT_FOUND")
	e.gql("coord", q, map[string]any{"v": "x"}).fails("INVALID", "victimId")
	e.gql("", q, nil).fails("UNAUTHENTICATED")
}
