package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// The objects of the personal calendars: how a PUT body is checked, and how its busy time and
// its match against a calendar-query time range are worked out.
//
// Decisions (docs/caldav-availability.md):
//   - an object is one VCALENDAR holding VTIMEZONEs and the VEVENTs or the VTODOs of one UID
//     (a master and its RECURRENCE-ID overrides);
//   - only VEVENTs make their owner busy, and only OPAQUE ones (the default) that are not
//     STATUS:CANCELLED; VTODOs never do (a to-do is not an appointment);
//   - dates (all-day events) and floating times are read in the calendar's X-WR-TIMEZONE when it
//     names a known zone, else in UTC; an unknown TZID is read the same way;
//   - a recurrence is expanded from its DTSTART to BusyHorizon later, at most MaxBusyInstances
//     instances, within expansionBudget; FREQ=SECONDLY or MINUTELY and a COUNT above
//     MaxRecurrenceCount are refused.

// expansionBudget is the time one object's recurrence expansion may take.
const expansionBudget = 2 * time.Second

// objectError is why a PUT body is refused: an HTTP status and the CalDAV precondition it
// breaks (RFC 4791 section 5.3.2.1), with a short message.
type objectError struct {
	status    int
	condition string // a CALDAV: precondition element name
	msg       string
}

func (e *objectError) Error() string { return e.msg }

func invalidData(format string, args ...any) *objectError {
	return &objectError{status: http.StatusBadRequest, condition: "valid-calendar-data", msg: fmt.Sprintf(format, args...)}
}

// parsedObject is a checked calendar object.
type parsedObject struct {
	cal       *ical.Calendar
	uid       string
	component string
	master    *ical.Component   // nil when the object holds only overrides
	overrides []*ical.Component // components with a RECURRENCE-ID
	loc       *time.Location    // for dates and floating times
}

// parseObject decodes and checks a PUT body. Its errors are *objectError.
func parseObject(data []byte) (_ *parsedObject, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = invalidData("Malformed iCalendar.")
		}
	}()
	if len(data) > courtside.MaxCalendarObjectBytes {
		return nil, &objectError{status: http.StatusRequestEntityTooLarge, condition: "max-resource-size", msg: "The object is too large."}
	}
	dec := ical.NewDecoder(bytes.NewReader(data))
	cal, err := dec.Decode()
	if err != nil {
		return nil, invalidData("Malformed iCalendar.")
	}
	if _, err := dec.Decode(); !errors.Is(err, io.EOF) {
		return nil, invalidData("A calendar object is exactly one VCALENDAR.")
	}
	if cal.Name != ical.CompCalendar {
		return nil, invalidData("A calendar object is a VCALENDAR.")
	}
	po := &parsedObject{cal: cal, loc: time.UTC}
	if tz := cal.Props.Get("X-WR-TIMEZONE"); tz != nil {
		if loc, err := time.LoadLocation(strings.TrimSpace(tz.Value)); err == nil && tz.Value != "" {
			po.loc = loc
		}
	}
	for _, child := range cal.Children {
		switch child.Name {
		case ical.CompTimezone:
			continue
		case ical.CompEvent, ical.CompToDo:
		default:
			return nil, &objectError{status: http.StatusForbidden, condition: "supported-calendar-component",
				msg: "Only VEVENT and VTODO objects are supported."}
		}
		if po.component == "" {
			po.component = child.Name
		} else if child.Name != po.component {
			return nil, invalidData("A calendar object holds one kind of component.")
		}
		uid := child.Props.Get(ical.PropUID)
		if uid == nil || strings.TrimSpace(uid.Value) == "" {
			return nil, invalidData("Every component needs a UID.")
		}
		if po.uid == "" {
			po.uid = uid.Value
		} else if uid.Value != po.uid {
			return nil, invalidData("A calendar object holds one UID.")
		}
		if child.Props.Get(ical.PropRecurrenceID) != nil {
			po.overrides = append(po.overrides, child)
		} else if po.master != nil {
			return nil, invalidData("A calendar object holds one component without RECURRENCE-ID.")
		} else {
			po.master = child
		}
		if err := po.checkComponent(child); err != nil {
			return nil, err
		}
	}
	if po.component == "" {
		return nil, invalidData("A calendar object holds a VEVENT or a VTODO.")
	}
	if len(po.uid) > 255 {
		return nil, invalidData("A UID must be at most 255 characters.")
	}
	return po, nil
}

