package courtside

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// The coordinator's two overview questions about a range of time: which open hearings still
// lack someone they need (coverage), and who is expected in two places at once or at a hearing
// outside court hours (conflicts). The rules are pure functions; storage loads what the caller
// may see and calls them.

// MaxCoordinationRange bounds the range of one coverage or conflicts question.
const MaxCoordinationRange = 366 * 24 * time.Hour

// ValidateCoordinationRange reports a missing, empty or too long range [from, to) as an EINVALID
// error naming "from" or "to".
func ValidateCoordinationRange(from, to time.Time) error {
	if from.IsZero() {
		return Invalidf("from", "from is required.")
	}
	if to.IsZero() {
		return Invalidf("to", "to is required.")
	}
	if !to.After(from) {
		return Invalidf("to", "to must be after from.")
	}
	if to.Sub(from) > MaxCoordinationRange {
		return Invalidf("to", "to may be at most 366 days after from.")
	}
	return nil
}

// CanSeeCoverage reports whether u may ask which hearings lack an interpreter or an advocate:
// coordinators (for the hearings of the cases shared with their organisation), prosecutors'
// offices (for their own hearings) and admins (all).
func CanSeeCoverage(u *User) bool {
	if u == nil {
		return false
	}
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleCoordinator, RoleProsecutor:
		return u.OrganizationID != 0
	}
	return false
}

// CanSeeConflicts reports whether u may ask for scheduling conflicts: coordinators (within
// their organisation's hearings) and admins (all).
func CanSeeConflicts(u *User) bool {
	if u == nil {
		return false
	}
	return u.Role == RoleAdmin || (u.Role == RoleCoordinator && u.OrganizationID != 0)
}

// CoverageGap is an open hearing that lacks someone it needs. Missing says whom, and never
// carries victim data: MissingAdvocate, or MissingInterpreter(language).
type CoverageGap struct {
	Hearing *Hearing
	Missing string
}

// MissingAdvocate is the Missing of a hearing that an attending victim would go to without an
// advocate. It does not say which victim, nor how many.
const MissingAdvocate = "advocate"

// MissingInterpreter returns the Missing of a hearing that has no accepted interpreter for the
// requested language, such as "interpreter (es)".
func MissingInterpreter(language string) string { return "interpreter (" + language + ")" }

// FindCoverageGaps returns the gaps of the open hearings among hearings, ordered by the
// hearing's start, then ID, then Missing ("advocate" before the interpreters, languages in
// order). Cancelled and held hearings have none.
//
// A hearing lacks an advocate when a victim linked to its case attends (caseVictims) and no
// live accompaniment (any status but CANCELLED, so one awaiting reconfirmation counts) takes
// that victim to that hearing; one gap per hearing, however many victims lack one.
//
// A hearing lacks an interpreter for a language when a booking of the hearing was requested
// in that language (the booking's own tag, as requested) and none of the hearing's bookings
// in that language is ACCEPTED: offered, declined, expired and awaiting reconfirmation are
// all gaps. A language whose bookings are all CANCELLED is no longer requested.
//
// The caller passes only what its user may see: the victims of a coordinator's organisation,
// the accompaniments and bookings of the hearings.
func FindCoverageGaps(hearings []*Hearing, caseVictims []*CaseVictim, accompaniments []*Accompaniment, bookings []*InterpreterBooking) []CoverageGap {
	attending := map[int64][]int64{} // case ID -> IDs of the victims who attend its hearings
	for _, cv := range caseVictims {
		if cv != nil && cv.Attends {
			attending[cv.CaseID] = append(attending[cv.CaseID], cv.VictimID)
		}
	}
	type hearingVictim struct{ hearing, victim int64 }
	accompanied := map[hearingVictim]bool{}
	for _, a := range accompaniments {
		if a != nil && a.Live() {
			accompanied[hearingVictim{a.HearingID, a.VictimID}] = true
		}
	}
	type need struct{ requested, accepted bool }
	languages := map[int64]map[string]*need{} // hearing ID -> language -> need
	for _, b := range bookings {
		if b == nil {
			continue
		}
		if languages[b.HearingID] == nil {
			languages[b.HearingID] = map[string]*need{}
		}
		n := languages[b.HearingID][b.Language]
		if n == nil {
			n = &need{}
			languages[b.HearingID][b.Language] = n
		}
		if b.Status != BookingCancelled {
			n.requested = true
		}
		if b.Status == BookingAccepted {
			n.accepted = true
		}
	}

	var gaps []CoverageGap
	seen := map[int64]bool{}
	for _, h := range hearings {
		if h == nil || !h.Open() || seen[h.ID] {
			continue
		}
		seen[h.ID] = true
		for _, victimID := range attending[h.CaseID] {
			if !accompanied[hearingVictim{h.ID, victimID}] {
				gaps = append(gaps, CoverageGap{Hearing: h, Missing: MissingAdvocate})
				break
			}
		}
		for language, n := range languages[h.ID] {
			if n.requested && !n.accepted {
				gaps = append(gaps, CoverageGap{Hearing: h, Missing: MissingInterpreter(language)})
			}
		}
	}
	sort.Slice(gaps, func(i, j int) bool {
		a, b := gaps[i], gaps[j]
		if !a.Hearing.StartsAt.Equal(b.Hearing.StartsAt) {
			return a.Hearing.StartsAt.Before(b.Hearing.StartsAt)
		}
		if a.Hearing.ID != b.Hearing.ID {
			return a.Hearing.ID < b.Hearing.ID
		}
		return a.Missing < b.Missing
	})
	return gaps
}

