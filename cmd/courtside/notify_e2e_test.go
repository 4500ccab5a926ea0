package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"courtside/notify/notifytest"
)

// sinks are the receiving ends of every channel: an SMTP server with STARTTLS and AUTH, an
// SMS gateway of the Messages API shape and an organisation's webhook receiver.
type sinks struct {
	smtp *notifytest.SMTPSink
	sms  *notifytest.SMSGateway
	hook *notifytest.WebhookReceiver
	env  []string
}

func newSinks(t *testing.T) *sinks {
	t.Helper()
	s := &sinks{smtp: notifytest.NewSMTPServer(t), sms: notifytest.NewSMSGateway(t), hook: notifytest.NewWebhookReceiver(t, "")}
	ca := filepath.Join(t.TempDir(), "sink-ca.pem")
	if err := os.WriteFile(ca, s.smtp.Identity().CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = []string{
		"COURTSIDE_SMTP_URL=" + s.smtp.URL(), "COURTSIDE_SMTP_FROM=notices@courtside.test", "SSL_CERT_FILE=" + ca,
		"COURTSIDE_SMS_URL=" + s.sms.URL(), "COURTSIDE_SMS_FROM=+15550000000",
		"COURTSIDE_DELIVERY_RETRY=50ms", "COURTSIDE_DELIVERY_ATTEMPTS=3", "COURTSIDE_DELIVERY_LEASE=3s",
	}
	return s
}

// noticeWorld creates, with the CLI, an advocate with an e-mail address, an interpreter with
// a phone number, and the advocacy organisation's webhook receiver.
func noticeWorld(t *testing.T, s *sinks) *world {
	t.Helper()
	return noticeWorldAt(t, s, filepath.Join(t.TempDir(), "courtside.db"))
}

// noticeWorldAt is noticeWorld on the database db: a SQLite file or a postgres:// URL.
func noticeWorldAt(t *testing.T, s *sinks, db string) *world {
	t.Helper()
	w := &world{db: db}
	pw := "tidal basin lantern 42\n"
	cli(t, "", "init", "--db", w.db)
	cli(t, pw, "user", "add", "--db", w.db, "--username", "admin", "--role", "admin", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "pros", "--role", "prosecutor", "--org", "County DA", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "coord", "--role", "coordinator", "--org", "Harbor Advocacy", "--email", "coord@advocacy.test", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "adv", "--role", "advocate", "--org", "Harbor Advocacy", "--email", "adv@advocacy.test", "--password-stdin")
	cli(t, "", "user", "add", "--db", w.db, "--username", "interp", "--role", "interpreter", "--phone", "+12025550102", "--interpreter-languages", "es:CERTIFIED")
	cli(t, s.hook.Secret()+"\n", "webhook", "set", "--db", w.db, "--org", "Harbor Advocacy", "--url", s.hook.URL(), "--secret-stdin")
	token := func(user string) string {
		return strings.TrimSpace(cli(t, "", "token", "create", "--db", w.db, "--username", user, "--kind", "api"))
	}
	w.admin, w.prosecutor, w.coordinator, w.advocate, w.interpreter = token("admin"), token("pros"), token("coord"), token("adv"), token("interp")
	return w
}

// victimReachable registers a victim whose policy allows SMS without content first, then the
// organisation's webhook in full; e-mail is not allowed.
func victimReachable(t *testing.T, base string, w *world, phone string) string {
	t.Helper()
	v := mustGQL(t, base, w.coordinator, `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"pseudonym": "V-2207-B", "legalName": "Sentinel Legalname", "preferredLanguage": "es",
		"contacts": []any{
			map[string]any{"channel": "SMS", "address": phone},
			map[string]any{"channel": "WEBHOOK", "address": "client-2207"},
			map[string]any{"channel": "EMAIL", "address": "sentinel.private@mail.test"},
		}}})
	id := dig(v, "registerVictim", "id").(string)
	mustGQL(t, base, w.coordinator, `mutation($id: ID!, $in: ContactPolicyInput!) { setContactPolicy(victimId: $id, input: $in) { id } }`, map[string]any{
		"id": id, "in": map[string]any{"neutralSender": "Harbor Office", "channels": []any{
			map[string]any{"channel": "SMS", "allowed": true, "detail": "CONTENT_FREE", "confirmedSafe": true},
			map[string]any{"channel": "WEBHOOK", "allowed": true, "detail": "FULL", "confirmedSafe": true},
			map[string]any{"channel": "EMAIL", "allowed": false, "detail": "FULL"},
		}}})
	return id
}

func waitFor[T any](t *testing.T, what string, n int, get func(context.Context, int) ([]T, error)) []T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := get(ctx, n)
	if err != nil {
		t.Fatalf("%s: %d of %d arrived: %v", what, len(got), n, err)
	}
	return got
}

// TestEndToEnd_NoticesReachEveryone follows one hearing through the real binary: the victim,
// the advocate and the interpreter are each told once, on the channel and at the detail their
// policy allows, with the idempotency key on the wire, and the notice evidence shows it.
func TestEndToEnd_NoticesReachEveryone(t *testing.T) {
	s := newSinks(t)
	w := noticeWorld(t, s)
	srv := startServerEnv(t, w.db, s.env)
	base := srv.url

	court := mustGQL(t, base, w.admin, `mutation { createCourt(input: {name: "Eastern Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, base, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-02207", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	starts := time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Hour)
	h := mustGQL(t, base, w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": caseID, "kind": "TRIAL", "startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(2 * time.Hour).Format(time.RFC3339),
		"courtroom": "9C", "externalId": "DA-2207"}})
	hearingID := dig(h, "postHearing", "id").(string)
	victimID := victimReachable(t, base, w, "+12025550101")
	shareCase(t, base, w.prosecutor, caseID, "Harbor Advocacy")
	mustGQL(t, base, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`, map[string]any{"c": caseID, "v": victimID})
	advID := dig(mustGQL(t, base, w.advocate, `{ me { id } }`, nil), "me", "id")
	mustGQL(t, base, w.coordinator, `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": hearingID, "v": victimID, "a": advID})
	booking := mustGQL(t, base, w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "es") { id } }`, map[string]any{"h": hearingID})
	bookingID := dig(booking, "requestInterpreter", "id").(string)

	// The victim hears of the hearing by SMS, without content; the interpreter is offered the
	// booking by SMS with a signed link; the advocate is told of the assignment by e-mail.
	texts := waitFor(t, "SMS", 2, s.sms.WaitMessages)
	mails := waitFor(t, "e-mail", 1, s.smtp.WaitMessages)
	byTo := map[string]notifytest.SMSMessage{}
	for _, m := range texts {
		byTo[m.To] = m
	}
	victimText, offer := byTo["+12025550101"], byTo["+12025550102"]
	for _, leak := range []string{"9C", "26-CR-02207", "Eastern", "Sentinel", "V-2207-B", fmt.Sprint(starts.Day())} {
		if strings.Contains(noticeLink.ReplaceAllString(victimText.Body, ""), leak) { // the link's digits are not the day
			t.Errorf("the victim's content-free SMS gives away %q: %q", leak, victimText.Body)
		}
	}
	if victimText.Body == "" || !strings.HasPrefix(victimText.IdempotencyKey, "cs-sched-h"+hearingID+"-v"+victimID) {
		t.Errorf("victim's SMS = %+v, want the scheduled notice under its key", victimText)
	}
	link := regexp.MustCompile(`http://\S+/bookings/` + bookingID + `/respond\?token=[A-Za-z0-9_-]+`).FindString(offer.Body)
	if link == "" {
		t.Errorf("the offer carries no one-click link: %q", offer.Body)
	}
	if got := mails[0]; !strings.Contains(got.MessageID, "cs-ev-") || len(got.To) != 1 || got.To[0] != "adv@advocacy.test" || !got.TLS {
		t.Errorf("advocate's mail: Message-ID %q, to %v, TLS %v", got.MessageID, got.To, got.TLS)
	}

	// The SMS gateway now refuses the victim's number: the change gives up on SMS and goes
	// to the organisation's webhook, signed, in full.
	mustGQL(t, base, w.interpreter, `mutation($b: ID!) { respondToBooking(bookingId: $b, accept: true) { id status } }`, map[string]any{"b": bookingID})
	moved := starts.Add(26 * time.Hour)
	s.sms.FailNext(1000, 400)
	mustGQL(t, base, w.prosecutor, reschedule, map[string]any{"id": hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(2 * time.Hour).Format(time.RFC3339)})
	hooks := waitFor(t, "webhook", 1, s.hook.WaitMessages)
	if p := hooks[0].Payload; p.Type != "notice.hearing_changed" || p.Data.To != "client-2207" || !strings.Contains(p.Data.Body, "9C") {
		t.Errorf("webhook payload = %+v, want the full change for client-2207", p)
	}
	mails = waitFor(t, "e-mail", 2, s.smtp.WaitMessages)
	if body, _ := mails[1].Body(); !strings.Contains(body, "9C") {
		t.Errorf("advocate's change mail lacks the courtroom:\n%s", body)
	}

	// The evidence: was the victim told of this change, when, how, how long before?
	var ev map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		ev = mustGQL(t, base, w.coordinator, `query($v: ID!, $h: ID!) { deliveries(victimId: $v, hearingId: $h, sequence: 1) {
			kind channel status sentAt leadTimeMinutes reason hearingSequence audience detail idempotencyKey } }`, map[string]any{"v": victimID, "h": hearingID})
		// The receiver has the webhook; its delivery is recorded SENT just after.
		if ds := dig(ev, "deliveries").([]any); len(ds) == 2 && ds[1].(map[string]any)["status"] == "SENT" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ds := dig(ev, "deliveries").([]any)
	if len(ds) != 2 {
		t.Fatalf("deliveries about the change = %v, want the failed SMS and the webhook", ds)
	}
	sms, hook := ds[0].(map[string]any), ds[1].(map[string]any)
	if sms["channel"] != "SMS" || sms["status"] != "FAILED" || sms["reason"] == nil || strings.Contains(fmt.Sprint(sms["reason"]), "2025550101") {
		t.Errorf("SMS delivery = %v, want FAILED with a reason that names no number", sms)
	}
	lead, _ := hook["leadTimeMinutes"].(float64)
	if hook["channel"] != "WEBHOOK" || hook["status"] != "SENT" || hook["detail"] != "FULL" || hook["sentAt"] == nil ||
		lead < float64(11*24*60-5) || lead > float64(11*24*60+2*60) {
		t.Errorf("webhook delivery = %v, want SENT in FULL about 11 days before", hook)
	}
	if hook["idempotencyKey"] != hooks[0].ID {
		t.Errorf("webhook-id %q is not the delivery's key %v", hooks[0].ID, hook["idempotencyKey"])
	}
	// Nothing reached the victim's e-mail, which the policy does not allow.
	for _, m := range s.smtp.Messages() {
		if strings.Contains(strings.Join(m.To, ","), "sentinel.private") {
			t.Errorf("a message went to the victim's e-mail: %s", m.MessageID)
		}
	}
	// Stopped, the server's log can be read without racing its writer.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
	if logs := srv.logs.String(); strings.Contains(logs, "Sentinel") || strings.Contains(logs, "+12025550101") || strings.Contains(logs, "client-2207") {
		t.Error("the server log carries the victim's name, number or reference")
	}
}
