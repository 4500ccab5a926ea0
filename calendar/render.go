package calendar

import (
	"fmt"
	"strconv"
	"strings"

	"courtside"

	ics "github.com/arran4/golang-ical"
)

// DefaultProdID is the PRODID of the iCalendar objects Courtside renders when the caller names
// none.
const DefaultProdID = "-//Courtside//Hearings//EN"

// UID returns the stable iCalendar UID of a hearing. It never changes, whatever happens to the
// hearing, so that calendar apps update the event instead of adding another.
func UID(hearingID int64) string {
	return "hearing-" + strconv.FormatInt(hearingID, 10) + "@courtside"
}

// RenderHearing renders one hearing of a user's calendar as an iCalendar object: one VCALENDAR
// holding one VEVENT, with CRLF line endings. Times are UTC. The event carries the docket
// number, the court and the judge, and, for an advocate, the pseudonyms of the victims they
// accompany; nothing else about a victim. A cancelled hearing keeps its event, with
// STATUS:CANCELLED. In an interpreter's calendar the event lists them as ATTENDEE with the
// PARTSTAT of their booking (addAttendee). The output depends only on ch and prodID, so it is
// the same on every call.
func RenderHearing(ch *courtside.CalendarHearing, prodID string) ([]byte, error) {
	if ch == nil {
		return nil, fmt.Errorf("calendar: render hearing: nil hearing")
	}
	cal := newCalendar(prodID)
	if err := addHearingEvent(cal, ch); err != nil {
		return nil, err
	}
	addAttendee(cal, ch)
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar: render hearing %d: %w", ch.Hearing.ID, err)
	}
	return []byte(b.String()), nil
}

// RenderVersion names the rendering of RenderStored. Change it with any change to the bytes
// RenderHearing, Convert or the feed event write for a hearing: a server that starts with
// another version than the stored objects' renders every object again (storage.DB.
// BackfillCalendarObjects), and sync reports those whose ETag changed.
const RenderVersion = "1"

