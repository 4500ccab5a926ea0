package calendar

import (
	"bufio"
	"encoding/xml"
	"net/http"
	"slices"
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

// serveHearingsQuery answers a calendar-query REPORT on the user's hearings calendar from the
// objects the calendar projection stored, when the query has the shape simpleQueryPlan reads:
// the time range is applied in SQL to the objects' extents (a hearing is one event filling its
// extent, so the extent decides) and the stored bytes are written as they are. It returns
// false, having written nothing, when go-webdav should answer it (QueryCalendarObjects).
func (h *handler) serveHearingsQuery(w *responseWriter, r *http.Request, user *courtside.User, body []byte) bool {
	ranges, component, props, ok := simpleQueryPlan(body)
	if !ok {
		return false
	}
	tr, _ := prefilterRange(ranges) // the VEVENT's range, already within the VCALENDAR's
	var objs []*courtside.CalendarObject
	if component == "" || component == ical.CompEvent { // a hearing object holds one VEVENT, never a VTODO
		var err error
		objs, err = h.calendars.FindCalendarObjects(r.Context(), user.ID, tr.start, tr.end, slices.Contains(props, calendarDataName))
		if err != nil {
			h.serviceError(w, r.Context(), "find calendar objects", err)
			return true
		}
		objs = tr.filterObjects(objs)
	}
	writeHearingObjects(w, user, objs, props)
	return true
}

// serveHearingsMultiget answers a calendar-multiget REPORT on the user's hearings calendar with
// one read of the named stored objects, when every href names a hearing object of that
// calendar and the properties are plain; it returns false, having written nothing, when
// go-webdav should answer it. Hearings not in the calendar answer 404, as go-webdav's do.
func (h *handler) serveHearingsMultiget(w *responseWriter, r *http.Request, user *courtside.User, body []byte) bool {
	props, paths, targets, ok := parsePlainMultiget(body)
	if !ok {
		return false
	}
	ids := make([]int64, len(targets))
	for i, hp := range targets {
		if hp.kind != resourceHearing || hp.username != user.Username {
			return false
		}
		ids[i] = hp.hearingID
	}
	objs, err := h.calendars.FindCalendarObjectsByID(r.Context(), user.ID, ids, slices.Contains(props, calendarDataName))
	if err != nil {
		h.serviceError(w, r.Context(), "find calendar objects", err)
		return true
	}
	byID := make(map[int64]*courtside.CalendarObject, len(objs))
	for _, o := range objs {
		byID[o.HearingID] = o
	}
	base, principal := HearingsPath(user.Username), PrincipalPath(user.Username)
	writeMultistatusFast(w, &multistatus{}, func(b *bufio.Writer) {
		for i, id := range ids {
			if o := byID[id]; o != nil {
				writeStoredObject(b, base, listed(o), props, principal)
				continue
			}
			b.WriteString("<response><href>")
			writeEscapedString(b, paths[i])
			b.WriteString("</href><status>" + statusNotFound + "</status></response>")
		}
	})
	return true
}

// writeHearingObjects writes a 207 listing stored hearing objects with the requested
// properties, as the stored-object listings of personal calendars do (writeStoredObject).
func writeHearingObjects(w http.ResponseWriter, user *courtside.User, objs []*courtside.CalendarObject, props []xml.Name) {
	base, principal := HearingsPath(user.Username), PrincipalPath(user.Username)
	writeMultistatusFast(w, &multistatus{}, func(b *bufio.Writer) {
		for _, o := range objs {
			writeStoredObject(b, base, listed(o), props, principal)
		}
	})
}

// listed gives a stored hearing object the shape the stored-object listings write: named
// hearing-<id>.ics in its calendar.
func listed(o *courtside.CalendarObject) *courtside.AvailabilityObject {
	return &courtside.AvailabilityObject{Calendar: hearingsName, Name: hearingFile(o.HearingID), ETag: o.ETag,
		Size: o.Size, UpdatedAt: o.ModifiedAt, Data: o.Data}
}
