package storage_test

import (
	"context"
	"courtside/storage"
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
)

// postHearingAt posts a hearing of the case as its prosecutor, from start for d.
func (f *fixture) postHearingAt(t *testing.T, caseID int64, start time.Time, d time.Duration) *courtside.Hearing {
	t.Helper()
	h := &courtside.Hearing{CaseID: caseID, Kind: courtside.KindMotion, StartsAt: start, EndsAt: start.Add(d), Courtroom: "2A"}
	if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err != nil {
		t.Fatal(err)
	}
	return h
}

// gapStrings renders coverage gaps as "hearing ID: missing".
func gapStrings(gaps []courtside.CoverageGap) []string {
	out := []string{}
	for _, g := range gaps {
		out = append(out, fmt.Sprintf("%d: %s", g.Hearing.ID, g.Missing))
	}
	return out
}

// conflictStrings renders conflicts as "KIND who: hearing IDs".
func conflictStrings(cs []courtside.Conflict) []string {
	out := []string{}
	for _, c := range cs {
		var ids []string
		for _, h := range c.Hearings {
			ids = append(ids, fmt.Sprint(h.ID))
		}
		out = append(out, fmt.Sprintf("%s %s: %s", c.Kind, c.Who, strings.Join(ids, ",")))
	}
	return out
}

// December 2026, around the fixture's hearing on Tuesday 1 December, 14:30 UTC.
var (
	decFrom = time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
	decTo   = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
)

func TestFindCoverage(t *testing.T) {
	f := newBookingFixture(t)
	h := f.hearing
	later := f.postHearingAt(t, f.kase.ID, time.Date(2027, 1, 12, 15, 0, 0, 0, time.UTC), time.Hour) // outside the range
	cover := func(u *courtside.User) string {
		t.Helper()
		gaps, err := storage.NewCoordinationService(f.db).FindCoverage(f.as(u), decFrom, decTo)
		if err != nil {
			t.Fatalf("%s: %v", u.Username, err)
		}
		for _, g := range gaps {
			if g.Hearing.ID == later.ID {
				t.Errorf("a hearing outside the range: %+v", g.Hearing)
			}
			if strings.Contains(g.Missing, f.victim.Pseudonym) || strings.Contains(g.Missing, f.victim.LegalName) {
				t.Errorf("missing names the victim: %q", g.Missing)
			}
		}
		return strings.Join(gapStrings(gaps), "; ")
	}
	want := func(u *courtside.User, gaps ...string) {
		t.Helper()
		if got := cover(u); got != strings.Join(gaps, "; ") {
			t.Errorf("%s sees %q, want %q", u.Username, got, strings.Join(gaps, "; "))
		}
	}
	advocate, es := fmt.Sprintf("%d: advocate", h.ID), fmt.Sprintf("%d: interpreter (es)", h.ID)
	// The victim released to the office whether they attend and are accompanied.
	f.release(t, f.victim, f.coordinator, f.prosecutor)

	// The victim attends and has no advocate yet.
	want(f.coordinator, advocate)
	want(f.prosecutor, advocate)
	want(f.admin, advocate)
	want(f.otherProsecutor)
	want(f.otherCoordin)

	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, f.victim.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	want(f.coordinator)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.prosecutor), h.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	want(f.coordinator, es)
	want(f.prosecutor, es)

	// A victim of another organisation attends too: its coordinator sees the gap, and sees the
	// hearing; the first coordinator answers only for its own victims.
	other := &courtside.Victim{Pseudonym: "W-1", PreferredLanguage: "en"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.otherCoordin), other); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.otherCoordin)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.otherCoordin), f.kase.ID, other.ID, true); err != nil {
		t.Fatal(err)
	}
	f.release(t, other, f.otherCoordin, f.prosecutor)
	want(f.coordinator, es)
	want(f.otherCoordin, advocate, es)
	want(f.prosecutor, advocate, es)
	want(f.admin, advocate, es)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.otherCoordin), f.kase.ID, other.ID, false); err != nil {
		t.Fatal(err)
	}
	want(f.otherCoordin, es)

	// The interpreter accepts: the hearing is covered.
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	want(f.coordinator)
	want(f.admin)

	// A cancelled hearing needs nobody.
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.otherCoordin), f.kase.ID, other.ID, true); err != nil {
		t.Fatal(err)
	}
	want(f.admin, advocate)
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), h.ID, "plea agreement", nil); err != nil {
		t.Fatal(err)
	}
	want(f.admin)
	want(f.otherCoordin)
}

