package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"courtside"

	ics "github.com/arran4/golang-ical"
	"github.com/emersion/go-ical"
)

// iTIP (RFC 5546): the scheduling messages of a booking. Courtside is the ORGANIZER of the
// hearings it books interpreters for; the interpreter is the one ATTENDEE. An offer is a
// REQUEST (PARTSTAT=NEEDS-ACTION, RSVP=TRUE); a move of the hearing is a REQUEST again with
// the same UID and a higher SEQUENCE; a cancellation is a CANCEL. The interpreter's calendar
// app answers with a REPLY (ParseReply). The objects carry what an interpreter's CalDAV object
// carries (the kind, the docket number, the court, the courtroom and the times) and nothing
// about a victim. Sent by e-mail they are iMIP (RFC 6047); the same objects serve CalDAV
// scheduling (RFC 6638).

// The iTIP methods Courtside sends.
const (
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
	MethodReply   = "REPLY"
)

// ITIPProdID is the PRODID of the scheduling messages.
const ITIPProdID = "-//Courtside//Scheduling//EN"

// Invitation is what one scheduling message about a booking says.
type Invitation struct {
	// Method is MethodRequest (an offer, or its update after a move) or MethodCancel.
	Method string
	// UID is the invitation's UID, the same for every message about the booking.
	UID string
	// Sequence is the hearing's sequence when the message was planned: it grows with each
	// move and with the cancellation. A withdrawal has one more than the offer's last REQUEST.
	Sequence int
	// Withdrawn makes a CANCEL take back this attendee's invitation while the hearing goes on
	// (an offer that expired unanswered): RFC 5546 section 3.2.5 has such a CANCEL carry no
	// STATUS, and the SUMMARY does not say the hearing is cancelled. Only with MethodCancel.
	Withdrawn bool
	// Stamp is when the message was made (DTSTAMP).
	Stamp time.Time
	// Organizer is the address replies go to (an e-mail address; "mailto:" is added).
	Organizer string
	// Attendee is the interpreter's address (an e-mail address; "mailto:" is added).
	Attendee string
	// Hearing is the hearing as the message tells it: kind, status, times, court, address,
	// courtroom and docket.
	Hearing courtside.HearingFacts
	// Language is the BCP 47 tag of the language to interpret, or "".
	Language string
}

// BuildInvitation renders inv as one VCALENDAR with METHOD inv.Method holding one VEVENT, with
// CRLF line endings. Times are UTC.
func BuildInvitation(inv Invitation) ([]byte, error) {
	var method ics.Method
	switch inv.Method {
	case MethodRequest:
		method = ics.MethodRequest
	case MethodCancel:
		method = ics.MethodCancel
	default:
		return nil, fmt.Errorf("calendar: invitation: method %q is not REQUEST or CANCEL", inv.Method)
	}
	if strings.TrimSpace(inv.UID) == "" || strings.ContainsAny(inv.UID, "\r\n") {
		return nil, fmt.Errorf("calendar: invitation: no UID")
	}
	organizer, err := mailtoAddress(inv.Organizer)
	if err != nil {
		return nil, fmt.Errorf("calendar: invitation: organizer: %w", err)
	}
	attendee, err := mailtoAddress(inv.Attendee)
	if err != nil {
		return nil, fmt.Errorf("calendar: invitation: attendee: %w", err)
	}
	h := inv.Hearing
	if h.StartsAt.IsZero() || !h.EndsAt.After(h.StartsAt) {
		return nil, fmt.Errorf("calendar: invitation: invalid start or end time")
	}
	if inv.Stamp.IsZero() || inv.Sequence < 0 {
		return nil, fmt.Errorf("calendar: invitation: no DTSTAMP or a negative SEQUENCE")
	}
	if inv.Withdrawn && inv.Method != MethodCancel {
		return nil, fmt.Errorf("calendar: invitation: only a CANCEL withdraws an invitation")
	}
	status := h.Status
	if inv.Method == MethodCancel && !inv.Withdrawn {
		status = courtside.HearingCancelled
	}
	// The same SUMMARY and LOCATION as the interpreter's CalDAV object (render.go).
	ch := &courtside.CalendarHearing{Hearing: courtside.Hearing{Kind: h.Kind, Status: status, Courtroom: h.Courtroom},
		Docket: h.Docket, Court: courtside.Court{Name: h.Court, Address: h.Address}}

	cal := ics.NewCalendarFor("Courtside")
	cal.SetProductId(ITIPProdID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(method)
	ev := cal.AddEvent(sanitizeLine(inv.UID, maxInvitationUID))
	ev.SetDtStampTime(inv.Stamp.UTC())
	ev.SetSequence(inv.Sequence)
	ev.SetOrganizer(organizer, ics.WithCN("Courtside"))
	params := []ics.PropertyParameter{ics.CalendarUserTypeIndividual, ics.ParticipationRoleReqParticipant}
	if inv.Method == MethodRequest {
		// RFC 5545 writes BOOLEAN values in capitals; golang-ical's WithRSVP does not.
		params = append(params, ics.ParticipationStatusNeedsAction, &ics.KeyValues{Key: string(ics.ParameterRsvp), Value: []string{"TRUE"}})
	}
	ev.AddAttendee(attendee, params...)
	ev.SetStartAt(h.StartsAt.UTC())
	ev.SetEndAt(h.EndsAt.UTC())
	ev.SetSummary(summary(ch))
	if loc := location(ch); loc != "" {
		ev.SetLocation(loc)
	}
	if lang := sanitizeLine(inv.Language, 35); lang != "" {
		ev.SetDescription("Interpreting (" + lang + ").")
	}
	if !inv.Withdrawn {
		ev.SetStatus(eventStatus(status))
	}
	ev.SetTimeTransparency(ics.TransparencyOpaque)
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar: invitation: %w", err)
	}
	return []byte(b.String()), nil
}