// ConflictKind says what kind of conflict a Conflict is.
type ConflictKind string

// The conflict kinds.
const (
	// ConflictAdvocateDoubleBooked: an advocate accompanies victims to two hearings that
	// clash. Who is the advocate's username.
	ConflictAdvocateDoubleBooked ConflictKind = "ADVOCATE_DOUBLE_BOOKED"
	// ConflictInterpreterDoubleBooked: an interpreter is booked (ACCEPTED or
	// NEEDS_RECONFIRMATION) for two hearings that clash. Who is the interpreter's username.
	ConflictInterpreterDoubleBooked ConflictKind = "INTERPRETER_DOUBLE_BOOKED"
	// ConflictVictimOverlap: a victim attends two hearings that clash. Who is "victim " and
	// the victim's pseudonym.
	ConflictVictimOverlap ConflictKind = "VICTIM_OVERLAP"
	// ConflictOutsideCourtHours: a hearing starts before the court opens, ends after it
	// closes, or falls on a Saturday or Sunday, in the court's own time zone. Who is "court "
	// and the court's name.
	ConflictOutsideCourtHours ConflictKind = "OUTSIDE_COURT_HOURS"
)

// Conflict is a problem with the schedule. Hearings are the two hearings that clash, the
// earlier first, or the one hearing outside court hours. Who names the person or court
// concerned: a username, "victim <pseudonym>" or "court <name>"; never a legal name.
type Conflict struct {
	Kind     ConflictKind
	Hearings []*Hearing
	Who      string
}

// DefaultTravelTime is the time allowed to get from one court to another.
const DefaultTravelTime = 60 * time.Minute

// DefaultTravelBuffer allows DefaultTravelTime between two different courts, and nothing
// within one court.
func DefaultTravelBuffer(courtA, courtB int64) time.Duration {
	if courtA == courtB {
		return 0
	}
	return DefaultTravelTime
}

// CourtHours are the hours a court sits, as wall-clock times since midnight in the court's
// time zone, Monday to Friday.
type CourtHours struct {
	Opens  time.Duration
	Closes time.Duration
}

// DefaultCourtHours are 08:00 to 18:00.
var DefaultCourtHours = CourtHours{Opens: 8 * time.Hour, Closes: 18 * time.Hour}

// ConflictRequest is what FindConflicts looks at: what the caller may see of a range of time.
type ConflictRequest struct {
	// Hearings are the hearings to check; cancelled and held ones are left out.
	Hearings []*Hearing
	// Courts give the hearings' time zones (and names, for Who). A hearing whose court is
	// missing, or whose zone time.LoadLocation does not know, is not checked against court hours.
	Courts []*Court
	// CaseVictims say which victims attend the hearings of which cases.
	CaseVictims []*CaseVictim
	// Victims are the victims the caller may see, for their pseudonyms. The attendance of a
	// victim not among them is ignored, so a conflict never names a victim the caller may not
	// see. Legal names are never read.
	Victims []*Victim
	// Accompaniments are the advocates' accompaniments; only live ones count.
	Accompaniments []*Accompaniment
	// Bookings are the interpreters' bookings; only ACCEPTED and NEEDS_RECONFIRMATION count.
	Bookings []*InterpreterBooking
	// Users give the usernames of advocates and interpreters; one missing is named "user #ID".
	Users []*User
	// TravelBuffer returns the time needed to get from courtA, where the earlier hearing is,
	// to courtB; it is asked only when the courts differ. Nil means DefaultTravelBuffer.
	TravelBuffer func(courtA, courtB int64) time.Duration
	// Hours are the court hours of a court whose own Hours are not set; the zero value means
	// DefaultCourtHours.
	Hours CourtHours
	// From and To limit the answer to conflicts with at least one hearing overlapping
	// [From, To); a zero bound is open. Pass hearings a little beyond the range, so that a
	// clash across its edge is found.
	From, To time.Time
}