func TestCoordination_AccessAndRange(t *testing.T) {
	f := newBookingFixture(t)
	for _, tt := range []struct {
		u                   *courtside.User
		coverage, conflicts string
	}{
		{f.admin, "", ""},
		{f.coordinator, "", ""},
		{f.prosecutor, "", courtside.EFORBIDDEN},
		{f.advocate, courtside.EFORBIDDEN, courtside.EFORBIDDEN},
		{f.interpreter, courtside.EFORBIDDEN, courtside.EFORBIDDEN},
	} {
		_, err := storage.NewCoordinationService(f.db).FindCoverage(f.as(tt.u), decFrom, decTo)
		if courtside.ErrorCode(err) != tt.coverage {
			t.Errorf("%s asks coverage: %v, want %q", tt.u.Username, err, tt.coverage)
		}
		_, err = storage.NewCoordinationService(f.db).FindConflicts(f.as(tt.u), decFrom, decTo)
		if courtside.ErrorCode(err) != tt.conflicts {
			t.Errorf("%s asks conflicts: %v, want %q", tt.u.Username, err, tt.conflicts)
		}
	}
	if _, err := storage.NewCoordinationService(f.db).FindCoverage(context.Background(), decFrom, decTo); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Errorf("anonymous coverage: %v", err)
	}
	for _, tt := range []struct {
		name     string
		from, to time.Time
		field    string
	}{
		{"367 days", decFrom, decFrom.AddDate(0, 0, 367), "to"},
		{"backwards", decTo, decFrom, "to"},
		{"empty", decFrom, decFrom, "to"},
		{"no from", time.Time{}, decTo, "from"},
	} {
		for name, ask := range map[string]func() error{
			"coverage": func() error {
				_, err := storage.NewCoordinationService(f.db).FindCoverage(f.as(f.coordinator), tt.from, tt.to)
				return err
			},
			"conflicts": func() error {
				_, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(f.coordinator), tt.from, tt.to)
				return err
			},
		} {
			if err := ask(); courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != tt.field {
				t.Errorf("%s, %s: %v, want EINVALID naming %s", name, tt.name, err, tt.field)
			}
		}
	}
	// A year is fine.
	if _, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(f.coordinator), decFrom, decFrom.AddDate(0, 0, 366)); err != nil {
		t.Errorf("366 days: %v", err)
	}
}

