package courtside

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
)

// BookingStatus is where an interpreter booking stands.
type BookingStatus string

// The booking statuses.
const (
	BookingOffered             BookingStatus = "OFFERED"
	BookingAccepted            BookingStatus = "ACCEPTED"
	BookingDeclined            BookingStatus = "DECLINED"
	BookingExpired             BookingStatus = "EXPIRED"
	BookingCancelled           BookingStatus = "CANCELLED"
	BookingNeedsReconfirmation BookingStatus = "NEEDS_RECONFIRMATION"
)

// InterpreterBooking is an interpreter offered or booked for a hearing in one language.
type InterpreterBooking struct {
	ID             int64         `json:"id"`
	HearingID      int64         `json:"hearingId"`
	Language       string        `json:"language"`
	InterpreterID  int64         `json:"interpreterId,omitempty"`
	Status         BookingStatus `json:"status"`
	RespondBy      *time.Time    `json:"respondBy,omitempty"`
	FallbackReason string        `json:"fallbackReason,omitempty"`
	DeclineReason  string        `json:"declineReason,omitempty"`
	// MinimumTier is the lowest tier the request accepts ("" for any); re-offers keep it.
	MinimumTier Tier `json:"minimumTier,omitempty"`
	// PreviousBookingID is the declined booking this one was offered after, 0 for a request.
	PreviousBookingID int64     `json:"previousBookingId,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// Respond records the offered interpreter's answer. Only an OFFERED booking (or one that
// needs reconfirmation) can be answered, and only before its deadline.
func (b *InterpreterBooking) Respond(accept bool, at time.Time) error {
	if b.Status != BookingOffered && b.Status != BookingNeedsReconfirmation {
		return Errorf(ECONFLICT, "Booking is %s and can no longer be answered.", b.Status)
	}
	if b.Status == BookingOffered && b.RespondBy != nil && at.After(*b.RespondBy) {
		return Errorf(ECONFLICT, "The offer expired at %s.", b.RespondBy.UTC().Format(time.RFC3339))
	}
	if accept {
		b.Status = BookingAccepted
	} else {
		b.Status = BookingDeclined
	}
	b.UpdatedAt = at.UTC()
	return nil
}

// Expire marks an unanswered offer whose deadline has passed as EXPIRED.
func (b *InterpreterBooking) Expire(at time.Time) bool {
	if b.Status != BookingOffered || b.RespondBy == nil || !at.After(*b.RespondBy) {
		return false
	}
	b.Status = BookingExpired
	b.UpdatedAt = at.UTC()
	return true
}

// HearingMoved reacts to a change of the hearing's time or court: an accepted booking needs
// reconfirmation. It reports whether the status changed.
func (b *InterpreterBooking) HearingMoved(at time.Time) bool {
	if b.Status != BookingAccepted {
		return false
	}
	b.Status = BookingNeedsReconfirmation
	b.UpdatedAt = at.UTC()
	return true
}

// HearingCancelled cancels a booking that is still live. It reports whether the status changed.
func (b *InterpreterBooking) HearingCancelled(at time.Time) bool {
	switch b.Status {
	case BookingOffered, BookingAccepted, BookingNeedsReconfirmation:
		b.Status = BookingCancelled
		b.UpdatedAt = at.UTC()
		return true
	}
	return false
}

// Live reports whether the booking still holds the interpreter at time at: accepted, waiting
// for reconfirmation, or offered and not yet past its deadline.
func (b *InterpreterBooking) Live(at time.Time) bool {
	switch b.Status {
	case BookingAccepted, BookingNeedsReconfirmation:
		return true
	case BookingOffered:
		return b.RespondBy == nil || !at.After(*b.RespondBy)
	}
	return false
}

// The offer deadline rule: an interpreter has OfferWindow to answer an offer, but no more than
// half the time left until the hearing starts, and never less than MinOfferWindow.
const (
	OfferWindow    = 24 * time.Hour
	MinOfferWindow = time.Hour
)

// RespondBy returns the deadline of an offer made at offeredAt for a hearing that starts at
// startsAt: 24 hours after the offer, but no later than halfway between the offer and the
// hearing's start, and at least 1 hour after the offer (even when that is after the start, so
// that a last-minute offer can still be answered).
func RespondBy(offeredAt, startsAt time.Time) time.Time {
	window := OfferWindow
	if half := startsAt.Sub(offeredAt) / 2; half < window {
		window = half
	}
	if window < MinOfferWindow {
		window = MinOfferWindow
	}
	return offeredAt.Add(window).UTC().Truncate(time.Second)
}

// ParseBookingLanguage parses the BCP 47 tag of a booking request and returns it canonical
// ("es-mx" becomes "es-MX"). Returns EINVALID naming field "language".
func ParseBookingLanguage(s string) (string, error) {
	s = strings.TrimSpace(s)
	tag, err := language.Parse(s)
	if err != nil || s == "" || len(s) > 35 || tag == language.Und {
		return "", Invalidf("language", "Language %q is not a BCP 47 tag such as es, es-MX or zh-Hans.", s)
	}
	return tag.String(), nil
}

// LanguageMatch is how well an interpreter's language serves a requested one.
type LanguageMatch int

// The language matches, worst first. Only MatchClose and MatchExact serve a request.
const (
	MatchNone  LanguageMatch = iota
	MatchClose               // the same language, another region: "es" or "es-ES" for "es-MX"
	MatchExact               // the same language, script and region once defaults are filled in: "zh" for "zh-Hans"
)

// MatchLanguage returns how well an interpreter's language have serves the requested language
// want, by golang.org/x/text/language's judgement of mutual comprehension. A difference of
// script ("zh-Hant" for "zh", "sr-Latn" for "sr") does not serve: sight translation of
// documents needs the script.
//
// The answers are remembered (up to matchCacheMax pairs), since ranking asks the same few
// pairs for every interpreter and parsing and comparing tags is most of its work.
func MatchLanguage(have, want string) LanguageMatch {
	key := [2]string{have, want}
	matchCache.RLock()
	m, ok := matchCache.m[key]
	matchCache.RUnlock()
	if ok {
		return m
	}
	m = matchLanguage(have, want)
	matchCache.Lock()
	if len(matchCache.m) < matchCacheMax {
		matchCache.m[key] = m
	}
	matchCache.Unlock()
	return m
}

// matchCacheMax bounds the remembered answers of MatchLanguage: tags come from users, and a
// pair beyond the bound is still answered, only not remembered.
const matchCacheMax = 4096

// matchCache holds MatchLanguage's answers by (have, want).
var matchCache = struct {
	sync.RWMutex
	m map[[2]string]LanguageMatch
}{m: map[[2]string]LanguageMatch{}}

// matchLanguage is MatchLanguage without the memory.
func matchLanguage(have, want string) LanguageMatch {
	h, err := language.Parse(have)
	if err != nil {
		return MatchNone
	}
	w, err := language.Parse(want)
	if err != nil {
		return MatchNone
	}
	switch language.Comprehends(w, h) {
	case language.Exact:
		return MatchExact
	case language.High:
		return MatchClose
	}
	return MatchNone
}

// Candidate is an interpreter considered for a hearing in one language, with the reason when
// the interpreter cannot take it.
type Candidate struct {
	Interpreter *User
	// Tier is the interpreter's tier in Language.
	Tier Tier
	// Available reports whether the interpreter can be offered the booking now.
	Available bool
	// Reason says why the interpreter is not available, or, when the language is a close
	// rather than an exact match, which of the interpreter's languages serves.
	Reason string
	// WeekBookings counts the interpreter's live bookings of hearings that start in the same
	// week (Monday to Sunday in the court's time zone) as the hearing.
	WeekBookings int
	// Language is the interpreter's language that serves the request, and Match how well.
	Language string
	Match    LanguageMatch
}

// Commitment is a booking of an interpreter together with its hearing: what the ranking needs
// to judge availability and load.
type Commitment struct {
	Booking *InterpreterBooking
	Hearing *Hearing
}

// RankRequest is what RankCandidates ranks interpreters for.
type RankRequest struct {
	// Hearing is the hearing that needs an interpreter.
	Hearing *Hearing
	// Language is the requested BCP 47 tag.
	Language string
	// Location is the court's time zone, which decides the week of WeekBookings; UTC when nil.
	Location *time.Location
	// Now decides whether an offer is still live.
	Now time.Time
	// Interpreters are the users to consider; those without a language serving the request
	// are left out.
	Interpreters []*User
	// Commitments are the interpreters' bookings: their live bookings of hearings around the
	// hearing's time (travel buffer included) and week, and every booking they had for the
	// hearing itself.
	Commitments []Commitment
	// TravelBuffer returns the time needed to get from courtA, where the earlier hearing is,
	// to courtB; it is asked only when the courts differ. Nil means DefaultTravelBuffer, the
	// rule FindConflicts applies too.
	TravelBuffer func(courtA, courtB int64) time.Duration
}

// BookingWeek returns the week, Monday 00:00 to the next Monday 00:00 in loc (UTC when nil),
// that holds t.
func BookingWeek(t time.Time, loc *time.Location) (start, end time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	daysSinceMonday := (int(local.Weekday()) + 6) % 7
	y, m, d := local.Date()
	start = time.Date(y, m, d-daysSinceMonday, 0, 0, 0, 0, loc)
	return start.UTC(), time.Date(y, m, d-daysSinceMonday+7, 0, 0, 0, 0, loc).UTC()
}

// RankCandidates returns the interpreters whose languages serve the request, best first:
// by tier (CERTIFIED before PROFESSIONALLY_QUALIFIED before LANGUAGE_SKILLED, the order of
// preference of 28 U.S.C. 1827), then language match (exact before close), then availability,
// then fewest live bookings that week, then ID.
//
// An interpreter is not available who holds a live booking (accepted, waiting for
// reconfirmation, or offered and not yet expired) of another open hearing that clashes with the
// hearing as FindConflicts judges it: their times overlap once the earlier one is widened by
// the travel buffer between their courts (nothing within one court); who holds a live booking of this hearing, in any language; or who was offered
// this hearing in this language before, whatever the answer: nobody is asked twice.
func RankCandidates(req RankRequest) []*Candidate {
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	h := req.Hearing
	travel := req.TravelBuffer
	if travel == nil {
		travel = DefaultTravelBuffer
	}
	weekStart, weekEnd := BookingWeek(h.StartsAt, loc)
	byInterpreter := map[int64][]Commitment{}
	for _, c := range req.Commitments {
		if c.Booking != nil && c.Hearing != nil && c.Booking.InterpreterID != 0 {
			byInterpreter[c.Booking.InterpreterID] = append(byInterpreter[c.Booking.InterpreterID], c)
		}
	}
	var out []*Candidate
	for _, u := range req.Interpreters {
		if u == nil || u.Role != RoleInterpreter {
			continue
		}
		c := bestLanguage(u, req.Language)
		if c == nil {
			continue
		}
		var blocked string
		for _, cm := range byInterpreter[u.ID] {
			b, bh := cm.Booking, cm.Hearing
			live := b.Live(req.Now)
			if live && bh.Open() && !bh.StartsAt.Before(weekStart) && bh.StartsAt.Before(weekEnd) {
				c.WeekBookings++
			}
			if blocked != "" {
				continue
			}
			switch {
			case bh.ID == h.ID && live:
				blocked = fmt.Sprintf("Already %s for this hearing (%s).", liveWord(b.Status), b.Language)
			case bh.ID == h.ID && b.Language == req.Language:
				blocked = fmt.Sprintf("Was offered this hearing before (%s).", strings.ToLower(string(b.Status)))
			case bh.ID != h.ID && live && bh.Open() && hearingsClash(h, bh, travel):
				// The other hearing may be another organisation's: the reason says nothing of
				// it, neither its time nor its court, nor whether the interpreter was offered it
				// or accepted it.
				blocked = UnavailableReason
			}
		}
		c.Available = blocked == ""
		if !c.Available {
			c.Reason = blocked
		}
		out = append(out, c)
	}
	SortCandidates(out)
	return out
}

// hearingsClash reports whether one person cannot be at both hearings, whichever is first.
func hearingsClash(a, b *Hearing, travel func(courtA, courtB int64) time.Duration) bool {
	if b.StartsAt.Before(a.StartsAt) {
		a, b = b, a
	}
	return clash(a, b, travel)
}

// bestLanguage returns the candidate for u's language that serves want best (by match, then
// tier), or nil when none does.
func bestLanguage(u *User, want string) *Candidate {
	var best *Candidate
	for _, l := range u.Languages {
		m := MatchLanguage(l.Language, want)
		if m == MatchNone || l.Tier.Rank() < 0 {
			continue
		}
		if best == nil || m > best.Match || (m == best.Match && l.Tier.Rank() < best.Tier.Rank()) {
			best = &Candidate{Interpreter: u, Tier: l.Tier, Language: l.Language, Match: m}
		}
	}
	if best != nil && best.Match != MatchExact {
		best.Reason = fmt.Sprintf("Interprets %s.", best.Language)
	}
	return best
}

// UnavailableReason is the reason of a candidate held by a live booking of another hearing
// that clashes with this one (overlapping, or too close to travel between the courts). It names
// nothing of the other hearing, which may be another organisation's.
const UnavailableReason = "Unavailable at that time."

// liveWord names a live booking status in a reason.
func liveWord(s BookingStatus) string {
	if s == BookingOffered {
		return "offered"
	}
	return "booked"
}

// ChooseCandidate returns the first available candidate of a ranked list whose tier is at
// least minimum (any tier when minimum is ""), or nil when there is none.
func ChooseCandidate(ranked []*Candidate, minimum Tier) *Candidate {
	for _, c := range ranked {
		if c.Available && (minimum == "" || c.Tier.AtLeast(minimum)) {
			return c
		}
	}
	return nil
}

// FallbackReason returns why an interpreter below CERTIFIED was chosen for language, as
// 28 U.S.C. 1827 asks to record; "" for a certified one.
func FallbackReason(chosen *Candidate, language string) string {
	if chosen == nil || chosen.Tier == TierCertified {
		return ""
	}
	return fmt.Sprintf("no certified interpreter available for %s", language)
}

// NewOffer returns the booking that offers hearing h in language to the chosen candidate at
// time now: OFFERED, with the deadline of RespondBy and, below CERTIFIED, the fallback reason.
// minimum is the request's minimum tier, kept for re-offers.
func NewOffer(h *Hearing, language string, chosen *Candidate, minimum Tier, now time.Time) *InterpreterBooking {
	respondBy := RespondBy(now, h.StartsAt)
	return &InterpreterBooking{HearingID: h.ID, Language: language, InterpreterID: chosen.Interpreter.ID,
		Status: BookingOffered, RespondBy: &respondBy, FallbackReason: FallbackReason(chosen, language),
		MinimumTier: minimum, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
}

// NoInterpreterError is the ECONFLICT error of a request that no interpreter can take.
func NoInterpreterError(language string, minimum Tier) error {
	if minimum != "" && minimum != TierLanguageSkilled {
		return Errorf(ECONFLICT, "No interpreter for %s at tier %s or better is available for this hearing.", language, minimum)
	}
	return Errorf(ECONFLICT, "No interpreter for %s is available for this hearing.", language)
}

// MaxDeclineReason bounds the reason an interpreter gives for declining.
const MaxDeclineReason = 500

// BookingFilter selects bookings. The caller's visibility always applies on top of it.
type BookingFilter struct {
	IDs        []int64
	Status     *BookingStatus
	HearingIDs []int64
}

// BookingService books interpreters for hearings. Every method that changes a booking writes
// its audit row and its events in the same transaction.
type BookingService interface {
	// InterpreterCandidates returns the interpreters whose languages serve language, ranked
	// by RankCandidates for the hearing (coordinators of an organisation with a victim linked
	// to the hearing's case, and the hearing's prosecutor's office). Returns EINVALID
	// (language), EFORBIDDEN or ENOTFOUND.
	InterpreterCandidates(ctx context.Context, hearingID int64, language string) ([]*Candidate, error)

	// RequestInterpreter offers a booking of the hearing in language to the best available
	// candidate at or above minimumTier (any tier when nil), with a deadline by RespondBy and,
	// below CERTIFIED, a fallback reason. The same callers as InterpreterCandidates. Returns
	// EINVALID (language, minimumTier), EFORBIDDEN, ENOTFOUND, or ECONFLICT when the hearing
	// is no longer open or over, when a live booking of the hearing in that language exists,
	// or when no interpreter is available (then nothing is written).
	RequestInterpreter(ctx context.Context, hearingID int64, language string, minimumTier *Tier) (*InterpreterBooking, error)

	// RespondToBooking records the offered interpreter's answer and returns the answered
	// booking. A decline offers a new booking, in the same transaction, to the next ranked
	// available candidate who was never offered the hearing in that language, at or above the
	// request's minimum tier; when nobody is left, the need is reported by a
	// booking.unfilled event. Returns EINVALID (reason), EFORBIDDEN (not an interpreter),
	// ENOTFOUND (not offered to the caller) or ECONFLICT (already answered, expired, or an
	// acceptance for a hearing no longer open).
	RespondToBooking(ctx context.Context, bookingID int64, accept bool, reason string) (*InterpreterBooking, error)

	// FindBookings returns the bookings the caller may see that match filter, oldest first:
	// an interpreter's own live bookings; for other roles the bookings of the hearings they
	// may see.
	FindBookings(ctx context.Context, filter BookingFilter) ([]*InterpreterBooking, error)
}

// SortCandidates puts candidates in ranking order: tier first (28 U.S.C. 1827 prefers certified
// interpreters), then how closely the language matches, then availability, then the fewest
// bookings that week, then the lowest ID.
func SortCandidates(out []*Candidate) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		// Tier before the closeness of the language match: a certified "es" interpreter comes
		// before a language-skilled "es-MX" one.
		if a.Tier != b.Tier {
			return a.Tier.Rank() < b.Tier.Rank()
		}
		if a.Match != b.Match {
			return a.Match > b.Match
		}
		if a.Available != b.Available {
			return a.Available
		}
		if a.WeekBookings != b.WeekBookings {
			return a.WeekBookings < b.WeekBookings
		}
		return a.Interpreter.ID < b.Interpreter.ID
	})
}