// checkComponent checks the times and the recurrence rule of one component.
func (po *parsedObject) checkComponent(c *ical.Component) error {
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDue, ical.PropRecurrenceID,
		ical.PropCompleted, ical.PropCreated} {
		if p := c.Props.Get(name); p != nil {
			if _, err := po.time(p); err != nil {
				return invalidData("%s is not a valid date or time.", name)
			}
		}
	}
	if p := c.Props.Get(ical.PropDuration); p != nil {
		if d, err := p.Duration(); err != nil || d < 0 {
			return invalidData("DURATION is not a valid duration.")
		}
	}
	if c.Name == ical.CompEvent && c.Props.Get(ical.PropDateTimeStart) == nil {
		return invalidData("A VEVENT needs a DTSTART.")
	}
	if c.Props.Get(ical.PropDateTimeEnd) != nil && c.Props.Get(ical.PropDuration) != nil {
		return invalidData("A component has DTEND or DURATION, not both.")
	}
	if len(c.Props.Values(ical.PropRecurrenceRule)) > 1 {
		return invalidData("A component has at most one RRULE.")
	}
	if p := c.Props.Get(ical.PropRecurrenceRule); p != nil {
		if c.Props.Get(ical.PropDateTimeStart) == nil {
			return invalidData("A recurring component needs a DTSTART.")
		}
		if _, err := parseRule(p.Value); err != nil {
			return err
		}
	}
	for _, name := range []string{ical.PropExceptionDates, ical.PropRecurrenceDates} {
		for i := range c.Props.Values(name) {
			if _, err := po.times(&c.Props.Values(name)[i]); err != nil {
				return invalidData("%s is not a list of valid dates or times.", name)
			}
		}
	}
	return nil
}

// parseRule parses an RRULE value and refuses the rules that are too costly to expand.
func parseRule(value string) (*rrule.ROption, error) {
	upper := strings.ToUpper(value)
	for _, part := range strings.Split(upper, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.TrimSpace(k) {
		case "FREQ":
			if v == "SECONDLY" || v == "MINUTELY" {
				return nil, invalidData("FREQ=%s is not supported.", v)
			}
		case "COUNT":
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil || n < 1 || n > courtside.MaxRecurrenceCount {
				return nil, invalidData("COUNT must be between 1 and %d.", courtside.MaxRecurrenceCount)
			}
		}
	}
	opt, err := rrule.StrToROption(value)
	if err != nil {
		return nil, invalidData("RRULE is not a valid recurrence rule.")
	}
	if opt.Freq == rrule.SECONDLY || opt.Freq == rrule.MINUTELY {
		return nil, invalidData("FREQ=SECONDLY and FREQ=MINUTELY are not supported.")
	}
	if opt.Interval < 0 || opt.Interval > 1000 {
		return nil, invalidData("INTERVAL must be between 1 and 1000.")
	}
	return opt, nil
}

// time parses a DATE or DATE-TIME property; dates, floating times and unknown zones are read in
// po.loc.
func (po *parsedObject) time(p *ical.Prop) (time.Time, error) {
	v := strings.TrimSpace(p.Value)
	if i := strings.IndexByte(v, '/'); i >= 0 { // a PERIOD (RDATE;VALUE=PERIOD): its start
		v = v[:i]
	}
	switch {
	case len(v) == 8:
		return time.ParseInLocation("20060102", v, po.loc)
	case len(v) == 16 && strings.HasSuffix(v, "Z"):
		return time.ParseInLocation("20060102T150405Z", v, time.UTC)
	case len(v) == 15:
		loc := po.loc
		if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
			if l, err := time.LoadLocation(tzid); err == nil {
				loc = l
			}
		}
		return time.ParseInLocation("20060102T150405", v, loc)
	}
	return time.Time{}, fmt.Errorf("calendar: bad date or time %q", v)
}