// FindConflicts returns the conflicts among the open hearings of req, ordered by their first
// hearing's start, then its ID, then kind, then the second hearing's ID, then Who.
//
// Two hearings clash when their times overlap once the earlier one is widened by the travel
// buffer between their courts (nothing within one court): the later must start no sooner than
// the earlier ends plus the buffer. Times are compared as instants, so a change of daylight
// saving time between them changes nothing. Each clashing pair is one conflict per person
// expected at both: the advocate of a live accompaniment, the interpreter of an ACCEPTED or
// NEEDS_RECONFIRMATION booking, a victim who attends both hearings' cases. The same rule, with
// the travel buffer, holds for all three: each of them has to get there.
//
// A hearing is outside court hours when, in its court's time zone (so daylight saving time is
// followed), with the court's own Hours (req.Hours when it has none), it starts before Hours.Opens or at or after Hours.Closes, ends after Hours.Closes
// or at or before Hours.Opens (so a hearing past midnight is caught), or starts or ends on a
// Saturday or Sunday. A hearing of several days is judged by its first and last day.
func FindConflicts(req ConflictRequest) []Conflict {
	hours := req.Hours
	if hours == (CourtHours{}) {
		hours = DefaultCourtHours
	}
	travel := req.TravelBuffer
	if travel == nil {
		travel = DefaultTravelBuffer
	}
	open := map[int64]*Hearing{}
	var hearings []*Hearing
	for _, h := range req.Hearings {
		if h != nil && h.Open() && open[h.ID] == nil {
			open[h.ID] = h
			hearings = append(hearings, h)
		}
	}
	inRange := func(h *Hearing) bool {
		return (req.From.IsZero() || h.EndsAt.After(req.From)) && (req.To.IsZero() || h.StartsAt.Before(req.To))
	}
	var out []Conflict
	report := func(kind ConflictKind, who string, hs ...*Hearing) {
		for _, h := range hs {
			if inRange(h) {
				out = append(out, Conflict{Kind: kind, Hearings: hs, Who: who})
				return
			}
		}
	}

	// Who is expected at which hearings.
	usernames := map[int64]string{}
	for _, u := range req.Users {
		if u != nil {
			usernames[u.ID] = u.Username
		}
	}
	userName := func(id int64) string {
		if name, ok := usernames[id]; ok && name != "" {
			return name
		}
		return fmt.Sprintf("user #%d", id)
	}
	type person struct {
		kind ConflictKind
		id   int64
	}
	expected := map[person]map[int64]bool{}
	expect := func(p person, hearingID int64) {
		if open[hearingID] == nil {
			return
		}
		if expected[p] == nil {
			expected[p] = map[int64]bool{}
		}
		expected[p][hearingID] = true
	}
	for _, a := range req.Accompaniments {
		if a != nil && a.Live() {
			expect(person{ConflictAdvocateDoubleBooked, a.AdvocateID}, a.HearingID)
		}
	}
	for _, b := range req.Bookings {
		if b != nil && b.InterpreterID != 0 && (b.Status == BookingAccepted || b.Status == BookingNeedsReconfirmation) {
			expect(person{ConflictInterpreterDoubleBooked, b.InterpreterID}, b.HearingID)
		}
	}
	pseudonyms := map[int64]string{}
	for _, v := range req.Victims {
		if v != nil {
			pseudonyms[v.ID] = v.Pseudonym
		}
	}
	attends := map[int64][]int64{} // case ID -> attending victims the caller may see
	for _, cv := range req.CaseVictims {
		if cv == nil || !cv.Attends {
			continue
		}
		if _, visible := pseudonyms[cv.VictimID]; visible {
			attends[cv.CaseID] = append(attends[cv.CaseID], cv.VictimID)
		}
	}
	for _, h := range hearings {
		for _, victimID := range attends[h.CaseID] {
			expect(person{ConflictVictimOverlap, victimID}, h.ID)
		}
	}

	// The clashes of each person's hearings, pair by pair.
	for p, ids := range expected {
		if len(ids) < 2 {
			continue
		}
		var who string
		switch p.kind {
		case ConflictVictimOverlap:
			who = "victim " + pseudonyms[p.id]
		default:
			who = userName(p.id)
		}
		hs := make([]*Hearing, 0, len(ids))
		for id := range ids {
			hs = append(hs, open[id])
		}
		sortHearings(hs)
		for i, first := range hs {
			for _, second := range hs[i+1:] {
				if clash(first, second, travel) {
					report(p.kind, who, first, second)
				}
			}
		}
	}

	// Court hours, in each court's zone.
	courts := map[int64]*Court{}
	for _, c := range req.Courts {
		if c != nil {
			courts[c.ID] = c
		}
	}
	zones := map[string]*time.Location{}
	for _, h := range hearings {
		c := courts[h.CourtID]
		if c == nil || c.TimeZone == "" {
			continue
		}
		loc, known := zones[c.TimeZone]
		if !known {
			loc, _ = time.LoadLocation(c.TimeZone) // nil when unknown: not judged
			zones[c.TimeZone] = loc
		}
		courtHours := hours
		if c.Hours != (CourtHours{}) {
			courtHours = c.Hours
		}
		if loc != nil && outsideCourtHours(h, loc, courtHours) {
			report(ConflictOutsideCourtHours, "court "+c.Name, h)
		}
	}

	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Hearings[0].StartsAt.Equal(b.Hearings[0].StartsAt) {
			return a.Hearings[0].StartsAt.Before(b.Hearings[0].StartsAt)
		}
		if a.Hearings[0].ID != b.Hearings[0].ID {
			return a.Hearings[0].ID < b.Hearings[0].ID
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if len(a.Hearings) != len(b.Hearings) {
			return len(a.Hearings) < len(b.Hearings)
		}
		if len(a.Hearings) > 1 && a.Hearings[1].ID != b.Hearings[1].ID {
			return a.Hearings[1].ID < b.Hearings[1].ID
		}
		return a.Who < b.Who
	})
	return out
}

