package storage_test

import (
	"context"
	"testing"
	"time"

	"courtside"
)

func TestCalendar_HearingsAndProjection(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-9", LegalName: "Hidden Name", PreferredLanguage: "es"}
	if err := f.db.RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	if err := f.db.LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if chs, err := f.db.FindCalendarHearings(ctx, f.advocate.ID); err != nil || len(chs) != 0 {
		t.Fatalf("unassigned advocate's calendar: %v %d", err, len(chs))
	}
	if _, err := f.db.AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	chs, err := f.db.FindCalendarHearings(ctx, f.advocate.ID)
	if err != nil || len(chs) != 1 || chs[0].Docket != "26-CR-1" || chs[0].Court.TimeZone != "America/New_York" ||
		len(chs[0].Pseudonyms) != 1 || chs[0].Pseudonyms[0] != "V-9" {
		t.Fatalf("advocate's calendar: %v %+v", err, chs)
	}
	if pros, _ := f.db.FindCalendarHearings(ctx, f.prosecutor.ID); len(pros) != 1 || pros[0].Pseudonyms != nil {
		t.Fatalf("prosecutor's calendar: %+v", pros)
	}
	for _, u := range []*courtside.User{f.otherAdvocate, f.otherProsecutor, f.interpreter, f.coordinator} {
		if _, err := f.db.FindCalendarHearing(ctx, u.ID, h.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s reaches the hearing in a calendar: %v", u.Username, err)
		}
	}
	// Cancelled hearings stay in the calendar, cancelled.
	if _, err := f.db.CancelHearing(f.as(f.prosecutor), h.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	if ch, err := f.db.FindCalendarHearing(ctx, f.advocate.ID, h.ID); err != nil || ch.Hearing.Status != courtside.HearingCancelled {
		t.Fatalf("cancelled: %v %+v", err, ch)
	}

	// The projection bumps the token of everyone whose calendar holds the hearing.
	version := func(u *courtside.User) int64 {
		v, _, err := f.db.CalendarVersion(ctx, u.ID)
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
	if err := f.db.ProjectCalendar(ctx, tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := f.db.ProjectCalendar(ctx, tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if version(f.advocate) != 2 || version(f.prosecutor) != 2 || version(f.otherAdvocate) != 0 || version(f.otherProsecutor) != 0 {
		t.Fatalf("versions: adv %d pros %d other adv %d other pros %d", version(f.advocate), version(f.prosecutor), version(f.otherAdvocate), version(f.otherProsecutor))
	}
}