// times parses a comma-separated list of dates or times (EXDATE, RDATE).
func (po *parsedObject) times(p *ical.Prop) ([]time.Time, error) {
	var out []time.Time
	for _, v := range strings.Split(p.Value, ",") {
		q := *p
		q.Value = v
		t, err := po.time(&q)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// isDate reports whether the property holds a DATE rather than a DATE-TIME.
func isDate(p *ical.Prop) bool {
	return p != nil && (strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE") || len(strings.TrimSpace(p.Value)) == 8)
}

// span returns the start and duration of a VEVENT: DTEND or DURATION, else a day for a date
// and nothing for a date-time (RFC 5545 section 3.6.1).
func (po *parsedObject) span(c *ical.Component) (time.Time, time.Duration, error) {
	sp := c.Props.Get(ical.PropDateTimeStart)
	if sp == nil {
		return time.Time{}, 0, invalidData("A VEVENT needs a DTSTART.")
	}
	start, err := po.time(sp)
	if err != nil {
		return time.Time{}, 0, invalidData("DTSTART is not a valid date or time.")
	}
	switch {
	case c.Props.Get(ical.PropDateTimeEnd) != nil:
		end, err := po.time(c.Props.Get(ical.PropDateTimeEnd))
		if err != nil {
			return time.Time{}, 0, invalidData("DTEND is not a valid date or time.")
		}
		if end.Before(start) {
			return time.Time{}, 0, invalidData("DTEND is before DTSTART.")
		}
		return start, end.Sub(start), nil
	case c.Props.Get(ical.PropDuration) != nil:
		d, err := c.Props.Get(ical.PropDuration).Duration()
		if err != nil || d < 0 {
			return time.Time{}, 0, invalidData("DURATION is not a valid duration.")
		}
		return start, d, nil
	case isDate(sp):
		return start, 24 * time.Hour, nil
	}
	return start, 0, nil
}

// busyComponent reports whether a VEVENT makes its owner busy: opaque and not cancelled.
func busyComponent(c *ical.Component) bool {
	if c.Name != ical.CompEvent {
		return false
	}
	if p := c.Props.Get(ical.PropTransparency); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TRANSPARENT") {
		return false
	}
	if p := c.Props.Get(ical.PropStatus); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "CANCELLED") {
		return false
	}
	return true
}

// instance is one occurrence of a VEVENT.
type instance struct {
	comp  *ical.Component
	start time.Time
	end   time.Time
}

// instances returns the occurrences of the object's VEVENTs that start before until, in no
// particular order: the master's expanded recurrence set (RRULE and RDATE, less EXDATE and the
// overridden instances) and the overrides. It stops after max occurrences and fails when the
// expansion takes longer than expansionBudget.
func (po *parsedObject) instances(until time.Time, max int) (_ []instance, err error) {
	if po.component != ical.CompEvent {
		return nil, nil
	}
	defer func() {
		// The rule comes from the client: a panic in the expansion is a bad rule.
		if r := recover(); r != nil {
			err = invalidData("RRULE cannot be expanded.")
		}
	}()
	deadline := time.Now().Add(expansionBudget)
	var out []instance
	overridden := map[int64]bool{}
	for _, o := range po.overrides {
		rid, err := po.time(o.Props.Get(ical.PropRecurrenceID))
		if err != nil {
			return nil, invalidData("RECURRENCE-ID is not a valid date or time.")
		}
		overridden[rid.Unix()] = true
		start, d, err := po.span(o)
		if err != nil {
			return nil, err
		}
		if start.Before(until) && len(out) < max {
			out = append(out, instance{comp: o, start: start, end: start.Add(d)})
		}
	}
	m := po.master
	if m == nil {
		return out, nil
	}
	start, d, err := po.span(m)
	if err != nil {
		return nil, err
	}
	add := func(t time.Time) {
		if !overridden[t.Unix()] && t.Before(until) && len(out) < max {
			out = append(out, instance{comp: m, start: t, end: t.Add(d)})
		}
	}
	excluded := map[int64]bool{}
	for i := range m.Props.Values(ical.PropExceptionDates) {
		ts, err := po.times(&m.Props.Values(ical.PropExceptionDates)[i])
		if err != nil {
			return nil, invalidData("EXDATE is not a list of valid dates or times.")
		}
		for _, t := range ts {
			excluded[t.Unix()] = true
		}
	}
	rp := m.Props.Get(ical.PropRecurrenceRule)
	if rp == nil {
		if !excluded[start.Unix()] {
			add(start)
		}
	} else {
		opt, err := parseRule(rp.Value)
		if err != nil {
			return nil, err
		}
		opt.Dtstart = start
		if !opt.Until.IsZero() && isDate(m.Props.Get(ical.PropDateTimeStart)) {
			// UNTIL of an all-day rule is a date: through the end of that day.
			opt.Until = time.Date(opt.Until.Year(), opt.Until.Month(), opt.Until.Day(), 23, 59, 59, 0, po.loc)
		}
		rule, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, invalidData("RRULE is not a valid recurrence rule.")
		}
		next := rule.Iterator()
		for n := 0; len(out) < max; n++ {
			t, ok := next()
			if !ok || !t.Before(until) {
				break
			}
			if n%64 == 0 && time.Now().After(deadline) {
				return nil, &objectError{status: http.StatusBadRequest, condition: "max-instances",
					msg: "The recurrence takes too long to expand."}
			}
			if !excluded[t.Unix()] {
				add(t)
			}
		}
	}
	for i := range m.Props.Values(ical.PropRecurrenceDates) {
		ts, err := po.times(&m.Props.Values(ical.PropRecurrenceDates)[i])
		if err != nil {
			return nil, invalidData("RDATE is not a list of valid dates or times.")
		}
		for _, t := range ts {
			if !excluded[t.Unix()] {
				add(t)
			}
		}
	}
	return out, nil
}

