package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside/notify/notifytest"
	"courtside/storage"
)

// twoWay is a server with the notify sinks, the gateway's callbacks signed with its token,
// and a hearing ten days out.
type twoWay struct {
	s         *sinks
	w         *world
	srv       *server
	base      string
	caseID    string
	hearingID string
	advocate  string // the advocate's user ID
}

func startTwoWay(t *testing.T, env ...string) *twoWay {
	t.Helper()
	s := newSinks(t)
	s.env = append(s.env, "COURTSIDE_SMS_INBOUND_SECRET="+s.sms.AuthToken())
	s.env = append(s.env, env...)
	x := &twoWay{s: s, w: noticeWorld(t, s)}
	x.srv = startServerEnv(t, x.w.db, s.env)
	x.base = x.srv.url
	court := mustGQL(t, x.base, x.w.admin, `mutation { createCourt(input: {name: "Eastern Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, x.base, x.w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-03315", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	x.caseID = dig(kase, "openCase", "id").(string)
	shareCase(t, x.base, x.w.prosecutor, x.caseID, "Harbor Advocacy")
	starts := time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Hour)
	h := mustGQL(t, x.base, x.w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": x.caseID, "kind": "TRIAL", "startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(2 * time.Hour).Format(time.RFC3339),
		"courtroom": "9C", "externalId": "DA-3315"}})
	x.hearingID = dig(h, "postHearing", "id").(string)
	x.advocate = dig(mustGQL(t, x.base, x.w.advocate, `{ me { id } }`, nil), "me", "id").(string)
	return x
}

// victim registers a victim texted on phone at smsDetail (confirmed safe), with the
// organisation's webhook as the second channel, links them to the case and assigns the
// advocate. It returns the victim's ID.
func (x *twoWay) victim(t *testing.T, pseudonym, phone, smsDetail string) string {
	t.Helper()
	v := mustGQL(t, x.base, x.w.coordinator, `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"pseudonym": pseudonym, "legalName": "Sentinel Legalname", "preferredLanguage": "es",
		"contacts": []any{map[string]any{"channel": "SMS", "address": phone}, map[string]any{"channel": "WEBHOOK", "address": "client-" + pseudonym}}}})
	id := dig(v, "registerVictim", "id").(string)
	mustGQL(t, x.base, x.w.coordinator, `mutation($id: ID!, $in: ContactPolicyInput!) { setContactPolicy(victimId: $id, input: $in) { id } }`, map[string]any{
		"id": id, "in": map[string]any{"neutralSender": "Harbor Office", "channels": []any{
			map[string]any{"channel": "SMS", "allowed": true, "detail": smsDetail, "confirmedSafe": true},
			map[string]any{"channel": "WEBHOOK", "allowed": true, "detail": "FULL", "confirmedSafe": true},
		}}})
	mustGQL(t, x.base, x.w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": x.caseID, "v": id})
	mustGQL(t, x.base, x.w.coordinator, `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": x.hearingID, "v": id, "a": x.advocate})
	return id
}

// textsTo waits for n texts to the victim's phone, and for their sends to be recorded (the
// gateway has a text a moment before the worker records it SENT), and returns them.
func (x *twoWay) textsTo(t *testing.T, victimID, phone string, n int) []notifytest.SMSMessage {
	t.Helper()
	var out []notifytest.SMSMessage
	waitUntil(t, fmt.Sprintf("%d texts to %s", n, phone), func() bool {
		out = nil
		for _, m := range x.s.sms.Messages() {
			if m.To == phone {
				out = append(out, m)
			}
		}
		return len(out) >= n
	})
	waitUntil(t, fmt.Sprintf("%d texts recorded", n), func() bool {
		sent := 0
		for _, d := range x.deliveries(t, victimID) {
			if d["channel"] == "SMS" && d["sentAt"] != nil {
				sent++
			}
		}
		return sent >= n
	})
	return out
}

// mailsAbout waits for a mail to to whose body contains every one of words.
func (x *twoWay) mailsAbout(t *testing.T, to string, words ...string) notifytest.SMTPMessage {
	t.Helper()
	var found notifytest.SMTPMessage
	waitUntil(t, fmt.Sprintf("a mail to %s saying %q", to, words), func() bool {
		for _, m := range x.s.smtp.Messages() {
			body, _ := m.Body()
			ok := len(m.To) == 1 && m.To[0] == to
			for _, w := range words {
				ok = ok && strings.Contains(body, w)
			}
			if ok {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// waitUntil polls cond until it holds, for at most a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deliveries returns the victim's notice evidence as the coordinator sees it.
func (x *twoWay) deliveries(t *testing.T, victimID string) []map[string]any {
	t.Helper()
	data := mustGQL(t, x.base, x.w.coordinator, `query($v: ID!) { deliveries(victimId: $v) {
		id kind channel status sentAt hearingSequence acknowledgedAt acknowledgedBy escalateAt escalatedAt idempotencyKey } }`,
		map[string]any{"v": victimID})
	var out []map[string]any
	for _, d := range dig(data, "deliveries").([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// noticeLink finds the acknowledgement link in a message: its path, delivery ID and token.
var noticeLink = regexp.MustCompile(`http://[^\s/]+(/m/(\d+))\?t=([A-Za-z0-9_-]+)`)

func linkOf(t *testing.T, body string) (path, id, token string) {
	t.Helper()
	m := noticeLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no acknowledgement link in %q", body)
	}
	return m[1], m[2], m[3]
}

// page GETs or POSTs the acknowledgement page and returns the status and body.
func (x *twoWay) page(t *testing.T, method, path, token string, answers ...string) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = http.Get(x.base + path + "?t=" + url.QueryEscape(token))
	} else {
		resp, err = http.PostForm(x.base+path, url.Values{"t": {token}, "answer": answers})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestEndToEnd_VictimAcknowledgesByLinkAndBySMSReply: the notice of a hearing reaches the
// victim by text with its link; opening the page changes nothing, its form acknowledges; the
// notice of the change is acknowledged by a reply in Spanish; the gateway's receipt marks a
// text DELIVERED.
func TestEndToEnd_VictimAcknowledgesByLinkAndBySMSReply(t *testing.T) {
	x := startTwoWay(t)
	const phone = "+12025550301"
	victimID := x.victim(t, "V-3301-A", phone, "CONTENT_FREE")
	first := x.textsTo(t, victimID, phone, 1)[0]
	path, id, token := linkOf(t, first.Body)
	if text := noticeLink.ReplaceAllString(first.Body, ""); !strings.Contains(text, "Responda SI") || strings.Contains(text, "9C") {
		t.Errorf("the content-free text: %q", first.Body)
	}
	code, body := x.page(t, http.MethodGet, path, token)
	body = strings.ReplaceAll(body, token, "") // the form carries the token
	if code != http.StatusOK || !strings.Contains(body, "Tiene un mensaje nuevo") || strings.Contains(body, "Courtside") || strings.Contains(body, "Eastern") {
		t.Fatalf("the page: %d\n%s", code, body)
	}
	ds := x.deliveries(t, victimID)
	if len(ds) != 1 || fmt.Sprint(ds[0]["id"]) != id || ds[0]["acknowledgedAt"] != nil {
		t.Fatalf("after opening the page: %v", ds)
	}
	if code, body := x.page(t, http.MethodPost, path, token); code != http.StatusOK || !strings.Contains(body, "Gracias") {
		t.Fatalf("the form: %d\n%s", code, body)
	}
	if d := x.deliveries(t, victimID)[0]; d["acknowledgedBy"] != "LINK" || d["acknowledgedAt"] == nil || d["escalateAt"] == nil {
		t.Fatalf("after the form: %v", d)
	}

	// The change: acknowledged by a reply.
	moved := time.Now().UTC().Add(11 * 24 * time.Hour).Truncate(time.Hour)
	mustGQL(t, x.base, x.w.prosecutor, reschedule, map[string]any{"id": x.hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
	second := x.textsTo(t, victimID, phone, 2)[1]
	ctx := context.Background()
	ans, err := x.s.sms.Inbound(ctx, x.base+"/hooks/sms", phone, "sí")
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(ans.Body, "<Message>Gracias. Recibimos su respuesta.</Message>") {
		t.Fatalf("the reply: %+v, %v", ans, err)
	}
	if ans.Body == "" || strings.Contains(ans.Body, "V-3301") || strings.Contains(ans.Body, "Sentinel") {
		t.Errorf("the webhook's answer: %q", ans.Body)
	}
	// The gateway reports the text delivered.
	if a, err := x.s.sms.Report(ctx, second.SID, "delivered", ""); err != nil || a.Status != http.StatusNoContent {
		t.Fatalf("receipt: %+v, %v", a, err)
	}
	ds = x.deliveries(t, victimID)
	if len(ds) != 2 || ds[1]["kind"] != "HEARING_CHANGED" || ds[1]["acknowledgedBy"] != "SMS_REPLY" || ds[1]["status"] != "DELIVERED" {
		t.Fatalf("the change's evidence: %v", ds)
	}
	if ds[0]["acknowledgedBy"] != "LINK" {
		t.Errorf("the first notice's acknowledgement changed: %v", ds[0])
	}
}

// TestEndToEnd_StopWithdrawsSMSAndTellsTheAdvocate: STOP from the victim's phone withdraws
// SMS at once and is confirmed once; the advocate is told; the next notice goes by the
// organisation's webhook; START waits for the advocate.
func TestEndToEnd_StopWithdrawsSMSAndTellsTheAdvocate(t *testing.T) {
	x := startTwoWay(t)
	mustGQL(t, x.base, x.w.coordinator, `mutation { setSMSHelp(neutralName: "Harbor Office", reach: "+1 555 0100") { neutralName } }`, nil)
	const phone = "+12025550302"
	victimID := x.victim(t, "V-3302-B", phone, "CONTENT_FREE")
	x.textsTo(t, victimID, phone, 1)
	ctx := context.Background()
	hook := x.base + "/hooks/sms"
	ans, err := x.s.sms.Inbound(ctx, hook, phone, "Stop")
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(ans.Body, "Harbor Office: ya no recibirá más mensajes de texto") {
		t.Fatalf("STOP: %+v, %v", ans, err)
	}
	if ans, err := x.s.sms.Inbound(ctx, hook, phone, "PARAR"); err != nil || ans.Status != http.StatusOK || strings.Contains(ans.Body, "<Message>") {
		t.Errorf("a second STOP is confirmed again: %+v, %v", ans, err)
	}
	x.mailsAbout(t, "adv@advocacy.test", "V-3302-B", "STOP")
	policy := mustGQL(t, x.base, x.w.coordinator, `query($v: ID!) { victim(id: $v) { policy { channels { channel allowed detail } } } }`, map[string]any{"v": victimID})
	if got := fmt.Sprint(dig(policy, "victim", "policy", "channels")); !strings.Contains(got, "allowed:false channel:SMS") {
		t.Errorf("the policy after STOP: %s", got)
	}
	// HELP is answered with the organisation's neutral name and how to reach it.
	if ans, err := x.s.sms.Inbound(ctx, hook, phone, "AYUDA"); err != nil || !strings.Contains(ans.Body, "Harbor Office") || !strings.Contains(ans.Body, "+1 555 0100") {
		t.Errorf("HELP: %+v, %v", ans, err)
	}
	// The change goes by the webhook, not by text.
	moved := time.Now().UTC().Add(12 * 24 * time.Hour).Truncate(time.Hour)
	mustGQL(t, x.base, x.w.prosecutor, reschedule, map[string]any{"id": x.hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
	hooks := waitFor(t, "webhook", 1, x.s.hook.WaitMessages)
	if p := hooks[0].Payload; p.Type != "notice.hearing_changed" || p.Data.To != "client-V-3302-B" {
		t.Errorf("webhook: %+v", p)
	}
	if n := len(x.s.sms.Messages()); n != 1 {
		t.Errorf("%d texts after STOP", n)
	}
	// START asks the advocate; SMS stays off until the advocate confirms.
	if ans, err := x.s.sms.Inbound(ctx, hook, phone, "START"); err != nil || !strings.Contains(ans.Body, "<Message>") {
		t.Fatalf("START: %+v, %v", ans, err)
	}
	x.mailsAbout(t, "adv@advocacy.test", "V-3302-B", "START")
	reqs := mustGQL(t, x.base, x.w.advocate, `{ requests(status: OPEN) { id kind victim { pseudonym } } }`, nil)
	list := dig(reqs, "requests").([]any)
	if len(list) != 1 || dig(list[0], "kind") != "SMS_RESTART" {
		t.Fatalf("the advocate's requests: %v", list)
	}
	if got := fmt.Sprint(dig(mustGQL(t, x.base, x.w.coordinator, `query($v: ID!) { victim(id: $v) { policy { channels { channel allowed } } } }`,
		map[string]any{"v": victimID}), "victim", "policy", "channels")); !strings.Contains(got, "allowed:false channel:SMS") {
		t.Fatalf("START restored SMS by itself: %s", got)
	}
	mustGQL(t, x.base, x.w.advocate, `mutation($id: ID!) { confirmSMSRestart(id: $id) { status outcome } }`, map[string]any{"id": dig(list[0], "id")})
	if got := fmt.Sprint(dig(mustGQL(t, x.base, x.w.coordinator, `query($v: ID!) { victim(id: $v) { policy { channels { channel allowed detail } } } }`,
		map[string]any{"v": victimID}), "victim", "policy", "channels")); !strings.Contains(got, "allowed:true channel:SMS detail:CONTENT_FREE") {
		t.Errorf("after the advocate confirmed: %s", got)
	}
}

// TestEndToEnd_UnacknowledgedNoticeEscalatesAndAnAcknowledgedOneNever: with a window of a few
// seconds, the notice nobody answered reaches the advocate as NOTICE_UNACKNOWLEDGED (the
// victim by pseudonym, the hearing, the channels tried) and shows escalatedAt; the notice
// answered at once never escalates.
func TestEndToEnd_UnacknowledgedNoticeEscalatesAndAnAcknowledgedOneNever(t *testing.T) {
	const window = 6 * time.Second
	x := startTwoWay(t, "COURTSIDE_ACK_WINDOW="+window.String())
	const silent, answering = "+12025550303", "+12025550304"
	silentID := x.victim(t, "V-3303-C", silent, "CONTENT_FREE")
	answeringID := x.victim(t, "V-3304-D", answering, "CONTENT_FREE")
	x.textsTo(t, answeringID, answering, 1)
	if ans, err := x.s.sms.Inbound(context.Background(), x.base+"/hooks/sms", answering, "1"); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("the answer: %+v, %v", ans, err)
	}
	x.textsTo(t, silentID, silent, 1)
	mail := x.mailsAbout(t, "adv@advocacy.test", "V-3303-C", "26-CR-03315", "Tried: text message")
	subject, _ := mail.Subject()
	if !strings.Contains(subject, "Not acknowledged: V-3303-C") {
		t.Errorf("subject %q", subject)
	}
	d := x.deliveries(t, silentID)[0]
	sent, _ := time.Parse(time.RFC3339Nano, d["sentAt"].(string))
	due, _ := time.Parse(time.RFC3339Nano, d["escalateAt"].(string))
	escalated, err := time.Parse(time.RFC3339Nano, fmt.Sprint(d["escalatedAt"]))
	if err != nil || !due.Equal(sent.Add(window)) || escalated.Before(due) {
		t.Fatalf("the silent victim's notice: sent %v, escalateAt %v, escalatedAt %v (%v)", sent, due, escalated, err)
	}
	// The answered notice's time has come and gone as well: the sweep runs every second.
	a := x.deliveries(t, answeringID)[0]
	answeredDue, _ := time.Parse(time.RFC3339Nano, a["escalateAt"].(string))
	time.Sleep(time.Until(answeredDue) + 3*time.Second)
	a = x.deliveries(t, answeringID)[0]
	if a["acknowledgedBy"] != "SMS_REPLY" || a["escalatedAt"] != nil {
		t.Errorf("the answered notice: %v", a)
	}
	for _, m := range x.s.smtp.Messages() {
		if body, _ := m.Body(); strings.Contains(body, "V-3304-D") {
			t.Errorf("the advocate was told of the answered notice:\n%s", body)
		}
	}
}

// TestEndToEnd_VictimAsksForAnInterpreterAndTheCoordinatorSeesIt: the page of a MINIMAL
// notice offers the answers; "I need an interpreter" becomes a request the coordinator sees,
// is told of by e-mail, and closes; a keyword reply makes another.
func TestEndToEnd_VictimAsksForAnInterpreterAndTheCoordinatorSeesIt(t *testing.T) {
	x := startTwoWay(t)
	const phone = "+12025550305"
	victimID := x.victim(t, "V-3305-E", phone, "MINIMAL")
	text := x.textsTo(t, victimID, phone, 1)[0]
	path, _, token := linkOf(t, text.Body)
	code, body := x.page(t, http.MethodGet, path, token)
	body = strings.ReplaceAll(body, token, "") // the form carries the token
	if code != http.StatusOK || !strings.Contains(body, "Necesito un intérprete") || strings.Contains(body, "Eastern") {
		t.Fatalf("the page: %d\n%s", code, body)
	}
	if code, body := x.page(t, http.MethodPost, path, token, "INTERPRETER"); code != http.StatusOK || !strings.Contains(body, "Alguien se comunicará") {
		t.Fatalf("the answer: %d\n%s", code, body)
	}
	const q = `{ requests(status: OPEN) { id kind via victim { id pseudonym } hearing { id } } }`
	list := dig(mustGQL(t, x.base, x.w.coordinator, q, nil), "requests").([]any)
	if len(list) != 1 || dig(list[0], "kind") != "INTERPRETER" || dig(list[0], "via") != "LINK" ||
		dig(list[0], "victim", "id") != victimID || dig(list[0], "hearing", "id") != x.hearingID {
		t.Fatalf("the coordinator's requests: %v", list)
	}
	x.mailsAbout(t, "coord@advocacy.test", "V-3305-E", "I need an interpreter", "26-CR-03315")
	// By text: 5 is transport.
	if ans, err := x.s.sms.Inbound(context.Background(), x.base+"/hooks/sms", phone, "5"); err != nil || !strings.Contains(ans.Body, "Alguien se comunicará") {
		t.Fatalf("5: %+v, %v", ans, err)
	}
	list = dig(mustGQL(t, x.base, x.w.coordinator, q, nil), "requests").([]any)
	if len(list) != 2 || dig(list[1], "kind") != "TRANSPORT" || dig(list[1], "via") != "SMS_REPLY" {
		t.Fatalf("after the text: %v", list)
	}
	closed := mustGQL(t, x.base, x.w.coordinator, `mutation($id: ID!) { closeRequest(id: $id) { status } }`, map[string]any{"id": dig(list[0], "id")})
	if dig(closed, "closeRequest", "status") != "CLOSED" {
		t.Errorf("closed: %v", closed)
	}
	if n := len(dig(mustGQL(t, x.base, x.w.coordinator, q, nil), "requests").([]any)); n != 1 {
		t.Errorf("%d open requests after closing one", n)
	}
}

// TestEndToEnd_NoticeMadeWhileSMTPIsDownArrivesAfterItReturns: the mail server is down when the
// advocate is assigned; the delivery keeps trying past the attempts (e-mail is the advocate's
// only channel), and the mail arrives, once, under the delivery's key, when the server is back.
func TestEndToEnd_NoticeMadeWhileSMTPIsDownArrivesAfterItReturns(t *testing.T) {
	x := startTwoWay(t)
	addr, smtpURL := x.s.smtp.Addr(), x.s.smtp.URL()
	identity := x.s.smtp.Identity()
	if err := x.s.smtp.Close(); err != nil {
		t.Fatal(err)
	}
	const phone = "+12025550306"
	x.victim(t, "V-3306-F", phone, "CONTENT_FREE")
	// The assignment's mail fails and keeps being retried, past COURTSIDE_DELIVERY_ATTEMPTS (3).
	var key string
	waitUntil(t, "the assignment's mail retried past the attempts", func() bool {
		data := mustGQL(t, x.base, x.w.advocate, `query($h: ID!) { deliveries(hearingId: $h) { kind status attempts reason idempotencyKey channel } }`,
			map[string]any{"h": x.hearingID})
		for _, d := range dig(data, "deliveries").([]any) {
			if dig(d, "kind") == "ACCOMPANIMENT_ASSIGNED" {
				if dig(d, "status") != "PENDING" {
					t.Fatalf("the assignment's mail gave up: %v", d)
				}
				key = dig(d, "idempotencyKey").(string)
				return dig(d, "attempts").(float64) >= 4
			}
		}
		return false
	})
	u, _ := url.Parse(smtpURL)
	password, _ := u.User.Password()
	back, err := notifytest.StartSMTPSink(notifytest.SMTPSinkOptions{Addr: addr, Username: u.User.Username(), Password: password, Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	mails := waitFor(t, "the mail after the outage", 1, back.WaitMessages)
	if !strings.HasPrefix(mails[0].MessageID, "<"+key+"@") || mails[0].To[0] != "adv@advocacy.test" {
		t.Fatalf("after the outage: Message-ID %s to %v, want the key %s", mails[0].MessageID, mails[0].To, key)
	}
	waitUntil(t, "the delivery recorded SENT", func() bool {
		data := mustGQL(t, x.base, x.w.advocate, `query($h: ID!) { deliveries(hearingId: $h) { kind status } }`, map[string]any{"h": x.hearingID})
		for _, d := range dig(data, "deliveries").([]any) {
			if dig(d, "kind") == "ACCOMPANIMENT_ASSIGNED" {
				return dig(d, "status") == "SENT"
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(back.Messages()); n != 1 {
		t.Errorf("%d mails after the outage, want one", n)
	}
}

// TestEndToEnd_RefusedLinksAndHooksChangeNothing: a forged, expired or replayed link and an
// unsigned or wrongly signed callback are refused, and the evidence, the requests and the
// victim's policy stay as they were; a replayed callback gets the same answer and changes
// nothing.
func TestEndToEnd_RefusedLinksAndHooksChangeNothing(t *testing.T) {
	x := startTwoWay(t)
	const phone = "+12025550307"
	victimID := x.victim(t, "V-3307-G", phone, "MINIMAL")
	text := x.textsTo(t, victimID, phone, 1)[0]
	path, id, token := linkOf(t, text.Body)
	key, err := worldKey(x.w)
	if err != nil {
		t.Fatal(err)
	}
	signer := storage.NewDB(x.w.db)
	if signer.Sealer, err = storage.NewSealer(key); err != nil {
		t.Fatal(err)
	}
	deliveryID, _ := strconv.ParseInt(id, 10, 64)
	victim, _ := strconv.ParseInt(victimID, 10, 64)
	expired := storage.NewNoticeLinkService(signer).NoticeLinkToken(deliveryID, victim, time.Now().Add(-time.Minute))
	forged := []byte(token)
	forged[len(forged)-2] ^= 0x01
	if forged[len(forged)-2] == '-' || forged[len(forged)-2] == '_' || forged[len(forged)-2] == byte(token[len(token)-2]) {
		forged[len(forged)-2] = 'Q'
	}
	state := func() string {
		t.Helper()
		ds, _ := json.Marshal(x.deliveries(t, victimID))
		rs, _ := json.Marshal(mustGQL(t, x.base, x.w.coordinator, `{ requests { id kind status } }`, nil))
		p, _ := json.Marshal(mustGQL(t, x.base, x.w.coordinator, `query($v: ID!) { victim(id: $v) { policy { channels { channel allowed } } } }`,
			map[string]any{"v": victimID}))
		return string(ds) + string(rs) + string(p)
	}
	before := state()
	for name, c := range map[string]struct {
		method, token string
		answers       []string
		want          int
	}{
		"forged GET":     {http.MethodGet, string(forged), nil, http.StatusNotFound},
		"forged POST":    {http.MethodPost, string(forged), []string{"INTERPRETER"}, http.StatusNotFound},
		"expired GET":    {http.MethodGet, expired, nil, http.StatusGone},
		"expired POST":   {http.MethodPost, expired, []string{"INTERPRETER"}, http.StatusGone},
		"no token":       {http.MethodPost, "", nil, http.StatusNotFound},
		"another answer": {http.MethodPost, token, []string{"PIZZA"}, http.StatusBadRequest},
	} {
		if code, body := x.page(t, c.method, path, c.token, c.answers...); code != c.want {
			t.Errorf("%s: %d, want %d\n%s", name, code, c.want, body)
		}
	}
	ctx := context.Background()
	hook := x.base + "/hooks/sms"
	stop := url.Values{"MessageSid": {"SMforged0000000000000000000000001"}, "From": {phone}, "Body": {"STOP"}}
	if a, err := x.s.sms.Post(ctx, hook, stop, false); err != nil || a.Status != http.StatusForbidden {
		t.Errorf("an unsigned STOP: %+v, %v", a, err)
	}
	req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(stop.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a wrongly signed STOP: %v %v", resp, err)
	}
	if a, err := x.s.sms.Post(ctx, x.base+"/hooks/sms/status", url.Values{"MessageSid": {text.SID}, "MessageStatus": {"failed"}}, false); err != nil || a.Status != http.StatusForbidden {
		t.Errorf("an unsigned receipt: %+v, %v", a, err)
	}
	if after := state(); after != before {
		t.Fatalf("refused requests changed something:\n%s\n%s", before, after)
	}

	// Used once, the link is refused after; replaying a signed callback changes nothing more.
	if code, body := x.page(t, http.MethodPost, path, token, "ATTEND"); code != http.StatusOK {
		t.Fatalf("the real answer: %d %s", code, body)
	}
	ans, err := x.s.sms.Inbound(ctx, hook, phone, "HELP")
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("HELP: %+v, %v", ans, err)
	}
	used := state()
	if code, _ := x.page(t, http.MethodPost, path, token, "TRANSPORT"); code != http.StatusGone {
		t.Errorf("the replayed link: %d", code)
	}
	if code, _ := x.page(t, http.MethodGet, path, token); code != http.StatusGone {
		t.Errorf("looking at the used link: %d", code)
	}
	again, err := x.s.sms.Post(ctx, hook, ans.Form, true)
	if err != nil || again.Status != http.StatusOK || again.Body != ans.Body {
		t.Errorf("the replayed callback: %+v, %v", again, err)
	}
	if after := state(); after != used {
		t.Errorf("replays changed something:\n%s\n%s", used, after)
	}
	// The server logged neither the token nor the number.
	x.srv.cmd.Process.Kill()
	x.srv.cmd.Wait()
	if logs := x.srv.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, phone) || strings.Contains(logs, "Sentinel") {
		t.Error("the server log carries the token, the number or the victim's name")
	}
}
