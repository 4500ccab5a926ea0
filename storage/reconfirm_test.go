package storage_test

import (
	"context"
	"courtside/storage"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"courtside"
)

// reconfirmFixture is a booking fixture whose hearing has an accepted Spanish booking, an
// offered French one, a confirmed accompaniment and an assigned one.
type reconfirmFixture struct {
	*bookingFixture
	accepted, offered *courtside.InterpreterBooking
	french            *courtside.User
	confirmed, assign *courtside.Accompaniment
}

func newReconfirmFixture(t *testing.T, externalID string) *reconfirmFixture {
	t.Helper()
	f := &reconfirmFixture{bookingFixture: newBookingFixture(t)}
	if externalID != "" {
		f.hearing = f.postHearing(t, externalID)
	}
	f.french = f.addInterpreter(t, "fr", "fr:CERTIFIED")
	var err error
	if f.accepted, err = storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil); err != nil {
		t.Fatal(err)
	}
	if f.accepted, err = storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), f.accepted.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if f.offered, err = storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "fr", nil); err != nil {
		t.Fatal(err)
	}
	if f.confirmed, err = storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), f.hearing.ID, f.victim.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Writer.Exec(`UPDATE accompaniments SET status = 'CONFIRMED' WHERE id = ?`, f.confirmed.ID); err != nil {
		t.Fatal(err)
	}
	if f.assign, err = storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), f.hearing.ID, f.victim.ID, f.otherAdvocate.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// statuses returns the booking and accompaniment statuses by ID.
func (f *reconfirmFixture) statuses(t *testing.T) (map[int64]courtside.BookingStatus, map[int64]courtside.AccompanimentStatus) {
	t.Helper()
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil {
		t.Fatal(err)
	}
	b := map[int64]courtside.BookingStatus{}
	for _, x := range bs {
		b[x.ID] = x.Status
	}
	as, err := storage.NewAccompanimentService(f.db).FindAccompaniments(f.as(f.coordinator), courtside.AccompanimentFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil {
		t.Fatal(err)
	}
	a := map[int64]courtside.AccompanimentStatus{}
	for _, x := range as {
		a[x.ID] = x.Status
	}
	return b, a
}

func TestReconfirm_RescheduleAsksForReconfirmation(t *testing.T) {
	for _, tt := range []struct {
		name string
		upd  func(h *courtside.Hearing) courtside.HearingUpdate
	}{
		{"time", func(h *courtside.Hearing) courtside.HearingUpdate {
			return courtside.HearingUpdate{StartsAt: h.StartsAt.Add(48 * time.Hour), EndsAt: h.EndsAt.Add(48 * time.Hour), Reason: "continued"}
		}},
		{"courtroom", func(h *courtside.Hearing) courtside.HearingUpdate {
			room := "9A"
			return courtside.HearingUpdate{StartsAt: h.StartsAt, EndsAt: h.EndsAt, Courtroom: &room, Reason: "moved"}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newReconfirmFixture(t, "")
			if _, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.hearing.ID, tt.upd(f.hearing)); err != nil {
				t.Fatal(err)
			}
			bs, as := f.statuses(t)
			if bs[f.accepted.ID] != courtside.BookingNeedsReconfirmation || bs[f.offered.ID] != courtside.BookingOffered {
				t.Errorf("bookings %v", bs)
			}
			if as[f.confirmed.ID] != courtside.AccompanimentNeedsReconfirmation || as[f.assign.ID] != courtside.AccompanimentAssigned {
				t.Errorf("accompaniments %v", as)
			}
			evs := f.lastEvents(t, 3)
			if evs[0].Type != courtside.EventHearingChanged ||
				evs[1].Type != courtside.EventBookingNeedsReconfirmation || evs[1].BookingID != f.accepted.ID ||
				evs[1].UserID != f.interpreter.ID || evs[1].HearingID != f.hearing.ID ||
				evs[2].Type != courtside.EventAccompanimentNeedsReconfirmation || evs[2].AccompanimentID != f.confirmed.ID ||
				evs[2].UserID != f.advocate.ID || evs[2].VictimID != 0 {
				t.Errorf("events %+v", evs)
			}
			audits := f.lastAudits(t, 3)
			want := []string{"hearing.reschedule hearing:", "booking.needs_reconfirmation booking:", "accompaniment.needs_reconfirmation accompaniment:"}
			for i, w := range want {
				if !strings.HasPrefix(audits[i], w) {
					t.Errorf("audit %d = %q, want %q", i, audits[i], w)
				}
			}
			// The interpreter reconfirms.
			if b, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), f.accepted.ID, true, ""); err != nil || b.Status != courtside.BookingAccepted {
				t.Fatalf("reconfirm: %v %+v", err, b)
			}
		})
	}
}