// busy returns the intervals during which the object makes its owner busy: the opaque,
// not-cancelled VEVENT occurrences of positive length that start before the master's start
// plus BusyHorizon, at most MaxBusyInstances of them.
func (po *parsedObject) busy() ([]courtside.Interval, error) {
	if po.component != ical.CompEvent {
		return nil, nil
	}
	var first time.Time
	if po.master != nil {
		s, _, err := po.span(po.master)
		if err != nil {
			return nil, err
		}
		first = s
	} else {
		for _, o := range po.overrides {
			s, _, err := po.span(o)
			if err != nil {
				return nil, err
			}
			if first.IsZero() || s.Before(first) {
				first = s
			}
		}
	}
	insts, err := po.instances(first.Add(courtside.BusyHorizon), courtside.MaxBusyInstances)
	if err != nil {
		return nil, err
	}
	var out []courtside.Interval
	for _, in := range insts {
		if busyComponent(in.comp) && in.end.After(in.start) {
			out = append(out, courtside.Interval{Start: in.start.UTC(), End: in.end.UTC()})
		}
	}
	return out, nil
}

// matchesRange reports whether the object matches a calendar-query time range by RFC 4791
// section 9.9: a VEVENT when one of its occurrences overlaps it, a VTODO by the table of that
// section applied to its master (or to any override).
func (po *parsedObject) matchesRange(tr timeRange) (bool, error) {
	if tr.start.IsZero() && tr.end.IsZero() {
		return true, nil
	}
	if po.component == ical.CompToDo {
		for _, c := range append([]*ical.Component{po.master}, po.overrides...) {
			if c != nil && po.todoMatches(c, tr) {
				return true, nil
			}
		}
		return false, nil
	}
	until := tr.end
	if until.IsZero() {
		until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	insts, err := po.instances(until, courtside.MaxRecurrenceCount)
	if err != nil {
		return false, err
	}
	for _, in := range insts {
		end := in.end
		if !end.After(in.start) {
			// A zero-length event matches a range that holds its start (RFC 4791 section 9.9).
			if (tr.start.IsZero() || !in.start.Before(tr.start)) && (tr.end.IsZero() || in.start.Before(tr.end)) {
				return true, nil
			}
			continue
		}
		if tr.overlaps(in.start, end) {
			return true, nil
		}
	}
	return false, nil
}

// todoMatches applies the VTODO table of RFC 4791 section 9.9. Open bounds are infinite.
func (po *parsedObject) todoMatches(c *ical.Component, tr timeRange) bool {
	get := func(name string) (time.Time, bool) {
		p := c.Props.Get(name)
		if p == nil {
			return time.Time{}, false
		}
		t, err := po.time(p)
		return t, err == nil
	}
	// start <= t, start < t, end > t, end >= t with open bounds.
	sLE := func(t time.Time) bool { return tr.start.IsZero() || !tr.start.After(t) }
	sLT := func(t time.Time) bool { return tr.start.IsZero() || tr.start.Before(t) }
	eGT := func(t time.Time) bool { return tr.end.IsZero() || tr.end.After(t) }
	eGE := func(t time.Time) bool { return tr.end.IsZero() || !tr.end.Before(t) }
	dtstart, hasStart := get(ical.PropDateTimeStart)
	due, hasDue := get(ical.PropDue)
	completed, hasCompleted := get(ical.PropCompleted)
	created, hasCreated := get(ical.PropCreated)
	var dur time.Duration
	hasDur := false
	if p := c.Props.Get(ical.PropDuration); p != nil {
		if d, err := p.Duration(); err == nil {
			dur, hasDur = d, true
		}
	}
	switch {
	case hasStart && hasDur:
		end := dtstart.Add(dur)
		return sLE(end) && (eGT(dtstart) || eGE(end))
	case hasStart && hasDue:
		return (sLT(due) || sLE(dtstart)) && (eGT(dtstart) || eGE(due))
	case hasStart:
		return sLE(dtstart) && eGT(dtstart)
	case hasDue:
		return sLT(due) && eGE(due)
	case hasCompleted && hasCreated:
		return (sLE(created) || sLE(completed)) && (eGE(created) || eGE(completed))
	case hasCompleted:
		return sLE(completed) && eGE(completed)
	case hasCreated:
		return eGT(created)
	}
	return true
}

// extent returns the time every occurrence of the object falls in: the first start and the
// last end, zero for an open side (VTODOs, whose match RFC 4791 ties to several properties,
// and recurrences without an end), and exact when the object is one occurrence filling it (a
// VEVENT without recurrence), so that its match can be decided without decoding it. It is a
// bound, never the match itself: objects whose extent meets a range are decided by
// matchesRange unless exact. What cannot be worked out (an expansion over its time budget)
// leaves the extent open rather than refusing the object.
func (po *parsedObject) extent() (start, end time.Time, exact bool) {
	start, end, exact, err := po.extentOrError()
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return start, end, exact
}

func (po *parsedObject) extentOrError() (start, end time.Time, exact bool, err error) {
	if po.component != ical.CompEvent {
		return time.Time{}, time.Time{}, false, nil
	}
	widen := func(s time.Time, d time.Duration) {
		if start.IsZero() || s.Before(start) {
			start = s
		}
		if e := s.Add(d); end.IsZero() || e.After(end) {
			end = e
		}
	}
	for _, o := range po.overrides {
		s, d, err := po.span(o)
		if err != nil {
			return time.Time{}, time.Time{}, false, err
		}
		widen(s, d)
	}
	m := po.master
	if m == nil {
		return start.UTC(), end.UTC(), false, nil
	}
	s, d, err := po.span(m)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	widen(s, d)
	rdates := m.Props.Values(ical.PropRecurrenceDates)
	for i := range rdates {
		ts, err := po.times(&rdates[i])
		if err != nil {
			return time.Time{}, time.Time{}, false, invalidData("RDATE is not a list of valid dates or times.")
		}
		for _, t := range ts {
			widen(t, d)
		}
	}
	rp := m.Props.Get(ical.PropRecurrenceRule)
	if rp == nil {
		exact = len(po.overrides) == 0 && len(rdates) == 0 && len(m.Props.Values(ical.PropExceptionDates)) == 0
		return start.UTC(), end.UTC(), exact, nil
	}
	opt, err := parseRule(rp.Value)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	if opt.Count == 0 && opt.Until.IsZero() {
		return start.UTC(), time.Time{}, false, nil // no end
	}
	// A bounded rule: its occurrences, as matchesRange expands them. More than it would look
	// at leaves the end open.
	insts, err := po.instances(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), courtside.MaxRecurrenceCount+1)
	if err != nil {
		return time.Time{}, time.Time{}, false, err
	}
	if len(insts) > courtside.MaxRecurrenceCount {
		return start.UTC(), time.Time{}, false, nil
	}
	for _, in := range insts {
		widen(in.start, in.end.Sub(in.start))
	}
	return start.UTC(), end.UTC(), false, nil
}

// ObjectExtent returns the extent of a stored calendar object as a PUT works it out (see
// parsedObject.extent): zero bounds are open, and an object that cannot be read is open on
// both sides. storage.DB.BackfillAvailabilityExtents takes it for objects stored without one.
func ObjectExtent(data []byte) (start, end time.Time, exact bool) {
	po, err := parseObject(data)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return po.extent()
}
