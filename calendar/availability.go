package calendar

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"
)

// The personal calendars: availability, which every user has, and those made with MKCALENDAR.
// They are read-write: PUT (201 on create, 204 on overwrite, ETag on both, If-Match and
// If-None-Match answered with 412), DELETE (If-Match), MKCALENDAR. Reads go through go-webdav
// with the backend methods below; their objects are stored as go-ical encodes them, which is
// what GET and REPORT serve, so the ETag a PUT answers is the one GET serves.

// personalCalendar describes a personal calendar to go-webdav.
func personalCalendar(u *courtside.User, c *courtside.PersonalCalendar) caldav.Calendar {
	name := c.DisplayName
	if name == "" {
		name = c.Name
	}
	desc := "Your own calendar: its events are busy time for Courtside's scheduling."
	components := c.Components
	if len(components) == 0 {
		components = courtside.CalendarComponents
	}
	return caldav.Calendar{
		Path:                  PersonalPath(u.Username, c.Name),
		Name:                  name,
		Description:           desc,
		MaxResourceSize:       courtside.MaxCalendarObjectBytes,
		SupportedComponentSet: append([]string(nil), components...),
	}
}

// personalCalendars lists the user's personal calendars.
func (b *backend) personalCalendars(ctx context.Context, u *courtside.User) ([]caldav.Calendar, error) {
	if b.avail == nil {
		return nil, nil
	}
	cals, err := b.avail.FindPersonalCalendars(ctx)
	if err != nil {
		return nil, davError(ctx, b.logger, "find personal calendars", err)
	}
	out := make([]caldav.Calendar, 0, len(cals))
	for _, c := range cals {
		out = append(out, personalCalendar(u, c))
	}
	return out, nil
}

// getPersonalCalendar returns one of the user's personal calendars.
func (b *backend) getPersonalCalendar(ctx context.Context, p string) (*caldav.Calendar, error) {
	u, dp, err := b.own(ctx, p, resourcePersonal)
	if err != nil {
		return nil, err
	}
	if b.avail == nil {
		return nil, errNotFound
	}
	c, err := b.avail.FindPersonalCalendar(ctx, dp.calendar)
	if err != nil {
		return nil, davError(ctx, b.logger, "find personal calendar", err)
	}
	cals, err := b.withSettings(ctx, []caldav.Calendar{personalCalendar(u, c)})
	if err != nil {
		return nil, err
	}
	return &cals[0], nil
}

// personalObject turns a stored object into what go-webdav serves.
func personalObject(u *courtside.User, o *courtside.AvailabilityObject) (*caldav.CalendarObject, error) {
	cal, err := DecodeICal(o.Data)
	if err != nil {
		return nil, err
	}
	return &caldav.CalendarObject{
		Path:          PersonalPath(u.Username, o.Calendar) + o.Name,
		ModTime:       o.UpdatedAt,
		ContentLength: int64(len(o.Data)),
		ETag:          o.ETag,
		Data:          cal,
	}, nil
}

// getPersonalObject returns one object of a personal calendar.
func (b *backend) getPersonalObject(ctx context.Context, p string) (*caldav.CalendarObject, error) {
	u, dp, err := b.own(ctx, p, resourcePersonalObject)
	if err != nil {
		return nil, err
	}
	if b.avail == nil {
		return nil, errNotFound
	}
	o, err := b.avail.FindAvailabilityObject(ctx, dp.calendar, dp.object)
	if err != nil {
		return nil, davError(ctx, b.logger, "find availability object", err)
	}
	co, err := personalObject(u, o)
	if err != nil {
		return nil, davError(ctx, b.logger, "decode availability object", err)
	}
	return co, nil
}

