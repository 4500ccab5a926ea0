package storage_test

import (
	"courtside/storage"
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
)

func TestTravelTime_SetAndRead(t *testing.T) {
	f := newBookingFixture(t)
	harbor := &courtside.Court{Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles"}
	annex := &courtside.Court{Name: "Annex", TimeZone: "America/New_York"}
	for _, c := range []*courtside.Court{harbor, annex} {
		if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), c); err != nil {
			t.Fatal(err)
		}
	}
	main := f.court.ID
	read := func(a, b int64) int {
		t.Helper()
		n, err := storage.NewCourtService(f.db).TravelTime(f.as(f.advocate), a, b)
		if err != nil {
			t.Fatalf("travel %d-%d: %v", a, b, err)
		}
		return n
	}
	if read(main, harbor.ID) != 60 || read(main, main) != 0 {
		t.Fatal("defaults: 60 between courts, 0 within one")
	}
	audits := f.count(t, "audit_log")
	if n, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), harbor.ID, main, 150); err != nil || n != 150 {
		t.Fatalf("set: %v %d", err, n)
	}
	if n, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), main, annex.ID, 0); err != nil || n != 0 {
		t.Fatalf("set 0: %v %d", err, n)
	}
	if f.count(t, "audit_log") != audits+2 || f.count(t, "travel_times") != 2 {
		t.Fatal("two settings, two audit rows, two rows")
	}
	if read(main, harbor.ID) != 150 || read(harbor.ID, main) != 150 || read(annex.ID, main) != 0 || read(harbor.ID, annex.ID) != 60 {
		t.Fatal("the configured times are not read back both ways")
	}
	if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), main, harbor.ID, 45); err != nil || read(harbor.ID, main) != 45 {
		t.Fatalf("an update the other way round: %v", err)
	}

	before := f.count(t, "audit_log")
	for _, tt := range []struct {
		name     string
		u        *courtside.User
		from, to int64
		minutes  int
		code     string
	}{
		{"the same court", f.admin, main, main, 10, courtside.EINVALID},
		{"negative", f.admin, main, harbor.ID, -1, courtside.EINVALID},
		{"over 12 hours", f.admin, main, harbor.ID, 721, courtside.EINVALID},
		{"an unknown court", f.admin, main, 999, 10, courtside.ENOTFOUND},
		// Every organisation plans with the same times: no coordinator may change another's.
		{"a coordinator", f.coordinator, main, harbor.ID, 10, courtside.EFORBIDDEN},
		{"another coordinator", f.otherCoordin, main, harbor.ID, 10, courtside.EFORBIDDEN},
		{"an advocate", f.advocate, main, harbor.ID, 10, courtside.EFORBIDDEN},
		{"an interpreter", f.interpreter, main, harbor.ID, 10, courtside.EFORBIDDEN},
		{"a prosecutor", f.prosecutor, main, harbor.ID, 10, courtside.EFORBIDDEN},
	} {
		if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(tt.u), tt.from, tt.to, tt.minutes); courtside.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if read(main, harbor.ID) != 45 {
		t.Fatal("a refused setting changed the travel time")
	}
	if n, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), main, harbor.ID, 720); err != nil || n != 720 {
		t.Fatalf("720 minutes: %v", err)
	}
	if f.count(t, "audit_log") != before+1 {
		t.Fatal("a refused setting wrote an audit row")
	}
	if _, err := storage.NewCourtService(f.db).TravelTime(f.as(f.advocate), main, 999); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("read with an unknown court: %v", err)
	}
}

func TestCourtHours_Stored(t *testing.T) {
	f := newFixture(t)
	evening := &courtside.Court{Name: "Night Court", TimeZone: "America/Chicago",
		Hours: courtside.CourtHours{Opens: 12 * time.Hour, Closes: 24 * time.Hour}}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), evening); err != nil {
		t.Fatal(err)
	}
	got, err := storage.NewCourtService(f.db).FindCourtByID(f.as(f.admin), evening.ID)
	if err != nil || got.Hours != evening.Hours {
		t.Fatalf("stored hours: %v %+v", err, got)
	}
	if got, _ := storage.NewCourtService(f.db).FindCourtByID(f.as(f.admin), f.court.ID); got.Hours != courtside.DefaultCourtHours {
		t.Fatalf("default hours: %+v", got.Hours)
	}
	bad := &courtside.Court{Name: "Backwards", TimeZone: "UTC", Hours: courtside.CourtHours{Opens: 18 * time.Hour, Closes: 8 * time.Hour}}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), bad); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Fatalf("closing before opening: %v", err)
	}
}

