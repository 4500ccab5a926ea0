package storage_test

import (
	"context"
	"courtside/storage"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"courtside"
)

func TestHearing_WritePath(t *testing.T) {
	f := newFixture(t)
	before := f.counts(t)
	h := f.postHearing(t, "EXT-1")
	if h.ID == 0 || h.Status != courtside.HearingScheduled || h.Sequence != 0 || h.CourtID != f.court.ID {
		t.Fatalf("posted %+v", h)
	}
	after := f.counts(t)
	for table, delta := range map[string]int{"hearings": 1, "hearing_changes": 1, "audit_log": 1, "events": 1} {
		if after[table]-before[table] != delta {
			t.Errorf("%s grew by %d, want %d", table, after[table]-before[table], delta)
		}
	}
	var payload []byte
	if err := f.db.Writer.QueryRow(`SELECT payload FROM events ORDER BY id DESC LIMIT 1`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var ev courtside.Event
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Type != courtside.EventHearingScheduled || ev.HearingID != h.ID || ev.ActorID != f.prosecutor.ID {
		t.Fatalf("event %+v, %v", ev, err)
	}
	var action, object string
	f.db.Writer.QueryRow(`SELECT action, object FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&action, &object)
	if action != "hearing.post" || object != "hearing:1" {
		t.Fatalf("audit %q %q", action, object)
	}
}

func TestHearing_PostIsIdempotentOnExternalID(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "EXT-1")
	before := f.counts(t)
	again := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindSentencing, StartsAt: start, EndsAt: start.Add(time.Hour),
		Courtroom: "4B", Judge: "Judge of Part 4", ExternalID: "EXT-1"}
	created, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), again)
	if err != nil || created || again.ID != h.ID || again.Sequence != 0 {
		t.Fatalf("re-post: created=%v err=%v %+v", created, err, again)
	}
	if after := f.counts(t); after["events"] != before["events"] || after["hearing_changes"] != before["hearing_changes"] {
		t.Fatal("an unchanged re-post wrote something")
	}
	// A changed time is a continuance of the same hearing.
	moved := *again
	moved.StartsAt, moved.EndsAt = start.Add(48*time.Hour), start.Add(49*time.Hour)
	if created, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), &moved); err != nil || created {
		t.Fatalf("moved re-post: %v %v", created, err)
	}
	if moved.ID != h.ID || moved.Status != courtside.HearingContinued || moved.Sequence != 1 {
		t.Fatalf("moved %+v", moved)
	}
	changes, err := storage.NewHearingService(f.db).FindHearingChanges(f.as(f.prosecutor), h.ID)
	if err != nil || len(changes) != 2 || changes[1].FromStartsAt == nil || !changes[1].FromStartsAt.Equal(start) || changes[1].By != "pros" {
		t.Fatalf("history %v %+v", err, changes)
	}
	// The same external ID in another case is refused.
	other := &courtside.Case{Docket: "26-CR-2", CourtID: f.court.ID}
	if err := storage.NewCaseService(f.db).OpenCase(f.as(f.prosecutor), other); err != nil {
		t.Fatal(err)
	}
	clash := moved
	clash.CaseID = other.ID
	if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), &clash); courtside.ErrorField(err) != "externalId" {
		t.Fatalf("clash: %v", err)
	}
}

func TestHearing_RescheduleAndCancel(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	ctx := f.as(f.prosecutor)
	room := "7A"
	got, err := storage.NewHearingService(f.db).RescheduleHearing(ctx, h.ID, courtside.HearingUpdate{StartsAt: start.Add(time.Hour), EndsAt: start.Add(2 * time.Hour), Courtroom: &room, Reason: "judge unavailable"})
	if err != nil || got.Sequence != 1 || got.Status != courtside.HearingContinued || got.Courtroom != "7A" {
		t.Fatalf("reschedule: %v %+v", err, got)
	}
	stale := 0
	if _, err := storage.NewHearingService(f.db).RescheduleHearing(ctx, h.ID, courtside.HearingUpdate{StartsAt: start, EndsAt: start.Add(time.Hour), Reason: "x", ExpectedSequence: &stale}); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("stale sequence: %v", err)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(ctx, h.ID, "dismissed", &stale); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("stale cancel: %v", err)
	}
	one := 1
	got, err = storage.NewHearingService(f.db).CancelHearing(ctx, h.ID, "dismissed", &one)
	if err != nil || got.Status != courtside.HearingCancelled || got.Sequence != 2 {
		t.Fatalf("cancel: %v %+v", err, got)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(ctx, h.ID, "again", nil); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("cancel twice: %v", err)
	}
	reread, err := storage.NewHearingService(f.db).FindHearingByID(ctx, h.ID)
	if err != nil || reread.Status != courtside.HearingCancelled || reread.Sequence != 2 || !reread.StartsAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("reread %v %+v", err, reread)
	}
}

func TestHearing_RefusedWritesNothing(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	before := f.counts(t)
	valid := courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindPlea, StartsAt: start, EndsAt: start.Add(time.Hour)}
	for _, tt := range []struct {
		name string
		code string
		do   func() error
	}{
		{"coordinator posts", courtside.EFORBIDDEN, func() error {
			c := valid
			_, err := storage.NewHearingService(f.db).PostHearing(f.as(f.coordinator), &c)
			return err
		}},
		{"anonymous posts", courtside.EUNAUTHORIZED, func() error {
			c := valid
			_, err := storage.NewHearingService(f.db).PostHearing(context.Background(), &c)
			return err
		}},
		{"other office posts", courtside.ENOTFOUND, func() error {
			c := valid
			_, err := storage.NewHearingService(f.db).PostHearing(f.as(f.otherProsecutor), &c)
			return err
		}},
		{"end before start", courtside.EINVALID, func() error {
			c := valid
			c.EndsAt = c.StartsAt.Add(-time.Minute)
			_, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), &c)
			return err
		}},
		{"advocate reschedules", courtside.EFORBIDDEN, func() error {
			_, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.advocate), h.ID, courtside.HearingUpdate{StartsAt: start, EndsAt: start.Add(2 * time.Hour), Reason: "x"})
			return err
		}},
		{"other office cancels", courtside.ENOTFOUND, func() error {
			_, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.otherProsecutor), h.ID, "x", nil)
			return err
		}},
		{"cancel without reason", courtside.EINVALID, func() error {
			_, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), h.ID, " ", nil)
			return err
		}},
		{"admin opens case", courtside.EFORBIDDEN, func() error {
			return storage.NewCaseService(f.db).OpenCase(f.as(f.admin), &courtside.Case{Docket: "X", CourtID: f.court.ID})
		}},
		{"prosecutor creates court", courtside.EFORBIDDEN, func() error {
			return storage.NewCourtService(f.db).CreateCourt(f.as(f.prosecutor), &courtside.Court{Name: "X", TimeZone: "UTC"})
		}},
		{"bad time zone", courtside.EINVALID, func() error {
			return storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), &courtside.Court{Name: "X", TimeZone: "Mars/Olympus"})
		}},
	} {
		if err := tt.do(); courtside.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	sameCounts(t, "refused write", before, f.counts(t))
}

func TestHearing_EventsCommitWithTheChange(t *testing.T) {
	f := newFixture(t)
	before := f.counts(t)
	f.db.Publish = func(ctx context.Context, tx *sql.Tx, evs ...courtside.Event) error {
		return errors.New("event log unavailable")
	}
	h := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindPlea, StartsAt: start, EndsAt: start.Add(time.Hour)}
	if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err == nil {
		t.Fatal("post succeeded without its event")
	}
	sameCounts(t, "a change without its event", before, f.counts(t))
}

func TestHearing_Visibility(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	from, to := start.Add(-24*time.Hour), start.Add(24*time.Hour)
	visible := func(u *courtside.User) int {
		hs, err := storage.NewHearingService(f.db).FindHearings(f.as(u), courtside.HearingFilter{From: &from, To: &to})
		if err != nil {
			t.Fatal(err)
		}
		return len(hs)
	}
	for _, tt := range []struct {
		u    *courtside.User
		want int
	}{{f.prosecutor, 1}, {f.admin, 1}, {f.otherProsecutor, 0}, {f.coordinator, 0}, {f.advocate, 0}, {f.interpreter, 0}} {
		if got := visible(tt.u); got != tt.want {
			t.Errorf("%s sees %d hearings, want %d", tt.u.Username, got, tt.want)
		}
	}
	// Once the office shares the case, a victim of the organisation is linked and an advocate
	// assigned, they see it.
	v := &courtside.Victim{Pseudonym: "V-1", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		u    *courtside.User
		want int
	}{{f.coordinator, 1}, {f.advocate, 1}, {f.otherAdvocate, 0}, {f.otherCoordin, 0}, {f.interpreter, 0}} {
		if got := visible(tt.u); got != tt.want {
			t.Errorf("%s sees %d hearings, want %d", tt.u.Username, got, tt.want)
		}
	}
	// Pagination by (startsAt, id).
	second := f.postHearing(t, "")
	page, err := storage.NewHearingService(f.db).FindHearings(f.as(f.prosecutor), courtside.HearingFilter{Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != h.ID {
		t.Fatalf("page 1: %v %+v", err, page)
	}
	page, err = storage.NewHearingService(f.db).FindHearings(f.as(f.prosecutor), courtside.HearingFilter{Limit: 1, After: &courtside.HearingCursor{StartsAt: h.StartsAt, ID: h.ID}})
	if err != nil || len(page) != 1 || page[0].ID != second.ID {
		t.Fatalf("page 2: %v %+v", err, page)
	}
}