// queryPersonal returns the objects of a personal calendar that match query (all for nil).
// Time ranges on VEVENT and VTODO comp-filters are applied here, by RFC 4791 section 9.9 with
// recurrences expanded, to the objects whose stored extent meets them (personalMatches); the
// rest of the filter goes to caldav.Filter. A listing for a PROPFIND that asks for no
// calendar-data (withoutData) reads no object data.
func (b *backend) queryPersonal(ctx context.Context, p string, query *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	u, dp, err := b.own(ctx, p, resourcePersonal)
	if err != nil {
		return nil, err
	}
	if b.avail == nil {
		return nil, errNotFound
	}
	var rest caldav.CalendarQuery
	ranges := map[string]timeRange{}
	if query != nil {
		rest, ranges = splitComponentRanges(*query)
	}
	if query == nil && dataNotNeeded(ctx) {
		// A listing that asks for no calendar-data: names, ETags and sizes only.
		heads, err := b.avail.FindAvailabilityObjectHeads(ctx, dp.calendar)
		if err != nil {
			return nil, davError(ctx, b.logger, "find availability objects", err)
		}
		out := make([]caldav.CalendarObject, 0, len(heads))
		for _, o := range heads {
			out = append(out, caldav.CalendarObject{Path: PersonalPath(u.Username, o.Calendar) + o.Name,
				ModTime: o.UpdatedAt, ContentLength: o.Size, ETag: o.ETag})
		}
		return out, nil
	}
	objs, parsed, err := b.personalMatches(ctx, dp.calendar, ranges)
	if err != nil {
		return nil, davError(ctx, b.logger, "find availability objects", err)
	}
	out := make([]caldav.CalendarObject, 0, len(objs))
	for _, o := range objs {
		co := &caldav.CalendarObject{Path: PersonalPath(u.Username, o.Calendar) + o.Name, ModTime: o.UpdatedAt,
			ContentLength: int64(len(o.Data)), ETag: o.ETag}
		if po := parsed[o.Name]; po != nil {
			co.Data = po.cal // decoded once already
		} else if co, err = personalObject(u, o); err != nil {
			return nil, davError(ctx, b.logger, "decode availability object", err)
		}
		out = append(out, *co)
	}
	return filterObjects(&rest, out)
}

// splitComponentRanges takes the time ranges out of a calendar-query: one for VEVENT, one for
// VTODO (each intersected with a range on the VCALENDAR itself), and returns the rest.
func splitComponentRanges(q caldav.CalendarQuery) (caldav.CalendarQuery, map[string]timeRange) {
	ranges := map[string]timeRange{}
	top := q.CompFilter
	if top.Name != ical.CompCalendar {
		return q, ranges
	}
	var outer timeRange
	if !top.Start.IsZero() || !top.End.IsZero() {
		outer = timeRange{top.Start, top.End}
		ranges[ical.CompCalendar] = outer
	}
	top.Start, top.End = time.Time{}, time.Time{}
	comps := make([]caldav.CompFilter, len(top.Comps))
	copy(comps, top.Comps)
	for i := range comps {
		c := &comps[i]
		if (c.Name == ical.CompEvent || c.Name == ical.CompToDo || c.Name == ical.CompJournal) && !c.IsNotDefined && (!c.Start.IsZero() || !c.End.IsZero()) {
			ranges[c.Name] = intersect(outer, timeRange{c.Start, c.End})
			c.Start, c.End = time.Time{}, time.Time{}
		}
	}
	top.Comps = comps
	q.CompFilter = top
	return q, ranges
}

// writeCalDAVError writes status with a DAV:error body naming a CALDAV: precondition.
func writeCalDAVError(w http.ResponseWriter, status int, condition string) {
	writeCalDAVErrorMessage(w, status, condition, "")
}

// messageNS is the namespace of the short human-readable message a DAV:error body may carry
// beside its precondition (RFC 4918 section 16 lets an error hold more elements).
const messageNS = "https://courtside/ns/"

// writeCalDAVErrorMessage writes status with a DAV:error body naming a CALDAV: precondition
// and, when msg is not "", a message saying why.
func writeCalDAVErrorMessage(w http.ResponseWriter, status int, condition, msg string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(status)
	body := xml.Header + `<D:error xmlns:D="DAV:" xmlns:C="` + caldavNS + `"><C:` + condition + `/>`
	if msg != "" {
		body += `<message xmlns="` + messageNS + `">` + escapeText(msg) + `</message>`
	}
	w.Write([]byte(body + "</D:error>\n"))
}

