package storage_test

import (
	"context"
	"courtside/storage"
	"testing"
	"time"

	"courtside"
)

func TestCalendar_HearingsAndProjection(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-9", LegalName: "Hidden Name", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if chs, err := storage.NewCalendarService(f.db).FindCalendarHearings(ctx, f.advocate.ID); err != nil || len(chs) != 0 {
		t.Fatalf("unassigned advocate's calendar: %v %d", err, len(chs))
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	chs, err := storage.NewCalendarService(f.db).FindCalendarHearings(ctx, f.advocate.ID)
	if err != nil || len(chs) != 1 || chs[0].Docket != "26-CR-1" || chs[0].Court.TimeZone != "America/New_York" ||
		len(chs[0].Pseudonyms) != 1 || chs[0].Pseudonyms[0] != "V-9" {
		t.Fatalf("advocate's calendar: %v %+v", err, chs)
	}
	if pros, _ := storage.NewCalendarService(f.db).FindCalendarHearings(ctx, f.prosecutor.ID); len(pros) != 1 || pros[0].Pseudonyms != nil {
		t.Fatalf("prosecutor's calendar: %+v", pros)
	}
	for _, u := range []*courtside.User{f.otherAdvocate, f.otherProsecutor, f.interpreter, f.coordinator} {
		if _, err := storage.NewCalendarService(f.db).FindCalendarHearing(ctx, u.ID, h.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s reaches the hearing in a calendar: %v", u.Username, err)
		}
	}
	// Cancelled hearings stay in the calendar, cancelled.
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), h.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	if ch, err := storage.NewCalendarService(f.db).FindCalendarHearing(ctx, f.advocate.ID, h.ID); err != nil || ch.Hearing.Status != courtside.HearingCancelled {
		t.Fatalf("cancelled: %v %+v", err, ch)
	}

	// The projection bumps the token of everyone whose calendar holds the hearing.
	version := func(u *courtside.User) int64 {
		v, _, err := storage.NewCalendarService(f.db).CalendarVersion(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tx, err := f.db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := courtside.Event{Type: courtside.EventHearingChanged, HearingID: h.ID, At: time.Now()}
	if err := storage.NewCalendarService(f.db).ProjectCalendar(ctx, tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewCalendarService(f.db).ProjectCalendar(ctx, tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if version(f.advocate) != 2 || version(f.prosecutor) != 2 || version(f.otherAdvocate) != 0 || version(f.otherProsecutor) != 0 {
		t.Fatalf("versions: adv %d pros %d other adv %d other pros %d", version(f.advocate), version(f.prosecutor), version(f.otherAdvocate), version(f.otherProsecutor))
	}
}

func TestCalendar_ChangesRecordLeaving(t *testing.T) {
	f := newBookingFixture(t)
	ctx := context.Background()
	project := func(ev courtside.Event) {
		t.Helper()
		ev.HearingID = f.hearing.ID
		runProjection(t, f.db, ev)
	}
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.prosecutor), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	project(courtside.Event{Type: courtside.EventBookingAccepted, UserID: f.interpreter.ID})
	cs, accepted, err := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.interpreter.ID, 0)
	if err != nil || len(cs) != 1 || cs[0].Deleted || accepted != 1 {
		t.Fatalf("after accepting: %v %+v at %d", err, cs, accepted)
	}

	// No method takes an accepted booking back today (a decline at reconfirmation would): the
	// projection must still notice the hearing leaving the interpreter's calendar, and leave the
	// prosecutor's alone.
	if _, err := f.db.Writer.ExecContext(ctx, `UPDATE interpreter_bookings SET status = 'DECLINED' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	_, prosBefore, _ := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.prosecutor.ID, 0)
	project(courtside.Event{Type: courtside.EventBookingDeclined, UserID: f.interpreter.ID})
	cs, v, err := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.interpreter.ID, accepted)
	if err != nil || len(cs) != 1 || !cs[0].Deleted || cs[0].HearingID != f.hearing.ID || v != accepted+1 {
		t.Fatalf("interpreter after the decline: %v %+v at %d", err, cs, v)
	}
	if cs, v, err = storage.NewCalendarService(f.db).CalendarChanges(ctx, f.prosecutor.ID, prosBefore); err != nil || len(cs) != 0 || v != prosBefore {
		t.Fatalf("prosecutor after the decline: %v %+v at %d", err, cs, v)
	}
	// Another event for the hearing leaves the interpreter's calendar alone.
	project(courtside.Event{Type: courtside.EventHearingChanged})
	if _, again, _ := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.interpreter.ID, 0); again != accepted+1 {
		t.Fatalf("interpreter's version moved to %d", again)
	}
}

func TestCalendar_Changes(t *testing.T) {
	f := newFixture(t)
	h1, h2 := f.postHearing(t, ""), f.postHearing(t, "")
	ctx := context.Background()
	project := func(hearingIDs ...int64) {
		t.Helper()
		var evs []courtside.Event
		for _, id := range hearingIDs {
			evs = append(evs, courtside.Event{Type: courtside.EventHearingChanged, HearingID: id})
		}
		runProjection(t, f.db, evs...)
	}
	changes := func(since int64) ([]courtside.CalendarChange, int64) {
		t.Helper()
		cs, v, err := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.prosecutor.ID, since)
		if err != nil {
			t.Fatal(err)
		}
		return cs, v
	}
	if cs, v := changes(0); len(cs) != 0 || v != 0 {
		t.Fatalf("before any projection: %+v at %d", cs, v)
	}
	project(h1.ID, h2.ID, h1.ID) // versions 1 (h1), 2 (h2), 3 (h1 again)
	tests := []struct {
		name    string
		since   int64
		want    []int64 // hearing IDs, in version order
		version int64
	}{
		{"everything", 0, []int64{h2.ID, h1.ID}, 3},
		{"after the first", 1, []int64{h2.ID, h1.ID}, 3},
		{"after the second", 2, []int64{h1.ID}, 3},
		{"current", 3, nil, 3},
		{"future", 9, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, v := changes(tt.since)
			var got []int64
			for _, c := range cs {
				if c.Deleted || c.Version <= tt.since {
					t.Errorf("change %+v", c)
				}
				got = append(got, c.HearingID)
			}
			if v != tt.version || len(got) != len(tt.want) {
				t.Fatalf("got %v at %d, want %v at %d", got, v, tt.want, tt.version)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	if cs, v, err := storage.NewCalendarService(f.db).CalendarChanges(ctx, f.otherProsecutor.ID, 0); err != nil || len(cs) != 0 || v != 0 {
		t.Fatalf("another office: %v %+v at %d", err, cs, v)
	}
}
