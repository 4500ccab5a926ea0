package courtside_test

import (
	"strings"
	"testing"
	"time"

	"courtside"
)

func TestParseClock(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "08:00", want: 8 * time.Hour},
		{in: " 17:45 ", want: 17*time.Hour + 45*time.Minute},
		{in: "00:00", want: 0},
		{in: "24:00", want: 24 * time.Hour},
		{in: "24:01", bad: true},
		{in: "25:00", bad: true},
		{in: "12:60", bad: true},
		{in: "8:00", bad: true},
		{in: "08:00:00", bad: true},
		{in: "08h00", bad: true},
		{in: "", bad: true},
		{in: "-1:00", bad: true},
	} {
		got, err := courtside.ParseClock("opensAt", tt.in)
		if tt.bad {
			if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "opensAt" {
				t.Errorf("ParseClock(%q) = %v, %v; want INVALID opensAt", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back := courtside.FormatClock(got); back != strings.TrimSpace(tt.in) {
			t.Errorf("FormatClock(%v) = %q, want %q", got, back, strings.TrimSpace(tt.in))
		}
	}
}

func TestCourt_ValidateHours(t *testing.T) {
	for _, tt := range []struct {
		hours courtside.CourtHours
		ok    bool
	}{
		{courtside.CourtHours{}, true}, // the default
		{courtside.CourtHours{Opens: 9 * time.Hour, Closes: 17 * time.Hour}, true},
		{courtside.CourtHours{Opens: 0, Closes: 24 * time.Hour}, true},
		{courtside.CourtHours{Opens: 17 * time.Hour, Closes: 9 * time.Hour}, false},
		{courtside.CourtHours{Opens: 9 * time.Hour, Closes: 9 * time.Hour}, false},
		{courtside.CourtHours{Opens: 9 * time.Hour, Closes: 25 * time.Hour}, false},
		{courtside.CourtHours{Opens: -time.Hour, Closes: 9 * time.Hour}, false},
	} {
		c := &courtside.Court{Name: "Court", TimeZone: "UTC", Hours: tt.hours}
		if err := c.Validate(); (err == nil) != tt.ok || (err != nil && courtside.ErrorField(err) != "closesAt") {
			t.Errorf("hours %+v: %v", tt.hours, err)
		}
	}
	if got := (&courtside.Court{}).EffectiveHours(); got != courtside.DefaultCourtHours {
		t.Errorf("EffectiveHours of no hours = %+v", got)
	}
}

func TestValidateTravelTime(t *testing.T) {
	for _, tt := range []struct {
		from, to int64
		minutes  int
		field    string
	}{
		{1, 2, 0, ""},
		{1, 2, 720, ""},
		{1, 1, 30, "toCourtId"},
		{1, 2, -1, "minutes"},
		{1, 2, 721, "minutes"},
	} {
		err := courtside.ValidateTravelTime(tt.from, tt.to, tt.minutes)
		if courtside.ErrorField(err) != tt.field || (tt.field != "") != (courtside.ErrorCode(err) == courtside.EINVALID) {
			t.Errorf("ValidateTravelTime(%d, %d, %d) = %v, want field %q", tt.from, tt.to, tt.minutes, err, tt.field)
		}
	}
	for _, tt := range []struct {
		u    *courtside.User
		want bool
	}{
		{&courtside.User{Role: courtside.RoleAdmin}, true},
		{&courtside.User{Role: courtside.RoleCoordinator, OrganizationID: 1}, false}, // travel times are every organisation's: admins only
		{&courtside.User{Role: courtside.RoleProsecutor, OrganizationID: 1}, false},
		{&courtside.User{Role: courtside.RoleAdvocate, OrganizationID: 1}, false},
		{&courtside.User{Role: courtside.RoleInterpreter}, false},
		{nil, false},
	} {
		if got := courtside.CanSetTravelTimes(tt.u); got != tt.want {
			t.Errorf("CanSetTravelTimes(%+v) = %v", tt.u, got)
		}
	}
}

// TestFindConflicts_PerCourtHours: each court's own hours, in its own zone, across the
// daylight-saving changes of New York (8 March 2026) and London (29 March 2026); a court
// without hours takes req.Hours, or the default.
func TestFindConflicts_PerCourtHours(t *testing.T) {
	evening := courtside.CourtHours{Opens: 12 * time.Hour, Closes: 21 * time.Hour}
	early := courtside.CourtHours{Opens: 7 * time.Hour, Closes: 15 * time.Hour}
	courts := []*courtside.Court{
		{ID: courtNY, Name: "Main Courthouse", TimeZone: "America/New_York", Hours: evening},
		{ID: courtLondon, Name: "Crown Court", TimeZone: "Europe/London", Hours: early},
		{ID: courtLA, Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles"}, // no hours of its own
	}
	for _, tt := range []struct {
		name string
		h    *courtside.Hearing
		req  courtside.CourtHours
		out  bool
	}{
		{name: "19:30 EST in an evening court", h: hearingAt(1, 10, courtNY, "2026-03-06T19:30:00-05:00", time.Hour)},
		{name: "11:30 EST before it opens", h: hearingAt(1, 10, courtNY, "2026-03-06T11:30:00-05:00", time.Hour), out: true},
		// 01:30Z is 20:30 EST on Friday 6 March (in) but 21:30 EDT on Monday 9 March (out).
		{name: "01:30Z Saturday 7 March is Friday 20:30 EST", h: hearingAt(1, 10, courtNY, "2026-03-07T01:30:00Z", 30*time.Minute)},
		{name: "01:30Z Tuesday 10 March is Monday 21:30 EDT", h: hearingAt(1, 10, courtNY, "2026-03-10T01:30:00Z", 30*time.Minute), out: true},
		// London opens at 07:00: 06:30Z is 06:30 GMT before its change (out), 07:30 BST after (in).
		{name: "06:30Z Friday 27 March is 06:30 GMT", h: hearingAt(1, 10, courtLondon, "2026-03-27T06:30:00Z", time.Hour), out: true},
		{name: "06:30Z Monday 30 March is 07:30 BST", h: hearingAt(1, 10, courtLondon, "2026-03-30T06:30:00Z", time.Hour)},
		{name: "14:30 BST ends after London closes at 15:00", h: hearingAt(1, 10, courtLondon, "2026-03-30T13:30:00Z", time.Hour), out: true},
		{name: "a court without hours takes the default", h: hearingAt(1, 10, courtLA, "2026-03-06T07:30:00-08:00", time.Hour), out: true},
		{name: "a court without hours takes req.Hours", h: hearingAt(1, 10, courtLA, "2026-03-06T07:30:00-08:00", time.Hour),
			req: courtside.CourtHours{Opens: 7 * time.Hour, Closes: 19 * time.Hour}},
		{name: "req.Hours do not override a court's own", h: hearingAt(1, 10, courtNY, "2026-03-06T11:30:00-05:00", time.Hour),
			req: courtside.CourtHours{Opens: 7 * time.Hour, Closes: 19 * time.Hour}, out: true},
	} {
		got := conflictStrings(courtside.FindConflicts(courtside.ConflictRequest{Hearings: []*courtside.Hearing{tt.h}, Courts: courts, Hours: tt.req}))
		if (len(got) == 1) != tt.out || len(got) > 1 {
			t.Errorf("%s (%s): %q, want outside %v", tt.name, tt.h.StartsAt.Format(time.RFC3339), got, tt.out)
		}
	}
}

// TestFindConflicts_TravelAcrossDST: the travel buffer is elapsed time. On the night New York
// springs forward the wall clock jumps an hour, so two hearings whose clocks read two hours
// apart are one hour apart, and a 90-minute buffer between two New York courts is not met.
func TestFindConflicts_TravelAcrossDST(t *testing.T) {
	first := hearingAt(1, 10, courtNY, "2026-03-08T00:30:00-05:00", time.Hour) // ends 01:30 EST, 06:30Z
	for _, tt := range []struct {
		name   string
		second *courtside.Hearing
		clash  bool
	}{
		{"03:30 EDT is 60 minutes later", hearingAt(2, 11, courtNYAnnex, "2026-03-08T03:30:00-04:00", time.Hour), true},
		{"04:00 EDT is 90 minutes later", hearingAt(2, 11, courtNYAnnex, "2026-03-08T04:00:00-04:00", time.Hour), false},
		// Los Angeles has not changed yet at 06:30Z: 22:30 PST on Saturday; 00:00 PST is 90 minutes on.
		{"00:00 PST in Los Angeles is 90 minutes later", hearingAt(2, 11, courtLA, "2026-03-08T00:00:00-08:00", time.Hour), false},
		{"23:45 PST the evening before is 75 minutes later", hearingAt(2, 11, courtLA, "2026-03-07T23:45:00-08:00", time.Hour), true},
	} {
		req := courtside.ConflictRequest{Hearings: []*courtside.Hearing{first, tt.second}, Courts: coordinationCourts,
			Bookings:     []*courtside.InterpreterBooking{booking(1, 7, "es", courtside.BookingAccepted), booking(2, 7, "es", courtside.BookingAccepted)},
			TravelBuffer: func(a, b int64) time.Duration { return 90 * time.Minute }}
		var clashes int
		for _, c := range courtside.FindConflicts(req) {
			if c.Kind == courtside.ConflictInterpreterDoubleBooked {
				clashes++
			}
		}
		if (clashes == 1) != tt.clash {
			t.Errorf("%s: %d clashes, want clash %v", tt.name, clashes, tt.clash)
		}
	}
}

// TestRespondBy_AcrossDST: the 24 hours to answer are elapsed hours, so an offer made the day
// before New York springs forward is due at a wall-clock hour later.
func TestRespondBy_AcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	offered := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	got := courtside.RespondBy(offered, offered.Add(30*24*time.Hour)).In(ny)
	if want := time.Date(2026, 3, 8, 13, 0, 0, 0, ny); !got.Equal(want) || got.Sub(offered) != 24*time.Hour {
		t.Fatalf("RespondBy = %s, want %s", got, want)
	}
	// A hearing 20 elapsed hours after the offer, across the change: half of that.
	if got := courtside.RespondBy(offered, time.Date(2026, 3, 8, 9, 0, 0, 0, ny)); got.Sub(offered) != 10*time.Hour {
		t.Fatalf("RespondBy near the hearing = %s (%s after the offer)", got, got.Sub(offered))
	}
}