// unquoteETag returns the entity tag of an If-Match value ("*" stays), or ok false for a
// malformed or weak one (a weak tag never matches a strong comparison).
func unquoteETag(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return v, true
	}
	if strings.Contains(v, ",") {
		// A list: the first tag decides; clients send one.
		v = strings.TrimSpace(strings.SplitN(v, ",", 2)[0])
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// readICalBody reads and checks the body of a PUT: its media type, its size and that it is a
// calendar object. It writes the error response and returns nil when it cannot.
func (h *handler) readICalBody(w *responseWriter, r *http.Request) (*parsedObject, []byte, string) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		t, _, err := mime.ParseMediaType(ct)
		if err != nil || t != ical.MIMEType {
			w.raw(http.StatusUnsupportedMediaType, func() {
				writeCalDAVError(w.ResponseWriter, http.StatusUnsupportedMediaType, "supported-calendar-data")
			})
			return nil, nil, ""
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, courtside.MaxCalendarObjectBytes+1))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest) // 413 when the handler's cap was hit
		return nil, nil, ""
	}
	if len(body) > courtside.MaxCalendarObjectBytes {
		w.raw(http.StatusRequestEntityTooLarge, func() {
			writeCalDAVError(w.ResponseWriter, http.StatusRequestEntityTooLarge, "max-resource-size")
		})
		return nil, nil, ""
	}
	po, err := parseObject(body)
	if err != nil {
		oe, _ := err.(*objectError)
		if oe == nil {
			oe = invalidData("Malformed iCalendar.")
		}
		w.raw(oe.status, func() { writeCalDAVErrorMessage(w.ResponseWriter, oe.status, oe.condition, oe.msg) })
		return nil, nil, ""
	}
	encoded, etag, err := EncodeICal(po.cal)
	if err != nil {
		w.raw(http.StatusBadRequest, func() { writeCalDAVError(w.ResponseWriter, http.StatusBadRequest, "valid-calendar-data") })
		return nil, nil, ""
	}
	// What is stored is what GET serves: parse the encoding again, so that the busy time is
	// that of the stored bytes.
	if po, err = parseObject(encoded); err != nil {
		w.raw(http.StatusBadRequest, func() { writeCalDAVError(w.ResponseWriter, http.StatusBadRequest, "valid-calendar-data") })
		return nil, nil, ""
	}
	return po, encoded, etag
}