// RenderStored renders a hearing for the calendar projection (storage.DB.RenderCalendar), which
// stores what it returns so that reads never render: the object as CalDAV serves it (go-ical's
// encoding of RenderHearing's output, see Convert) with its ETag, and the VEVENT as feeds serve
// it (without pseudonyms or attendee), nil for an open offer, which feeds leave out.
func RenderStored(ch *courtside.CalendarHearing) (*courtside.RenderedHearing, error) {
	rendered, err := RenderHearing(ch, DefaultProdID)
	if err != nil {
		return nil, err
	}
	_, encoded, etag, err := Convert(rendered)
	if err != nil {
		return nil, err
	}
	out := &courtside.RenderedHearing{Data: encoded, ETag: etag}
	if ch.Attendee == nil || ch.Attendee.Status != courtside.BookingOffered {
		if out.FeedEvent, err = renderFeedEvent(ch); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// renderFeedEvent renders the VEVENT of a hearing as a feed holds it, BEGIN to END: the
// CalDAV object's event without victims' pseudonyms and without attendee (feeds are
// METHOD:PUBLISH). golang-ical writes each component on its own, so the bytes are those the
// event has in a feed of many.
func renderFeedEvent(ch *courtside.CalendarHearing) ([]byte, error) {
	c := *ch
	c.Pseudonyms, c.Attendee = nil, nil // see NewFeedHandler: a feed names no victim, not even by pseudonym
	cal := ics.NewCalendarFor("Courtside")
	if err := addHearingEvent(cal, &c); err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar: render feed event %d: %w", ch.Hearing.ID, err)
	}
	s := b.String()
	start := strings.Index(s, "BEGIN:VEVENT\r\n")
	end := strings.LastIndex(s, "END:VEVENT\r\n")
	if start < 0 || end < start {
		return nil, fmt.Errorf("calendar: render feed event %d: no VEVENT", ch.Hearing.ID)
	}
	return []byte(s[start : end+len("END:VEVENT\r\n")]), nil
}

// newCalendar returns an empty VCALENDAR with the given PRODID (DefaultProdID when it is empty
// once sanitised) and the Gregorian calendar scale.
func newCalendar(prodID string) *ics.Calendar {
	if prodID = sanitizeLine(prodID, 200); prodID == "" {
		prodID = DefaultProdID
	}
	cal := ics.NewCalendarFor("Courtside")
	cal.SetProductId(prodID)
	cal.SetCalscale("GREGORIAN")
	return cal
}

// addHearingEvent adds the VEVENT of one hearing to cal: the event that both the CalDAV
// objects and the feeds serve, so that its UID, SEQUENCE and content are the same in both.
func addHearingEvent(cal *ics.Calendar, ch *courtside.CalendarHearing) error {
	if ch == nil {
		return fmt.Errorf("calendar: render hearing: nil hearing")
	}
	h := &ch.Hearing
	if h.ID <= 0 {
		return fmt.Errorf("calendar: render hearing: no ID")
	}
	if h.StartsAt.IsZero() || !h.EndsAt.After(h.StartsAt) {
		return fmt.Errorf("calendar: render hearing %d: invalid start or end time", h.ID)
	}
	stamp := h.UpdatedAt
	if stamp.IsZero() {
		stamp = h.CreatedAt
	}
	if stamp.IsZero() {
		return fmt.Errorf("calendar: render hearing %d: no update time", h.ID)
	}

	ev := cal.AddEvent(UID(h.ID))
	ev.SetDtStampTime(stamp)
	if !h.CreatedAt.IsZero() {
		ev.SetCreatedTime(h.CreatedAt)
	}
	ev.SetLastModifiedAt(stamp)
	ev.SetSequence(h.Sequence)
	ev.SetStatus(eventStatus(h.Status))
	ev.SetStartAt(h.StartsAt)
	ev.SetEndAt(h.EndsAt)
	ev.SetSummary(summary(ch))
	if loc := location(ch); loc != "" {
		ev.SetLocation(loc)
	}
	if desc := description(ch); desc != "" {
		ev.SetDescription(desc)
	}
	ev.SetTimeTransparency(ics.TransparencyOpaque)
	return nil
}

// addAttendee lists, in a CalDAV hearing object, the interpreter whose booking it is as its
// ATTENDEE, so that they can answer by changing their PARTSTAT (partstat.go). Feeds
// (METHOD:PUBLISH, which allows no ATTENDEE) do not get it.
func addAttendee(cal *ics.Calendar, ch *courtside.CalendarHearing) {
	a := ch.Attendee
	events := cal.Events()
	if a == nil || len(events) != 1 {
		return
	}
	ev := events[0]
	ev.AddProperty(ics.ComponentPropertyOrganizer, OrganizerAddress, ics.WithCN("Courtside"))
	ev.AddProperty(ics.ComponentPropertyAttendee, AttendeeAddress(a.Username), ics.WithCN(sanitizeLine(a.Username, 64)),
		ics.ParticipationRoleReqParticipant, partStat(a.Status), ics.WithRSVP(a.Status != courtside.BookingAccepted))
}

// OrganizerAddress is the ORGANIZER of the hearings an interpreter is booked for.
const OrganizerAddress = "urn:courtside:scheduling"

// AttendeeAddress is the calendar user address of a user in the hearings calendar.
func AttendeeAddress(username string) string { return "urn:courtside:user:" + username }

// partStat is the PARTSTAT of an interpreter's booking: ACCEPTED once accepted, NEEDS-ACTION
// while offered or waiting for reconfirmation.
func partStat(s courtside.BookingStatus) ics.ParticipationStatus {
	if s == courtside.BookingAccepted {
		return ics.ParticipationStatusAccepted
	}
	return ics.ParticipationStatusNeedsAction
}

// eventStatus maps a hearing status to the VEVENT STATUS: a cancelled hearing is CANCELLED,
// every other one CONFIRMED.
func eventStatus(s courtside.HearingStatus) ics.ObjectStatus {
	if s == courtside.HearingCancelled {
		return ics.ObjectStatusCancelled
	}
	return ics.ObjectStatusConfirmed
}

// kindLabels names each hearing kind as it reads in a calendar.
var kindLabels = map[courtside.HearingKind]string{
	courtside.KindArraignment: "Arraignment",
	courtside.KindDetention:   "Detention hearing",
	courtside.KindPreliminary: "Preliminary hearing",
	courtside.KindMotion:      "Motion hearing",
	courtside.KindPlea:        "Plea hearing",
	courtside.KindTrial:       "Trial",
	courtside.KindSentencing:  "Sentencing hearing",
	courtside.KindRestitution: "Restitution hearing",
	courtside.KindStatus:      "Status conference",
	courtside.KindOther:       "Hearing",
}

// summary returns the SUMMARY: the kind and the docket number, prefixed with "Cancelled: "
// for a cancelled hearing, because some calendar apps ignore STATUS.
func summary(ch *courtside.CalendarHearing) string {
	label, ok := kindLabels[ch.Hearing.Kind]
	if !ok {
		label = "Hearing"
	}
	s := label
	if docket := sanitizeLine(ch.Docket, 100); docket != "" {
		s += " — " + docket
	}
	if ch.Hearing.Status == courtside.HearingCancelled {
		s = "Cancelled: " + s
	}
	return s
}

// location returns the LOCATION: court name, courtroom and address, those that are known.
func location(ch *courtside.CalendarHearing) string {
	var parts []string
	if name := sanitizeLine(ch.Court.Name, 200); name != "" {
		parts = append(parts, name)
	}
	if room := sanitizeLine(ch.Hearing.Courtroom, 100); room != "" {
		if !strings.Contains(strings.ToLower(room), "room") {
			room = "Courtroom " + room
		}
		parts = append(parts, room)
	}
	if addr := sanitizeLine(ch.Court.Address, 500); addr != "" {
		parts = append(parts, addr)
	}
	return strings.Join(parts, ", ")
}

// description returns the DESCRIPTION: the judge and the pseudonyms of the victims accompanied,
// one per line, those that are known.
func description(ch *courtside.CalendarHearing) string {
	var lines []string
	if judge := sanitizeLine(ch.Hearing.Judge, 200); judge != "" {
		lines = append(lines, "Judge: "+judge)
	}
	var names []string
	for _, p := range ch.Pseudonyms {
		if p = sanitizeLine(p, 100); p != "" {
			names = append(names, p)
		}
	}
	if len(names) > 0 {
		lines = append(lines, "Accompanying: "+strings.Join(names, ", "))
	}
	return strings.Join(lines, "\n")
}

// sanitizeLine makes s safe for one line of iCalendar text: valid UTF-8, no control or
// line-separator characters (whitespace runs become one space), trimmed, and cut to at most
// max runes. golang-ical escapes backslashes, semicolons and commas itself.
func sanitizeLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if n >= max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' ||
			r == ' ' || r == '\u0085' || r == '\u00a0' || r == '\u2028' || r == '\u2029':
			space = true
			continue
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			continue
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			// Bidirectional overrides could make a calendar show a misleading line.
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
