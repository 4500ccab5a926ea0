package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// The objects of the personal calendars: how a PUT body is checked, and how its busy time and
// its match against a calendar-query time range are worked out.
//
// Decisions (docs/caldav.md, "The availability calendar and other personal calendars"):
//   - an object is one VCALENDAR holding VTIMEZONEs and the VEVENTs or the VTODOs of one UID
//     (a master and its RECURRENCE-ID overrides);
//   - only VEVENTs make their owner busy, and only OPAQUE ones (the default) that are not
//     STATUS:CANCELLED; VTODOs never do (a to-do is not an appointment);
//   - dates (all-day events) and floating times are read in the calendar's X-WR-TIMEZONE when it
//     names a known zone, else in UTC; an unknown TZID is read the same way;
//   - a recurrence is expanded once, when the object is written, from its DTSTART under
//     MaxExpansionSteps (recurrence.go): its occurrences within BusyHorizon (at most
//     MaxBusyInstances) are stored, for busy time and for calendar-query; a bounded rule is
//     followed to its end for the extent. A rule that yields nothing or costs more than the
//     budget is refused, as are FREQ=SECONDLY or MINUTELY and a COUNT above MaxRecurrenceCount.

// MaxExpansionSteps is the budget of one object's recurrence expansion, in steps of the
// iteration (recurrence.go): a period, a candidate day, an occurrence each cost one.
const MaxExpansionSteps = 500_000