// servePut answers a PUT of an object of a personal calendar.
func (h *handler) servePut(w *responseWriter, r *http.Request, user *courtside.User, p davPath) {
	if h.avail == nil {
		w.fail(http.StatusNotFound, "")
		return
	}
	var cond courtside.PutCondition
	if v := r.Header.Get("If-Match"); v != "" {
		tag, ok := unquoteETag(v)
		if !ok {
			w.fail(http.StatusPreconditionFailed, "")
			return
		}
		cond.IfMatch = tag
	}
	if v := strings.TrimSpace(r.Header.Get("If-None-Match")); v != "" {
		if v != "*" {
			// A tag list on a PUT: the object must not have one of those tags. Only "*" is
			// used by calendar clients; a list is checked after reading the current ETag.
			cur, err := h.avail.FindAvailabilityObject(r.Context(), p.calendar, p.object)
			if err == nil && noneMatch(v, `"`+cur.ETag+`"`) {
				w.fail(http.StatusPreconditionFailed, "")
				return
			}
		} else {
			cond.IfNoneMatch = true
		}
	}
	po, data, etag := h.readICalBody(w, r)
	if po == nil {
		return
	}
	// The occurrences are worked out once, here, under the expansion budget: a rule that
	// yields nothing or costs too much is refused before anything is stored.
	ot, err := po.occurrences()
	if err != nil {
		oe, _ := err.(*objectError)
		if oe == nil {
			oe = invalidData("Malformed iCalendar.")
		}
		w.raw(oe.status, func() { writeCalDAVErrorMessage(w.ResponseWriter, oe.status, oe.condition, oe.msg) })
		return
	}
	obj := &courtside.AvailabilityObject{Calendar: p.calendar, Name: p.object, UID: po.uid, Component: po.component,
		ETag: etag, Data: data, Busy: ot.busy, ExtentStart: ot.start, ExtentEnd: ot.end, ExtentExact: ot.exact,
		Occurrences: ot.stored, OccurrencesUntil: ot.until, OccurrencesKnown: true}
	if c, ok := h.readAttendeeCopy(po, user); ok {
		if !h.answerAttendeeCopy(w, r, p, c) {
			return
		}
		// The booking, not the copy, is what keeps the interpreter from other offers.
		obj.ScheduleTag, obj.Busy = c.tag, nil
	}
	created, err := h.avail.PutAvailabilityObject(r.Context(), obj, cond)
	if err != nil {
		h.writeAvailabilityError(w, r, "put availability object", err)
		return
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	if obj.ScheduleTag != "" {
		w.Header().Set("Schedule-Tag", `"`+obj.ScheduleTag+`"`)
	}
	if created {
		w.Header().Set("Location", PersonalPath(p.username, p.calendar)+p.object)
		w.raw(http.StatusCreated, func() { w.ResponseWriter.WriteHeader(http.StatusCreated) })
		return
	}
	w.raw(http.StatusNoContent, func() { w.ResponseWriter.WriteHeader(http.StatusNoContent) })
}

// writeAvailabilityError answers an error of the availability service: 412 for a failed
// precondition, 409 with CALDAV:no-uid-conflict for a UID clash, 403 with a precondition for
// a calendar that is full, the mapped status otherwise.
func (h *handler) writeAvailabilityError(w *responseWriter, r *http.Request, op string, err error) {
	code, field := courtside.ErrorCode(err), courtside.ErrorField(err)
	switch {
	case code == courtside.ECONFLICT && field == courtside.FieldPrecondition:
		w.fail(http.StatusPreconditionFailed, "")
	case code == courtside.ECONFLICT && field == courtside.FieldUID:
		w.raw(http.StatusConflict, func() { writeCalDAVError(w.ResponseWriter, http.StatusConflict, "no-uid-conflict") })
	case code == courtside.EINVALID && field == courtside.FieldLimit:
		w.raw(http.StatusForbidden, func() { writeCalDAVError(w.ResponseWriter, http.StatusForbidden, "max-resource-size") })
	case code == courtside.EINVALID && field == courtside.FieldComponent:
		w.raw(http.StatusForbidden, func() {
			writeCalDAVErrorMessage(w.ResponseWriter, http.StatusForbidden, "supported-calendar-component", courtside.ErrorMessage(err))
		})
	default:
		h.serviceError(w, r.Context(), op, err)
	}
}

// serveDelete answers a DELETE of an object of a personal calendar.
func (h *handler) serveDelete(w *responseWriter, r *http.Request, p davPath) {
	if h.avail == nil {
		w.fail(http.StatusNotFound, "")
		return
	}
	ifMatch := ""
	if v := r.Header.Get("If-Match"); v != "" {
		tag, ok := unquoteETag(v)
		if !ok {
			w.fail(http.StatusPreconditionFailed, "")
			return
		}
		ifMatch = tag
	}
	if err := h.avail.DeleteAvailabilityObject(r.Context(), p.calendar, p.object, ifMatch); err != nil {
		h.writeAvailabilityError(w, r, "delete availability object", err)
		return
	}
	w.raw(http.StatusNoContent, func() { w.ResponseWriter.WriteHeader(http.StatusNoContent) })
}

// serveDeleteCalendar answers a DELETE of a personal calendar collection: 204, its objects,
// their change log and its settings gone in one transaction, so that MKCALENDAR of the name
// works again and makes a calendar with a new sync token; 404 when there is none; 403 for
// the availability calendar, which every user keeps (its objects can be deleted one by one).
func (h *handler) serveDeleteCalendar(w *responseWriter, r *http.Request, p davPath) {
	if h.avail == nil {
		w.fail(http.StatusNotFound, "")
		return
	}
	if err := h.avail.DeletePersonalCalendar(r.Context(), p.calendar); err != nil {
		if courtside.ErrorCode(err) == courtside.EFORBIDDEN {
			w.fail(http.StatusForbidden, "Forbidden: "+courtside.ErrorMessage(err))
			return
		}
		h.serviceError(w, r.Context(), "delete personal calendar", err)
		return
	}
	w.raw(http.StatusNoContent, func() { w.ResponseWriter.WriteHeader(http.StatusNoContent) })
}

// mkcalendar is the body of a MKCALENDAR (RFC 4791 section 5.3.1): the display name, the
// description, Apple's colour and the supported components are kept; other properties
// (calendar-timezone, resourcetype, ...) are ignored, as most servers do.
type mkcalendar struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav mkcalendar"`
	Set     []struct {
		Prop struct {
			DisplayName string  `xml:"DAV: displayname"`
			Description *string `xml:"urn:ietf:params:xml:ns:caldav calendar-description"`
			Color       *string `xml:"http://apple.com/ns/ical/ calendar-color"`
			Components  *struct {
				Comps []struct {
					Name string `xml:"name,attr"`
				} `xml:"urn:ietf:params:xml:ns:caldav comp"`
			} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: set"`
}

// serveMkcalendar answers MKCALENDAR: 201 for a new personal calendar in the caller's home
// set, 409 when it exists (the hearings calendar included), 403 anywhere else, 403 with
// CALDAV:supported-calendar-component for a component set a personal calendar cannot take.
func (h *handler) serveMkcalendar(w *responseWriter, r *http.Request, p davPath) {
	switch {
	case p.kind == resourceHearings:
		w.fail(http.StatusConflict, "Conflict: that calendar exists.")
		return
	case p.kind != resourcePersonal || h.avail == nil:
		w.raw(http.StatusForbidden, func() {
			writeCalDAVError(w.ResponseWriter, http.StatusForbidden, "calendar-collection-location-ok")
		})
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req mkcalendar
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &req); err != nil {
			w.fail(http.StatusBadRequest, "")
			return
		}
	}
	nc := courtside.NewPersonalCalendar{Name: p.calendar}
	for _, s := range req.Set {
		if s.Prop.DisplayName != "" {
			nc.DisplayName = sanitizeLine(s.Prop.DisplayName, 200)
		}
		if s.Prop.Description != nil {
			nc.Description = strings.TrimSpace(*s.Prop.Description)
		}
		if s.Prop.Color != nil {
			nc.Color = strings.TrimSpace(*s.Prop.Color)
		}
		if s.Prop.Components != nil {
			nc.Components = nc.Components[:0]
			for _, c := range s.Prop.Components.Comps {
				nc.Components = append(nc.Components, c.Name)
			}
			if len(nc.Components) == 0 {
				w.raw(http.StatusForbidden, func() {
					writeCalDAVErrorMessage(w.ResponseWriter, http.StatusForbidden, "supported-calendar-component",
						"A calendar takes at least one of VEVENT, VTODO and VJOURNAL.")
				})
				return
			}
		}
	}
	if _, err := h.avail.CreatePersonalCalendar(r.Context(), nc); err != nil {
		code, field := courtside.ErrorCode(err), courtside.ErrorField(err)
		switch {
		case code == courtside.EINVALID && field == courtside.FieldLimit:
			w.fail(http.StatusForbidden, "Forbidden: "+courtside.ErrorMessage(err))
		case code == courtside.EINVALID && field == "components":
			w.raw(http.StatusForbidden, func() {
				writeCalDAVErrorMessage(w.ResponseWriter, http.StatusForbidden, "supported-calendar-component", courtside.ErrorMessage(err))
			})
		default:
			h.serviceError(w, r.Context(), "create personal calendar", err)
		}
		return
	}
	w.Header().Set("Location", PersonalPath(p.username, p.calendar))
	w.raw(http.StatusCreated, func() { w.ResponseWriter.WriteHeader(http.StatusCreated) })
}

// personalSyncToken is the sync token (and CS:getctag) of a personal calendar at version:
// https://courtside/sync/{userID}/{calendar}/{version}, with the calendar's incarnation
// before the version ({calendar}/{incarnation}/{version}) for a calendar MKCALENDAR made, so
// that a token of a deleted calendar is refused by one made again under its name.
func personalSyncToken(userID int64, c *courtside.PersonalCalendar, version int64) string {
	t := syncTokenPrefix + strconv.FormatInt(userID, 10) + "/" + c.Name + "/"
	if c.Incarnation != "" {
		t += c.Incarnation + "/"
	}
	return t + strconv.FormatInt(version, 10)
}

// parsePersonalSyncToken returns the version of a sync token of the user's calendar c.
func parsePersonalSyncToken(token string, userID int64, c *courtside.PersonalCalendar) (int64, bool) {
	prefix := syncTokenPrefix + strconv.FormatInt(userID, 10) + "/" + c.Name + "/"
	if c.Incarnation != "" {
		prefix += c.Incarnation + "/"
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), prefix)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || v < 0 || strconv.FormatInt(v, 10) != rest {
		return 0, false
	}
	return v, true
}