// TestTravelTime_RankingAndConflicts: the configured travel time between two courts in
// different zones decides both whether an interpreter can be offered the second hearing and
// whether two accepted bookings conflict; each court's own hours decide OUTSIDE_COURT_HOURS.
func TestTravelTime_RankingAndConflicts(t *testing.T) {
	f := newBookingFixture(t)
	h1 := f.hearing // Tuesday 1 December 2026, 09:30-10:30 in New York (14:30-15:30Z)
	harbor := &courtside.Court{Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles",
		Hours: courtside.CourtHours{Opens: 6 * time.Hour, Closes: 17 * time.Hour}}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), harbor); err != nil {
		t.Fatal(err)
	}
	other := &courtside.Case{Docket: "26-CR-2", CourtID: harbor.ID}
	if err := storage.NewCaseService(f.db).OpenCase(f.as(f.prosecutor), other); err != nil {
		t.Fatal(err)
	}
	f.share(t, other, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), other.ID, f.victim.ID, false); err != nil {
		t.Fatal(err)
	}
	// 09:00 in Los Angeles (17:00Z): 90 minutes after h1 ends in New York. 06:30 Los Angeles
	// is inside Harbor's own hours and would be outside the default ones.
	h2 := f.postHearingAt(t, other.ID, time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), time.Hour)
	early := f.postHearingAt(t, other.ID, time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC), time.Hour)
	mainEarly := f.postHearingAt(t, f.kase.ID, time.Date(2026, 12, 2, 11, 30, 0, 0, time.UTC), time.Hour) // 06:30 in New York
	late := f.postHearingAt(t, other.ID, time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC), time.Hour)        // 15:00 in Los Angeles
	b1, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h1.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b1.ID, true, ""); err != nil {
		t.Fatal(err)
	}

	// 120 minutes between the courts: 90 is not enough, the only interpreter is unavailable.
	if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), f.court.ID, harbor.ID, 120); err != nil {
		t.Fatal(err)
	}
	cands, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), h2.ID, "es")
	if err != nil || len(cands) != 1 || cands[0].Available || cands[0].Reason != courtside.UnavailableReason {
		t.Fatalf("candidates with 120 minutes: %v %+v", err, cands)
	}
	if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h2.ID, "es", nil); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("request with 120 minutes: %v", err)
	}
	// 600 minutes: a hearing at Harbor seven and a half hours after h1 is too close as well.
	if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), f.court.ID, harbor.ID, 600); err != nil {
		t.Fatal(err)
	}
	if cands, _ := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), late.ID, "es"); len(cands) != 1 || cands[0].Available {
		t.Fatalf("a hearing 7.5 hours later with 10 hours' travel: %+v", cands)
	}

	// 90 minutes: exactly enough.
	if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), harbor.ID, f.court.ID, 90); err != nil {
		t.Fatal(err)
	}
	b2, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h2.ID, "es", nil)
	if err != nil || b2.InterpreterID != f.interpreter.ID {
		t.Fatalf("request with 90 minutes: %v %+v", err, b2)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b2.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	conflicts := func() string {
		t.Helper()
		cs, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(f.coordinator), decFrom, decTo)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(conflictStrings(cs), "; ")
	}
	// 06:30 is outside the Main Courthouse's default hours, not Harbor's own, 06:00 to 17:00.
	hours := fmt.Sprintf("OUTSIDE_COURT_HOURS court Main Courthouse: %d", mainEarly.ID)
	if got := conflicts(); got != hours {
		t.Fatalf("conflicts with 90 minutes: %q, want %q (early is %d)", got, hours, early.ID)
	}
	// The pair's time grows to 91 minutes: the two bookings now conflict.
	if _, err := storage.NewCourtService(f.db).SetTravelTime(f.as(f.admin), f.court.ID, harbor.ID, 91); err != nil {
		t.Fatal(err)
	}
	if got, want := conflicts(), fmt.Sprintf("INTERPRETER_DOUBLE_BOOKED interp: %d,%d; %s", h1.ID, h2.ID, hours); got != want {
		t.Fatalf("conflicts with 91 minutes: %q, want %q", got, want)
	}
}
