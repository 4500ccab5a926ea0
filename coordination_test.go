package courtside_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
)

// The courts of the coordination tests.
const (
	courtNY      = 1 // America/New_York
	courtLA      = 2 // America/Los_Angeles
	courtLondon  = 3 // Europe/London
	courtMars    = 4 // a zone time.LoadLocation does not know
	courtNYAnnex = 5 // another courthouse in New York
)

var coordinationCourts = []*courtside.Court{
	{ID: courtNY, Name: "Main Courthouse", TimeZone: "America/New_York"},
	{ID: courtLA, Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles"},
	{ID: courtLondon, Name: "Crown Court", TimeZone: "Europe/London"},
	{ID: courtMars, Name: "Olympus Court", TimeZone: "Mars/Olympus_Mons"},
	{ID: courtNYAnnex, Name: "Annex", TimeZone: "America/New_York"},
}

// hearingAt returns an open hearing of the case in the court, starting at start (RFC 3339, in
// any offset) and lasting d.
func hearingAt(id, caseID, courtID int64, start string, d time.Duration) *courtside.Hearing {
	s, err := time.Parse(time.RFC3339, start)
	if err != nil {
		panic(err)
	}
	return &courtside.Hearing{ID: id, CaseID: caseID, CourtID: courtID, Kind: courtside.KindMotion,
		StartsAt: s.UTC(), EndsAt: s.Add(d).UTC(), Status: courtside.HearingScheduled}
}

// withStatus returns a copy of h with another status.
func withStatus(h *courtside.Hearing, st courtside.HearingStatus) *courtside.Hearing {
	c := *h
	c.Status = st
	return &c
}

func attends(caseID, victimID int64) *courtside.CaseVictim {
	return &courtside.CaseVictim{CaseID: caseID, VictimID: victimID, Attends: true}
}

func accompanies(hearingID, victimID, advocateID int64, st courtside.AccompanimentStatus) *courtside.Accompaniment {
	return &courtside.Accompaniment{HearingID: hearingID, VictimID: victimID, AdvocateID: advocateID, Status: st}
}

func booking(hearingID, interpreterID int64, language string, st courtside.BookingStatus) *courtside.InterpreterBooking {
	return &courtside.InterpreterBooking{HearingID: hearingID, InterpreterID: interpreterID, Language: language, Status: st}
}

func TestValidateCoordinationRange(t *testing.T) {
	from := time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		from, to time.Time
		field    string
	}{
		{"a week", from, from.AddDate(0, 0, 7), ""},
		{"exactly 366 days", from, from.Add(366 * 24 * time.Hour), ""},
		{"a second longer than 366 days", from, from.Add(366*24*time.Hour + time.Second), "to"},
		{"two years", from, from.AddDate(2, 0, 0), "to"},
		{"empty", from, from, "to"},
		{"backwards", from, from.Add(-time.Hour), "to"},
		{"no from", time.Time{}, from, "from"},
		{"no to", from, time.Time{}, "to"},
	} {
		err := courtside.ValidateCoordinationRange(tt.from, tt.to)
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want EINVALID naming %s", tt.name, err, tt.field)
		}
	}
}

func TestCanSeeCoverageAndConflicts(t *testing.T) {
	for _, tt := range []struct {
		user                *courtside.User
		coverage, conflicts bool
	}{
		{&courtside.User{Role: courtside.RoleAdmin}, true, true},
		{&courtside.User{Role: courtside.RoleCoordinator, OrganizationID: 3}, true, true},
		{&courtside.User{Role: courtside.RoleCoordinator}, false, false}, // no organisation, no hearings
		{&courtside.User{Role: courtside.RoleProsecutor, OrganizationID: 2}, true, false},
		{&courtside.User{Role: courtside.RoleProsecutor}, false, false},
		{&courtside.User{Role: courtside.RoleAdvocate, OrganizationID: 3}, false, false},
		{&courtside.User{Role: courtside.RoleInterpreter}, false, false},
		{nil, false, false},
	} {
		var role courtside.Role
		if tt.user != nil {
			role = tt.user.Role
		}
		if got := courtside.CanSeeCoverage(tt.user); got != tt.coverage {
			t.Errorf("CanSeeCoverage(%s %+v) = %v", role, tt.user, got)
		}
		if got := courtside.CanSeeConflicts(tt.user); got != tt.conflicts {
			t.Errorf("CanSeeConflicts(%s %+v) = %v", role, tt.user, got)
		}
	}
}

