package courtside

import (
	"context"
	"time"
)

// CalendarHearing is a hearing as it appears in one user's calendar: with the docket number,
// the court and, for an advocate, the pseudonyms of the victims they accompany. It never
// carries legal names or contact points.
type CalendarHearing struct {
	Hearing    Hearing  `json:"hearing"`
	Docket     string   `json:"docket"`
	Court      Court    `json:"court"`
	Pseudonyms []string `json:"pseudonyms,omitempty"`
	// Attendee is set in an interpreter's calendar: their booking of the hearing, which the
	// calendar lists as their ATTENDEE with its PARTSTAT, and which they may answer by
	// changing that PARTSTAT.
	Attendee *CalendarAttendee `json:"attendee,omitempty"`
}

// CalendarAttendee is an interpreter's live booking of a hearing in their calendar.
type CalendarAttendee struct {
	Username  string        `json:"username"`
	BookingID int64         `json:"bookingId"`
	Status    BookingStatus `json:"status"` // OFFERED, ACCEPTED or NEEDS_RECONFIRMATION
}

// CalendarChange is one hearing whose entry in a user's hearings calendar changed: Version is
// the calendar version at its latest change, Deleted reports that the hearing left the
// calendar then.
type CalendarChange struct {
	HearingID int64 `json:"hearingId"`
	Version   int64 `json:"version"`
	Deleted   bool  `json:"deleted"`
}

// CalendarService answers what a user's server-generated hearings calendar holds.
type CalendarService interface {
	// FindCalendarHearings returns every hearing in the user's hearings calendar: those of the
	// cases a prosecutor's office owns, those an advocate accompanies. Cancelled hearings stay,
	// with status CANCELLED.
	FindCalendarHearings(ctx context.Context, userID int64) ([]*CalendarHearing, error)

	// FindCalendarHearingsInRange returns the hearings of the user's hearings calendar that
	// overlap [from, to) (start before to, end after from; a zero bound is open), reading
	// only those.
	FindCalendarHearingsInRange(ctx context.Context, userID int64, from, to time.Time) ([]*CalendarHearing, error)

	// FindCalendarHearing returns one hearing of the user's hearings calendar. Returns ENOTFOUND.
	FindCalendarHearing(ctx context.Context, userID, hearingID int64) (*CalendarHearing, error)

	// CalendarVersion returns the user's calendar change token: it grows whenever anything in
	// the user's hearings calendar changes, and with it the time of that change.
	CalendarVersion(ctx context.Context, userID int64) (version int64, updatedAt time.Time, err error)

	// CalendarChanges returns the hearings of the user's hearings calendar that changed after
	// version since, one entry per hearing (its latest change), in the order of their versions,
	// with the calendar's current version read in the same snapshot. since 0 returns every
	// hearing the projection has recorded. A since greater than the current version is not an
	// error: the caller compares.
	CalendarChanges(ctx context.Context, userID, since int64) (changes []CalendarChange, version int64, err error)
}