// sortHearings orders hearings by start, then ID.
func sortHearings(hs []*Hearing) {
	sort.Slice(hs, func(i, j int) bool {
		if !hs[i].StartsAt.Equal(hs[j].StartsAt) {
			return hs[i].StartsAt.Before(hs[j].StartsAt)
		}
		return hs[i].ID < hs[j].ID
	})
}

// clash reports whether the same person cannot be at both hearings: first starts no later than
// second, and second starts before first ends plus the travel buffer between their courts.
func clash(first, second *Hearing, travel func(courtA, courtB int64) time.Duration) bool {
	var buffer time.Duration
	if first.CourtID != second.CourtID {
		buffer = max(travel(first.CourtID, second.CourtID), 0)
	}
	return second.StartsAt.Before(first.EndsAt.Add(buffer))
}

// outsideCourtHours reports whether h falls outside hours in loc: see FindConflicts.
func outsideCourtHours(h *Hearing, loc *time.Location, hours CourtHours) bool {
	start, end := h.StartsAt.In(loc), h.EndsAt.In(loc)
	if weekend(start) || weekend(end) {
		return true
	}
	s, e := wallClock(start), wallClock(end)
	return s < hours.Opens || s >= hours.Closes || e > hours.Closes || e <= hours.Opens
}

// weekend reports whether t falls on a Saturday or Sunday in its own location.
func weekend(t time.Time) bool {
	return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
}

// wallClock returns the time of day t's clock shows, as a duration since midnight. On a day
// when daylight saving time begins or ends it differs from the time elapsed since midnight.
func wallClock(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}

// CoordinationService answers the coordinator's overview questions.
type CoordinationService interface {
	// FindCoverage returns the coverage gaps (FindCoverageGaps) of the open hearings the
	// caller may see that overlap [from, to). Coordinators see the hearings of the cases
	// shared with their organisation, and only their own victims' need of an advocate;
	// prosecutors' offices their own hearings, and the need of an advocate only of the victims
	// with an active release to them; admins all. Returns EINVALID (from, to:
	// missing, empty, or longer than 366 days) or EFORBIDDEN (any other role).
	FindCoverage(ctx context.Context, from, to time.Time) ([]CoverageGap, error)

	// FindConflicts returns the conflicts (FindConflicts, with the travel times configured
	// between courts and each court's hours) with at least one open hearing the caller may see that overlaps [from, to).
	// Both hearings of a clash are ones the caller may see. Coordinators see those of their
	// organisation's hearings, and victim overlaps of their own victims only; admins see all
	// hearings and no victims. Returns EINVALID (from, to) or EFORBIDDEN (any other role).
	FindConflicts(ctx context.Context, from, to time.Time) ([]Conflict, error)
}