func TestFindCoverageGaps(t *testing.T) {
	const caseID, otherCase, victimA, victimB, adv = 10, 11, 7, 8, 30
	h1 := hearingAt(1, caseID, courtNY, "2026-03-02T09:30:00-05:00", time.Hour)
	h2 := hearingAt(2, caseID, courtNY, "2026-03-04T09:30:00-05:00", time.Hour)
	h0 := hearingAt(3, otherCase, courtNY, "2026-03-01T09:30:00-05:00", time.Hour) // earlier, another case
	for _, tt := range []struct {
		name           string
		hearings       []*courtside.Hearing
		caseVictims    []*courtside.CaseVictim
		accompaniments []*courtside.Accompaniment
		bookings       []*courtside.InterpreterBooking
		want           []string // "hearing ID: missing"
	}{
		{name: "nothing needed", hearings: []*courtside.Hearing{h1}},
		{name: "an attending victim without an advocate", hearings: []*courtside.Hearing{h1},
			caseVictims: []*courtside.CaseVictim{attends(caseID, victimA)}, want: []string{"1: advocate"}},
		{name: "a victim who does not attend needs no advocate", hearings: []*courtside.Hearing{h1},
			caseVictims: []*courtside.CaseVictim{{CaseID: caseID, VictimID: victimA, Attends: false}}},
		{name: "a victim of another case", hearings: []*courtside.Hearing{h1},
			caseVictims: []*courtside.CaseVictim{attends(otherCase, victimA)}},
		{name: "an assigned advocate covers", hearings: []*courtside.Hearing{h1},
			caseVictims:    []*courtside.CaseVictim{attends(caseID, victimA)},
			accompaniments: []*courtside.Accompaniment{accompanies(1, victimA, adv, courtside.AccompanimentAssigned)}},
		{name: "an accompaniment awaiting reconfirmation still covers", hearings: []*courtside.Hearing{h1},
			caseVictims:    []*courtside.CaseVictim{attends(caseID, victimA)},
			accompaniments: []*courtside.Accompaniment{accompanies(1, victimA, adv, courtside.AccompanimentNeedsReconfirmation)}},
		{name: "a cancelled accompaniment does not", hearings: []*courtside.Hearing{h1},
			caseVictims:    []*courtside.CaseVictim{attends(caseID, victimA)},
			accompaniments: []*courtside.Accompaniment{accompanies(1, victimA, adv, courtside.AccompanimentCancelled)},
			want:           []string{"1: advocate"}},
		{name: "an advocate at another hearing of the case does not", hearings: []*courtside.Hearing{h1, h2},
			caseVictims:    []*courtside.CaseVictim{attends(caseID, victimA)},
			accompaniments: []*courtside.Accompaniment{accompanies(2, victimA, adv, courtside.AccompanimentConfirmed)},
			want:           []string{"1: advocate"}},
		{name: "two victims, one accompanied", hearings: []*courtside.Hearing{h1},
			caseVictims:    []*courtside.CaseVictim{attends(caseID, victimA), attends(caseID, victimB)},
			accompaniments: []*courtside.Accompaniment{accompanies(1, victimA, adv, courtside.AccompanimentConfirmed)},
			want:           []string{"1: advocate"}},
		{name: "two victims without an advocate make one gap", hearings: []*courtside.Hearing{h1},
			caseVictims: []*courtside.CaseVictim{attends(caseID, victimA), attends(caseID, victimB)},
			want:        []string{"1: advocate"}},
		{name: "an offered interpreter is not yet coverage", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingOffered)},
			want:     []string{"1: interpreter (es)"}},
		{name: "declined, then accepted by the next", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingDeclined), booking(1, 21, "es", courtside.BookingAccepted)}},
		{name: "declined and nobody left", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es-MX", courtside.BookingDeclined)},
			want:     []string{"1: interpreter (es-MX)"}},
		{name: "expired", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingExpired)},
			want:     []string{"1: interpreter (es)"}},
		{name: "awaiting reconfirmation after a move", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingNeedsReconfirmation)},
			want:     []string{"1: interpreter (es)"}},
		{name: "each language on its own", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingAccepted), booking(1, 22, "zh-Hans", courtside.BookingDeclined),
				booking(1, 23, "vi", courtside.BookingOffered)},
			want: []string{"1: interpreter (vi)", "1: interpreter (zh-Hans)"}},
		{name: "accepted in another language does not cover", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingOffered), booking(1, 22, "zh-Hans", courtside.BookingAccepted)},
			want:     []string{"1: interpreter (es)"}},
		{name: "a withdrawn request: every booking cancelled", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingCancelled)}},
		{name: "a booking of a hearing not asked about", hearings: []*courtside.Hearing{h1},
			bookings: []*courtside.InterpreterBooking{booking(2, 20, "es", courtside.BookingOffered)}},
		{name: "cancelled and held hearings need nobody",
			hearings:    []*courtside.Hearing{withStatus(h1, courtside.HearingCancelled), withStatus(h2, courtside.HearingHeld)},
			caseVictims: []*courtside.CaseVictim{attends(caseID, victimA)},
			bookings:    []*courtside.InterpreterBooking{booking(1, 20, "es", courtside.BookingOffered)}},
		{name: "a continued hearing is open", hearings: []*courtside.Hearing{withStatus(h1, courtside.HearingContinued)},
			caseVictims: []*courtside.CaseVictim{attends(caseID, victimA)}, want: []string{"1: advocate"}},
		{name: "by start, then advocate before interpreters", hearings: []*courtside.Hearing{h2, h1, h0, h1},
			caseVictims: []*courtside.CaseVictim{attends(caseID, victimA), attends(otherCase, victimB)},
			bookings:    []*courtside.InterpreterBooking{booking(2, 20, "es", courtside.BookingOffered), booking(1, 20, "ru", courtside.BookingOffered)},
			want:        []string{"3: advocate", "1: advocate", "1: interpreter (ru)", "2: advocate", "2: interpreter (es)"}},
	} {
		gaps := courtside.FindCoverageGaps(tt.hearings, tt.caseVictims, tt.accompaniments, tt.bookings)
		var got []string
		for _, g := range gaps {
			got = append(got, fmt.Sprintf("%d: %s", g.Hearing.ID, g.Missing))
		}
		if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// conflictStrings renders conflicts as "KIND who: h1,h2".
func conflictStrings(cs []courtside.Conflict) []string {
	var out []string
	for _, c := range cs {
		var ids []string
		for _, h := range c.Hearings {
			ids = append(ids, fmt.Sprint(h.ID))
		}
		out = append(out, fmt.Sprintf("%s %s: %s", c.Kind, c.Who, strings.Join(ids, ",")))
	}
	return out
}

func TestFindConflicts(t *testing.T) {
	const caseA, caseB, victimA, victimB, adv, adv2, interp, interp2 = 10, 11, 7, 8, 30, 31, 40, 41
	users := []*courtside.User{{ID: adv, Username: "adv"}, {ID: adv2, Username: "adv2"}, {ID: interp, Username: "interp"}, {ID: interp2, Username: "interp2"}}
	victims := []*courtside.Victim{{ID: victimA, Pseudonym: "V-17-R", LegalName: "Demo Person A"}, {ID: victimB, Pseudonym: "V-8", LegalName: "Demo Person B"}}

	// Monday 2 March 2026, New York on EST (UTC-5).
	a1 := hearingAt(1, caseA, courtNY, "2026-03-02T09:30:00-05:00", time.Hour)       // 09:30-10:30
	a2 := hearingAt(2, caseB, courtNY, "2026-03-02T10:30:00-05:00", time.Hour)       // right after, same court
	a3 := hearingAt(3, caseB, courtNY, "2026-03-02T10:00:00-05:00", time.Hour)       // overlaps a1
	b30 := hearingAt(4, caseB, courtNYAnnex, "2026-03-02T11:00:00-05:00", time.Hour) // 30 minutes after a1, another court
	b60 := hearingAt(5, caseB, courtNYAnnex, "2026-03-02T11:30:00-05:00", time.Hour) // 60 minutes after a1
	la := hearingAt(6, caseB, courtLA, "2026-03-02T07:30:00-08:00", time.Hour)       // 15:30Z: 30 minutes after a1, in Los Angeles
	// Sunday 8 March 2026: New York springs forward at 02:00 EST to 03:00 EDT.
	d1 := hearingAt(7, caseA, courtNY, "2026-03-08T01:00:00-05:00", 30*time.Minute) // 06:00-06:30Z
	d2 := hearingAt(8, caseB, courtNYAnnex, "2026-03-08T03:00:00-04:00", time.Hour) // 07:00Z: 90 minutes later on the clock, 30 in fact
	d3 := hearingAt(9, caseB, courtNYAnnex, "2026-03-08T04:00:00-04:00", time.Hour) // 08:00Z: 90 minutes after d1 ends
	// Sunday 1 November 2026: New York falls back at 02:00 EDT to 01:00 EST.
	f1 := hearingAt(10, caseA, courtNY, "2026-11-01T01:30:00-04:00", 20*time.Minute) // 05:30-05:50Z
	f2 := hearingAt(11, caseB, courtNY, "2026-11-01T01:10:00-05:00", 30*time.Minute) // 06:10Z: earlier on the clock, later in fact

	acc := func(hearingID, advocateID int64) *courtside.Accompaniment {
		return accompanies(hearingID, victimA, advocateID, courtside.AccompanimentConfirmed)
	}
	advocateAt := func(hs ...*courtside.Hearing) courtside.ConflictRequest {
		req := courtside.ConflictRequest{Hearings: hs, Users: users}
		for _, h := range hs {
			req.Accompaniments = append(req.Accompaniments, acc(h.ID, adv))
		}
		return req
	}
	var asked []string
	recording := func(courtA, courtB int64) time.Duration {
		asked = append(asked, fmt.Sprintf("%d->%d", courtA, courtB))
		if courtA == courtNY && courtB == courtNYAnnex {
			return 2 * time.Hour
		}
		return 0
	}
	for _, tt := range []struct {
		name  string
		req   courtside.ConflictRequest
		want  []string
		asked []string // the travel buffers asked for, when recorded
	}{
		{name: "back to back in one court", req: advocateAt(a1, a2)},
		{name: "overlap in one court", req: advocateAt(a1, a3), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,3"}},
		{name: "30 minutes to get to another court", req: advocateAt(b30, a1), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,4"}},
		{name: "60 minutes to get to another court is enough", req: advocateAt(a1, b60)},
		{name: "a court in another zone, 30 minutes later", req: advocateAt(a1, la), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,6"}},
		{name: "a travel buffer from the earlier hearing's court to the later's", req: func() courtside.ConflictRequest {
			r := advocateAt(a1, a2, b60)
			r.TravelBuffer = recording
			return r
		}(), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,5", "ADVOCATE_DOUBLE_BOOKED adv: 2,5"}, asked: []string{"1->5", "1->5"}}, // a1->b60 and a2->b60; never 1->1
		{name: "no buffer the other way", req: func() courtside.ConflictRequest {
			r := advocateAt(hearingAt(12, caseB, courtNYAnnex, "2026-03-02T08:00:00-05:00", time.Hour), a1)
			r.TravelBuffer = recording
			return r
		}(), asked: []string{"5->1"}},
		{name: "a negative buffer is none", req: func() courtside.ConflictRequest {
			r := advocateAt(a1, a3)
			r.TravelBuffer = func(int64, int64) time.Duration { return -time.Hour }
			return r
		}(), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,3"}},
		{name: "a cancelled accompaniment", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3}, Users: users,
			Accompaniments: []*courtside.Accompaniment{acc(1, adv), accompanies(3, victimB, adv, courtside.AccompanimentCancelled)}}},
		{name: "an accompaniment awaiting reconfirmation", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3}, Users: users,
			Accompaniments: []*courtside.Accompaniment{acc(1, adv), accompanies(3, victimB, adv, courtside.AccompanimentNeedsReconfirmation)}},
			want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,3"}},
		{name: "a cancelled or held hearing", req: advocateAt(a1, withStatus(a3, courtside.HearingCancelled), withStatus(b30, courtside.HearingHeld))},
		{name: "two victims at one hearing with one advocate", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1}, Users: users,
			Accompaniments: []*courtside.Accompaniment{acc(1, adv), accompanies(1, victimB, adv, courtside.AccompanimentAssigned)}}},
		{name: "two advocates", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3}, Users: users,
			Accompaniments: []*courtside.Accompaniment{acc(1, adv), acc(3, adv2)}}},
		{name: "an advocate without a known username", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3},
			Accompaniments: []*courtside.Accompaniment{acc(1, 42), acc(3, 42)}}, want: []string{"ADVOCATE_DOUBLE_BOOKED user #42: 1,3"}},
		{name: "three hearings clash pair by pair", req: advocateAt(b30, a3, a1),
			want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,3", "ADVOCATE_DOUBLE_BOOKED adv: 1,4", "ADVOCATE_DOUBLE_BOOKED adv: 3,4"}},
		{name: "an interpreter accepted and awaiting reconfirmation", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, b30}, Users: users,
			Bookings: []*courtside.InterpreterBooking{booking(1, interp, "es", courtside.BookingAccepted), booking(4, interp, "es", courtside.BookingNeedsReconfirmation)}},
			want: []string{"INTERPRETER_DOUBLE_BOOKED interp: 1,4"}},
		{name: "an interpreter only offered, declined or expired", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3, b30}, Users: users,
			Bookings: []*courtside.InterpreterBooking{booking(1, interp, "es", courtside.BookingAccepted), booking(3, interp, "es", courtside.BookingOffered),
				booking(4, interp, "es", courtside.BookingDeclined), booking(4, interp, "ru", courtside.BookingExpired)}}},
		{name: "one interpreter, two languages, one hearing", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1}, Users: users,
			Bookings: []*courtside.InterpreterBooking{booking(1, interp, "es", courtside.BookingAccepted), booking(1, interp, "pt", courtside.BookingAccepted)}}},
		{name: "a victim attending two cases' hearings", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3}, Victims: victims,
			CaseVictims: []*courtside.CaseVictim{attends(caseA, victimA), attends(caseB, victimA)}}, want: []string{"VICTIM_OVERLAP victim V-17-R: 1,3"}},
		{name: "a victim and the travel buffer", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, b30}, Victims: victims,
			CaseVictims: []*courtside.CaseVictim{attends(caseA, victimB), attends(caseB, victimB)}}, want: []string{"VICTIM_OVERLAP victim V-8: 1,4"}},
		{name: "a victim who does not attend one of them", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3}, Victims: victims,
			CaseVictims: []*courtside.CaseVictim{attends(caseA, victimA), {CaseID: caseB, VictimID: victimA}}}},
		{name: "a victim the caller may not see", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a1, a3},
			CaseVictims: []*courtside.CaseVictim{attends(caseA, victimA), attends(caseB, victimA)}}},
		{name: "everyone at once", req: courtside.ConflictRequest{Hearings: []*courtside.Hearing{a3, a1}, Victims: victims, Users: users,
			CaseVictims:    []*courtside.CaseVictim{attends(caseA, victimA), attends(caseB, victimA), attends(caseB, victimB)},
			Accompaniments: []*courtside.Accompaniment{acc(1, adv), acc(3, adv), accompanies(3, victimB, adv2, courtside.AccompanimentAssigned)},
			Bookings:       []*courtside.InterpreterBooking{booking(1, interp, "es", courtside.BookingAccepted), booking(3, interp, "es", courtside.BookingAccepted)}},
			want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,3", "INTERPRETER_DOUBLE_BOOKED interp: 1,3", "VICTIM_OVERLAP victim V-17-R: 1,3"}},

		// Daylight saving time: instants, not clock readings, decide.
		{name: "spring forward: 90 minutes on the clock are 30", req: advocateAt(d1, d2), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 7,8"}},
		{name: "spring forward: 150 minutes on the clock are 90", req: advocateAt(d1, d3)},
		{name: "fall back: earlier on the clock, after in fact", req: advocateAt(f1, f2)},

		// The range: a clash counts when one of its hearings is in it.
		{name: "a clash across the end of the range", req: func() courtside.ConflictRequest {
			r := advocateAt(a1, b30)
			r.From, r.To = a1.StartsAt.Add(-time.Hour), a1.EndsAt
			return r
		}(), want: []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,4"}},
		{name: "a clash outside the range", req: func() courtside.ConflictRequest {
			r := advocateAt(a1, b30)
			r.From, r.To = b30.EndsAt, b30.EndsAt.Add(time.Hour)
			return r
		}()},
	} {
		asked = nil
		got := conflictStrings(courtside.FindConflicts(tt.req))
		if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		if tt.asked != nil && strings.Join(asked, " ") != strings.Join(tt.asked, " ") {
			t.Errorf("%s: travel buffers asked %q, want %q", tt.name, asked, tt.asked)
		}
		for _, c := range got {
			if strings.Contains(c, "Demo Person A") || strings.Contains(c, "Demo Person B") {
				t.Errorf("%s: a conflict names a legal name: %s", tt.name, c)
			}
		}
	}
}

func TestFindConflicts_CourtHours(t *testing.T) {
	const caseA = 10
	at := func(id, courtID int64, start string, d time.Duration) *courtside.Hearing {
		return hearingAt(id, caseA, courtID, start, d)
	}
	for _, tt := range []struct {
		name  string
		h     *courtside.Hearing
		hours courtside.CourtHours
		out   bool
	}{
		{name: "09:30 to 10:30 on a Monday", h: at(1, courtNY, "2026-03-02T09:30:00-05:00", time.Hour)},
		{name: "08:00 sharp to 18:00 sharp", h: at(1, courtNY, "2026-03-02T08:00:00-05:00", 10*time.Hour)},
		{name: "07:59", h: at(1, courtNY, "2026-03-02T07:59:00-05:00", time.Hour), out: true},
		{name: "ends 18:01", h: at(1, courtNY, "2026-03-02T17:01:00-05:00", time.Hour), out: true},
		{name: "starts 18:00", h: at(1, courtNY, "2026-03-02T18:00:00-05:00", time.Minute), out: true},
		{name: "ends at midnight", h: at(1, courtNY, "2026-03-02T17:00:00-05:00", 7*time.Hour), out: true},
		{name: "runs past midnight", h: at(1, courtNY, "2026-03-02T17:00:00-05:00", 8*time.Hour), out: true},
		{name: "a Saturday", h: at(1, courtNY, "2026-03-07T10:00:00-05:00", time.Hour), out: true},
		{name: "a Sunday", h: at(1, courtNY, "2026-03-01T10:00:00-05:00", time.Hour), out: true},
		{name: "a trial Monday to Friday", h: at(1, courtNY, "2026-03-02T09:00:00-05:00", 4*24*time.Hour+8*time.Hour)},
		{name: "a trial into the weekend", h: at(1, courtNY, "2026-03-02T09:00:00-05:00", 5*24*time.Hour+time.Hour), out: true},

		// New York springs forward on Sunday 8 March 2026: 12:30Z is 07:30 before, 08:30 after.
		{name: "12:30Z on Friday 6 March is 07:30 EST", h: at(1, courtNY, "2026-03-06T12:30:00Z", time.Hour), out: true},
		{name: "12:30Z on Monday 9 March is 08:30 EDT", h: at(1, courtNY, "2026-03-09T12:30:00Z", time.Hour)},
		{name: "the Sunday of the change", h: at(1, courtNY, "2026-03-08T14:00:00Z", time.Hour), out: true},
		{name: "22:30Z on Friday 6 March is 17:30 EST", h: at(1, courtNY, "2026-03-06T22:30:00Z", 30*time.Minute)},
		{name: "22:30Z on Monday 9 March is 18:30 EDT", h: at(1, courtNY, "2026-03-09T22:30:00Z", 30*time.Minute), out: true},
		// New York falls back on Sunday 1 November 2026: 12:30Z is 08:30 before, 07:30 after.
		{name: "12:30Z on Friday 30 October is 08:30 EDT", h: at(1, courtNY, "2026-10-30T12:30:00Z", time.Hour)},
		{name: "12:30Z on Monday 2 November is 07:30 EST", h: at(1, courtNY, "2026-11-02T12:30:00Z", time.Hour), out: true},

		// The court's own zone decides.
		{name: "13:00Z is 08:00 in New York", h: at(1, courtNY, "2026-03-02T13:00:00Z", time.Hour)},
		{name: "13:00Z is 05:00 in Los Angeles", h: at(1, courtLA, "2026-03-02T13:00:00Z", time.Hour), out: true},
		{name: "15:30Z is 07:30 PST in Los Angeles before its change", h: at(1, courtLA, "2026-03-06T15:30:00Z", time.Hour), out: true},
		{name: "15:30Z is 08:30 PDT in Los Angeles after it", h: at(1, courtLA, "2026-03-09T15:30:00Z", time.Hour)},
		// London changes three weeks after New York, on Sunday 29 March 2026.
		{name: "07:30Z on Monday 16 March is 07:30 GMT in London", h: at(1, courtLondon, "2026-03-16T07:30:00Z", time.Hour), out: true},
		{name: "07:30Z on Monday 30 March is 08:30 BST in London", h: at(1, courtLondon, "2026-03-30T07:30:00Z", time.Hour)},
		{name: "12:30Z on Monday 16 March is 08:30 EDT in New York", h: at(1, courtNY, "2026-03-16T12:30:00Z", time.Hour)},

		{name: "other hours: 09:00 to 17:00", h: at(1, courtNY, "2026-03-02T08:30:00-05:00", time.Hour),
			hours: courtside.CourtHours{Opens: 9 * time.Hour, Closes: 17 * time.Hour}, out: true},
		{name: "other hours: evening court", h: at(1, courtNY, "2026-03-02T19:00:00-05:00", time.Hour),
			hours: courtside.CourtHours{Opens: 8 * time.Hour, Closes: 21 * time.Hour}},
		{name: "an unknown zone is not judged", h: at(1, courtMars, "2026-03-07T03:00:00Z", time.Hour)},
		{name: "an unknown court is not judged", h: at(1, 99, "2026-03-07T03:00:00Z", time.Hour)},
		{name: "a cancelled hearing is not judged", h: withStatus(at(1, courtNY, "2026-03-07T03:00:00Z", time.Hour), courtside.HearingCancelled)},
	} {
		got := conflictStrings(courtside.FindConflicts(courtside.ConflictRequest{Hearings: []*courtside.Hearing{tt.h},
			Courts: coordinationCourts, Hours: tt.hours}))
		var want []string
		if tt.out {
			name := map[int64]string{courtNY: "Main Courthouse", courtLA: "Harbor Courthouse", courtLondon: "Crown Court"}[tt.h.CourtID]
			want = []string{"OUTSIDE_COURT_HOURS court " + name + ": 1"}
		}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("%s (%s to %s):\n got %q\nwant %q", tt.name, tt.h.StartsAt.Format(time.RFC3339), tt.h.EndsAt.Format(time.RFC3339), got, want)
		}
	}
}

