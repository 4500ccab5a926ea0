package calendar

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
)

// GET (and HEAD) of a calendar collection exports the whole calendar as one VCALENDAR, as
// Radicale and sabre/dav do: the components of every object, each VTIMEZONE once (by TZID),
// X-WR-CALNAME the calendar's display name. The answer is capped like every other
// (bounds.go): a calendar whose export passes the cap answers 507.

// serveExport answers GET or HEAD of the user's calendar p (the hearings calendar or a
// personal one).
func (h *handler) serveExport(w *responseWriter, r *http.Request, user *courtside.User, p davPath) {
	ctx := r.Context()
	var datas [][]byte
	name := "Hearings"
	switch p.kind {
	case resourceHearings:
		objs, err := h.calendars.FindCalendarObjects(ctx, user.ID, time.Time{}, time.Time{}, true)
		if err != nil {
			h.serviceError(w, ctx, "find calendar objects", err)
			return
		}
		for _, o := range objs {
			datas = append(datas, o.Data)
		}
	default:
		if h.avail == nil {
			w.fail(http.StatusNotFound, "")
			return
		}
		c, err := h.avail.FindPersonalCalendar(ctx, p.calendar)
		if err != nil {
			h.serviceError(w, ctx, "find personal calendar", err)
			return
		}
		name = c.DisplayName
		if name == "" {
			name = c.Name
		}
		objs, err := h.avail.FindAvailabilityObjects(ctx, p.calendar)
		if err != nil {
			h.serviceError(w, ctx, "find availability objects", err)
			return
		}
		for _, o := range objs {
			datas = append(datas, o.Data)
		}
	}
	if h.avail != nil {
		settings, err := h.avail.FindCalendarSettings(ctx)
		if err != nil {
			h.serviceError(w, ctx, "find calendar settings", err)
			return
		}
		key := p.calendar
		if p.kind == resourceHearings {
			key = hearingsName
		}
		if s := settings[key].DisplayName; s != "" {
			name = s
		}
	}
	var size int64
	for _, d := range datas {
		size += int64(len(d))
	}
	if !room(w, 0, size) {
		w.raw(http.StatusInsufficientStorage, func() { w.ResponseWriter.WriteHeader(http.StatusInsufficientStorage) })
		return
	}
	body, err := exportCalendar(name, datas)
	if err != nil {
		h.serviceError(w, ctx, "export calendar", err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// exportCalendar joins calendar objects into one VCALENDAR named name.
func exportCalendar(name string, datas [][]byte) ([]byte, error) {
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, DefaultProdID)
	calName := ical.NewProp("X-WR-CALNAME")
	calName.SetText(sanitizeLine(name, 200))
	calName.Params.Del(ical.ParamValue)
	out.Props.Set(calName)
	zones := map[string]bool{}
	for _, d := range datas {
		cal, err := DecodeICal(d)
		if err != nil {
			continue // stored objects were checked when written
		}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				id := c.Props.Get(ical.PropTimezoneID)
				if id == nil || zones[id.Value] {
					continue
				}
				zones[id.Value] = true
			}
			out.Children = append(out.Children, c)
		}
	}
	var buf bytes.Buffer
	if len(out.Children) == 0 {
		// go-ical refuses a calendar without components: write the empty one by hand.
		buf.WriteString("BEGIN:VCALENDAR\r\nPRODID:" + DefaultProdID + "\r\nVERSION:2.0\r\nX-WR-CALNAME:" +
			sanitizeLine(name, 200) + "\r\nEND:VCALENDAR\r\n")
		return buf.Bytes(), nil
	}
	if err := ical.NewEncoder(&buf).Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
