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

// CalendarObject is one hearing of a user's hearings calendar as the calendar projection keeps
// it: rendered when the hearing changed, served as stored.
type CalendarObject struct {
	HearingID int64 `json:"hearingId"`
	// ETag is the strong entity tag of Data, unquoted; Size its length in bytes.
	ETag string `json:"etag"`
	Size int64  `json:"size"`
	// StartsAt and EndsAt are the hearing's times: the object's time extent.
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
	// ModifiedAt is the object's last modification (the hearing's last update).
	ModifiedAt time.Time `json:"modifiedAt"`
	// Data is the iCalendar object as CalDAV serves it; nil when it was not asked for.
	Data []byte `json:"-"`
}

// CalendarObjectChange is a CalendarChange with the object as it is now: nil when the change
// was the hearing leaving the calendar, or when the object was not asked for.
type CalendarObjectChange struct {
	CalendarChange
	Object *CalendarObject `json:"object,omitempty"`
}

// FeedWindow is what a feed holds at one moment: the events that overlap [From, Until) (start
// before Until, end after From), a cancelled one only if it was cancelled after
// CancelledAfter.
type FeedWindow struct {
	From, Until, CancelledAfter time.Time
}

// FeedEvents is what a feed is assembled from, and what tells how long it stays right as time
// goes on.
type FeedEvents struct {
	// Version is the user's calendar version, read in the same snapshot as the events.
	Version int64
	// Events are the VEVENTs (BEGIN to END, CRLF line endings) of the window, in calendar
	// order: by start, then hearing.
	Events [][]byte
	// FirstEnd is the earliest end of those events, FirstCancelled the earliest cancellation
	// among them, NextStart the earliest start, at or after the window's end, of the
	// calendar's other feed events; each zero when there is none.
	FirstEnd, FirstCancelled, NextStart time.Time
}

// RenderedHearing is a hearing rendered for one user's hearings calendar: what the calendar
// projection stores, so that reads never render.
type RenderedHearing struct {
	// Data is the iCalendar object CalDAV serves, and ETag its strong entity tag (unquoted).
	Data []byte
	ETag string
	// FeedEvent is the hearing's VEVENT as feeds serve it (without victims' pseudonyms and
	// attendees, so the same in every calendar); nil when the hearing is never in this user's
	// feed (an open offer).
	FeedEvent []byte
}

// CalendarRenderer renders a hearing for a user's hearings calendar. The calendar package
// provides it (calendar.RenderStored); storage, which renders nothing itself, is given it.
type CalendarRenderer func(ch *CalendarHearing) (*RenderedHearing, error)

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

	// FindCalendarObjects returns the stored objects of the user's hearings calendar that
	// overlap [from, to) (start before to, end after from; a zero bound is open), ordered by
	// start, then hearing. withData false leaves Data nil and reads no object's bytes.
	FindCalendarObjects(ctx context.Context, userID int64, from, to time.Time, withData bool) ([]*CalendarObject, error)

	// FindCalendarObjectHeads returns the stored objects of the user's hearings calendar
	// without their data or times (HearingID, ETag, Size and ModifiedAt only), ordered by
	// start, then hearing: a listing read from an index alone.
	FindCalendarObjectHeads(ctx context.Context, userID int64) ([]*CalendarObject, error)

	// FindCalendarObjectsByID returns the stored objects of the given hearings that are in
	// the user's hearings calendar, in no particular order; the others are left out.
	FindCalendarObjectsByID(ctx context.Context, userID int64, hearingIDs []int64, withData bool) ([]*CalendarObject, error)

	// CalendarObjectChanges is CalendarChanges with each changed hearing's stored object,
	// read in the same snapshot: the rows after since and those objects, whatever the
	// calendar's size.
	CalendarObjectChanges(ctx context.Context, userID, since int64, withData bool) (changes []CalendarObjectChange, version int64, err error)

	// FindFeedEvents returns the feed events of the user's hearings calendar in the window,
	// with the calendar version, in one snapshot. An open offer is in no feed.
	FindFeedEvents(ctx context.Context, userID int64, w FeedWindow) (*FeedEvents, error)
}
