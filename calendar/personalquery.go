package calendar

import (
	"bufio"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"
)

// Reading personal calendars without reading or decoding what is not needed, and without
// expanding any recurrence again. Each object's time extent and, for a VEVENT that is not one
// occurrence, its occurrences are stored when it is written (parsedObject.occurrences), so a
// time range is applied in SQL: a VEVENT is decided there by its occurrences, or from its
// extent alone when it is one occurrence filling it; a VTODO is decoded and decided by
// todoInRange (RFC 4791 section 9.9).
// A calendar-query of the shape clients send (a VCALENDAR comp-filter holding at most one
// VEVENT or VTODO comp-filter, time ranges only, plain properties) is answered here from the
// stored bytes; anything else goes to go-webdav as before. A PROPFIND that does not ask for
// calendar-data lists the objects without reading their data.

var calendarQueryName = xml.Name{Space: caldavNS, Local: "calendar-query"}

// noDataKey marks a request context whose listing needs no calendar data.
type noDataKey struct{}

// withoutData returns ctx marked so that ListCalendarObjects skips the objects' data.
func withoutData(ctx context.Context) context.Context {
	return context.WithValue(ctx, noDataKey{}, true)
}

// dataNotNeeded reports whether ctx was marked by withoutData.
func dataNotNeeded(ctx context.Context) bool {
	v, _ := ctx.Value(noDataKey{}).(bool)
	return v
}

// propFindNeedsData reports whether a PROPFIND needs the objects' data: allprop (go-webdav
// returns calendar-data with it) or calendar-data by name. propname and an empty body are
// treated as needing it too, which is the old path.
func propFindNeedsData(pf *propFind) bool {
	if pf.Prop == nil || pf.AllProp != nil || pf.PropName != nil {
		return true
	}
	for _, p := range pf.Prop.Props {
		if p.XMLName == calendarDataName {
			return true
		}
	}
	return false
}

// extentMatches decides an exact extent (one occurrence from s to e) against tr by RFC 4791
// section 9.9, as matchesRange does for that occurrence.
func extentMatches(s, e time.Time, tr timeRange) bool {
	if !e.After(s) {
		return (tr.start.IsZero() || !s.Before(tr.start)) && (tr.end.IsZero() || s.Before(tr.end))
	}
	return tr.overlaps(s, e)
}

// prefilterRange is the range every VEVENT that matches must meet, or ok false when the
// query does not restrict VEVENTs by time. VTODOs are stored with open extents, so they are
// never left out by it.
func prefilterRange(ranges map[string]timeRange) (timeRange, bool) {
	if tr, ok := ranges[ical.CompEvent]; ok {
		return tr, true
	}
	if tr, ok := ranges[ical.CompJournal]; ok {
		return tr, true
	}
	if tr, ok := ranges[ical.CompCalendar]; ok {
		return tr, true
	}
	return timeRange{}, false
}

// personalMatches returns the objects of a personal calendar that pass the time ranges (see
// splitComponentRanges), in name order, with the parsed form of those it had to decode. Only
// the objects whose extent meets the range are read.
func (b *backend) personalMatches(ctx context.Context, calendar string, ranges map[string]timeRange) ([]*courtside.AvailabilityObject, map[string]*parsedObject, error) {
	var objs []*courtside.AvailabilityObject
	var err error
	if pr, ok := prefilterRange(ranges); ok {
		objs, err = b.avail.FindAvailabilityObjectsInRange(ctx, calendar, pr.start, pr.end)
	} else {
		objs, err = b.avail.FindAvailabilityObjects(ctx, calendar)
	}
	if err != nil {
		return nil, nil, err
	}
	parsed := map[string]*parsedObject{}
	if len(ranges) == 0 {
		return objs, parsed, nil
	}
	out := objs[:0]
	for _, o := range objs {
		tr, ok := ranges[o.Component]
		if !ok {
			if _, outer := ranges[ical.CompCalendar]; !outer {
				// A range on another component only: the rest of the filter decides.
				out = append(out, o)
				continue
			}
			tr = ranges[ical.CompCalendar]
		}
		if o.Component == ical.CompEvent || o.Component == ical.CompJournal {
			// A VEVENT or VJOURNAL is decided without decoding it, and never expanded again: an exact
			// extent here, stored occurrences in the read above (prefilterRange is this range).
			if !o.ExtentExact || extentMatches(o.ExtentStart, o.ExtentEnd, tr) {
				out = append(out, o)
			}
			continue
		}
		po, err := parseObject(o.Data)
		if err != nil || !po.todoInRange(tr) {
			continue // stored objects were checked when written
		}
		parsed[o.Name] = po
		out = append(out, o)
	}
	return out, parsed, nil
}

