package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// noticeWorld is a booking fixture whose victim may be texted (SMS allowed and confirmed
// safe, content-free), with an accepted interpreter and an assigned advocate, and the two
// planners run over the event log as the router would.
type noticeWorld struct {
	*bookingFixture
	now       time.Time
	lastEvent int64
	reminders *storage.ReminderPlanner
	notices   *storage.NoticePlanner
}

func newNoticeWorld(t *testing.T) *noticeWorld {
	t.Helper()
	w := &noticeWorld{bookingFixture: newBookingFixture(t), now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	w.db.Now = func() time.Time { return w.now }
	w.reminders = &storage.ReminderPlanner{DB: w.db, Plan: courtside.DefaultReminderPlan()}
	w.notices = &storage.NoticePlanner{DB: w.db}
	policy := courtside.ContactPolicy{Channels: []courtside.ChannelRule{
		{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailFull},
		{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailContentFree},
	}}
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(w.as(w.coordinator), w.victim.ID, policy, []courtside.Channel{courtside.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Writer.Exec(`UPDATE users SET email = 'adv@example.org' WHERE id = ?`, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Writer.Exec(`UPDATE users SET phone = '+15555550199' WHERE id = ?`, w.interpreter.ID); err != nil {
		t.Fatal(err)
	}
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.coordinator), w.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(w.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	return w
}

// drain runs both planners over the events not yet handled, each in its own transaction, the
// way the router does, and returns how many it handled.
func (w *noticeWorld) drain(t *testing.T) int {
	t.Helper()
	return storagetest.Drain(t, w.db, &w.lastEvent, w.reminders.Handle, w.notices.Handle)
}

// deliveries returns "kind audience channel status" for the hearing's deliveries, in order.
func (w *noticeWorld) deliveries(t *testing.T) []string {
	t.Helper()
	rows, err := w.db.Writer.Query(`SELECT kind, audience, channel, status, reason FROM deliveries WHERE hearing_id = ? ORDER BY id`, w.hearing.ID)
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
		line := strings.Join([]string{k, a, c, s}, " ")
		if r != "" {
			line += " (" + r + ")"
		}
		out = append(out, line)
	}
	return out
}

func (w *noticeWorld) reminderStates(t *testing.T) map[string]int {
	t.Helper()
	rs, err := storage.NewReminderService(w.db).FindReminders(context.Background(), w.hearing.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rs {
		out[string(r.Status)]++
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func TestNoticePlanner_ScheduleRescheduleCancel(t *testing.T) {
	w := newNoticeWorld(t)
	if w.drain(t) == 0 {
		t.Fatal("no events to plan from")
	}
	// The hearing was posted before the victim was linked: the victim is told of it once,
	// though both the posting and the link call for it. The booking offer and the
	// accompaniment reach the interpreter and the advocate.
	sameLines(t, "after set-up", w.deliveries(t), []string{
		"HEARING_SCHEDULED VICTIM SMS PENDING",
		"BOOKING_OFFER INTERPRETER SMS PENDING",
		"ACCOMPANIMENT_ASSIGNED ADVOCATE EMAIL PENDING",
	})
	// Reminders: victim 7 d and 1 d, advocate 2 d and 2 h, interpreter 2 d and 07:00.
	if got := w.reminderStates(t); got["PLANNED"] != 6 || len(got) != 1 {
		t.Fatalf("reminders = %v, want 6 planned", got)
	}
	moved := w.hearing.StartsAt.Add(24 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	sameLines(t, "after a reschedule", w.deliveries(t)[3:], []string{
		"HEARING_CHANGED ADVOCATE EMAIL PENDING",
		"HEARING_CHANGED INTERPRETER SMS PENDING",
		"HEARING_CHANGED VICTIM SMS PENDING",
	})
	if got := w.reminderStates(t); got["SUPERSEDED"] != 6 || got["PLANNED"] != 6 {
		t.Fatalf("reminders after a move = %v, want 6 superseded and 6 planned", got)
	}
	// The change's notice carries the time before and after.
	var notice string
	if err := w.db.Writer.QueryRow(`SELECT notice FROM deliveries WHERE kind = 'HEARING_CHANGED' AND audience = 'VICTIM'`).Scan(&notice); err != nil {
		t.Fatal(err)
	}
	var facts courtside.NoticeFacts
	if err := json.Unmarshal([]byte(notice), &facts); err != nil {
		t.Fatal(err)
	}
	if facts.Before == nil || !facts.Before.StartsAt.Equal(w.hearing.StartsAt) || !facts.Hearing.StartsAt.Equal(moved) {
		t.Errorf("change notice = %+v, want before %v and after %v", facts, w.hearing.StartsAt, moved)
	}
	if strings.Contains(notice, "Hidden Legal Name") || strings.Contains(notice, "555") {
		t.Errorf("the notice facts carry victim PII: %s", notice)
	}

	// Planning the same events again plans nothing new.
	before := w.count(t, "deliveries")
	w.lastEvent = 0
	w.drain(t)
	if after := w.count(t, "deliveries"); after != before {
		t.Errorf("replaying the event log planned %d more deliveries", after-before)
	}

	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	sameLines(t, "after a cancellation", w.deliveries(t)[6:], []string{
		"HEARING_CANCELLED ADVOCATE EMAIL PENDING",
		"HEARING_CANCELLED INTERPRETER SMS PENDING",
		"HEARING_CANCELLED VICTIM SMS PENDING",
	})
	if got := w.reminderStates(t); got["CANCELLED"] != 6 || got["PLANNED"] != 0 {
		t.Fatalf("reminders after a cancellation = %v, want the 6 planned cancelled", got)
	}
}

func TestNoticePlanner_SuppressedTellsTheAdvocate(t *testing.T) {
	w := newNoticeWorld(t)
	// The victim now allows nothing.
	if _, err := storage.NewVictimService(w.db).SetContactPolicy(w.as(w.coordinator), w.victim.ID, courtside.ContactPolicy{}, nil); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	sameLines(t, "after set-up", w.deliveries(t)[:2], []string{
		"HEARING_SCHEDULED VICTIM EMAIL SUPPRESSED (policy: no allowed channel with an address confirmed safe)",
		"NOTICE_SUPPRESSED ADVOCATE EMAIL PENDING",
	})
	moved := w.hearing.StartsAt.Add(2 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	sameLines(t, "after a reschedule", w.deliveries(t)[4:], []string{
		"HEARING_CHANGED ADVOCATE EMAIL PENDING",
		"HEARING_CHANGED INTERPRETER SMS PENDING",
		"HEARING_CHANGED VICTIM EMAIL SUPPRESSED (policy: no allowed channel with an address confirmed safe)",
		"NOTICE_SUPPRESSED ADVOCATE EMAIL PENDING",
	})
}

func TestReminders_FireAndDeliver(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	ctx := context.Background()
	if n, err := storage.NewReminderService(w.db).FireDueReminders(ctx, 100); err != nil || n != 0 {
		t.Fatalf("fired %d, %v before anything is due", n, err)
	}
	// Six days on, the victim's 7-day reminder is due (the hearing is on 1 December).
	w.now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if n, err := storage.NewReminderService(w.db).FireDueReminders(ctx, 100); err != nil || n != 1 {
		t.Fatalf("fired %d, %v, want the 7-day reminder", n, err)
	}
	w.drain(t)
	lines := w.deliveries(t)
	if got := lines[len(lines)-1]; got != "REMINDER VICTIM SMS PENDING" {
		t.Errorf("last delivery = %q, want the victim's reminder", got)
	}
	if n, _ := storage.NewReminderService(w.db).FireDueReminders(ctx, 100); n != 0 {
		t.Errorf("a fired reminder fired again (%d)", n)
	}
}

func TestDeliveryQueue_LeaseRecordAndFallBack(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	ctx := context.Background()
	// The victim may be e-mailed too, once the address is confirmed safe; the change goes by
	// e-mail first (the policy's order).
	if _, err := w.db.Writer.Exec(`INSERT INTO victim_contacts (victim_id, channel, address_sealed, confirmed_safe_at) VALUES (?, 'EMAIL', ?, ?)`,
		w.victim.ID, []byte{0}, storage.FormatTime(w.now)); err != nil {
		t.Fatal(err)
	}
	moved := w.hearing.StartsAt.Add(3 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	leased, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Set-up's three and the change's three.
	if len(leased) != 6 {
		t.Fatalf("leased %d deliveries, want 6", len(leased))
	}
	if again, err := storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("leased %d again while the lease holds (%v)", len(again), err)
	}
	var victim *courtside.PendingDelivery
	for _, d := range leased {
		if d.Audience == courtside.AudienceVictim && d.Kind == courtside.NotifyHearingChanged {
			victim = d
		}
	}
	if victim == nil || victim.Channel != courtside.ChannelEmail || !victim.Notice.Hearing.StartsAt.Equal(moved) {
		t.Fatalf("victim's delivery = %+v, want an e-mail about the move", victim)
	}
	// E-mail gives up: the same notice goes by SMS under its own key.
	if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, victim, courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, At: w.now, Attempted: true, Reason: "550 refused"}); err != nil {
		t.Fatal(err)
	}
	var key, status string
	if err := w.db.Writer.QueryRow(`SELECT idempotency_key, status FROM deliveries WHERE victim_id = ? AND channel = 'SMS' AND kind = 'HEARING_CHANGED'`,
		w.victim.ID).Scan(&key, &status); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(victim.IdempotencyKey, "EMAIL") + "SMS"; key != want || status != "PENDING" {
		t.Errorf("next channel = %s %s, want %s PENDING", key, status, want)
	}
	// The lease runs out and the SMS is leased; SENT records the lead time.
	w.now = w.now.Add(2 * time.Minute)
	leased, err = storage.NewDeliveryQueue(w.db).LeaseDeliveries(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var sms *courtside.PendingDelivery
	for _, d := range leased {
		if d.IdempotencyKey == key {
			sms = d
		}
	}
	if sms == nil {
		t.Fatalf("the SMS delivery was not leased (%d leased)", len(leased))
	}
	if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, sms, courtside.DeliveryOutcome{Status: courtside.DeliverySent, At: w.now, Attempted: true, Detail: courtside.DetailContentFree}); err != nil {
		t.Fatal(err)
	}
	ds, err := storage.NewDeliveryService(w.db).FindDeliveries(w.as(w.coordinator), courtside.DeliveryFilter{VictimID: &w.victim.ID})
	if err != nil {
		t.Fatal(err)
	}
	var sent *courtside.Delivery
	for _, d := range ds {
		if d.Status == courtside.DeliverySent {
			sent = d
		}
	}
	wantLead := int(moved.Sub(w.now) / time.Minute)
	if sent == nil || sent.LeadTimeMinutes == nil || *sent.LeadTimeMinutes != wantLead || sent.SentAt == nil {
		t.Fatalf("sent delivery = %+v, want lead %d minutes", sent, wantLead)
	}
	// Recording twice (a worker whose lease ran out) keeps the first outcome.
	if err := storage.NewDeliveryQueue(w.db).RecordDelivery(ctx, sms, courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, At: w.now, Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	if err := w.db.Writer.QueryRow(`SELECT status FROM deliveries WHERE idempotency_key = ?`, key).Scan(&status); err != nil || status != "SENT" {
		t.Errorf("after a second record: %s, %v, want SENT", status, err)
	}
}

func TestNoticePlanner_UnfilledBookingTellsTheCoordinators(t *testing.T) {
	w := newNoticeWorld(t)
	if _, err := w.db.Writer.Exec(`UPDATE users SET email = 'coord@example.org' WHERE id = ?`, w.coordinator.ID); err != nil {
		t.Fatal(err)
	}
	french := w.addInterpreter(t, "fr1", "fr:CERTIFIED")
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.coordinator), w.hearing.ID, "fr", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(french), b.ID, false, "away that week"); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	rows, err := w.db.Writer.Query(`SELECT COALESCE(user_id, 0), channel, status, notice FROM deliveries WHERE kind = 'BOOKING_UNFILLED'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var user int64
		var channel, status, notice string
		if err := rows.Scan(&user, &channel, &status, &notice); err != nil {
			t.Fatal(err)
		}
		var facts courtside.NoticeFacts
		if err := json.Unmarshal([]byte(notice), &facts); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("u%d %s %s %s", user, channel, status, facts.Language))
	}
	// Only the requesting organisation's coordinator, not the other organisation's.
	want := []string{fmt.Sprintf("u%d EMAIL PENDING fr", w.coordinator.ID)}
	sameLines(t, "unfilled notices", got, want)
}

// TestNoticePlanner_ExpiredOfferTellsTheInterpreter: an offer that expires unanswered plans one
// BOOKING_EXPIRED message to the interpreter who let it lapse, naming the booking and its
// language (what the e-mail's withdrawal of the invitation needs), and none to anybody else;
// the next candidate's offer is a BOOKING_OFFER of its own. Handled again, the event plans
// nothing more.
func TestNoticePlanner_ExpiredOfferTellsTheInterpreter(t *testing.T) {
	w := newNoticeWorld(t)
	first := w.addInterpreter(t, "pt1", "pt:CERTIFIED")
	second := w.addInterpreter(t, "pt2", "pt:CERTIFIED")
	for _, u := range []*courtside.User{first, second} {
		if _, err := w.db.Writer.Exec(`UPDATE users SET email = ? WHERE id = ?`, u.Username+"@example.org", u.ID); err != nil {
			t.Fatal(err)
		}
	}
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.coordinator), w.hearing.ID, "pt", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	w.now = b.RespondBy.Add(time.Second)
	if n, err := storage.NewBookingService(w.db).ExpireOffers(context.Background()); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	w.drain(t)
	deliveries := func() []string {
		rows, err := w.db.Writer.Query(`SELECT kind, COALESCE(user_id, 0), channel, notice FROM deliveries
			WHERE kind IN ('BOOKING_OFFER', 'BOOKING_EXPIRED') ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var kind, channel, notice string
			var user int64
			if err := rows.Scan(&kind, &user, &channel, &notice); err != nil {
				t.Fatal(err)
			}
			var facts courtside.NoticeFacts
			if err := json.Unmarshal([]byte(notice), &facts); err != nil {
				t.Fatal(err)
			}
			if facts.Language == "pt" { // not the fixture's own Spanish booking
				got = append(got, fmt.Sprintf("%s u%d %s booking %d interpreter %d %s", kind, user, channel, facts.BookingID, facts.InterpreterID, facts.Language))
			}
		}
		return got
	}
	next, err := storage.NewBookingService(w.db).FindBookings(w.as(w.coordinator), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	if err != nil {
		t.Fatal(err)
	}
	var reoffer *courtside.InterpreterBooking
	for _, nb := range next {
		if nb.PreviousBookingID == b.ID {
			reoffer = nb
		}
	}
	if reoffer == nil || reoffer.InterpreterID != second.ID {
		t.Fatalf("no re-offer to pt2 after the expiry: %+v", next)
	}
	want := []string{
		fmt.Sprintf("BOOKING_OFFER u%d EMAIL booking %d interpreter %d pt", first.ID, b.ID, first.ID),
		fmt.Sprintf("BOOKING_EXPIRED u%d EMAIL booking %d interpreter %d pt", first.ID, b.ID, first.ID),
		fmt.Sprintf("BOOKING_OFFER u%d EMAIL booking %d interpreter %d pt", second.ID, reoffer.ID, second.ID),
	}
	sameLines(t, "offer and expiry notices", deliveries(), want)

	// The planners handle every event again (a redelivery after a crash): nothing new.
	w.lastEvent = 0
	if n := w.drain(t); n == 0 {
		t.Fatal("nothing handled the second time")
	}
	sameLines(t, "after handling every event again", deliveries(), want)
}