func TestFindConflicts(t *testing.T) {
	f := newBookingFixture(t)
	h1 := f.hearing // Tuesday 1 December 2026, 09:30-10:30 in New York
	harbor := &courtside.Court{Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles"}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), harbor); err != nil {
		t.Fatal(err)
	}
	other := &courtside.Case{Docket: "26-CR-2", CourtID: harbor.ID}
	if err := storage.NewCaseService(f.db).OpenCase(f.as(f.prosecutor), other); err != nil {
		t.Fatal(err)
	}
	f.share(t, other, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), other.ID, f.victim.ID, true); err != nil {
		t.Fatal(err)
	}
	// 10:00 in Los Angeles, 90 minutes after h1 ends in New York: time enough to travel, so
	// the interpreter can be booked for both (ranking applies the travel buffer too).
	h2 := f.postHearingAt(t, other.ID, time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC), time.Hour)
	// Saturday 5 December in New York.
	h3 := f.postHearingAt(t, f.kase.ID, time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC), time.Hour)
	for _, h := range []*courtside.Hearing{h1, h2} {
		if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, f.victim.ID, f.advocate.ID); err != nil {
			t.Fatal(err)
		}
		b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h.ID, "es", nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.InterpreterID != f.interpreter.ID {
			t.Fatalf("offered to %d", b.InterpreterID)
		}
		if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Moved to 08:00 in Los Angeles, 30 minutes after h1 ends in New York: not enough to
	// travel. The advocate and the interpreter must reconfirm, and are double-booked meanwhile.
	var err error
	if h2, err = storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), h2.ID, courtside.HearingUpdate{StartsAt: h2.StartsAt.Add(-2 * time.Hour),
		EndsAt: h2.EndsAt.Add(-2 * time.Hour), Reason: "moved up"}); err != nil {
		t.Fatal(err)
	}
	conflicts := func(u *courtside.User, from, to time.Time) string {
		t.Helper()
		cs, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(u), from, to)
		if err != nil {
			t.Fatalf("%s: %v", u.Username, err)
		}
		got := strings.Join(conflictStrings(cs), "; ")
		if strings.Contains(got, f.victim.LegalName) {
			t.Errorf("a conflict names the legal name: %s", got)
		}
		return got
	}
	pair := fmt.Sprintf("%d,%d", h1.ID, h2.ID)
	advocate, interpreter := "ADVOCATE_DOUBLE_BOOKED adv: "+pair, "INTERPRETER_DOUBLE_BOOKED interp: "+pair
	victim, saturday := "VICTIM_OVERLAP victim V-3: "+pair, fmt.Sprintf("OUTSIDE_COURT_HOURS court Main Courthouse: %d", h3.ID)
	for _, tt := range []struct {
		name     string
		u        *courtside.User
		from, to time.Time
		want     []string
	}{
		{"the coordinator sees its victim", f.coordinator, decFrom, decTo, []string{advocate, interpreter, victim, saturday}},
		{"the admin sees no victim", f.admin, decFrom, decTo, []string{advocate, interpreter, saturday}},
		{"another organisation sees nothing", f.otherCoordin, decFrom, decTo, []string{}},
		{"a range holding the second hearing only", f.coordinator, h2.StartsAt, h2.EndsAt, []string{advocate, interpreter, victim}},
		{"a range holding the first hearing only", f.coordinator, h1.StartsAt.Add(-time.Hour), h1.StartsAt.Add(time.Minute), []string{advocate, interpreter, victim}},
		{"a range between them", f.coordinator, h2.EndsAt, h3.StartsAt, []string{}},
	} {
		if got := conflicts(tt.u, tt.from, tt.to); got != strings.Join(tt.want, "; ") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, strings.Join(tt.want, "; "))
		}
	}

	// Moved two hours later, h2 leaves time to travel.
	if _, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), h2.ID, courtside.HearingUpdate{StartsAt: h2.StartsAt.Add(2 * time.Hour),
		EndsAt: h2.EndsAt.Add(2 * time.Hour), Reason: "judge unavailable"}); err != nil {
		t.Fatal(err)
	}
	if got := conflicts(f.coordinator, decFrom, decTo); got != saturday {
		t.Errorf("after the move: %q", got)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), h3.ID, "vacated", nil); err != nil {
		t.Fatal(err)
	}
	if got := conflicts(f.coordinator, decFrom, decTo); got != "" {
		t.Errorf("after the cancellation: %q", got)
	}
}

// TestCoordination_StatementsDoNotGrow counts the SQL statements of both questions over 2 and
// over 12 hearings, each with an advocate and an interpreter: the count is fixed.
func TestCoordination_StatementsDoNotGrow(t *testing.T) {
	f := newBookingFixture(t)
	f.addInterpreter(t, "interp2", "es:CERTIFIED")
	post := func(from, to int) {
		for i := from; i < to; i++ {
			h := f.postHearingAt(t, f.kase.ID, time.Date(2026, 12, 2+i, 14, 0, 0, 0, time.UTC), 30*time.Minute)
			if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, f.victim.ID, f.advocate.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h.ID, "es", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	from, to := decFrom, decFrom.AddDate(0, 1, 0)
	statements := func() (coverage, conflicts int64) {
		before := f.db.Statements()
		gaps, err := storage.NewCoordinationService(f.db).FindCoverage(f.as(f.coordinator), from, to)
		if err != nil || len(gaps) == 0 {
			t.Fatalf("coverage: %v %v", err, gapStrings(gaps))
		}
		middle := f.db.Statements()
		if _, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(f.coordinator), from, to); err != nil {
			t.Fatal(err)
		}
		return middle - before, f.db.Statements() - middle
	}
	post(0, 2)
	fewCoverage, fewConflicts := statements()
	post(2, 12)
	manyCoverage, manyConflicts := statements()
	if manyCoverage != fewCoverage || manyConflicts != fewConflicts {
		t.Errorf("statements over 2 and 12 hearings: coverage %d and %d, conflicts %d and %d", fewCoverage, manyCoverage, fewConflicts, manyConflicts)
	}
	if fewCoverage > 4 || fewConflicts > 6 { // conflicts: hearings, courts, travel times, victims, accompaniments, bookings
		t.Errorf("coverage takes %d statements, conflicts %d", fewCoverage, fewConflicts)
	}
}
