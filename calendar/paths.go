package calendar

import (
	"path"
	"strconv"
	"strings"

	"courtside"
)

// The CalDAV namespace. Every path is built and parsed in this file.
const (
	davRoot         = "/dav/"
	principalsRoot  = "/dav/principals/"
	calendarsRoot   = "/dav/calendars/"
	hearingsName    = "hearings"
	hearingFilePre  = "hearing-"
	hearingFileSuff = ".ics"
	inboxName       = "inbox"
	outboxName      = "outbox"
)

// InboxPath returns the path of the user's scheduling inbox (RFC 6638 section 2.2).
func InboxPath(username string) string { return HomeSetPath(username) + inboxName + "/" }

// OutboxPath returns the path of the user's scheduling outbox (RFC 6638 section 2.1).
func OutboxPath(username string) string { return HomeSetPath(username) + outboxName + "/" }

// InboxItemPath returns the path of one message in the user's scheduling inbox.
func InboxItemPath(username string, bookingID int64, method string, sequence int) string {
	return InboxPath(username) + inboxItemName(bookingID, method, sequence)
}

// inboxItemName is the resource name of a message: booking-{id}-{request|cancel}-{sequence}.ics.
func inboxItemName(bookingID int64, method string, sequence int) string {
	return "booking-" + strconv.FormatInt(bookingID, 10) + "-" + strings.ToLower(method) + "-" + strconv.Itoa(sequence) + ".ics"
}

