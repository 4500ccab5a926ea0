package calendar

import (
	"net/http"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// timeRange is a calendar-query time range; a zero bound is open.
type timeRange struct {
	start, end time.Time
}

// overlaps reports whether [startsAt, endsAt) overlaps the range, by RFC 4791 section 9.9:
// start < DTEND and DTSTART < end. (caldav.Filter gets the edges wrong: an event exactly
// filling the range does not match there, and a range with only an end is ignored.)
func (tr timeRange) overlaps(startsAt, endsAt time.Time) bool {
	return (tr.end.IsZero() || startsAt.Before(tr.end)) && (tr.start.IsZero() || endsAt.After(tr.start))
}

// filterObjects returns the stored hearing objects whose extent overlaps the range.
func (tr timeRange) filterObjects(objs []*courtside.CalendarObject) []*courtside.CalendarObject {
	if tr.start.IsZero() && tr.end.IsZero() {
		return objs
	}
	out := objs[:0]
	for _, o := range objs {
		if tr.overlaps(o.StartsAt, o.EndsAt) {
			out = append(out, o)
		}
	}
	return out
}

// everyHearingMatches reports whether every hearing object meets the rest of a calendar-query:
// no filter, or a VCALENDAR comp-filter whose only conditions are VEVENT comp-filters without
// time range, property filters or nested filters (every hearing object is a VCALENDAR holding
// one VEVENT), so that caldav.Filter need not decode-walk them.
func everyHearingMatches(q *caldav.CalendarQuery) bool {
	top := q.CompFilter
	if top.Name == "" {
		return true
	}
	if top.Name != ical.CompCalendar || top.IsNotDefined || !top.Start.IsZero() || !top.End.IsZero() ||
		len(top.Props) > 0 {
		return false
	}
	for _, c := range top.Comps {
		if c.Name != ical.CompEvent || c.IsNotDefined || !c.Start.IsZero() || !c.End.IsZero() ||
			len(c.Props) > 0 || len(c.Comps) > 0 {
			return false
		}
	}
	return true
}

// splitTimeRange takes the VEVENT time range out of a calendar-query (a VCALENDAR comp-filter
// with a VEVENT comp-filter in it, the shape every client sends) and returns the rest of the
// query with the range. Our events have no recurrence, so the range can be applied to the
// hearings' own times. A range on the VCALENDAR itself is treated the same way.
func splitTimeRange(q caldav.CalendarQuery) (caldav.CalendarQuery, timeRange) {
	var tr timeRange
	top := q.CompFilter
	if top.Name != ical.CompCalendar {
		return q, tr
	}
	if !top.Start.IsZero() || !top.End.IsZero() {
		tr = timeRange{top.Start, top.End}
		top.Start, top.End = time.Time{}, time.Time{}
	}
	comps := make([]caldav.CompFilter, len(top.Comps))
	copy(comps, top.Comps)
	for i := range comps {
		c := &comps[i]
		if c.Name == ical.CompEvent && !c.IsNotDefined && (!c.Start.IsZero() || !c.End.IsZero()) {
			tr = intersect(tr, timeRange{c.Start, c.End})
			c.Start, c.End = time.Time{}, time.Time{}
		}
	}
	top.Comps = comps
	q.CompFilter = top
	return q, tr
}

// intersect returns the range both a and b cover.
func intersect(a, b timeRange) timeRange {
	out := a
	if !b.start.IsZero() && (out.start.IsZero() || b.start.After(out.start)) {
		out.start = b.start
	}
	if !b.end.IsZero() && (out.end.IsZero() || b.end.Before(out.end)) {
		out.end = b.end
	}
	return out
}

// filterObjects applies the rest of a calendar-query with caldav.Filter. The filter comes from
// the client, so a panic in go-webdav's matching becomes a 400.
func filterObjects(q *caldav.CalendarQuery, cos []caldav.CalendarObject) (out []caldav.CalendarObject, err error) {
	if q.CompFilter.Name == "" {
		return cos, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, webdav.NewHTTPError(http.StatusBadRequest, safeError("Unsupported calendar-query filter."))
		}
	}()
	out, err = caldav.Filter(q, cos)
	if err != nil {
		return nil, webdav.NewHTTPError(http.StatusBadRequest, safeError("Unsupported calendar-query filter."))
	}
	return out, nil
}
