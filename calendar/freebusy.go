package calendar

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
)

// The free-busy-query REPORT (RFC 4791 section 7.10), which go-webdav v0.6.0 lacks. On any of
// the caller's calendars, or their home set, it answers one VFREEBUSY of the caller's busy
// time in the range: the busy blocks of all their personal calendars and the hearings of their
// hearings calendar that are not cancelled. Busy periods that overlap or touch are merged, and
// clipped to the range.

var freeBusyQueryName = xml.Name{Space: caldavNS, Local: "free-busy-query"}

// freeBusyQuery is the body of a free-busy-query REPORT.
type freeBusyQuery struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:caldav free-busy-query"`
	TimeRange *struct {
		Start string `xml:"start,attr"`
		End   string `xml:"end,attr"`
	} `xml:"urn:ietf:params:xml:ns:caldav time-range"`
}

// parseUTC parses a time-range bound: a UTC date-time (RFC 4791 section 9.9).
func parseUTC(s string) (time.Time, bool) {
	t, err := time.Parse("20060102T150405Z", strings.TrimSpace(s))
	return t, err == nil
}

// serveFreeBusy answers a free-busy-query REPORT.
func (h *handler) serveFreeBusy(w *responseWriter, r *http.Request, user *courtside.User, p davPath, body []byte) {
	switch p.kind {
	case resourceHomeSet, resourceHearings, resourcePersonal:
	default:
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "supported-report") })
		return
	}
	var q freeBusyQuery
	if err := xml.Unmarshal(body, &q); err != nil || q.TimeRange == nil {
		w.fail(http.StatusBadRequest, "Bad request: a free-busy-query needs a time-range.")
		return
	}
	start, ok1 := parseUTC(q.TimeRange.Start)
	end, ok2 := parseUTC(q.TimeRange.End)
	if !ok1 || !ok2 || !end.After(start) {
		w.fail(http.StatusBadRequest, "Bad request: the time-range needs UTC start and end, end after start.")
		return
	}
	ctx := r.Context()
	if p.kind == resourcePersonal {
		// The calendar must exist, like any other request on it.
		if _, err := h.backend.getPersonalCalendar(ctx, p.canonical()); err != nil {
			w.fail(http.StatusNotFound, "")
			return
		}
	}
	busy, err := h.busyTime(r, user, start, end)
	if err != nil {
		h.serviceError(w, ctx, "find busy time", err)
		return
	}
	data := renderFreeBusy(busy, start, end, time.Now())
	w.raw(http.StatusOK, func() {
		w.ResponseWriter.Header().Set("Content-Type", ical.MIMEType+"; charset=utf-8")
		w.ResponseWriter.WriteHeader(http.StatusOK)
		w.ResponseWriter.Write(data)
	})
}

// busyTime returns the caller's busy time in [start, end): the busy blocks of their personal
// calendars and the hearings of their hearings calendar that are not cancelled, merged and
// clipped. The free-busy-query REPORT and free-busy by POST to the outbox answer from it.
func (h *handler) busyTime(r *http.Request, user *courtside.User, start, end time.Time) ([]courtside.Interval, error) {
	ctx := r.Context()
	var busy []courtside.Interval
	if h.avail != nil {
		blocks, err := h.avail.FindBusyBlocks(ctx, start, end)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			busy = append(busy, b.Interval)
		}
	}
	hearings, err := h.calendars.FindCalendarHearingsInRange(ctx, user.ID, start, end)
	if err != nil {
		return nil, err
	}
	for _, ch := range hearings {
		if ch.Hearing.Status != courtside.HearingCancelled && ch.Hearing.StartsAt.Before(end) && ch.Hearing.EndsAt.After(start) {
			busy = append(busy, courtside.Interval{Start: ch.Hearing.StartsAt, End: ch.Hearing.EndsAt})
		}
	}
	return mergeIntervals(busy, start, end), nil
}

// mergeIntervals clips the intervals to [start, end), sorts them and merges those that
// overlap or touch.
func mergeIntervals(in []courtside.Interval, start, end time.Time) []courtside.Interval {
	var clipped []courtside.Interval
	for _, i := range in {
		if i.Start.Before(start) {
			i.Start = start
		}
		if i.End.After(end) {
			i.End = end
		}
		if i.End.After(i.Start) {
			clipped = append(clipped, courtside.Interval{Start: i.Start.UTC(), End: i.End.UTC()})
		}
	}
	slices.SortFunc(clipped, func(a, b courtside.Interval) int { return a.Start.Compare(b.Start) })
	var out []courtside.Interval
	for _, i := range clipped {
		if n := len(out); n > 0 && !i.Start.After(out[n-1].End) {
			if i.End.After(out[n-1].End) {
				out[n-1].End = i.End
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// renderFreeBusy renders one VCALENDAR with one VFREEBUSY, a FREEBUSY property per period.
func renderFreeBusy(busy []courtside.Interval, start, end, stamp time.Time) []byte {
	const f = "20060102T150405Z"
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:" + DefaultProdID)
	line("CALSCALE:GREGORIAN")
	line("BEGIN:VFREEBUSY")
	line("DTSTAMP:" + stamp.UTC().Format(f))
	line("DTSTART:" + start.UTC().Format(f))
	line("DTEND:" + end.UTC().Format(f))
	for _, i := range busy {
		line("FREEBUSY;FBTYPE=BUSY:" + i.Start.Format(f) + "/" + i.End.Format(f))
	}
	line("END:VFREEBUSY")
	line("END:VCALENDAR")
	return []byte(b.String())
}