// servePersonalSync answers a sync-collection REPORT on a personal calendar, like
// serveSyncCollection does for the hearings calendar: every object on an empty token, else
// exactly the objects changed since it, deleted ones as 404 responses.
func (h *handler) servePersonalSync(w *responseWriter, r *http.Request, user *courtside.User, p davPath, body []byte) {
	if h.avail == nil {
		w.fail(http.StatusNotFound, "")
		return
	}
	req, max, props, ok := parseSyncRequest(w, r, body)
	if !ok {
		return
	}
	ctx := r.Context()
	cal, err := h.avail.FindPersonalCalendar(ctx, p.calendar)
	if err != nil {
		h.serviceError(w, ctx, "find personal calendar", err)
		return
	}
	var since int64
	if strings.TrimSpace(req.SyncToken) != "" {
		v, ok := parsePersonalSyncToken(req.SyncToken, user.ID, cal)
		if !ok {
			w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "valid-sync-token") })
			return
		}
		since = v
	}
	changes, version, err := h.avail.AvailabilityChanges(ctx, p.calendar, since)
	if err != nil {
		h.serviceError(w, ctx, "availability changes", err)
		return
	}
	if since > version {
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "valid-sync-token") })
		return
	}
	initial := strings.TrimSpace(req.SyncToken) == ""
	// Only the changed objects are read: on an empty token, those that exist; else those the
	// changes name, after the limit.
	current := map[string]*courtside.AvailabilityObject{}
	lookup := func(changes []courtside.AvailabilityChange) error {
		var names []string
		for _, c := range changes {
			if !c.Deleted {
				names = append(names, c.Name)
			}
		}
		if len(names) == 0 {
			return nil
		}
		objs, err := h.avail.FindAvailabilityObjectsNamed(ctx, p.calendar, names)
		if err != nil {
			return err
		}
		for _, o := range objs {
			current[o.Name] = o
		}
		return nil
	}
	if initial {
		if err := lookup(changes); err != nil {
			h.serviceError(w, ctx, "find availability objects", err)
			return
		}
		// Every object there is; deletions mean nothing to a client that starts over.
		kept := changes[:0]
		for _, c := range changes {
			if current[c.Name] != nil {
				kept = append(kept, c)
			}
		}
		changes = kept
	}
	truncated := max > 0 && len(changes) > max
	if truncated {
		if initial {
			w.raw(http.StatusForbidden, func() {
				writeDAVError(w.ResponseWriter, http.StatusForbidden, "number-of-matches-within-limits")
			})
			return
		}
		changes = changes[:max]
		version = changes[max-1].Version
	}
	if !initial {
		if err := lookup(changes); err != nil {
			h.serviceError(w, ctx, "find availability objects", err)
			return
		}
	}
	var ms multistatus
	base := PersonalPath(user.Username, p.calendar)
	for _, c := range changes {
		o := current[c.Name]
		if c.Deleted || o == nil {
			ms.Responses = append(ms.Responses, response{Href: base + c.Name, Status: statusLine(http.StatusNotFound)})
			continue
		}
		ms.Responses = append(ms.Responses, storedObjectResponse(base+c.Name, o, props, PrincipalPath(user.Username)))
	}
	if truncated {
		ms.Responses = append(ms.Responses, response{Href: PersonalPath(user.Username, p.calendar),
			Status: statusLine(http.StatusInsufficientStorage),
			Error:  &rawXML{Inner: `<number-of-matches-within-limits xmlns="DAV:"></number-of-matches-within-limits>`}})
	}
	ms.SyncToken = personalSyncToken(user.ID, cal, version)
	writeMultistatus(w, &ms)
}

// withSettings applies the display names the user set (PROPPATCH) to cals.
func (b *backend) withSettings(ctx context.Context, cals []caldav.Calendar) ([]caldav.Calendar, error) {
	if b.avail == nil {
		return cals, nil
	}
	settings, err := b.avail.FindCalendarSettings(ctx)
	if err != nil {
		return nil, davError(ctx, b.logger, "find calendar settings", err)
	}
	for i := range cals {
		p := parsePath(cals[i].Path)
		name := p.calendar
		if p.kind == resourceHearings {
			name = hearingsName
		}
		if s, ok := settings[name]; ok && s.DisplayName != "" {
			cals[i].Name = s.DisplayName
		}
		if s, ok := settings[name]; ok && s.Description != "" {
			cals[i].Description = s.Description
		}
	}
	return cals, nil
}