// expansionBudget is the time one object's recurrence expansion may take, checked inside the
// iteration beside its steps: a backstop on a machine too loaded to do the steps in time.
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
		case ical.CompEvent, ical.CompToDo, ical.CompJournal:
		default:
			return nil, &objectError{status: http.StatusForbidden, condition: "supported-calendar-component",
				msg: "Only VEVENT, VTODO and VJOURNAL objects are supported."}
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
		return nil, invalidData("A calendar object holds a VEVENT, a VTODO or a VJOURNAL.")
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
	if c.Name == ical.CompJournal && (c.Props.Get(ical.PropDateTimeEnd) != nil || c.Props.Get(ical.PropDuration) != nil) {
		return invalidData("A VJOURNAL has neither DTEND nor DURATION.")
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
		dtstart, err := po.time(c.Props.Get(ical.PropDateTimeStart))
		if err != nil {
			return invalidData("DTSTART is not a valid date or time.")
		}
		if _, err := po.recurrence(c, p.Value, dtstart); err != nil {
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
		return time.Time{}, 0, invalidData("A %s needs a DTSTART.", c.Name)
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

// objectTimes is what a PUT works out of an object's occurrences, in one walk over them under
// the expansion budget, so that no query expands the object again (see parsedObject.occurrences).
type objectTimes struct {
	// busy are the intervals the object makes its owner busy (busyComponent, positive length)
	// among the stored occurrences.
	busy []courtside.Interval
	// stored are the occurrences that start before until (every one when until is zero), at
	// most courtside.MaxBusyInstances, in start order.
	stored []courtside.Interval
	until  time.Time
	// The extent: the first start and the last end of every occurrence, zero for an open side;
	// exact when the object is one occurrence filling it.
	start, end time.Time
	exact      bool
}

// objectError of a recurrence that expands to nothing, or that costs more than the budget.
var (
	errNoOccurrence = &objectError{status: http.StatusBadRequest, condition: "valid-calendar-object-resource",
		msg: "The recurrence rule yields no occurrence."}
	errTooCostly = &objectError{status: http.StatusBadRequest, condition: "max-instances",
		msg: "The recurrence rule costs too much to expand."}
)

// occurrences walks the object's occurrences once: the overrides, the master's recurrence set (RRULE
// expanded under MaxExpansionSteps, and RDATE, less EXDATE and the overridden instances) or
// the master itself. It keeps the occurrences that start within BusyHorizon of the first start
// (at most MaxBusyInstances; until says how far they are complete), and the extent: a bounded
// rule is followed to its end (open past MaxRecurrenceCount occurrences), an unbounded one
// leaves the end open. A rule that yields no occurrence at all, or whose walk runs out of
// steps, is refused (errNoOccurrence, errTooCostly). VTODOs have no occurrences here: their
// extent is open and their match decided by todoMatches. A VJOURNAL's occurrences are those
// of RFC 4791 section 9.9: an instant for a DATE-TIME DTSTART, a day for a DATE, none
// without DTSTART (it matches no time range).
func (po *parsedObject) occurrences() (_ *objectTimes, err error) {
	out := &objectTimes{}
	if po.component != ical.CompEvent && po.component != ical.CompJournal {
		return out, nil
	}
	if po.component == ical.CompJournal && !po.everyComponentHasStart() {
		return out, nil
	}
	defer func() {
		// The rule comes from the client: a panic in the expansion is a bad rule.
		if r := recover(); r != nil {
			err = invalidData("RRULE cannot be expanded.")
		}
	}()
	var all []instance
	widen := func(s, e time.Time) {
		if out.start.IsZero() || s.Before(out.start) {
			out.start = s
		}
		if out.end.IsZero() || e.After(out.end) {
			out.end = e
		}
	}
	overridden := map[int64]bool{}
	for _, o := range po.overrides {
		rid, err := po.time(o.Props.Get(ical.PropRecurrenceID))
		if err != nil {
			return nil, invalidData("RECURRENCE-ID is not a valid date or time.")
		}
		overridden[rid.Unix()] = true
		s, d, err := po.span(o)
		if err != nil {
			return nil, err
		}
		all = append(all, instance{comp: o, start: s, end: s.Add(d)})
		widen(s, s.Add(d))
	}
	m := po.master
	openEnd := false
	beyond := false // an occurrence starts at or after the horizon
	var horizon time.Time
	if m != nil {
		start, d, err := po.span(m)
		if err != nil {
			return nil, err
		}
		horizon = start.Add(courtside.BusyHorizon)
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
		add := func(t time.Time) {
			widen(t, t.Add(d))
			if !excluded[t.Unix()] && !overridden[t.Unix()] {
				all = append(all, instance{comp: m, start: t, end: t.Add(d)})
			}
		}
		rdates := m.Props.Values(ical.PropRecurrenceDates)
		for i := range rdates {
			ts, err := po.times(&rdates[i])
			if err != nil {
				return nil, invalidData("RDATE is not a list of valid dates or times.")
			}
			for _, t := range ts {
				add(t)
			}
		}
		rp := m.Props.Get(ical.PropRecurrenceRule)
		if rp == nil {
			add(start)
			out.exact = len(po.overrides) == 0 && len(rdates) == 0 && len(m.Props.Values(ical.PropExceptionDates)) == 0
		} else {
			rule, err := po.recurrence(m, rp.Value, start)
			if err != nil {
				return nil, err
			}
			bounded := rule.count > 0 || !rule.until.IsZero()
			walk := rule.expand(MaxExpansionSteps, time.Now().Add(expansionBudget))
			for n := 0; ; n++ {
				t, ok, err := walk.next()
				if err != nil {
					if n == 0 {
						return nil, errNoOccurrence
					}
					return nil, errTooCostly
				}
				if !ok {
					if n == 0 {
						return nil, errNoOccurrence
					}
					break
				}
				if n >= courtside.MaxRecurrenceCount {
					openEnd = true // more occurrences than a COUNT may ask for: the end stays open
					break
				}
				if !t.Before(horizon) {
					if !bounded {
						openEnd = true // an unbounded rule: nothing more to learn
						break
					}
					widen(t, t.Add(d)) // past the stored occurrences: the extent only
					beyond = true
					continue
				}
				add(t)
			}
		}
	}
	if openEnd {
		out.end = time.Time{}
	}
	// The stored occurrences: those that start before the horizon, in start order, at most
	// MaxBusyInstances; until is where they stop being complete.
	slices.SortStableFunc(all, func(a, b instance) int { return a.start.Compare(b.start) })
	if n := len(all); n > 0 && !horizon.IsZero() && !all[n-1].start.Before(horizon) {
		beyond = true
	}
	if openEnd || beyond {
		out.until = horizon
	}
	if len(all) > courtside.MaxBusyInstances {
		cut := all[courtside.MaxBusyInstances].start
		if out.until.IsZero() || cut.Before(out.until) {
			out.until = cut
		}
	}
	for _, in := range all {
		if !out.until.IsZero() && !in.start.Before(out.until) {
			break
		}
		out.stored = append(out.stored, courtside.Interval{Start: in.start.UTC(), End: in.end.UTC()})
		if busyComponent(in.comp) && in.end.After(in.start) {
			out.busy = append(out.busy, courtside.Interval{Start: in.start.UTC(), End: in.end.UTC()})
		}
	}
	out.start, out.end = out.start.UTC(), out.end.UTC()
	if out.end.IsZero() || out.start.IsZero() {
		out.exact = false
	}
	return out, nil
}

// everyComponentHasStart reports whether the master and every override have a DTSTART.
// A VJOURNAL without one matches no time range; an object where some component lacks it is
// given no occurrence at all.
func (po *parsedObject) everyComponentHasStart() bool {
	for _, c := range append([]*ical.Component{po.master}, po.overrides...) {
		if c != nil && c.Props.Get(ical.PropDateTimeStart) == nil {
			return false
		}
	}
	return true
}

// recurrence parses the RRULE of component c, whose first occurrence is dtstart.
func (po *parsedObject) recurrence(c *ical.Component, value string, dtstart time.Time) (*recurrence, error) {
	opt, err := parseRule(value)
	if err != nil {
		return nil, err
	}
	if !opt.Until.IsZero() && isDate(c.Props.Get(ical.PropDateTimeStart)) {
		// UNTIL of an all-day rule is a date: through the end of that day.
		opt.Until = time.Date(opt.Until.Year(), opt.Until.Month(), opt.Until.Day(), 23, 59, 59, 0, po.loc)
	}
	return newRecurrence(opt, dtstart)
}

// todoInRange reports whether a VTODO object matches a calendar-query time range by RFC 4791
// section 9.9 (the table of todoMatches), applied to its master or to any override.
func (po *parsedObject) todoInRange(tr timeRange) bool {
	if tr.start.IsZero() && tr.end.IsZero() {
		return true
	}
	for _, c := range append([]*ical.Component{po.master}, po.overrides...) {
		if c != nil && po.todoMatches(c, tr) {
			return true
		}
	}
	return false
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

// ObjectExtent returns the extent of a stored calendar object as a PUT works it out (see
// parsedObject.times): zero bounds are open, and an object that cannot be read is open on
// both sides. storage.AvailabilityService.BackfillAvailabilityExtents takes it for objects stored without one.
func ObjectExtent(data []byte) (start, end time.Time, exact bool) {
	po, err := parseObject(data)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	ot, err := po.occurrences()
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return ot.start, ot.end, ot.exact
}

// ObjectOccurrences returns the stored occurrences of a calendar object as a PUT works them
// out (see parsedObject.occurrences): those that start before until, every one when until is zero.
// ok is false for an object that cannot be read. storage.AvailabilityService.BackfillAvailabilityOccurrences
// takes it for objects stored without them.
func ObjectOccurrences(data []byte) (occurrences []courtside.Interval, until time.Time, ok bool) {
	po, err := parseObject(data)
	if err != nil {
		return nil, time.Time{}, false
	}
	ot, err := po.occurrences()
	if err != nil {
		return nil, time.Time{}, false
	}
	return ot.stored, ot.until, true
}
