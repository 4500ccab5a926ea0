package storage_test

import (
	"context"
	"courtside/storage"
	"strings"
	"testing"
	"time"

	"courtside"
)

// sendAll leases every due delivery and records it SENT as the worker does, with the
// provider ID sidPrefix+id for text messages and the escalation time of a victim's notice
// under window. It returns the victim's deliveries it sent.
func (w *noticeWorld) sendAll(t *testing.T, sidPrefix string, window time.Duration) []*courtside.PendingDelivery {
	t.Helper()
	ctx := context.Background()
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var victims []*courtside.PendingDelivery
	for _, d := range leased {
		o := courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true, Detail: courtside.DetailContentFree}
		if d.Channel == courtside.ChannelSMS {
			o.ProviderID = sidPrefix + strings.ReplaceAll(d.IdempotencyKey, "-", "")
		}
		if d.VictimID != 0 {
			o.EscalateAt, _ = courtside.AckDeadline(d.Kind, w.now, d.Notice.Hearing.StartsAt, window)
			victims = append(victims, d)
		}
		if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, d, o); err != nil {
			t.Fatal(err)
		}
	}
	return victims
}

// delivery reads one delivery's evidence as the coordinator sees it.
func (w *noticeWorld) delivery(t *testing.T, id int64) *courtside.Delivery {
	t.Helper()
	ds, err := storage.NewDeliveryService(w.db).FindDeliveries(w.as(w.coordinator), courtside.DeliveryFilter{VictimID: &w.victim.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("delivery %d not found", id)
	return nil
}

// twoWayCounts are the rows a refused link or callback must not change.
func (w *noticeWorld) twoWayCounts(t *testing.T) map[string]int {
	t.Helper()
	out := w.counts(t)
	for _, table := range []string{"deliveries", "requests", "notice_link_uses", "sms_inbound", "sms_receipts", "victim_sms_stops"} {
		out[table] = w.count(t, table)
	}
	var acked int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE acknowledged_at IS NOT NULL`).Scan(&acked); err != nil {
		t.Fatal(err)
	}
	out["acknowledged"] = acked
	return out
}

func TestNoticeLink_SignedSingleUseAndExpiring(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	sent := w.sendAll(t, "SM", courtside.DefaultAckWindow)
	if len(sent) != 1 || sent[0].Kind != courtside.NotifyHearingScheduled {
		t.Fatalf("sent to the victim: %+v", sent)
	}
	d := sent[0]
	ctx := context.Background()
	token := storage.NewNoticeLinkService(w.db).NoticeLinkToken(d.ID, w.victim.ID, d.Notice.Hearing.StartsAt)
	if len(token) != 34 {
		t.Errorf("token %q is %d characters", token, len(token))
	}
	n, err := storage.NewNoticeLinkService(w.db).FindNoticeByLink(ctx, d.ID, token)
	if err != nil {
		t.Fatal(err)
	}
	if n.Delivery.ID != d.ID || n.Detail != courtside.DetailContentFree || len(n.Answers) != 0 || n.Language != "es-MX" || n.Acknowledged {
		t.Errorf("notice = %+v", n)
	}
	before := w.twoWayCounts(t)
	forged := []byte(token)
	forged[20] ^= 1
	if forged[20] == '-' || forged[20] == '_' {
		forged[20] = 'A'
	}
	other := storage.NewNoticeLinkService(w.db).NoticeLinkToken(d.ID, w.victim.ID+1, d.Notice.Hearing.StartsAt)
	expired := storage.NewNoticeLinkService(w.db).NoticeLinkToken(d.ID, w.victim.ID, w.now.Add(-time.Second))
	for name, c := range map[string]struct {
		id    int64
		token string
		code  string
		field string
	}{
		"forged":           {d.ID, string(forged), courtside.ENOTFOUND, ""},
		"another victim's": {d.ID, other, courtside.ENOTFOUND, ""},
		"another delivery": {d.ID + 1, token, courtside.ENOTFOUND, ""},
		"no such delivery": {99999, token, courtside.ENOTFOUND, ""},
		"garbage":          {d.ID, "not-a-token", courtside.ENOTFOUND, ""},
		"empty":            {d.ID, "", courtside.ENOTFOUND, ""},
		"expired":          {d.ID, expired, courtside.ECONFLICT, "expired"},
	} {
		if _, err := storage.NewNoticeLinkService(w.db).FindNoticeByLink(ctx, c.id, c.token); courtside.ErrorCode(err) != c.code || courtside.ErrorField(err) != c.field {
			t.Errorf("%s: find: %v, want %s %s", name, err, c.code, c.field)
		}
		if _, err := storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, c.id, c.token, nil); courtside.ErrorCode(err) != c.code || courtside.ErrorField(err) != c.field {
			t.Errorf("%s: acknowledge: %v, want %s %s", name, err, c.code, c.field)
		}
	}
	// A link of the staff's messages acknowledges nothing: only victims' deliveries have links.
	var staffID int64
	if err := w.db.Writer.QueryRow(`SELECT id FROM deliveries WHERE user_id IS NOT NULL LIMIT 1`).Scan(&staffID); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, staffID, storage.NewNoticeLinkService(w.db).NoticeLinkToken(staffID, 0, d.Notice.Hearing.StartsAt), nil); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("a staff delivery's link: %v", err)
	}
	// A content-free page offers no answers: none may be given.
	if _, err := storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, d.ID, token, []courtside.RequestKind{courtside.RequestInterpreter}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("an answer the page did not offer: %v", err)
	}
	sameCounts(t, "refused links", before, w.twoWayCounts(t))

	w.now = w.now.Add(time.Hour)
	n, err = storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, d.ID, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := w.delivery(t, d.ID)
	if !n.Acknowledged || got.AcknowledgedBy != courtside.AckByLink || got.AcknowledgedAt == nil || !got.AcknowledgedAt.Equal(w.now) {
		t.Fatalf("after the link: %+v", got)
	}
	// Replayed: refused, and the first acknowledgement stands.
	before = w.twoWayCounts(t)
	if _, err := storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, d.ID, token, nil); courtside.ErrorCode(err) != courtside.ECONFLICT || courtside.ErrorField(err) != "used" {
		t.Errorf("the link again: %v", err)
	}
	if _, err := storage.NewNoticeLinkService(w.db).FindNoticeByLink(ctx, d.ID, token); courtside.ErrorField(err) != "used" {
		t.Errorf("looking at a used link: %v", err)
	}
	sameCounts(t, "a replayed link", before, w.twoWayCounts(t))
	if raw := w.rawDatabase(t); strings.Contains(raw, token) {
		t.Error("the token is stored")
	}
	w.auditHas(t, "notice.acknowledge", "delivery:")
}

// auditHas fails unless an audit row has action and an object starting with prefix.
func (w *noticeWorld) auditHas(t *testing.T, action, prefix string) {
	t.Helper()
	var n int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = ? AND object LIKE ?`, action, prefix+"%").Scan(&n); err != nil || n == 0 {
		t.Errorf("no %s audit row on %s... (%v)", action, prefix, err)
	}
}

// rawDatabase returns the database file and its WAL as text, after a checkpoint.
func (w *noticeWorld) rawDatabase(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	rows, err := w.db.Writer.Query(`SELECT token_hash FROM notice_link_uses`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		out.Write(h)
	}
	for _, table := range []string{"audit_log", "events", "deliveries", "requests", "sms_inbound"} {
		r, err := w.db.Writer.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					out.WriteString(v + "\n")
				case []byte:
					out.Write(append(v, '\n'))
				}
			}
		}
		r.Close()
	}
	return out.String()
}