// parseInboxItem parses a message's resource name, only in its canonical spelling.
func parseInboxItem(name string) (bookingID int64, method string, sequence int, ok bool) {
	rest, ok := strings.CutSuffix(strings.TrimPrefix(name, "booking-"), ".ics")
	parts := strings.Split(rest, "-")
	if !ok || !strings.HasPrefix(name, "booking-") || len(parts) != 3 {
		return 0, "", 0, false
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.Atoi(parts[2])
	method = strings.ToUpper(parts[1])
	if err1 != nil || err2 != nil || id <= 0 || seq < 0 || (method != MethodRequest && method != MethodCancel) ||
		inboxItemName(id, method, seq) != name {
		return 0, "", 0, false
	}
	return id, method, seq, true
}

// PrincipalPath returns the path of the user's CalDAV principal.
func PrincipalPath(username string) string { return principalsRoot + username + "/" }

// HomeSetPath returns the path of the user's calendar home set.
func HomeSetPath(username string) string { return calendarsRoot + username + "/" }

// HearingsPath returns the path of the user's read-only hearings calendar.
func HearingsPath(username string) string { return HomeSetPath(username) + hearingsName + "/" }

// HearingPath returns the path of one hearing in the user's hearings calendar.
func HearingPath(username string, hearingID int64) string {
	return HearingsPath(username) + hearingFile(hearingID)
}

// hearingFile returns the resource name of a hearing in a hearings calendar.
func hearingFile(hearingID int64) string {
	return hearingFilePre + strconv.FormatInt(hearingID, 10) + hearingFileSuff
}

// PersonalPath returns the path of one of the user's personal calendars.
func PersonalPath(username, calendar string) string { return HomeSetPath(username) + calendar + "/" }

// AvailabilityPath returns the path of the user's availability calendar.
func AvailabilityPath(username string) string {
	return PersonalPath(username, courtside.AvailabilityCalendar)
}

// resourceKind is what a path under /dav/ names.
type resourceKind int

const (
	resourceUnknown        resourceKind = iota // nothing: 404 (a write in the caller's own space: 403)
	resourceRoot                               // /dav/
	resourcePrincipal                          // /dav/principals/<username>/
	resourceHomeSet                            // /dav/calendars/<username>/
	resourceHearings                           // /dav/calendars/<username>/hearings/
	resourceHearing                            // /dav/calendars/<username>/hearings/hearing-<id>.ics
	resourcePersonal                           // /dav/calendars/<username>/<calendar>/ (availability, MKCALENDAR's)
	resourcePersonalObject                     // /dav/calendars/<username>/<calendar>/<object>
	resourceInbox                              // /dav/calendars/<username>/inbox/
	resourceInboxItem                          // /dav/calendars/<username>/inbox/booking-<id>-<method>-<seq>.ics
	resourceOutbox                             // /dav/calendars/<username>/outbox/
)

// davPath is a parsed request path.
type davPath struct {
	kind resourceKind
	// username is the user whose space the path is in ("" for the root and unknown paths).
	username string
	// hearingID is set for resourceHearing.
	hearingID int64
	// calendar is set for resourcePersonal and resourcePersonalObject, object for the latter.
	calendar, object string
	// bookingID, method and sequence name a resourceInboxItem.
	bookingID int64
	method    string
	sequence  int
}

// collection reports whether the path names a collection.
func (p davPath) collection() bool {
	switch p.kind {
	case resourceRoot, resourcePrincipal, resourceHomeSet, resourceHearings, resourcePersonal, resourceInbox, resourceOutbox:
		return true
	}
	return false
}

// canonical returns the path as the backend spells it: collections end with a slash.
func (p davPath) canonical() string {
	switch p.kind {
	case resourceRoot:
		return davRoot
	case resourcePrincipal:
		return PrincipalPath(p.username)
	case resourceHomeSet:
		return HomeSetPath(p.username)
	case resourceHearings:
		return HearingsPath(p.username)
	case resourceHearing:
		return HearingPath(p.username, p.hearingID)
	case resourcePersonal:
		return PersonalPath(p.username, p.calendar)
	case resourcePersonalObject:
		return PersonalPath(p.username, p.calendar) + p.object
	case resourceInbox:
		return InboxPath(p.username)
	case resourceInboxItem:
		return InboxItemPath(p.username, p.bookingID, p.method, p.sequence)
	case resourceOutbox:
		return OutboxPath(p.username)
	}
	return ""
}

// parsePath parses a request path. Paths are cleaned first, so "." and ".." cannot leave the
// user's space; a path that names nothing known has kind resourceUnknown, with username set
// when it lies inside that user's principal or home set.
func parsePath(p string) davPath {
	if p == "" || p[0] != '/' {
		return davPath{}
	}
	clean := path.Clean(p)
	if clean == "/dav" {
		return davPath{kind: resourceRoot}
	}
	rest, ok := strings.CutPrefix(clean, "/dav/")
	if !ok {
		return davPath{}
	}
	seg := strings.Split(rest, "/")
	if len(seg) < 2 || !validUsername(seg[1]) {
		return davPath{}
	}
	user := seg[1]
	switch seg[0] {
	case "principals":
		if len(seg) == 2 {
			return davPath{kind: resourcePrincipal, username: user}
		}
	case "calendars":
		switch {
		case len(seg) == 2:
			return davPath{kind: resourceHomeSet, username: user}
		case len(seg) == 3 && seg[2] == hearingsName:
			return davPath{kind: resourceHearings, username: user}
		case len(seg) == 4 && seg[2] == hearingsName:
			if id, ok := parseHearingFile(seg[3]); ok {
				return davPath{kind: resourceHearing, username: user, hearingID: id}
			}
		case len(seg) == 3 && seg[2] == inboxName:
			return davPath{kind: resourceInbox, username: user}
		case len(seg) == 3 && seg[2] == outboxName:
			return davPath{kind: resourceOutbox, username: user}
		case len(seg) == 4 && seg[2] == inboxName:
			if id, method, seq, ok := parseInboxItem(seg[3]); ok {
				return davPath{kind: resourceInboxItem, username: user, bookingID: id, method: method, sequence: seq}
			}
		case len(seg) >= 3 && (seg[2] == inboxName || seg[2] == outboxName):
		case len(seg) == 3 && courtside.ValidatePersonalCalendarName(seg[2]) == nil:
			return davPath{kind: resourcePersonal, username: user, calendar: seg[2]}
		case len(seg) == 4 && courtside.ValidatePersonalCalendarName(seg[2]) == nil && courtside.ValidateObjectName(seg[3]) == nil:
			return davPath{kind: resourcePersonalObject, username: user, calendar: seg[2], object: seg[3]}
		}
	default:
		return davPath{}
	}
	return davPath{username: user}
}

// parseHearingFile parses "hearing-<id>.ics". Only the canonical spelling of a positive ID is
// accepted, so that one hearing has one path.
func parseHearingFile(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, hearingFilePre)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, hearingFileSuff)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, false
	}
	return id, true
}

// validUsername reports whether s can be a username: the characters courtside.User.Validate
// allows.
func validUsername(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return s != "." && s != ".."
}