func TestReconfirm_DocketUpdates(t *testing.T) {
	f := newReconfirmFixture(t, "DA-7")
	ctx := f.as(f.prosecutor)
	line := func(day, judge, status string) string {
		return "external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n" +
			"DA-7,26-CR-1,Main Courthouse,SENTENCING,2026-12-" + day + " 09:30,2026-12-" + day + " 10:30,4B," + judge + "," + status + "\n"
	}
	// A new judge alone is no move: nobody reconfirms.
	if res, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(line("01", "Judge Two", "")), nil); err != nil || res.Updated != 1 {
		t.Fatalf("judge change: %v %+v", err, res)
	}
	if bs, as := f.statuses(t); bs[f.accepted.ID] != courtside.BookingAccepted || as[f.confirmed.ID] != courtside.AccompanimentConfirmed {
		t.Fatalf("after a judge change: %v %v", bs, as)
	}
	// A new time in the docket is a move.
	if res, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(line("03", "Judge Two", "")), nil); err != nil || res.Updated != 1 {
		t.Fatalf("time change: %v %+v", err, res)
	}
	if bs, as := f.statuses(t); bs[f.accepted.ID] != courtside.BookingNeedsReconfirmation || as[f.confirmed.ID] != courtside.AccompanimentNeedsReconfirmation {
		t.Fatalf("after a time change: %v %v", bs, as)
	}
	// So is a PostHearing with another time.
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), f.accepted.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	posted := *f.hearing
	posted.Judge, posted.StartsAt, posted.EndsAt = "Judge Two", posted.StartsAt.Add(72*time.Hour), posted.EndsAt.Add(72*time.Hour)
	if _, err := storage.NewHearingService(f.db).PostHearing(ctx, &posted); err != nil {
		t.Fatal(err)
	}
	if bs, _ := f.statuses(t); bs[f.accepted.ID] != courtside.BookingNeedsReconfirmation {
		t.Fatalf("after a posted change: %v", bs)
	}
	// CANCELLED in the docket cancels every live booking and accompaniment.
	if _, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(line("04", "Judge Two", "CANCELLED")), nil); err != nil {
		t.Fatal(err)
	}
	bs, as := f.statuses(t)
	for id, s := range bs {
		if s != courtside.BookingCancelled {
			t.Errorf("booking %d is %s", id, s)
		}
	}
	for id, s := range as {
		if s != courtside.AccompanimentCancelled {
			t.Errorf("accompaniment %d is %s", id, s)
		}
	}
}

func TestReconfirm_CancelCancelsAndStaysInCalendars(t *testing.T) {
	f := newReconfirmFixture(t, "")
	ctx := context.Background()
	project := func(ev courtside.Event) {
		t.Helper()
		ev.HearingID = f.hearing.ID
		runProjection(t, f.db, ev)
	}
	project(courtside.Event{Type: courtside.EventBookingAccepted, UserID: f.interpreter.ID})
	_, before, _ := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.interpreter.ID, 0)

	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	bs, as := f.statuses(t)
	if bs[f.accepted.ID] != courtside.BookingCancelled || bs[f.offered.ID] != courtside.BookingCancelled ||
		as[f.confirmed.ID] != courtside.AccompanimentCancelled || as[f.assign.ID] != courtside.AccompanimentCancelled {
		t.Fatalf("after cancelling: %v %v", bs, as)
	}
	evs := f.lastEvents(t, 5)
	want := []courtside.EventType{courtside.EventHearingCancelled, courtside.EventBookingCancelled, courtside.EventBookingCancelled,
		courtside.EventAccompanimentCancelled, courtside.EventAccompanimentCancelled}
	for i, w := range want {
		if evs[i].Type != w || evs[i].HearingID != f.hearing.ID || evs[i].VictimID != 0 {
			t.Errorf("event %d = %+v, want %s", i, evs[i], w)
		}
	}
	// The hearing stays in the interpreter's and the advocate's calendars, cancelled.
	for _, u := range []*courtside.User{f.interpreter, f.advocate} {
		ch, err := storage.NewCalendarService(f.db).FindCalendarHearing(ctx, u.ID, f.hearing.ID)
		if err != nil || ch.Hearing.Status != courtside.HearingCancelled {
			t.Errorf("%s's calendar: %v %+v", u.Username, err, ch)
		}
	}
	project(courtside.Event{Type: courtside.EventHearingCancelled})
	cs, v, err := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.interpreter.ID, before)
	if err != nil || len(cs) != 1 || cs[0].Deleted || v != before+1 {
		t.Fatalf("interpreter's calendar changes after the cancellation: %v %+v at %d", err, cs, v)
	}
}

func TestReconfirm_OneTransaction(t *testing.T) {
	f := newReconfirmFixture(t, "")
	before := f.writes(t)
	f.db.Publish = func(ctx context.Context, tx *sql.Tx, evs ...courtside.Event) error {
		return errors.New("event log unavailable")
	}
	upd := courtside.HearingUpdate{StartsAt: f.hearing.StartsAt.Add(time.Hour), EndsAt: f.hearing.EndsAt.Add(time.Hour), Reason: "later"}
	if _, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.hearing.ID, upd); err == nil {
		t.Fatal("a move succeeded without its events")
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.hearing.ID, "dismissed", nil); err == nil {
		t.Fatal("a cancellation succeeded without its events")
	}
	sameCounts(t, "refused write", before, f.writes(t))
	if bs, as := f.statuses(t); bs[f.accepted.ID] != courtside.BookingAccepted || as[f.confirmed.ID] != courtside.AccompanimentConfirmed {
		t.Fatalf("statuses changed without the hearing: %v %v", bs, as)
	}
}
