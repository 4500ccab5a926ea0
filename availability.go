package courtside

import (
	"context"
	"strings"
	"time"
)

// A user's personal calendars: the read-write CalDAV calendars beside the server-generated
// hearings calendar. Every user has one called "availability" (it exists from the start, and
// its row is created with its first object); MKCALENDAR adds more. Every opaque event of every
// personal calendar is a busy block: interpreter matching treats an interpreter as unavailable
// during it, and the free-busy report lists it. The objects are the owner's own iCalendar
// data, stored as sent; they are never victim data.

// AvailabilityCalendar is the name of the personal calendar every user has.
const AvailabilityCalendar = "availability"

// Limits of the personal calendars.
const (
	MaxPersonalCalendars   = 20                       // per user, availability included
	MaxCalendarObjects     = 5000                     // per calendar
	MaxCalendarObjectBytes = 256 << 10                // per object, as sent
	MaxCalendarBytes       = 20 << 20                 // per calendar, its objects' data together
	MaxBusyInstances       = 1000                     // busy intervals kept per object (recurrence expanded)
	MaxRecurrenceCount     = 10000                    // the largest RRULE COUNT accepted
	BusyHorizon            = 2 * 365 * 24 * time.Hour // how far past its start a recurrence is expanded
)

// PersonalCalendar is one of a user's read-write calendars.
type PersonalCalendar struct {
	UserID      int64  `json:"userId"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Version     int64  `json:"version"` // grows with every change of an object in it
	// Components are the kinds of object the calendar takes (CalDAV
	// supported-calendar-component-set): some of CalendarComponents, in that order.
	Components []string `json:"components"`
	// Incarnation tells this calendar from an earlier one of the same name that was deleted:
	// a sync token of the earlier one is refused, so a recreated calendar starts fresh. ""
	// for the availability calendar and for calendars made before calendars could be deleted.
	Incarnation string    `json:"incarnation,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// The kinds of calendar object a personal calendar may take (RFC 5545 components).
const (
	ComponentEvent   = "VEVENT"
	ComponentTodo    = "VTODO"
	ComponentJournal = "VJOURNAL"
)

// CalendarComponents are the components a personal calendar may take, in the order
// Components lists them; a calendar takes all of them unless it was made for fewer.
var CalendarComponents = []string{ComponentEvent, ComponentTodo, ComponentJournal}

// NormalizeComponents checks a set of components for a new calendar and returns it in the
// order of CalendarComponents, without repeats; an empty set is every component. Returns
// EINVALID (field "components") naming a component a personal calendar cannot take.
func NormalizeComponents(in []string) ([]string, error) {
	if len(in) == 0 {
		return append([]string(nil), CalendarComponents...), nil
	}
	want := map[string]bool{}
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		known := false
		for _, k := range CalendarComponents {
			known = known || k == c
		}
		if !known {
			return nil, Invalidf("components", "A calendar takes only VEVENT, VTODO and VJOURNAL objects, not %q.", c)
		}
		want[c] = true
	}
	var out []string
	for _, k := range CalendarComponents {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// Takes reports whether the calendar takes objects of component.
func (c *PersonalCalendar) Takes(component string) bool {
	for _, k := range c.Components {
		if k == component {
			return true
		}
	}
	return false
}

// NewPersonalCalendar is what MKCALENDAR asks for: the name in the URL and the properties of
// its body.
type NewPersonalCalendar struct {
	Name        string
	DisplayName string
	Description string
	Color       string   // "#RRGGBB" or "#RRGGBBAA", or ""
	Components  []string // nil: every component
}

// Interval is a half-open span of time [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Overlaps reports whether the two intervals share any instant.
func (i Interval) Overlaps(start, end time.Time) bool {
	return i.Start.Before(end) && start.Before(i.End)
}

// AvailabilityObject is one calendar object (one UID: a VEVENT or VTODO with its recurrence
// overrides) of a personal calendar. Busy holds the intervals it makes its owner busy,
// computed by the CalDAV edge when the object is written.
type AvailabilityObject struct {
	UserID    int64      `json:"userId"`
	Calendar  string     `json:"calendar"`
	Name      string     `json:"name"` // the resource name in the collection, e.g. "abc.ics"
	UID       string     `json:"uid"`
	Component string     `json:"component"` // VEVENT, VTODO or VJOURNAL
	ETag      string     `json:"etag"`      // strong, unquoted: a hash of Data
	Data      []byte     `json:"-"`
	Busy      []Interval `json:"busy,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`

	// ExtentStart and ExtentEnd bound every occurrence of the object (the first start, the
	// last end), computed by the CalDAV edge when it is written so that a time-range query
	// can skip objects without decoding them. A zero bound is open: VTODOs, unbounded
	// recurrences and objects written before extents were kept.
	ExtentStart time.Time `json:"-"`
	ExtentEnd   time.Time `json:"-"`
	// ExtentExact reports that the object is one occurrence filling its extent exactly (a
	// single VEVENT without recurrence), so that its match against a time range can be
	// decided from the extent alone.
	ExtentExact bool `json:"-"`
	// Size is the length of Data, set also when Data was not read.
	Size int64 `json:"-"`
	// ScheduleTag is set on a scheduling object resource (RFC 6638 section 3.2.10): the
	// attendee's copy of one of Courtside's booking invitations. It changes only with the
	// invitation's SEQUENCE, not with the attendee's own answer. "" for other objects.
	ScheduleTag string `json:"-"`

	// Occurrences are the occurrences of a VEVENT object that is not exact, worked out by the
	// CalDAV edge when it is written so that no time-range query expands a recurrence again:
	// every occurrence that starts before OccurrencesUntil (every one when it is zero), at
	// most MaxBusyInstances, zero-length ones included. OccurrencesKnown is false for objects
	// whose occurrences were not worked out (written without them): every range within their
	// extent is theirs. They are written with the object and not read back.
	Occurrences      []Interval `json:"-"`
	OccurrencesUntil time.Time  `json:"-"`
	OccurrencesKnown bool       `json:"-"`
}

// BusyBlock is a time during which a user is busy by their own calendar.
type BusyBlock struct {
	UserID   int64  `json:"userId"`
	Calendar string `json:"calendar"`
	Object   string `json:"object"`
	Interval
}

// AvailabilityChange is one object of a personal calendar that changed: Version is the
// calendar's version at its latest change; Deleted reports that it was deleted then.
type AvailabilityChange struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Deleted bool   `json:"deleted"`
}

// PutCondition is the precondition of a write: IfMatch is an ETag (unquoted) the current
// object must have, or "*" for any existing object; IfNoneMatch "*" refuses to overwrite.
type PutCondition struct {
	IfMatch     string
	IfNoneMatch bool
}

// Error fields that the CalDAV edge maps to their own statuses.
const (
	// FieldPrecondition marks an ECONFLICT whose cause is a failed If-Match or If-None-Match
	// (HTTP 412).
	FieldPrecondition = "precondition"
	// FieldUID marks an ECONFLICT whose cause is a UID used by another object of the same
	// calendar (CalDAV no-uid-conflict).
	FieldUID = "uid"
	// FieldLimit marks an EINVALID whose cause is a limit above (too many calendars or objects).
	FieldLimit = "limit"
	// FieldComponent marks an EINVALID whose cause is a component the calendar does not take
	// (CalDAV supported-calendar-component).
	FieldComponent = "component"
)

// AvailabilityService stores the personal calendars. Every method acts for the user in the
// context, on their own calendars only; another user's calendars are not found.
type AvailabilityService interface {
	// FindPersonalCalendars returns the user's personal calendars, availability first (with
	// version 0 until its first object).
	FindPersonalCalendars(ctx context.Context) ([]*PersonalCalendar, error)

	// FindPersonalCalendar returns one of the user's personal calendars. Returns ENOTFOUND.
	FindPersonalCalendar(ctx context.Context, name string) (*PersonalCalendar, error)

	// CreatePersonalCalendar creates a personal calendar with its display name, description,
	// colour and components. Returns ECONFLICT when it exists, EINVALID for a bad name, colour
	// or component, or over MaxPersonalCalendars.
	CreatePersonalCalendar(ctx context.Context, c NewPersonalCalendar) (*PersonalCalendar, error)

	// DeletePersonalCalendar deletes a personal calendar with its objects, their change log
	// and its settings; a calendar made again under the name starts with a new Incarnation.
	// Returns ENOTFOUND, or EFORBIDDEN for the availability calendar, which every user keeps.
	DeletePersonalCalendar(ctx context.Context, name string) error

	// PutAvailabilityObject creates or replaces an object under cond. created reports a new
	// object. Returns ECONFLICT with FieldPrecondition when cond fails, ECONFLICT with FieldUID
	// when another object of the calendar has the UID, ENOTFOUND for an unknown calendar.
	PutAvailabilityObject(ctx context.Context, obj *AvailabilityObject, cond PutCondition) (created bool, err error)

	// FindAvailabilityObject returns one object. Returns ENOTFOUND.
	FindAvailabilityObject(ctx context.Context, calendar, name string) (*AvailabilityObject, error)

	// FindAvailabilityObjects returns every object of a calendar, by name.
	FindAvailabilityObjects(ctx context.Context, calendar string) ([]*AvailabilityObject, error)

	// FindAvailabilityObjectsInRange returns, by name, the objects of a calendar whose extent
	// meets [from, to] (a zero bound is open), less the VEVENTs that are not exact and whose
	// stored occurrences show that none overlaps [from, to) by RFC 4791 section 9.9 (a
	// zero-length one matches when it starts in the range): every object that can match a
	// time range, the caller deciding exact extents and VTODOs. An object whose occurrences are
	// not known, or known only up to a time before to, is kept.
	FindAvailabilityObjectsInRange(ctx context.Context, calendar string, from, to time.Time) ([]*AvailabilityObject, error)

	// FindAvailabilityObjectsNamed returns, by name, those of the named objects of a calendar
	// that exist.
	FindAvailabilityObjectsNamed(ctx context.Context, calendar string, names []string) ([]*AvailabilityObject, error)

	// FindAvailabilityObjectHeads returns every object of a calendar by name with only its
	// Name, ETag, UpdatedAt and Size: what a listing without calendar data needs.
	FindAvailabilityObjectHeads(ctx context.Context, calendar string) ([]*AvailabilityObject, error)

	// DeleteAvailabilityObject deletes an object; ifMatch, when not "", must be its ETag.
	// Returns ENOTFOUND, or ECONFLICT with FieldPrecondition.
	DeleteAvailabilityObject(ctx context.Context, calendar, name, ifMatch string) error

	// AvailabilityChanges returns the objects of a calendar changed after version since, in
	// version order, with the calendar's current version, from one snapshot.
	AvailabilityChanges(ctx context.Context, calendar string, since int64) ([]AvailabilityChange, int64, error)

	// FindBusyBlocks returns the busy blocks of the caller in [from, to), by start.
	FindBusyBlocks(ctx context.Context, from, to time.Time) ([]BusyBlock, error)

	// FindCalendarSettings returns what the caller set on their calendars (hearings and
	// personal ones), by calendar name.
	FindCalendarSettings(ctx context.Context) (map[string]CalendarSettings, error)

	// SetCalendarSettings sets or, with "", removes the display name, colour and description
	// of one of the caller's calendars; a nil pointer leaves that one alone. Returns EINVALID
	// (a bad colour, a name or description too long) or ENOTFOUND.
	SetCalendarSettings(ctx context.Context, calendar string, update CalendarSettingsUpdate) error
}

// CalendarSettings is what a user set on one of their calendars by PROPPATCH; "" is unset.
type CalendarSettings struct {
	DisplayName string `json:"displayName,omitempty"`
	Color       string `json:"color,omitempty"`
	Description string `json:"description,omitempty"`
}

// CalendarSettingsUpdate changes CalendarSettings: a nil field is left alone, "" removes it.
type CalendarSettingsUpdate struct {
	DisplayName, Color, Description *string
}

// MaxCalendarDescription bounds a calendar's description, in bytes.
const MaxCalendarDescription = 2000

// ValidateCalendarColor checks a calendar colour: "#RRGGBB" or "#RRGGBBAA" in hex.
func ValidateCalendarColor(c string) error {
	if (len(c) != 7 && len(c) != 9) || c[0] != '#' {
		return Invalidf("color", "A colour is #RRGGBB or #RRGGBBAA.")
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return Invalidf("color", "A colour is #RRGGBB or #RRGGBBAA.")
		}
	}
	return nil
}

// ValidatePersonalCalendarName checks the name of a personal calendar: 1 to 64 letters,
// digits, '-' or '_', and not "hearings" (the server-generated calendar).
func ValidatePersonalCalendarName(name string) error {
	if name == "" || len(name) > 64 {
		return Invalidf("name", "A calendar name must be 1 to 64 characters.")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Invalidf("name", "A calendar name may hold only letters, digits, '-' and '_'.")
		}
	}
	if strings.EqualFold(name, "hearings") {
		return Invalidf("name", "The hearings calendar is the server's.")
	}
	if strings.EqualFold(name, "inbox") || strings.EqualFold(name, "outbox") {
		return Invalidf("name", "The scheduling inbox and outbox are the server's.")
	}
	return nil
}

// ValidateObjectName checks the resource name of a calendar object: 1 to 200 characters of
// letters, digits and "-_.@+=~", not starting with a dot.
func ValidateObjectName(name string) error {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return Invalidf("name", "An object name must be 1 to 200 characters and not start with a dot.")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@+=~", c)) {
			return Invalidf("name", "An object name may hold only letters, digits and -_.@+=~.")
		}
	}
	return nil
}
