package storage_test

import (
	"context"
	"courtside/storage"
	"testing"
	"time"

	"courtside"
)

// TestScheduling_InboxFollowsTheBooking reads interpA's scheduling inbox as her booking goes: a
// REQUEST at the hearing's sequence while offered; dismissed, it stays out until the hearing
// moves (a new SEQUENCE); a CANCEL once the hearing is cancelled. Other users' inboxes never
// hold it.
func TestScheduling_InboxFollowsTheBooking(t *testing.T) {
	f := newInvitationFixture(t)
	inbox := func(u *courtside.User) []*courtside.ScheduledInvitation {
		t.Helper()
		got, err := storage.NewSchedulingService(f.db).FindScheduledInvitations(f.as(u))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := inbox(f.interpA)
	if len(got) != 1 || got[0].BookingID != f.offer.ID || got[0].Method != courtside.ITIPRequest || got[0].Sequence != f.hearing.Sequence ||
		got[0].Hearing.Docket == "" || got[0].Language != "pt" {
		t.Fatalf("interpA's inbox: %+v", got)
	}
	for _, u := range []*courtside.User{f.interpB, f.coordinator} {
		if got := inbox(u); len(got) != 0 {
			t.Errorf("%s's inbox: %+v", u.Username, got)
		}
	}
	if err := storage.NewSchedulingService(f.db).DismissScheduledInvitation(f.as(f.interpB), f.offer.ID, courtside.ITIPRequest, f.hearing.Sequence); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("interpB dismissing interpA's message: %v", err)
	}
	if err := storage.NewSchedulingService(f.db).DismissScheduledInvitation(f.as(f.interpA), f.offer.ID, courtside.ITIPRequest, f.hearing.Sequence); err != nil {
		t.Fatal(err)
	}
	if got := inbox(f.interpA); len(got) != 0 {
		t.Fatalf("after dismissing: %+v", got)
	}
	if s := f.status(t); s != courtside.BookingOffered {
		t.Fatalf("dismissing changed the booking: %s", s)
	}
	moved, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.hearing.ID, courtside.HearingUpdate{
		StartsAt: start.Add(24 * time.Hour), EndsAt: start.Add(25 * time.Hour), Reason: "continuance"})
	if err != nil {
		t.Fatal(err)
	}
	if got := inbox(f.interpA); len(got) != 1 || got[0].Sequence != moved.Sequence || got[0].Method != courtside.ITIPRequest {
		t.Fatalf("after the move: %+v", got)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	if got := inbox(f.interpA); len(got) != 1 || got[0].Method != courtside.ITIPCancel || got[0].Hearing.Status != courtside.HearingCancelled {
		t.Fatalf("after the cancellation: %+v", got)
	}
}

// TestScheduling_ExpiredOfferLeavesACancel: when interpA's offer expires unanswered, her inbox
// holds a CANCEL of it (so an app that put the REQUEST in her calendar takes the event out),
// a withdrawal one sequence above the REQUEST's (an app ignores a CANCEL no newer than what it
// holds), while the hearing itself stands; interpB, offered it next, has the REQUEST.
// Dismissed, the CANCEL stays out.
func TestScheduling_ExpiredOfferLeavesACancel(t *testing.T) {
	f := newInvitationFixture(t)
	ctx := context.Background()
	if f.offer.RespondBy == nil {
		t.Fatal("the offer has no deadline")
	}
	now := f.db.Now()
	f.db.Now = func() time.Time { return now.Add(f.offer.RespondBy.Sub(now) + time.Second) }
	if n, err := storage.NewBookingService(f.db).ExpireOffers(ctx); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	got, err := storage.NewSchedulingService(f.db).FindScheduledInvitations(f.as(f.interpA))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].BookingID != f.offer.ID || got[0].Method != courtside.ITIPCancel || got[0].Sequence != f.hearing.Sequence+1 ||
		!got[0].Withdrawn || got[0].Hearing.Status != courtside.HearingScheduled {
		t.Fatalf("interpA's inbox after the expiry: %+v", got)
	}
	next, err := storage.NewSchedulingService(f.db).FindScheduledInvitations(f.as(f.interpB))
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].Method != courtside.ITIPRequest || next[0].BookingID == f.offer.ID {
		t.Fatalf("interpB's inbox after the expiry: %+v", next)
	}
	if err := storage.NewSchedulingService(f.db).DismissScheduledInvitation(f.as(f.interpA), f.offer.ID, courtside.ITIPCancel, f.hearing.Sequence+1); err != nil {
		t.Fatal(err)
	}
	if got, err := storage.NewSchedulingService(f.db).FindScheduledInvitations(f.as(f.interpA)); err != nil || len(got) != 0 {
		t.Fatalf("after dismissing the CANCEL: %+v %v", got, err)
	}
}