// simpleCompFilter is a comp-filter of a calendar-query as the fast path reads it; Other
// catches every element it does not handle (prop-filter, param-filter, ...).
type simpleCompFilter struct {
	Name         string             `xml:"name,attr"`
	IsNotDefined *struct{}          `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *simpleTimeRange   `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	Comps        []simpleCompFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
	Other        []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// simpleQuery is a calendar-query REPORT as the fast path reads it.
type simpleQuery struct {
	XMLName  xml.Name  `xml:"urn:ietf:params:xml:ns:caldav calendar-query"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *propList `xml:"DAV: prop"`
	Filter   *struct {
		Comps []simpleCompFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
		Other []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"urn:ietf:params:xml:ns:caldav filter"`
	Other []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// simpleTimeRange is a CALDAV:time-range.
type simpleTimeRange struct {
	Start string `xml:"start,attr"`
	End   string `xml:"end,attr"`
}

// parseRangeBound parses a time-range attribute (UTC, RFC 4791 section 9.9); "" is open.
func parseRangeBound(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse("20060102T150405Z", v)
	return t, err == nil
}

// simpleQueryPlan reads a calendar-query body for the fast path: the query's time ranges
// (as splitComponentRanges gives them), the one component the objects must be (or ""), the
// properties asked for. ok is false when the body is anything the fast path does not handle.
func simpleQueryPlan(body []byte) (ranges map[string]timeRange, component string, props []xml.Name, ok bool) {
	var q simpleQuery
	if err := xml.Unmarshal(body, &q); err != nil || q.AllProp != nil || q.PropName != nil || q.Prop == nil ||
		len(q.Other) > 0 || q.Filter == nil || len(q.Filter.Other) > 0 || len(q.Filter.Comps) != 1 {
		return nil, "", nil, false
	}
	for _, p := range q.Prop.Props {
		// calendar-data with content (comp, expand, limit-recurrence-set) is go-webdav's.
		if p.XMLName == calendarDataName && strings.TrimSpace(p.Inner) != "" {
			return nil, "", nil, false
		}
		props = append(props, p.XMLName)
	}
	top := q.Filter.Comps[0]
	if top.Name != ical.CompCalendar || top.IsNotDefined != nil || len(top.Other) > 0 || len(top.Comps) > 1 {
		return nil, "", nil, false
	}
	cq := caldav.CalendarQuery{CompFilter: caldav.CompFilter{Name: ical.CompCalendar}}
	if top.TimeRange != nil {
		s, ok1 := parseRangeBound(top.TimeRange.Start)
		e, ok2 := parseRangeBound(top.TimeRange.End)
		if !ok1 || !ok2 {
			return nil, "", nil, false
		}
		cq.CompFilter.Start, cq.CompFilter.End = s, e
	}
	if len(top.Comps) == 1 {
		c := top.Comps[0]
		if (c.Name != ical.CompEvent && c.Name != ical.CompToDo) || c.IsNotDefined != nil || len(c.Comps) > 0 || len(c.Other) > 0 {
			return nil, "", nil, false
		}
		cf := caldav.CompFilter{Name: c.Name}
		if c.TimeRange != nil {
			s, ok1 := parseRangeBound(c.TimeRange.Start)
			e, ok2 := parseRangeBound(c.TimeRange.End)
			if !ok1 || !ok2 {
				return nil, "", nil, false
			}
			cf.Start, cf.End = s, e
		}
		cq.CompFilter.Comps = []caldav.CompFilter{cf}
		component = c.Name
	}
	_, ranges = splitComponentRanges(cq)
	return ranges, component, props, true
}

// servePersonalQuery answers a calendar-query REPORT on a personal calendar from the stored
// objects, its whole filter applied here (filter.go): time ranges from the stored
// occurrences, the rest on the decoded objects. A filter out of bounds or naming an unknown
// collation is refused with its precondition. It returns false, having written nothing, for
// a body it cannot read (propname), which go-webdav answers. calendar-data with content
// (comp, expand, limit-recurrence-set) is answered with the whole stored object.
func (h *handler) servePersonalQuery(w *responseWriter, r *http.Request, user *courtside.User, p davPath, body []byte) bool {
	if h.avail == nil {
		return false
	}
	props, plan, ok := readQuery(w, body)
	if !ok || plan == nil {
		return ok
	}
	ctx := r.Context()
	objs, parsed, err := h.backend.personalMatches(ctx, p.calendar, plan.ranges)
	if err != nil {
		h.serviceError(w, ctx, "query availability objects", err)
		return true
	}
	base, principal := PersonalPath(user.Username, p.calendar), PrincipalPath(user.Username)
	writeMultistatusFast(w, &multistatus{}, func(b *bufio.Writer) {
		for _, o := range objs {
			if plan.component != "" && o.Component != plan.component {
				continue
			}
			if plan.decode {
				po := parsed[o.Name]
				if po == nil {
					if po, err = parseObject(o.Data); err != nil {
						continue // stored objects were checked when written
					}
				}
				if !plan.match(po) {
					continue
				}
			}
			if !room(w, b.Buffered(), o.Size) {
				writeTruncated(b, base)
				break
			}
			writeStoredObject(b, base, o, props, principal)
		}
	})
	return true
}

// storedObjectResponse is the DAV:response of a stored object with the requested
// properties, its calendar-data the stored bytes (what GET serves).
// principal is the href of current-user-principal.
func storedObjectResponse(href string, o *courtside.AvailabilityObject, props []xml.Name, principal string) response {
	found := propStat{Status: statusLine(http.StatusOK)}
	missing := propStat{Status: statusLine(http.StatusNotFound)}
	for _, name := range props {
		v, ok := storedObjectProp(o, name)
		if name == currentUserPrincipalName {
			v, ok = "<href xmlns=\"DAV:\">"+escapeText(principal)+"</href>", true
		}
		if ok {
			found.Prop.Props = append(found.Prop.Props, property{XMLName: name, Inner: v})
		} else {
			missing.Prop.Props = append(missing.Prop.Props, property{XMLName: name})
		}
	}
	resp := response{Href: href}
	for _, ps := range []propStat{found, missing} {
		if len(ps.Prop.Props) > 0 {
			resp.PropStats = append(resp.PropStats, ps)
		}
	}
	if len(resp.PropStats) == 0 {
		resp.PropStats = []propStat{found}
	}
	return resp
}

// Status lines of the streamed responses.
var (
	statusOK       = statusLine(http.StatusOK)
	statusNotFound = statusLine(http.StatusNotFound)
)

// writeStoredObject writes the DAV:response of a stored object (at base + its name) with the
// requested properties, as storedObjectResponse builds it, straight into b: a listing of
// thousands of objects allocates next to nothing per object, and the answer is streamed.
func writeStoredObject(b *bufio.Writer, base string, o *courtside.AvailabilityObject, props []xml.Name, principal string) {
	has := func(name xml.Name) bool {
		switch name {
		case getETagName, getContentTypeName, getContentLenName, getLastModName, resourceTypeName, currentUserPrincipalName:
			return true
		case calendarDataName:
			return o.Data != nil
		case scheduleTagName:
			return o.ScheduleTag != ""
		}
		return false
	}
	writeResponse(b, base, o.Name, props, has, func(name xml.Name) {
		switch name {
		case getETagName:
			b.WriteString(`"`)
			writeEscapedString(b, o.ETag)
			b.WriteString(`"`)
		case getContentTypeName:
			b.WriteString(ical.MIMEType)
		case getContentLenName:
			b.WriteString(strconv.FormatInt(o.Size, 10))
		case getLastModName:
			b.WriteString(o.UpdatedAt.UTC().Format(http.TimeFormat))
		case currentUserPrincipalName:
			b.WriteString(`<href xmlns="DAV:">`)
			writeEscapedString(b, principal)
			b.WriteString(`</href>`)
		case calendarDataName:
			writeEscaped(b, o.Data)
		case scheduleTagName:
			b.WriteString(`"`)
			writeEscapedString(b, o.ScheduleTag)
			b.WriteString(`"`)
		}
	})
}

// writeResponse writes one DAV:response straight into b: its href (base and name, escaped),
// a 200 propstat of the props that has reports, each written by value, and a 404 propstat of
// the others. The streamed listings (PROPFIND Depth 1, calendar-query, multiget, sync) of
// personal and hearings calendars share it.
func writeResponse(b *bufio.Writer, base, name string, props []xml.Name, has func(xml.Name) bool, value func(xml.Name)) {
	open := func(name xml.Name) {
		b.WriteString("<")
		b.WriteString(name.Local)
		b.WriteString(` xmlns="`)
		writeEscapedString(b, name.Space)
		b.WriteString(`">`)
	}
	end := func(name xml.Name) {
		b.WriteString("</")
		b.WriteString(name.Local)
		b.WriteString(">")
	}
	b.WriteString("<response><href>")
	writeEscapedString(b, base)
	writeEscapedString(b, name)
	b.WriteString("</href>")
	found, missing := 0, 0
	for _, name := range props {
		if has(name) {
			found++
		} else {
			missing++
		}
	}
	if found > 0 || missing == 0 {
		b.WriteString("<propstat><prop>")
		for _, name := range props {
			if has(name) {
				open(name)
				value(name)
				end(name)
			}
		}
		b.WriteString("</prop><status>" + statusOK + "</status></propstat>")
	}
	if missing > 0 {
		b.WriteString("<propstat><prop>")
		for _, name := range props {
			if !has(name) {
				open(name)
				end(name)
			}
		}
		b.WriteString("</prop><status>" + statusNotFound + "</status></propstat>")
	}
	b.WriteString("</response>")
}

// storedObjectProp returns the value of one property of a stored object, as raw XML, or ok
// false for a property it does not have (calendar-data when the data was not read).
func storedObjectProp(o *courtside.AvailabilityObject, name xml.Name) (string, bool) {
	switch name {
	case getETagName:
		return escapeText(`"` + o.ETag + `"`), true
	case getContentTypeName:
		return escapeText(ical.MIMEType), true
	case getContentLenName:
		return strconv.FormatInt(o.Size, 10), true
	case getLastModName:
		return escapeText(o.UpdatedAt.UTC().Format(http.TimeFormat)), true
	case resourceTypeName:
		return "", true
	case calendarDataName:
		if o.Data == nil {
			return "", false
		}
		return escapeData(o.Data), true
	case scheduleTagName:
		if o.ScheduleTag == "" {
			return "", false
		}
		return escapeText(`"` + o.ScheduleTag + `"`), true
	}
	return "", false
}

// escapeData escapes calendar data for XML character data into a buffer grown once: &, <
// and > as entities, CR as &#xD; so that the CRLF line ends survive XML's newline
// normalisation (as encoding/xml does). Data with other control characters or non-ASCII
// bytes goes through xml.EscapeText, which also replaces what XML cannot hold.
func escapeData(data []byte) string {
	var b strings.Builder
	b.Grow(len(data) + len(data)/16 + 64)
	writeEscaped(&b, data)
	return b.String()
}

// textWriter is what the escaping helpers write to: a strings.Builder or a bufio.Writer.
type textWriter interface {
	io.Writer
	io.StringWriter
}

// writeEscaped writes data escaped for XML character data, as escapeData describes.
func writeEscaped(b textWriter, data []byte) {
	for _, c := range data {
		if c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			xml.EscapeText(b, data)
			return
		}
	}
	last := 0
	for i, c := range data {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		b.Write(data[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.Write(data[last:])
}

// writeEscapedString is writeEscaped for a string.
func writeEscapedString(b textWriter, s string) {
	if !strings.ContainsAny(s, "&<>\r") && isPlainASCII(s) {
		b.WriteString(s)
		return
	}
	writeEscaped(b, []byte(s))
}

// isPlainASCII reports whether s holds only printable ASCII, tab and newline.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n') {
			return false
		}
	}
	return true
}

// writeMultistatusFast writes a 207 with ms like writeMultistatus, encoding it by hand and
// streaming it: the answers over thousands of objects spend most of their time in
// encoding/xml's reflection and in growing buffers otherwise. The XML is the same document:
// the DAV: namespace is declared once on the root instead of on every element, each property
// declares its own. extra, when not nil, writes more responses after those of ms.
func writeMultistatusFast(w http.ResponseWriter, ms *multistatus, extra func(b *bufio.Writer)) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusMultiStatus)
	b := bufio.NewWriterSize(w, 32<<10)
	defer b.Flush()
	b.WriteString(xml.Header)
	b.WriteString(`<multistatus xmlns="DAV:">`)
	for _, r := range ms.Responses {
		b.WriteString("<response><href>")
		writeEscapedString(b, r.Href)
		b.WriteString("</href>")
		if r.Status != "" {
			b.WriteString("<status>")
			writeEscapedString(b, r.Status)
			b.WriteString("</status>")
		}
		for _, ps := range r.PropStats {
			b.WriteString("<propstat><prop>")
			for _, p := range ps.Prop.Props {
				b.WriteString("<")
				b.WriteString(p.XMLName.Local)
				b.WriteString(` xmlns="`)
				writeEscapedString(b, p.XMLName.Space)
				b.WriteString(`">`)
				b.WriteString(p.Inner)
				b.WriteString("</")
				b.WriteString(p.XMLName.Local)
				b.WriteString(">")
			}
			b.WriteString("</prop><status>")
			writeEscapedString(b, ps.Status)
			b.WriteString("</status></propstat>")
		}
		if r.Error != nil {
			b.WriteString("<error>")
			b.WriteString(r.Error.Inner)
			b.WriteString("</error>")
		}
		b.WriteString("</response>")
	}
	if extra != nil {
		extra(b)
	}
	if ms.SyncToken != "" {
		b.WriteString("<sync-token>")
		writeEscapedString(b, ms.SyncToken)
		b.WriteString("</sync-token>")
	}
	b.WriteString("</multistatus>")
}

