package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// workerWorld is a real database with a hearing in New York, a victim linked to its case whose
// policy allows SMS without content (confirmed safe) and quiet hours 21:00 to 08:00, an
// advocate with an e-mail address assigned, the planners run over the event log, and a worker
// sending to in-process sinks.
type workerWorld struct {
	db        *storage.DB
	now       time.Time
	lastEvent int64
	hearing   *courtside.Hearing
	victim    *courtside.Victim
	coord     *courtside.User
	pros      *courtside.User
	sms       *notifytest.SMSGateway
	smtp      *notifytest.SMTPSink
	worker    *notify.Worker
}

func newWorkerWorld(t *testing.T) *workerWorld {
	t.Helper()
	w := &workerWorld{now: time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)} // 12:00 in New York
	w.db = storagetest.Open(t, func() time.Time { return w.now })
	ctx := context.Background()
	as := func(u *courtside.User) context.Context { return courtside.NewContextWithUser(ctx, u) }
	mk := func(name string, role courtside.Role, org, email string) *courtside.User {
		u, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: name, Role: role, Email: email}, OrganizationName: org})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mk("admin", courtside.RoleAdmin, "", "")
	w.pros = mk("pros", courtside.RoleProsecutor, "DA Office", "")
	w.coord = mk("coord", courtside.RoleCoordinator, "Advocacy Org", "coord@advocacy.test")
	adv := mk("adv", courtside.RoleAdvocate, "Advocacy Org", "adv@advocacy.test")
	court := &courtside.Court{Name: "Main Courthouse", TimeZone: "America/New_York"}
	if err := storage.NewCourtService(w.db).CreateCourt(as(admin), court); err != nil {
		t.Fatal(err)
	}
	kase := &courtside.Case{Docket: "26-CR-1", CourtID: court.ID}
	if err := storage.NewCaseService(w.db).OpenCase(as(w.pros), kase); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)
	w.hearing = &courtside.Hearing{CaseID: kase.ID, Kind: courtside.KindTrial, StartsAt: start, EndsAt: start.Add(time.Hour), Courtroom: "7A"}
	if _, err := storage.NewHearingService(w.db).PostHearing(as(w.pros), w.hearing); err != nil {
		t.Fatal(err)
	}
	w.victim = &courtside.Victim{Pseudonym: "V-9", LegalName: "Hidden Legal Name", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550123"},
			{Channel: courtside.ChannelEmail, Address: "hidden.person@mail.test"}}}
	if err := storage.NewVictimService(w.db).RegisterVictim(as(w.coord), w.victim); err != nil {
		t.Fatal(err)
	}
	policy := courtside.ContactPolicy{QuietHoursStart: "21:00", QuietHoursEnd: "08:00", NeutralSender: "Harbor Office",
		Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailContentFree}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(as(w.coord), w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewCaseService(w.db).ShareCase(as(w.pros), kase.ID, "Advocacy Org"); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewCaseService(w.db).LinkVictim(as(w.coord), kase.ID, w.victim.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(as(w.coord), w.hearing.ID, w.victim.ID, adv.ID); err != nil {
		t.Fatal(err)
	}
	w.sms, w.smtp = notifytest.NewSMSGateway(t), notifytest.NewSMTPServer(t)
	sms, err := notify.NewSMS(w.sms.URL(), "+15550000000")
	if err != nil {
		t.Fatal(err)
	}
	mail, err := notify.NewSMTP(w.smtp.URL(), "notices@courtside.test", notify.WithTLSConfig(w.smtp.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	w.worker = &notify.Worker{Queue: storage.NewDeliveryQueue(w.db), Now: func() time.Time { return w.now }, MaxAttempts: 3,
		Senders: map[courtside.Channel]notify.Sender{courtside.ChannelSMS: sms, courtside.ChannelEmail: mail},
		Backoff: func(int) time.Duration { return time.Minute }}
	w.plan(t)
	return w
}

// plan runs both planners over the events not yet handled, as the router would.
func (w *workerWorld) plan(t *testing.T) {
	t.Helper()
	storagetest.Drain(t, w.db, &w.lastEvent,
		(&storage.ReminderPlanner{DB: w.db, Plan: courtside.DefaultReminderPlan()}).Handle,
		(&storage.NoticePlanner{DB: w.db}).Handle)
}

// moveADay reschedules the hearing a day later and plans what that calls for.
func (w *workerWorld) moveADay(t *testing.T) {
	t.Helper()
	moved := w.hearing.StartsAt.Add(24 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(courtside.NewContextWithUser(context.Background(), w.pros), w.hearing.ID,
		courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.plan(t)
}

func (w *workerWorld) run(t *testing.T) int {
	t.Helper()
	n, err := w.worker.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// statuses returns "kind audience channel status" of every delivery, in order.
func (w *workerWorld) statuses(t *testing.T) []string {
	t.Helper()
	rows, err := w.db.Writer.Query(`SELECT kind, audience, channel, status, reason FROM deliveries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k, a, c, s, r string
		if err := rows.Scan(&k, &a, &c, &s, &r); err != nil {
			t.Fatal(err)
		}
		line := k + " " + a + " " + c + " " + s
		if r != "" {
			line += " (" + r + ")"
		}
		out = append(out, line)
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func TestWorker_SendsUnderThePolicyInForceNow(t *testing.T) {
	w := newWorkerWorld(t)
	if n := w.run(t); n != 2 {
		t.Fatalf("handled %d deliveries, want the victim's notice and the advocate's assignment", n)
	}
	sameLines(t, "after the first run", w.statuses(t), []string{
		"HEARING_SCHEDULED VICTIM SMS SENT",
		"ACCOMPANIMENT_ASSIGNED ADVOCATE EMAIL SENT",
	})
	texts := w.sms.Messages()
	if len(texts) != 1 || texts[0].To != "+12025550123" || !strings.HasPrefix(texts[0].IdempotencyKey, "cs-sched-h") {
		t.Fatalf("texts = %+v", texts)
	}
	for _, leak := range []string{"7A", "26-CR-1", "Main Courthouse", "Hidden", "V-9"} {
		if strings.Contains(texts[0].Body, leak) {
			t.Errorf("content-free text gives away %q: %q", leak, texts[0].Body)
		}
	}
	mails := w.smtp.Messages()
	if len(mails) != 1 || !strings.Contains(mails[0].MessageID, "cs-ev-") {
		t.Fatalf("mails = %d, Message-ID %v", len(mails), mails)
	}
	if body, _ := mails[0].Body(); !strings.Contains(body, "26-CR-1") || strings.Contains(body, "V-9") || strings.Contains(body, "Hidden") {
		t.Errorf("the advocate's mail should name the docket and never the victim:\n%s", body)
	}
}

func TestWorker_QuietHoursHoldAMessageUntilMorning(t *testing.T) {
	w := newWorkerWorld(t)
	w.run(t)
	// 23:30 in New York: the victim's quiet hours. A move 20 days out is not urgent.
	w.now = time.Date(2026, 11, 21, 4, 30, 0, 0, time.UTC)
	w.moveADay(t)
	w.run(t)
	if got := w.statuses(t); got[len(got)-1] != "HEARING_CHANGED VICTIM SMS PENDING (quiet hours)" {
		t.Fatalf("during quiet hours: %v", got)
	}
	if n := len(w.sms.Messages()); n != 1 {
		t.Fatalf("%d texts during quiet hours, want only the first", n)
	}
	// 07:59: still quiet; 08:00: sent.
	w.now = time.Date(2026, 11, 21, 12, 59, 0, 0, time.UTC)
	if n := w.run(t); n != 0 {
		t.Errorf("leased %d deliveries before quiet hours ended", n)
	}
	w.now = time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	w.run(t)
	if got := w.statuses(t); got[len(got)-1] != "HEARING_CHANGED VICTIM SMS SENT" {
		t.Fatalf("after quiet hours: %v", got)
	}
}

func TestWorker_PolicyChangedAfterPlanningSuppressesAndTellsTheAdvocate(t *testing.T) {
	w := newWorkerWorld(t)
	// The victim withdraws SMS before the first notice is sent.
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(courtside.NewContextWithUser(context.Background(), w.coord), w.victim.ID, courtside.ContactPolicy{}, nil); err != nil {
		t.Fatal(err)
	}
	w.run(t)
	w.plan(t)
	w.run(t)
	sameLines(t, "after two runs", w.statuses(t), []string{
		"HEARING_SCHEDULED VICTIM SMS SUPPRESSED (policy: SMS not allowed)",
		"ACCOMPANIMENT_ASSIGNED ADVOCATE EMAIL SENT",
		"NOTICE_SUPPRESSED ADVOCATE EMAIL SENT",
	})
	if n := len(w.sms.Messages()); n != 0 {
		t.Errorf("%d texts went to a victim who withdrew SMS", n)
	}
}

// On the recipient's last channel a temporary failure does not give up after the attempts:
// the notice is retried until RetryFor runs out, then FAILED, and the advocate told.
func TestWorker_RetriesThenFailsAndFallsBack(t *testing.T) {
	w := newWorkerWorld(t)
	w.worker.RetryFor = 3 * time.Hour
	w.sms.FailNext(1000, 503)
	w.run(t)
	got := w.statuses(t)
	if !strings.HasPrefix(got[0], "HEARING_SCHEDULED VICTIM SMS PENDING (") {
		t.Fatalf("after a 503: %v", got)
	}
	// Two more failures, a minute apart, reach the limit of three attempts; SMS is the
	// victim's only channel, so it keeps trying.
	for i := 0; i < 2; i++ {
		w.now = w.now.Add(time.Minute)
		w.run(t)
	}
	got = w.statuses(t)
	if !strings.HasPrefix(got[0], "HEARING_SCHEDULED VICTIM SMS PENDING (still trying after 3 attempts") {
		t.Fatalf("after three failures: %v", got)
	}
	// Every minute until three hours after planning; then it gives up.
	for w.now.Before(time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)) {
		w.now = w.now.Add(time.Minute)
		w.run(t)
	}
	got = w.statuses(t)
	if !strings.HasPrefix(got[0], "HEARING_SCHEDULED VICTIM SMS FAILED (gave up after ") {
		t.Fatalf("three hours on: %v", got)
	}
	// SMS was the only channel: the advocate is told.
	w.run(t)
	if got := w.statuses(t); got[len(got)-1] != "NOTICE_SUPPRESSED ADVOCATE EMAIL SENT" {
		t.Fatalf("after giving up: %v", got)
	}
	var attempts int
	if err := w.db.Writer.QueryRow(`SELECT attempts FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`).Scan(&attempts); err != nil || attempts < 150 {
		t.Errorf("attempts = %d, %v, want one a minute for three hours", attempts, err)
	}
}

// With another channel left, the attempts are the limit: the notice moves on to it.
func TestWorker_FallsBackAfterTheAttemptsWhenAnotherChannelIsLeft(t *testing.T) {
	w := newWorkerWorld(t)
	policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{
		{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailContentFree},
		{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailMinimal}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(courtside.NewContextWithUser(context.Background(), w.coord), w.victim.ID, policy,
		[]courtside.Channel{courtside.ChannelSMS, courtside.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	w.sms.FailNext(1000, 503)
	for i := 0; i < 3; i++ {
		w.run(t)
		w.now = w.now.Add(time.Minute)
	}
	w.run(t)
	sameLines(t, "after three failures", w.statuses(t), []string{
		"HEARING_SCHEDULED VICTIM SMS FAILED (gave up after 3 attempts: sms: gateway answered 503 Service Unavailable (gateway code 30503))",
		"ACCOMPANIMENT_ASSIGNED ADVOCATE EMAIL SENT",
		"HEARING_SCHEDULED VICTIM EMAIL SENT",
	})
}

// A notice planned while the gateway is down goes out when it comes back, within the retry
// schedule, under the same key: once.
func TestWorker_ANoticeSurvivesAnOutageOfItsServer(t *testing.T) {
	w := newWorkerWorld(t)
	w.worker.Backoff = notify.DefaultBackoff
	w.sms.FailNext(1000, 503)
	// A five-hour outage, the worker looking every minute for what is due.
	outageEnds := w.now.Add(5 * time.Hour)
	tries := 0
	for w.now.Before(outageEnds) {
		tries += w.run(t)
		w.now = w.now.Add(time.Minute)
	}
	if n := len(w.sms.Messages()); n != 0 {
		t.Fatalf("%d texts during the outage", n)
	}
	var key string
	var attempts int
	if err := w.db.Writer.QueryRow(`SELECT idempotency_key, attempts FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`).Scan(&key, &attempts); err != nil {
		t.Fatal(err)
	}
	// 30 s doubling to 15 minutes: about twenty tries in five hours, not three hundred.
	if attempts < 10 || attempts > 40 {
		t.Errorf("%d attempts in a five-hour outage", attempts)
	}
	w.sms.FailNext(0, 0)
	// Back: within the longest backoff (15 minutes and its jitter) the notice goes out.
	for i := 0; i < 20 && len(w.sms.Messages()) == 0; i++ {
		w.run(t)
		w.now = w.now.Add(time.Minute)
	}
	texts := w.sms.Messages()
	if len(texts) != 1 || texts[0].IdempotencyKey != key {
		t.Fatalf("after the outage: %d texts, want one under %s: %+v", len(texts), key, texts)
	}
	if got := w.statuses(t); got[0] != "HEARING_SCHEDULED VICTIM SMS SENT" {
		t.Errorf("after the outage: %v", got)
	}
}

func TestWorker_QuietHoursInTheVictimsOwnZone(t *testing.T) {
	w := newWorkerWorld(t)
	w.run(t)
	// The victim lives in Los Angeles: 21:00 to 08:00 there. At 05:30 UTC it is 21:30 in Los
	// Angeles (quiet) but 00:30 in New York, where the court is.
	coord := courtside.NewContextWithUser(context.Background(), w.coord)
	policy := courtside.ContactPolicy{QuietHoursStart: "21:00", QuietHoursEnd: "08:00", TimeZone: "America/Los_Angeles",
		Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal}}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(coord, w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	w.now = time.Date(2026, 11, 21, 5, 30, 0, 0, time.UTC)
	w.moveADay(t)
	w.run(t)
	if got := w.statuses(t); got[len(got)-1] != "HEARING_CHANGED VICTIM SMS PENDING (quiet hours)" {
		t.Fatalf("at 21:30 in Los Angeles: %v", got)
	}
	// 08:00 in Los Angeles is 16:00 UTC; the message gives the time in Los Angeles.
	w.now = time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)
	w.run(t)
	texts := w.sms.Messages()
	if len(texts) != 2 {
		t.Fatalf("%d texts, want the change after quiet hours", len(texts))
	}
	// The hearing moved to 10:00 New York time on 11 December: 7:00 in Los Angeles.
	if body := texts[1].Body; !strings.Contains(body, "7:00") || strings.Contains(body, "10:00") {
		t.Errorf("the text should give the time in the victim's zone (7:00), not the court's: %q", body)
	}
}

func TestWorker_AVictimsMailComesFromTheNeutralSender(t *testing.T) {
	w := newWorkerWorld(t)
	// E-mail first, in full, once the address is confirmed safe.
	policy := courtside.ContactPolicy{NeutralSender: "Harbor Office", Channels: []courtside.ChannelRule{
		{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailFull},
		{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailContentFree}}}
	coord := courtside.NewContextWithUser(context.Background(), w.coord)
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(coord, w.victim.ID, policy, []courtside.Channel{courtside.ChannelEmail}); err != nil {
		t.Fatal(err)
	}
	// A change planned under that policy goes by e-mail.
	w.moveADay(t)
	w.run(t)
	var toVictim []string
	for _, m := range w.smtp.Messages() {
		if strings.Join(m.To, ",") == "hidden.person@mail.test" {
			toVictim = append(toVictim, m.Header.Get("From"))
		}
	}
	if len(toVictim) != 1 || !strings.Contains(toVictim[0], "Harbor Office") || strings.Contains(toVictim[0], "Courtside") {
		t.Fatalf("the victim's mail came from %q, want the neutral sender only", toVictim)
	}
	// Only the notice planned before the change of policy went by SMS.
	if n := len(w.sms.Messages()); n != 1 {
		t.Errorf("%d texts, want only the first notice's", n)
	}
}