func TestNoticeLink_AnswersBecomeRequestsTheCoordinatorCloses(t *testing.T) {
	w := newNoticeWorld(t)
	// The victim's texts give the date and time: the page may offer answers.
	policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(w.as(w.coordinator), w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	ctx := context.Background()
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var d *courtside.PendingDelivery
	for _, x := range leased {
		detail := courtside.DetailFull
		if x.VictimID != 0 {
			d, detail = x, courtside.DetailMinimal
		}
		if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, x, courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true, Detail: detail}); err != nil {
			t.Fatal(err)
		}
	}
	token := storage.NewNoticeLinkService(w.db).NoticeLinkToken(d.ID, w.victim.ID, d.Notice.Hearing.StartsAt)
	n, err := storage.NewNoticeLinkService(w.db).FindNoticeByLink(ctx, d.ID, token)
	if err != nil || len(n.Answers) != 4 || n.Detail != courtside.DetailMinimal {
		t.Fatalf("notice = %+v, %v", n, err)
	}
	if _, err := storage.NewNoticeLinkService(w.db).AcknowledgeByLink(ctx, d.ID, token, []courtside.RequestKind{courtside.RequestInterpreter, courtside.RequestTransport, courtside.RequestInterpreter}); err != nil {
		t.Fatal(err)
	}
	rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.coordinator), courtside.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Kind != courtside.RequestInterpreter || rs[1].Kind != courtside.RequestTransport ||
		rs[0].Status != courtside.RequestOpen || rs[0].Via != courtside.AckByLink || rs[0].HearingID != w.hearing.ID || rs[0].DeliveryID != d.ID {
		t.Fatalf("requests = %+v", rs)
	}
	evs := w.lastEvents(t, 2)
	if evs[0].Type != courtside.EventRequestCreated || evs[0].RequestID != rs[0].ID || evs[0].VictimID != w.victim.ID {
		t.Errorf("events = %+v", evs)
	}
	// The coordinators are told, naming the victim by pseudonym only.
	w.drain(t)
	var kinds []string
	rows, err := w.db.Writer.Query(`SELECT kind, audience, notice FROM deliveries WHERE kind = 'REQUEST_CREATED' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, a, notice string
		if err := rows.Scan(&k, &a, &notice); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, k+" "+a)
		if !strings.Contains(notice, `"pseudonym":"V-3"`) || strings.Contains(notice, "Hidden") {
			t.Errorf("request message facts: %s", notice)
		}
	}
	rows.Close()
	if len(kinds) != 2 || kinds[0] != "REQUEST_CREATED COORDINATOR" {
		t.Errorf("messages about the requests: %v", kinds)
	}
	// The advocate accompanying the victim sees them; other roles may not; the other
	// organisation sees none.
	if rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.advocate), courtside.RequestFilter{}); err != nil || len(rs) != 2 {
		t.Errorf("advocate: %d requests, %v", len(rs), err)
	}
	if rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.otherCoordin), courtside.RequestFilter{}); err != nil || len(rs) != 0 {
		t.Errorf("other organisation: %d requests, %v", len(rs), err)
	}
	for _, u := range []*courtside.User{w.interpreter, w.prosecutor, w.admin} {
		if _, err := storage.NewRequestService(w.db).FindRequests(w.as(u), courtside.RequestFilter{}); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			t.Errorf("%s: %v", u.Username, err)
		}
	}
	if _, err := storage.NewRequestService(w.db).CloseRequest(w.as(w.otherCoordin), rs[0].ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("another organisation closes: %v", err)
	}
	closed, err := storage.NewRequestService(w.db).CloseRequest(w.as(w.coordinator), rs[0].ID)
	if err != nil || closed.Status != courtside.RequestClosed || closed.ClosedAt == nil || closed.ClosedBy != w.coordinator.ID {
		t.Fatalf("closed = %+v, %v", closed, err)
	}
	if _, err := storage.NewRequestService(w.db).CloseRequest(w.as(w.coordinator), rs[0].ID); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := storage.NewRequestService(w.db).ConfirmSMSRestart(w.as(w.coordinator), rs[1].ID); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("restarting SMS with a transport request: %v", err)
	}
	open := courtside.RequestOpen
	if rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.coordinator), courtside.RequestFilter{Status: &open}); err != nil || len(rs) != 1 {
		t.Errorf("open requests: %d, %v", len(rs), err)
	}
	w.auditHas(t, "request.create", "request:")
	w.auditHas(t, "request.close", "request:")
}

func TestInboundSMS_ReplyAcknowledgesTheLatestNoticeToThatNumber(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	first := w.sendAll(t, "SMA", courtside.DefaultAckWindow)
	w.now = w.now.Add(time.Hour)
	moved := w.hearing.StartsAt.Add(2 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	second := w.sendAll(t, "SMB", courtside.DefaultAckWindow)
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("sent %d then %d notices to the victim", len(first), len(second))
	}
	ctx := context.Background()
	before := w.twoWayCounts(t)
	// The number as the phone company writes it, not as it was registered.
	res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMin1", From: "+1 (202) 555-0123", Action: courtside.SMSAck})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply != courtside.ReplyAck || res.Language != "es-MX" || res.Replayed {
		t.Errorf("result = %+v", res)
	}
	if got := w.delivery(t, second[0].ID); got.AcknowledgedBy != courtside.AckBySMSReply || got.AcknowledgedAt == nil {
		t.Errorf("the latest notice: %+v", got)
	}
	if got := w.delivery(t, first[0].ID); got.AcknowledgedAt != nil {
		t.Errorf("the earlier notice was acknowledged too: %+v", got)
	}
	// The same message again (the gateway retried): the same reply, nothing changed.
	mid := w.twoWayCounts(t)
	again, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMin1", From: "+12025550123", Action: courtside.SMSAck})
	if err != nil || !again.Replayed || again.Reply != courtside.ReplyAck {
		t.Errorf("replayed: %+v, %v", again, err)
	}
	sameCounts(t, "a replayed message", mid, w.twoWayCounts(t))
	if after := w.twoWayCounts(t); after["sms_inbound"] != before["sms_inbound"]+1 || after["acknowledged"] != before["acknowledged"]+1 {
		t.Errorf("counts %v -> %v", before, after)
	}
	// An answer by keyword is a request about the latest notice's hearing.
	res, err = storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMin2", From: "+12025550123", Action: courtside.SMSAnswer, Answer: courtside.RequestAccompaniment})
	if err != nil || res.Reply != courtside.ReplyAnswer {
		t.Fatalf("answer: %+v, %v", res, err)
	}
	rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.coordinator), courtside.RequestFilter{})
	if err != nil || len(rs) != 1 || rs[0].Kind != courtside.RequestAccompaniment || rs[0].Via != courtside.AckBySMSReply || rs[0].DeliveryID != second[0].ID {
		t.Errorf("requests = %+v, %v", rs, err)
	}
	// A number nobody has: nothing happens and nothing is texted back.
	res, err = storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMin3", From: "+12025550199", Action: courtside.SMSAck})
	if err != nil || res.Reply != courtside.ReplyNone {
		t.Errorf("unknown number: %+v, %v", res, err)
	}
	for _, bad := range []courtside.InboundSMS{{MessageID: "", From: "+12025550123", Action: courtside.SMSAck},
		{MessageID: "SM<script>", From: "+12025550123", Action: courtside.SMSAck},
		{MessageID: "SMx", From: "+12025550123", Action: "DANCE"},
		{MessageID: "SMx", From: "+12025550123", Action: courtside.SMSAnswer, Answer: "PIZZA"}} {
		if _, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, bad); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// The lookup is audited by victim; nothing stores the number or the reply's words.
	w.auditHas(t, "victim.find_by_inbound_sms", "victim:")
	if raw := w.rawDatabase(t); strings.Contains(raw, "2025550123") || strings.Contains(raw, "202) 555") {
		t.Error("the number is stored in the clear")
	}
}

func TestInboundSMS_StopWithdrawsAtOnceStartWaitsForTheAdvocate(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	w.sendAll(t, "SM", courtside.DefaultAckWindow)
	ctx := context.Background()
	if _, err := storage.NewRequestService(w.db).SetSMSHelp(w.as(w.coordinator), courtside.SMSHelpSettings{NeutralName: "Harbor Office", Reach: "+1 555 0100"}); err != nil {
		t.Fatal(err)
	}
	res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMstop1", From: "+12025550123", Action: courtside.SMSStop, Language: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply != courtside.ReplyStop || res.Help.NeutralName != "Harbor Office" {
		t.Errorf("STOP: %+v", res)
	}
	v, err := storage.NewVictimService(w.db).OpenVictimPII(w.as(w.coordinator), w.victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v[0].Policy.Rule(courtside.ChannelSMS).Allowed {
		t.Fatalf("SMS still allowed after STOP: %+v", v[0].Policy)
	}
	// The advocate is told, naming the victim by pseudonym.
	var audience, notice string
	if err := w.db.Writer.QueryRow(`SELECT audience, notice FROM deliveries WHERE kind = 'SMS_STOPPED'`).Scan(&audience, &notice); err != nil {
		t.Fatal(err)
	}
	if audience != "ADVOCATE" || !strings.Contains(notice, "V-3") {
		t.Errorf("SMS_STOPPED to %s: %s", audience, notice)
	}
	// STOP is confirmed once: a second STOP changes nothing and texts nothing back.
	before := w.twoWayCounts(t)
	res, err = storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMstop2", From: "+12025550123", Action: courtside.SMSStop})
	if err != nil || res.Reply != courtside.ReplyNone {
		t.Errorf("STOP again: %+v, %v", res, err)
	}
	if after := w.twoWayCounts(t); after["deliveries"] != before["deliveries"] || after["victim_sms_stops"] != before["victim_sms_stops"] {
		t.Errorf("a second STOP planned or stopped again: %v -> %v", before, after)
	}
	// A YES after STOP acknowledges but texts nothing back.
	if res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMyes", From: "+12025550123", Action: courtside.SMSAck}); err != nil || res.Reply != courtside.ReplyNone {
		t.Errorf("YES after STOP: %+v, %v", res, err)
	}
	// HELP is always answered, with the organisation's neutral name and how to reach it.
	if res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMhelp", From: "+12025550123", Action: courtside.SMSHelp}); err != nil ||
		res.Reply != courtside.ReplyHelp || res.Help.Reach != "+1 555 0100" {
		t.Errorf("HELP: %+v, %v", res, err)
	}
	// START restores nothing by itself: it asks the advocate.
	res, err = storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMstart", From: "+12025550123", Action: courtside.SMSStart})
	if err != nil || res.Reply != courtside.ReplyStart {
		t.Fatalf("START: %+v, %v", res, err)
	}
	if v, _ := storage.NewVictimService(w.db).OpenVictimPII(w.as(w.coordinator), w.victim.ID); v[0].Policy.Rule(courtside.ChannelSMS).Allowed {
		t.Fatal("START restored SMS without the advocate")
	}
	if res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMstart2", From: "+12025550123", Action: courtside.SMSStart}); err != nil || res.Reply != courtside.ReplyNone {
		t.Errorf("START again: %+v, %v", res, err)
	}
	restart := courtside.RequestOpen
	rs, err := storage.NewRequestService(w.db).FindRequests(w.as(w.advocate), courtside.RequestFilter{Status: &restart})
	if err != nil || len(rs) != 1 || rs[0].Kind != courtside.RequestSMSRestart {
		t.Fatalf("the advocate's open requests: %+v, %v", rs, err)
	}
	var asked int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE kind = 'SMS_START_REQUESTED' AND audience = 'ADVOCATE'`).Scan(&asked); err != nil || asked != 1 {
		t.Errorf("SMS_START_REQUESTED to the advocate: %d, %v", asked, err)
	}
	// The request.created event plans nothing for the coordinators: the advocate was asked.
	w.drain(t)
	var told int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE kind = 'REQUEST_CREATED'`).Scan(&told); err != nil || told != 0 {
		t.Errorf("REQUEST_CREATED for a restart: %d, %v", told, err)
	}
	if _, err := storage.NewRequestService(w.db).ConfirmSMSRestart(w.as(w.otherAdvocate), rs[0].ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("an advocate who does not accompany the victim: %v", err)
	}
	closed, err := storage.NewRequestService(w.db).ConfirmSMSRestart(w.as(w.advocate), rs[0].ID)
	if err != nil || closed.Outcome != "SMS_RESTORED" || closed.Status != courtside.RequestClosed {
		t.Fatalf("confirm: %+v, %v", closed, err)
	}
	v, _ = storage.NewVictimService(w.db).OpenVictimPII(w.as(w.coordinator), w.victim.ID)
	if rule := v[0].Policy.Rule(courtside.ChannelSMS); !rule.Allowed || rule.Detail != courtside.DetailContentFree {
		t.Errorf("after the advocate confirmed: %+v", rule)
	}
	w.auditHas(t, "victim.sms_stop", "victim:")
	w.auditHas(t, "victim.sms_start_request", "request:")
	w.auditHas(t, "victim.sms_restart", "victim:")
	// A STOP after the restart withdraws again, and is confirmed again.
	if res, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMstop3", From: "+12025550123", Action: courtside.SMSStop}); err != nil || res.Reply != courtside.ReplyStop {
		t.Errorf("STOP after the restart: %+v, %v", res, err)
	}
}

func TestSMSReceipts_DeliveredFailedAndIdempotent(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	ctx := context.Background()
	sent := w.sendAll(t, "SM", courtside.DefaultAckWindow)
	d := sent[0]
	sid := "SM" + strings.ReplaceAll(d.IdempotencyKey, "-", "")
	for _, bad := range []courtside.SMSReceipt{{MessageID: "", Status: courtside.DeliveryDelivered},
		{MessageID: sid, Status: courtside.DeliverySent}, {MessageID: sid, Status: courtside.DeliveryFailed, ErrorCode: "30003; drop"}} {
		if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, bad); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, courtside.SMSReceipt{MessageID: sid, Status: courtside.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	if got := w.delivery(t, d.ID); got.Status != courtside.DeliveryDelivered {
		t.Errorf("after DELIVERED: %s", got.Status)
	}
	before := w.twoWayCounts(t)
	for i := 0; i < 2; i++ {
		if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, courtside.SMSReceipt{MessageID: sid, Status: courtside.DeliveryDelivered}); err != nil {
			t.Fatal(err)
		}
	}
	sameCounts(t, "a replayed receipt", before, w.twoWayCounts(t))
	// A failure after delivery changes nothing.
	if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, courtside.SMSReceipt{MessageID: sid, Status: courtside.DeliveryFailed, ErrorCode: "30003"}); err != nil {
		t.Fatal(err)
	}
	if got := w.delivery(t, d.ID); got.Status != courtside.DeliveryDelivered {
		t.Errorf("a failure after delivery: %s", got.Status)
	}

	// The change's text fails on the handset; its receipt arrived before the send was
	// recorded. SMS was the only channel: the advocate is told.
	moved := w.hearing.StartsAt.Add(time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var change *courtside.PendingDelivery
	for _, x := range leased {
		if x.VictimID != 0 {
			change = x
			continue
		}
		if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, x, courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, courtside.SMSReceipt{MessageID: "SMearly1", Status: courtside.DeliveryFailed, ErrorCode: "30006"}); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, change, courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true,
		Detail: courtside.DetailContentFree, ProviderID: "SMearly1"}); err != nil {
		t.Fatal(err)
	}
	got := w.delivery(t, change.ID)
	if got.Status != courtside.DeliveryFailed || !strings.Contains(got.Reason, "30006") {
		t.Errorf("after the early failure receipt: %+v", got)
	}
	var suppressed int
	if err := w.db.Writer.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE kind = 'NOTICE_SUPPRESSED' AND audience = 'ADVOCATE'`).Scan(&suppressed); err != nil || suppressed != 1 {
		t.Errorf("the advocate told of the failed text: %d, %v", suppressed, err)
	}
	// A receipt for a message Courtside never sent is kept and changes nothing else.
	before = w.twoWayCounts(t)
	if err := storage.NewInboundSMSService(w.db).RecordSMSReceipt(ctx, courtside.SMSReceipt{MessageID: "SMunknown", Status: courtside.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	if after := w.twoWayCounts(t); after["deliveries"] != before["deliveries"] || after["sms_receipts"] != before["sms_receipts"]+1 {
		t.Errorf("an unknown message's receipt: %v -> %v", before, after)
	}
}

func TestEscalation_UnacknowledgedNoticesReachTheAdvocateInTime(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	ctx := context.Background()
	sent := w.sendAll(t, "SM", 24*time.Hour)
	d := w.delivery(t, sent[0].ID)
	if d.EscalateAt == nil || !d.EscalateAt.Equal(w.now.Add(24*time.Hour)) {
		t.Fatalf("escalateAt = %v, want a day after sending", d.EscalateAt)
	}
	// Not yet due.
	w.now = w.now.Add(23 * time.Hour)
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 0 {
		t.Fatalf("before the window: %d, %v", n, err)
	}
	w.now = w.now.Add(time.Hour)
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 1 {
		t.Fatalf("at the end of the window: %d, %v", n, err)
	}
	var audience, notice, key string
	if err := w.db.Writer.QueryRow(`SELECT audience, notice, idempotency_key FROM deliveries WHERE kind = 'NOTICE_UNACKNOWLEDGED'`).Scan(&audience, &notice, &key); err != nil {
		t.Fatal(err)
	}
	if audience != "ADVOCATE" || !strings.Contains(notice, `"pseudonym":"V-3"`) || !strings.Contains(notice, `"channels":["SMS"]`) ||
		!strings.Contains(notice, `"noticeKind":"HEARING_SCHEDULED"`) || !strings.Contains(notice, `"docket"`) {
		t.Errorf("NOTICE_UNACKNOWLEDGED to %s: %s", audience, notice)
	}
	if got := w.delivery(t, d.ID); got.EscalatedAt == nil || !got.EscalatedAt.Equal(w.now) {
		t.Errorf("escalatedAt = %v", got.EscalatedAt)
	}
	// Once: the sweep running again escalates nothing.
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 0 {
		t.Errorf("again: %d, %v", n, err)
	}
	// Acknowledged late, the escalation message not yet sent is withdrawn.
	if _, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMlate", From: "+12025550123", Action: courtside.SMSAck}); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := w.db.Writer.QueryRow(`SELECT status FROM deliveries WHERE idempotency_key = ?`, key).Scan(&status); err != nil || status != "SUPPRESSED" {
		t.Errorf("the escalation after a late acknowledgement: %s, %v", status, err)
	}

	// The change, acknowledged in time, never escalates.
	moved := w.hearing.StartsAt.Add(time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	change := w.sendAll(t, "SMC", 24*time.Hour)
	w.now = w.now.Add(time.Hour)
	if _, err := storage.NewInboundSMSService(w.db).HandleInboundSMS(ctx, courtside.InboundSMS{MessageID: "SMintime", From: "+12025550123", Action: courtside.SMSAck}); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(48 * time.Hour)
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 0 {
		t.Errorf("an acknowledged notice escalated: %d, %v", n, err)
	}
	if got := w.delivery(t, change[0].ID); got.EscalatedAt != nil {
		t.Errorf("escalatedAt of an acknowledged notice: %v", got.EscalatedAt)
	}
	w.auditHas(t, "notice.escalate", "delivery:")
}

func TestEscalation_ALaterNoticeTakesOverAndTheCoordinatorsStandIn(t *testing.T) {
	w := newNoticeWorld(t)
	// No advocate accompanies the victim: the coordinators are told.
	if _, err := w.db.Writer.Exec(`UPDATE accompaniments SET status = 'CANCELLED'`); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	ctx := context.Background()
	first := w.sendAll(t, "SMA", 24*time.Hour)
	w.now = w.now.Add(time.Hour)
	moved := w.hearing.StartsAt.Add(time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	second := w.sendAll(t, "SMB", 24*time.Hour)
	// The first notice's time comes: the change, waiting for its own answer, covers it.
	w.now = w.now.Add(23*time.Hour + time.Minute)
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 0 {
		t.Fatalf("the covered notice: %d, %v", n, err)
	}
	if got := w.delivery(t, first[0].ID); got.EscalateAt != nil || got.EscalatedAt != nil {
		t.Errorf("the covered notice: %+v", got)
	}
	w.now = w.now.Add(time.Hour)
	if n, err := storage.NewDeliveryService(w.db).EscalateUnacknowledged(ctx, 100); err != nil || n != 1 {
		t.Fatalf("the change: %d, %v", n, err)
	}
	var audiences []string
	rows, err := w.db.Writer.Query(`SELECT audience FROM deliveries WHERE kind = 'NOTICE_UNACKNOWLEDGED'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		rows.Scan(&a)
		audiences = append(audiences, a)
	}
	rows.Close()
	if len(audiences) != 1 || audiences[0] != "COORDINATOR" {
		t.Errorf("told: %v", audiences)
	}
	if got := w.delivery(t, second[0].ID); got.EscalatedAt == nil {
		t.Errorf("the change's escalatedAt: %+v", got)
	}
}