// TestScheduling_AnswerOnlyYourOwn answers interpA's invitation through the scheduling service:
// interpB, with interpA's signed UID, and interpA under another address change nothing; interpA's own
// DECLINED declines and offers interpB the hearing.
func TestScheduling_AnswerOnlyYourOwn(t *testing.T) {
	f := newInvitationFixture(t)
	before := f.writesAll(t)
	reply := f.reply(courtside.PartStatAccepted)
	reply.From = ""
	if _, err := storage.NewSchedulingService(f.db).AnswerScheduledInvitation(f.as(f.interpB), reply); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("interpB answering interpA's invitation: %v", err)
	}
	other := reply
	other.Attendee = "someone@else.example"
	if _, err := storage.NewSchedulingService(f.db).AnswerScheduledInvitation(f.as(f.interpA), other); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Errorf("interpA answering as another address: %v", err)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("refused answers wrote: %v -> %v", before, after)
	}
	decline := f.reply(courtside.PartStatDeclined)
	decline.From = "forged@else.example" // the app password stands for the sender: From is not believed
	got, err := storage.NewSchedulingService(f.db).AnswerScheduledInvitation(f.as(f.interpA), decline)
	if err != nil || got.Status != courtside.BookingDeclined {
		t.Fatalf("interpA's decline: %v %+v", err, got)
	}
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil || len(bs) != 2 || bs[1].InterpreterID != f.interpB.ID || bs[1].Status != courtside.BookingOffered {
		t.Fatalf("bookings after the decline: %v %+v", err, bs)
	}
}

// TestAvailability_DeleteCalendarAndComponents deletes a calendar made with MKCALENDAR: its
// objects, busy time, change log and settings go, a calendar made again under the name has
// a new incarnation; availability cannot be deleted; a calendar made for VEVENTs refuses a
// VTODO (FieldComponent).
func TestAvailability_DeleteCalendarAndComponents(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	c1, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: "work", Description: "Work", Color: "#112233",
		Components: []string{"vevent"}})
	if err != nil || c1.Incarnation == "" || len(c1.Components) != 1 || c1.Components[0] != courtside.ComponentEvent {
		t.Fatalf("create: %v %+v", err, c1)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, &courtside.AvailabilityObject{Calendar: "work", Name: "t.ics", UID: "t", Component: courtside.ComponentTodo,
		ETag: "e", Data: []byte("x")}, courtside.PutCondition{}); courtside.ErrorField(err) != courtside.FieldComponent {
		t.Errorf("a VTODO in an events calendar: %v", err)
	}
	ev := busyObject("e.ics", "e", courtside.Interval{Start: start, End: start.Add(time.Hour)})
	ev.Calendar = "work"
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, ev, courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewAvailabilityService(f.db).DeletePersonalCalendar(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if blocks, err := storage.NewAvailabilityService(f.db).FindBusyBlocks(ctx, start, start.Add(time.Hour)); err != nil || len(blocks) != 0 {
		t.Errorf("busy blocks after the deletion: %+v %v", blocks, err)
	}
	for _, table := range []string{"availability_objects", "availability_changes", "availability_busy", "availability_occurrences", "calendar_settings"} {
		var n int
		if err := f.db.Reader.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE calendar = 'work'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s rows of the deleted calendar: %d %v", table, n, err)
		}
	}
	c2, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: "work"})
	if err != nil || c2.Incarnation == c1.Incarnation || len(c2.Components) != 3 {
		t.Fatalf("made again: %v %+v", err, c2)
	}
	if err := storage.NewAvailabilityService(f.db).DeletePersonalCalendar(ctx, courtside.AvailabilityCalendar); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Errorf("deleting availability: %v", err)
	}
	if err := storage.NewAvailabilityService(f.db).DeletePersonalCalendar(f.as(f.advocate), "work"); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("another user deleting the calendar: %v", err)
	}
}
