package calendar

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
)

// Answers to bookings from calendar apps. An interpreter's hearings calendar lists the
// hearings they are offered, have accepted or must reconfirm, each with the interpreter as
// ATTENDEE (PARTSTAT NEEDS-ACTION until accepted). Calendar apps answer an invitation by
// PUTting the object back with the attendee's PARTSTAT changed: ACCEPTED accepts the booking,
// DECLINED declines it (and offers it to the next candidate), through the booking service as
// that interpreter; the answer is 204 with the new ETag (none when a decline took the hearing
// out of the calendar). The object is compared with the server's by meaning, not bytes:
// property order, DTSTAMP, LAST-MODIFIED, SEQUENCE, X- properties and parameters, VALARMs and
// the VCALENDAR's own properties may differ, and times may be written in another zone. Any
// other change, any PUT by someone else, and any DELETE answer 403 with the precondition
// CALDAV:valid-calendar-object-resource (RFC 4791 section 5.3.2.1).

// refusePartstat writes the 403 of a refused change to a hearing object.
func refusePartstat(w *responseWriter) {
	w.raw(http.StatusForbidden, func() {
		writeCalDAVError(w.ResponseWriter, http.StatusForbidden, "valid-calendar-object-resource")
	})
}

// servePartstat answers a PUT of a hearing object.
func (h *handler) servePartstat(w *responseWriter, r *http.Request, user *courtside.User, p davPath) {
	ctx := r.Context()
	ch, err := h.calendars.FindCalendarHearing(ctx, user.ID, p.hearingID)
	if err != nil {
		h.serviceError(w, ctx, "find calendar hearing", err)
		return
	}
	if user.Role != courtside.RoleInterpreter || ch.Attendee == nil || h.bookings == nil {
		refusePartstat(w)
		return
	}
	current, err := h.backend.object(user, ch)
	if err != nil {
		h.serviceError(w, ctx, "render calendar hearing", err)
		return
	}
	if v := r.Header.Get("If-Match"); v != "" {
		if tag, ok := unquoteETag(v); !ok || (tag != "*" && tag != current.ETag) {
			w.fail(http.StatusPreconditionFailed, "")
			return
		}
	}
	if v := strings.TrimSpace(r.Header.Get("If-None-Match")); v == "*" || noneMatch(v, `"`+current.ETag+`"`) {
		w.fail(http.StatusPreconditionFailed, "")
		return
	}
	po, _, _ := h.readICalBody(w, r)
	if po == nil {
		return
	}
	self := AttendeeAddress(user.Username)
	answer, ok := answeredPartstat(current.Data, po.cal, self)
	if !ok {
		refusePartstat(w)
		return
	}
	status := ch.Attendee.Status
	switch {
	case answer == "ACCEPTED" && status == courtside.BookingAccepted,
		answer == "NEEDS-ACTION" && status != courtside.BookingAccepted:
		// Nothing changed.
	case answer == "ACCEPTED" || (answer == "DECLINED" && status != courtside.BookingAccepted):
		if _, err := h.bookings.RespondToBooking(ctx, ch.Attendee.BookingID, answer == "ACCEPTED", ""); err != nil {
			if code := courtside.ErrorCode(err); code == courtside.ECONFLICT || code == courtside.EFORBIDDEN {
				refusePartstat(w)
				return
			}
			h.serviceError(w, ctx, "respond to booking", err)
			return
		}
	default:
		refusePartstat(w)
		return
	}
	if ch, err := h.calendars.FindCalendarHearing(ctx, user.ID, p.hearingID); err == nil {
		if co, err := h.backend.object(user, ch); err == nil {
			w.Header().Set("ETag", `"`+co.ETag+`"`)
		}
	}
	w.raw(http.StatusNoContent, func() { w.ResponseWriter.WriteHeader(http.StatusNoContent) })
}

// answeredPartstat compares a PUT hearing object with the server's by meaning, and returns the
// PARTSTAT the put object gives self. ok is false when anything else differs.
func answeredPartstat(server, put *ical.Calendar, self string) (partstat string, ok bool) {
	se, pe := onlyEvent(server), onlyEvent(put)
	if se == nil || pe == nil {
		return "", false
	}
	if !slices.Equal(eventMeaning(se), eventMeaning(pe)) {
		return "", false
	}
	// The attendees: the same addresses, and only self's PARTSTAT may differ.
	sa, pa := attendees(se), attendees(pe)
	if len(sa) != len(pa) {
		return "", false
	}
	for addr, sp := range sa {
		pp, found := pa[addr]
		if !found {
			return "", false
		}
		if addr != strings.ToLower(self) && pp != sp {
			return "", false
		}
	}
	partstat, found := pa[strings.ToLower(self)]
	return partstat, found
}

// onlyEvent returns the calendar's one VEVENT, or nil when it has another number of them.
func onlyEvent(cal *ical.Calendar) *ical.Component {
	var out *ical.Component
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent:
			if out != nil {
				return nil
			}
			out = c
		case ical.CompTimezone:
		default:
			return nil
		}
	}
	return out
}

// ignoredProps are properties a calendar app may change without changing the event.
var ignoredProps = map[string]bool{
	ical.PropDateTimeStamp: true, ical.PropLastModified: true, ical.PropSequence: true, ical.PropAttendee: true,
}

// eventMeaning returns the event's properties as sorted comparable strings: name, parameters
// (X- ones left out) and value, with text unescaped and date-times as UTC instants.
func eventMeaning(c *ical.Component) []string {
	var out []string
	for name, props := range c.Props {
		if ignoredProps[name] || strings.HasPrefix(name, "X-") {
			continue
		}
		for i := range props {
			p := &props[i]
			value := p.Value
			switch name {
			case ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropCreated, ical.PropRecurrenceID:
				if t, err := p.DateTime(time.UTC); err == nil {
					value = t.UTC().Format("20060102T150405Z")
				}
			default:
				value = unescapeText(value)
			}
			var params []string
			for k, vs := range p.Params {
				if strings.HasPrefix(k, "X-") || k == ical.PropTimezoneID || k == ical.ParamValue {
					continue
				}
				params = append(params, k+"="+strings.Join(vs, ","))
			}
			slices.Sort(params)
			out = append(out, name+";"+strings.Join(params, ";")+":"+value)
		}
	}
	slices.Sort(out)
	return out
}

// attendees returns the event's attendees, by lower-cased address, with their PARTSTAT
// (NEEDS-ACTION when absent, RFC 5545 section 3.2.12).
func attendees(c *ical.Component) map[string]string {
	out := map[string]string{}
	for _, p := range c.Props.Values(ical.PropAttendee) {
		ps := strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamParticipationStatus)))
		if ps == "" {
			ps = "NEEDS-ACTION"
		}
		out[strings.ToLower(strings.TrimSpace(p.Value))] = ps
	}
	return out
}

// unescapeText undoes iCalendar TEXT escaping (RFC 5545 section 3.3.11).
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