// maxInvitationUID bounds a UID Courtside writes or reads.
const maxInvitationUID = 255

// mailtoAddress returns "mailto:" and the bare e-mail address addr.
func mailtoAddress(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if err := courtside.ValidateEmail(addr); err != nil {
		return "", fmt.Errorf("%q is not an e-mail address", addr)
	}
	return "mailto:" + addr, nil
}

// decodeOne decodes exactly one VCALENDAR: anything after it is an error. A panic in the
// decoder becomes an error.
func decodeOne(data []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if r := recover(); r != nil {
			cal, err = nil, fmt.Errorf("calendar: decode iCalendar: malformed input")
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(data))
	if cal, err = dec.Decode(); err != nil {
		return nil, fmt.Errorf("calendar: decode iCalendar: %w", err)
	}
	if _, err := dec.Decode(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("calendar: reply: more than one VCALENDAR")
	}
	return cal, nil
}

// MaxReplyBytes bounds the iCalendar object ParseReply reads.
const MaxReplyBytes = 256 << 10

// ParseReply reads an iTIP REPLY (RFC 5546 section 3.2.3): one VCALENDAR with METHOD:REPLY
// and one VEVENT (VTIMEZONEs may come with it, as Outlook sends them) naming its UID, its
// SEQUENCE (0 when absent) and one ATTENDEE with their PARTSTAT and an optional COMMENT. The
// returned reply has no From: that is the message's. It never panics; anything else is an
// error, a METHOD other than REPLY included.
func ParseReply(data []byte) (courtside.InvitationReply, error) {
	var out courtside.InvitationReply
	if len(data) > MaxReplyBytes {
		return out, fmt.Errorf("calendar: reply: over %d bytes", MaxReplyBytes)
	}
	cal, err := decodeOne(data)
	if err != nil {
		return out, err
	}
	method, err := cal.Props.Text(ical.PropMethod)
	if err != nil || !strings.EqualFold(strings.TrimSpace(method), MethodReply) {
		return out, fmt.Errorf("calendar: reply: METHOD is %q, not REPLY", method)
	}
	var event *ical.Component
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent:
			if event != nil {
				return out, fmt.Errorf("calendar: reply: more than one VEVENT")
			}
			event = c
		case ical.CompTimezone:
		default:
			return out, fmt.Errorf("calendar: reply: a %s component", c.Name)
		}
	}
	if event == nil {
		return out, fmt.Errorf("calendar: reply: no VEVENT")
	}
	if event.Props.Get(ical.PropRecurrenceID) != nil {
		return out, fmt.Errorf("calendar: reply: an answer for one occurrence")
	}
	uid := event.Props.Get(ical.PropUID)
	if uid == nil || strings.TrimSpace(uid.Value) == "" || len(uid.Value) > maxInvitationUID {
		return out, fmt.Errorf("calendar: reply: no UID")
	}
	out.UID = strings.TrimSpace(uid.Value)
	if seq := event.Props.Get(ical.PropSequence); seq != nil {
		n, err := strconv.Atoi(strings.TrimSpace(seq.Value))
		if err != nil || n < 0 {
			return out, fmt.Errorf("calendar: reply: SEQUENCE %q is not a number", seq.Value)
		}
		out.Sequence = n
	}
	attendees := event.Props.Values(ical.PropAttendee)
	if len(attendees) != 1 {
		return out, fmt.Errorf("calendar: reply: %d attendees, want 1", len(attendees))
	}
	a := attendees[0]
	addr, ok := strings.CutPrefix(strings.TrimSpace(a.Value), "mailto:")
	if !ok {
		addr, ok = strings.CutPrefix(strings.TrimSpace(a.Value), "MAILTO:")
	}
	if !ok || addr == "" {
		return out, fmt.Errorf("calendar: reply: the attendee is not a mailto: address")
	}
	out.Attendee = addr
	out.PartStat = strings.ToUpper(strings.TrimSpace(a.Params.Get(ical.ParamParticipationStatus)))
	if out.PartStat == "" {
		out.PartStat = "NEEDS-ACTION"
	}
	if c := event.Props.Get(ical.PropComment); c != nil {
		out.Comment = unescapeText(c.Value)
	}
	return out, nil
}