// TestFindConflicts_Order shows the order of a mixed answer, and that the conflicts hold the
// very hearings they were given.
func TestFindConflicts_Order(t *testing.T) {
	const caseA, caseB, adv = 10, 11, 30
	early := hearingAt(1, caseA, courtNY, "2026-03-02T07:00:00-05:00", 2*time.Hour+30*time.Minute) // 07:00-09:30, before opening
	late := hearingAt(2, caseB, courtNY, "2026-03-02T09:00:00-05:00", time.Hour)
	sat := hearingAt(3, caseB, courtNY, "2026-03-07T09:00:00-05:00", time.Hour)
	got := courtside.FindConflicts(courtside.ConflictRequest{
		Hearings: []*courtside.Hearing{sat, late, early}, Courts: coordinationCourts,
		Users: []*courtside.User{{ID: adv, Username: "adv"}},
		Accompaniments: []*courtside.Accompaniment{accompanies(1, 7, adv, courtside.AccompanimentAssigned),
			accompanies(2, 7, adv, courtside.AccompanimentAssigned)},
	})
	want := []string{"ADVOCATE_DOUBLE_BOOKED adv: 1,2", "OUTSIDE_COURT_HOURS court Main Courthouse: 1", "OUTSIDE_COURT_HOURS court Main Courthouse: 3"}
	if s := conflictStrings(got); strings.Join(s, "; ") != strings.Join(want, "; ") {
		t.Fatalf("got %q\nwant %q", s, want)
	}
	if got[0].Hearings[0] != early || got[0].Hearings[1] != late || got[2].Hearings[0] != sat {
		t.Fatalf("the conflicts do not hold the hearings given")
	}
}