var calendarMultigetName = xml.Name{Space: caldavNS, Local: "calendar-multiget"}

// simpleMultiget is a calendar-multiget REPORT as the fast path reads it.
type simpleMultiget struct {
	XMLName  xml.Name  `xml:"urn:ietf:params:xml:ns:caldav calendar-multiget"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *propList `xml:"DAV: prop"`
	Hrefs    []string  `xml:"DAV: href"`
	Other    []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// servePersonalMultiget answers a calendar-multiget REPORT on a personal calendar with one
// read of the named objects and their stored bytes, when every href names an object of that
// calendar and the properties are plain; it returns false, having written nothing, when
// go-webdav should answer it. Objects that do not exist answer 404, as go-webdav's do.
func (h *handler) servePersonalMultiget(w *responseWriter, r *http.Request, user *courtside.User, p davPath, body []byte) bool {
	if h.avail == nil {
		return false
	}
	props, paths, targets, ok := parsePlainMultiget(body)
	if !ok {
		return false
	}
	objects := make([]string, len(targets))
	for i, hp := range targets {
		if hp.kind != resourcePersonalObject || hp.username != user.Username || hp.calendar != p.calendar {
			return false
		}
		objects[i] = hp.object
	}
	ctx := r.Context()
	objs, err := h.avail.FindAvailabilityObjectsNamed(ctx, p.calendar, objects)
	if err != nil {
		h.serviceError(w, ctx, "find availability objects", err)
		return true
	}
	byName := make(map[string]*courtside.AvailabilityObject, len(objs))
	for _, o := range objs {
		byName[o.Name] = o
	}
	base, principal := PersonalPath(user.Username, p.calendar), PrincipalPath(user.Username)
	writeMultistatusFast(w, &multistatus{}, func(b *bufio.Writer) {
		seen := map[string]bool{}
		for i, name := range objects {
			if seen[name] {
				continue // one answer per object, however often it is named
			}
			seen[name] = true
			if o := byName[name]; o != nil {
				if !room(w, b.Buffered(), o.Size) {
					writeTruncated(b, base)
					break
				}
				writeStoredObject(b, base, o, props, principal)
				continue
			}
			b.WriteString("<response><href>")
			writeEscapedString(b, paths[i])
			b.WriteString("</href><status>" + statusNotFound + "</status></response>")
		}
	})
	return true
}

// parsePlainMultiget reads a calendar-multiget REPORT that the streamed answers can serve: named
// plain properties (calendar-data without a component selection) and hrefs that parse. It
// returns the properties, each href's path and what the path names; ok is false when go-webdav
// should answer the request instead.
func parsePlainMultiget(body []byte) (props []xml.Name, paths []string, targets []davPath, ok bool) {
	var q simpleMultiget
	if err := xml.Unmarshal(body, &q); err != nil || q.AllProp != nil || q.PropName != nil || q.Prop == nil ||
		len(q.Other) > 0 || len(q.Hrefs) == 0 {
		return nil, nil, nil, false
	}
	for _, pr := range q.Prop.Props {
		if pr.XMLName == calendarDataName && strings.TrimSpace(pr.Inner) != "" {
			return nil, nil, nil, false
		}
		props = append(props, pr.XMLName)
	}
	paths = make([]string, len(q.Hrefs))
	targets = make([]davPath, len(q.Hrefs))
	for i, href := range q.Hrefs {
		u, err := url.Parse(strings.TrimSpace(href))
		if err != nil {
			return nil, nil, nil, false
		}
		paths[i], targets[i] = u.Path, parsePath(u.Path)
	}
	return props, paths, targets, true
}
