package graph_test

import (
	"context"
	"courtside/storage"
	"strconv"
	"testing"
	"time"

	"courtside"
)

func TestRequests_SeenAndClosedByTheVictimsSupporters(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	victimID, _ := strconv.ParseInt(f.victimID, 10, 64)
	hearingID, _ := strconv.ParseInt(f.hearingID, 10, 64)
	// The notification pipeline sent the victim a notice (the test writes the row as it would);
	// the victim answers through its link.
	var deliveryID int64
	err := e.db.Writer.QueryRow(`INSERT INTO deliveries (kind, hearing_id, victim_id, channel, language, status, idempotency_key,
		created_at, sent_at, detail, audience, escalate_at) VALUES ('HEARING_SCHEDULED', ?, ?, 'SMS', 'es', 'SENT', 'k1',
		'2030-02-01T12:00:00.000Z', '2030-02-01T12:00:04.000Z', 'MINIMAL', 'VICTIM', '2030-02-02T12:00:04.000Z') RETURNING id`, hearingID, victimID).Scan(&deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	token := storage.NewNoticeLinkService(e.db).NoticeLinkToken(deliveryID, victimID, time.Now().Add(time.Hour))
	if _, err := storage.NewNoticeLinkService(e.db).AcknowledgeByLink(context.Background(), deliveryID, token, []courtside.RequestKind{courtside.RequestInterpreter}); err != nil {
		t.Fatal(err)
	}

	var ev struct {
		Deliveries []struct {
			AcknowledgedAt, AcknowledgedBy, EscalateAt string
			EscalatedAt                                *string
		}
	}
	e.gql("coord", `query($v: ID) { deliveries(victimId: $v) { acknowledgedAt acknowledgedBy escalateAt escalatedAt } }`,
		map[string]any{"v": f.victimID}).ok(&ev)
	if len(ev.Deliveries) != 1 || ev.Deliveries[0].AcknowledgedBy != "LINK" || ev.Deliveries[0].AcknowledgedAt == "" ||
		ev.Deliveries[0].EscalateAt != "2030-02-02T12:00:04Z" || ev.Deliveries[0].EscalatedAt != nil {
		t.Fatalf("evidence: %+v", ev)
	}

	const q = `query($s: RequestStatus) { requests(status: $s) { id kind status via deliveryId createdAt closedAt outcome
		victim { id pseudonym legalName } hearing { id } } }`
	type requestView struct {
		ID, Kind, Status, Via, DeliveryID, CreatedAt string
		ClosedAt, Outcome                            *string
		Victim                                       struct {
			ID, Pseudonym string
			LegalName     *string
		}
		Hearing *struct{ ID string }
	}
	var out struct{ Requests []requestView }
	e.gql("coord", q, nil).ok(&out)
	if len(out.Requests) != 1 {
		t.Fatalf("coordinator: %+v", out)
	}
	r := out.Requests[0]
	if r.Kind != "INTERPRETER" || r.Status != "OPEN" || r.Via != "LINK" || r.DeliveryID != strconv.FormatInt(deliveryID, 10) ||
		r.Victim.Pseudonym != "V-17-R" || r.Victim.LegalName == nil || r.Hearing == nil || r.Hearing.ID != f.hearingID || r.ClosedAt != nil {
		t.Fatalf("the request as the coordinator sees it: %+v", r)
	}
	e.gql("adv", q, nil).ok(&out)
	if len(out.Requests) != 1 {
		t.Errorf("the accompanying advocate sees %d requests", len(out.Requests))
	}
	e.gql("adv2", q, nil).ok(&out)
	if len(out.Requests) != 0 {
		t.Errorf("another advocate sees %d requests", len(out.Requests))
	}
	for _, user := range []string{"pros", "interp", "admin"} {
		e.gql(user, q, nil).fails("FORBIDDEN")
	}
	e.gql("", q, nil).fails("UNAUTHENTICATED")

	const closeQ = `mutation($id: ID!) { closeRequest(id: $id) { id status closedAt } }`
	e.gql("adv2", closeQ, map[string]any{"id": r.ID}).fails("NOT_FOUND")
	e.gql("coord", `mutation($id: ID!) { confirmSMSRestart(id: $id) { id } }`, map[string]any{"id": r.ID}).fails("INVALID")
	e.gql("coord", closeQ, map[string]any{"id": "x"}).fails("INVALID", "id")
	var closed struct {
		CloseRequest struct{ Status, ClosedAt string }
	}
	e.gql("adv", closeQ, map[string]any{"id": r.ID}).ok(&closed)
	if closed.CloseRequest.Status != "CLOSED" || closed.CloseRequest.ClosedAt == "" {
		t.Errorf("closed: %+v", closed)
	}
	e.gql("coord", closeQ, map[string]any{"id": r.ID}).fails("CONFLICT")
	e.gql("coord", q, map[string]any{"s": "OPEN"}).ok(&out)
	if len(out.Requests) != 0 {
		t.Errorf("open requests after closing: %+v", out.Requests)
	}
}

func TestSMSHelp_CoordinatorsSetWhatHELPTells(t *testing.T) {
	e := newEnv(t)
	var none struct{ SMSHelp *struct{ NeutralName string } }
	e.gql("coord", `{ smsHelp { neutralName reach } }`, nil).ok(&none)
	if none.SMSHelp != nil {
		t.Errorf("before any is set: %+v", none.SMSHelp)
	}
	const set = `mutation($n: String!, $r: String!) { setSMSHelp(neutralName: $n, reach: $r) { neutralName reach } }`
	e.gql("coord", set, map[string]any{"n": "", "r": "+1 555 0100"}).fails("INVALID", "neutralName")
	e.gql("adv", set, map[string]any{"n": "Harbor Office", "r": "+1 555 0100"}).fails("FORBIDDEN")
	e.gql("coord", set, map[string]any{"n": " Harbor Office ", "r": "+1 555 0100"}).ok(nil)
	var got struct {
		SMSHelp struct{ NeutralName, Reach string }
	}
	e.gql("coord", `{ smsHelp { neutralName reach } }`, nil).ok(&got)
	if got.SMSHelp.NeutralName != "Harbor Office" || got.SMSHelp.Reach != "+1 555 0100" {
		t.Errorf("smsHelp = %+v", got)
	}
	e.gql("interp", `{ smsHelp { neutralName } }`, nil).fails("FORBIDDEN")
}
