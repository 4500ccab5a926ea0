package calendar

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"courtside"
)

// The properties of the hearings calendar that go-webdav v0.6.0 does not know: CS:getctag,
// DAV:sync-token (RFC 6578), DAV:current-user-privilege-set (RFC 3744) and
// DAV:supported-report-set (RFC 3253). A PROPFIND on the home set or the calendar goes to
// go-webdav into a buffer; the calendar's response in its multistatus then gets these
// properties, moved out of the 404 propstat go-webdav put them in. They are live properties
// that allprop does not return (RFC 4918 section 9.1, RFC 6578 section 4); propname lists them.

var (
	getCTagName            = xml.Name{Space: "http://calendarserver.org/ns/", Local: "getctag"}
	syncTokenName          = xml.Name{Space: "DAV:", Local: "sync-token"}
	currentUserPrivName    = xml.Name{Space: "DAV:", Local: "current-user-privilege-set"}
	supportedReportSetName = xml.Name{Space: "DAV:", Local: "supported-report-set"}
)

// calendarExtraNames are the added properties, in the order propname lists them. Apple's
// calendar-color is there only once the user set one (PROPPATCH).
var calendarExtraNames = []xml.Name{getCTagName, syncTokenName, currentUserPrivName, supportedReportSetName, calendarColorName,
	supportedCollationSetName}

// supportedCollationSetName is CALDAV:supported-collation-set (RFC 4791 section 7.5.1), on
// personal calendars, whose calendar-query Courtside answers itself (filter.go).
var supportedCollationSetName = xml.Name{Space: caldavNS, Local: "supported-collation-set"}

// readOnlyPrivileges is the DAV:current-user-privilege-set of the hearings calendar: it can be
// read, and so can this set, nothing else.
const readOnlyPrivileges = `<privilege xmlns="DAV:"><read></read></privilege>` +
	`<privilege xmlns="DAV:"><read-current-user-privilege-set></read-current-user-privilege-set></privilege>`

// supportedReports is the DAV:supported-report-set of the hearings calendar.
const supportedReports = `<supported-report xmlns="DAV:"><report><calendar-query xmlns="` + caldavNS + `"></calendar-query></report></supported-report>` +
	`<supported-report xmlns="DAV:"><report><calendar-multiget xmlns="` + caldavNS + `"></calendar-multiget></report></supported-report>` +
	`<supported-report xmlns="DAV:"><report><sync-collection></sync-collection></report></supported-report>`

// readWritePrivileges is the DAV:current-user-privilege-set of a personal calendar.
const readWritePrivileges = readOnlyPrivileges +
	`<privilege xmlns="DAV:"><write></write></privilege>` +
	`<privilege xmlns="DAV:"><write-content></write-content></privilege>` +
	`<privilege xmlns="DAV:"><bind></bind></privilege>` +
	`<privilege xmlns="DAV:"><unbind></unbind></privilege>`

// personalReports is the DAV:supported-report-set of a personal calendar.
const personalReports = supportedReports +
	`<supported-report xmlns="DAV:"><report><free-busy-query xmlns="` + caldavNS + `"></free-busy-query></report></supported-report>`

// calendarExtras returns the values of the added properties for the user's calendar p (the
// hearings calendar or a personal one).
func (h *handler) calendarExtras(r *http.Request, user *courtside.User, p davPath) (map[xml.Name]string, error) {
	values, err := h.calendarExtraValues(r, user, p)
	if err != nil || h.avail == nil {
		return values, err
	}
	settings, err := h.avail.FindCalendarSettings(r.Context())
	if err != nil {
		return nil, err
	}
	name := p.calendar
	if p.kind == resourceHearings {
		name = hearingsName
	}
	if c := settings[name].Color; c != "" {
		values[calendarColorName] = escapeText(c)
	}
	return values, nil
}

// calendarExtraValues returns the values of the added properties that every calendar has.
func (h *handler) calendarExtraValues(r *http.Request, user *courtside.User, p davPath) (map[xml.Name]string, error) {
	if p.kind == resourcePersonal {
		c, err := h.avail.FindPersonalCalendar(r.Context(), p.calendar)
		if err != nil {
			return nil, err
		}
		token := escapeText(personalSyncToken(user.ID, c, c.Version))
		return map[xml.Name]string{
			getCTagName:               token,
			syncTokenName:             token,
			currentUserPrivName:       readWritePrivileges,
			supportedReportSetName:    personalReports,
			supportedCollationSetName: supportedCollations,
		}, nil
	}
	version, _, err := h.calendars.CalendarVersion(r.Context(), user.ID)
	if err != nil {
		return nil, err
	}
	token := escapeText(SyncToken(user.ID, version))
	return map[xml.Name]string{
		getCTagName:            token,
		syncTokenName:          token,
		currentUserPrivName:    readOnlyPrivileges,
		supportedReportSetName: supportedReports,
	}, nil
}

// bufferedResponse is an http.ResponseWriter that keeps what go-webdav writes, up to max bytes
// (none when max is 0): past it, over is set and the rest is dropped.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	max    int64
	over   bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.over || (b.max > 0 && int64(b.body.Len()+len(p)) > b.max) {
		b.over = true
		return 0, errAnswerTooLarge
	}
	return b.body.Write(p)
}

// copyTo sends the buffered answer on unchanged.
func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// servePropFindWithExtras answers a PROPFIND on the user's home set or hearings calendar:
// go-webdav's answer, with the added properties on the calendar's response.
func (h *handler) servePropFindWithExtras(w *responseWriter, r *http.Request, user *courtside.User) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var pf propFind
	if len(bytes.TrimSpace(body)) == 0 {
		pf.AllProp = &struct{}{}
	} else if err := xml.Unmarshal(body, &pf); err != nil {
		h.dav.ServeHTTP(w, r) // go-webdav answers the malformed body
		return
	}
	if !propFindNeedsData(&pf) {
		r = r.WithContext(withoutData(r.Context()))
	}
	// A calendar's objects, asked for by name with Depth 1, are answered from the stored rows
	// (personalquery.go; the hearings calendar's, backend.hearingListing); go-webdav answers
	// for the calendar itself (Depth 0).
	p := parsePath(r.URL.Path)
	objects := ((p.kind == resourcePersonal && h.avail != nil) || p.kind == resourceHearings) &&
		pf.Prop != nil && strings.TrimSpace(r.Header.Get("Depth")) == "1"
	req := r
	if objects {
		req = r.Clone(r.Context())
		req.Header.Set("Depth", "0")
	}
	buf := &bufferedResponse{header: http.Header{}, max: h.maxAnswer}
	h.dav.ServeHTTP(buf, req)
	if buf.over {
		w.raw(http.StatusInsufficientStorage, func() { writeResponseTooLarge(w.ResponseWriter) })
		return
	}
	var ms multistatus
	// go-webdav's answer goes out untouched unless there is something to add to it.
	if (!objects && !wantsExtras(&pf)) || buf.status != http.StatusMultiStatus || xml.Unmarshal(buf.body.Bytes(), &ms) != nil {
		buf.copyTo(w)
		return
	}
	for i := range ms.Responses {
		resp := &ms.Responses[i]
		rp := parsePath(resp.Href)
		if (rp.kind != resourceHearings && (rp.kind != resourcePersonal || h.avail == nil)) || rp.username != user.Username {
			continue
		}
		var values map[xml.Name]string
		switch {
		case pf.Prop != nil:
			var wanted []xml.Name
			for _, p := range pf.Prop.Props {
				if slices.Contains(calendarExtraNames, p.XMLName) {
					wanted = append(wanted, p.XMLName)
				}
			}
			if len(wanted) == 0 {
				continue
			}
			if values == nil {
				var err error
				if values, err = h.calendarExtras(r, user, rp); err != nil {
					h.serviceError(w, r.Context(), "calendar version", err)
					return
				}
			}
			var added []property
			for _, name := range wanted {
				v, ok := values[name]
				if !ok {
					continue // not set: go-webdav's 404 stands
				}
				removeProp(resp, name)
				added = append(added, property{XMLName: name, Inner: v})
			}
			addProps(resp, added)
		case pf.PropName != nil:
			var added []property
			for _, name := range calendarExtraNames {
				added = append(added, property{XMLName: name})
			}
			addProps(resp, added)
		}
	}
	for k, v := range buf.header {
		if !strings.EqualFold(k, "Content-Length") {
			w.Header()[k] = v
		}
	}
	if objects {
		var names []xml.Name
		for _, p := range pf.Prop.Props {
			names = append(names, p.XMLName)
		}
		withData := slices.Contains(names, calendarDataName) // no data unless calendar-data is asked for
		var objs []*courtside.AvailabilityObject
		var err error
		base, principal := PersonalPath(user.Username, p.calendar), PrincipalPath(user.Username)
		switch {
		case p.kind == resourceHearings:
			base = HearingsPath(user.Username)
			objs, err = h.backend.hearingListing(r.Context(), user, withData)
		case withData:
			objs, err = h.avail.FindAvailabilityObjects(r.Context(), p.calendar)
		default:
			objs, err = h.avail.FindAvailabilityObjectHeads(r.Context(), p.calendar)
		}
		if err != nil {
			h.serviceError(w, r.Context(), "find calendar objects", err)
			return
		}
		writeMultistatusFast(w, &ms, func(b *bufio.Writer) {
			for _, o := range objs {
				if !room(w, b.Buffered(), o.Size) {
					writeTruncated(b, base)
					break
				}
				writeStoredObject(b, base, o, names, principal)
			}
		})
		return
	}
	writeMultistatus(w, &ms)
}

// wantsExtras reports whether a PROPFIND asks for any of the added properties, by name or
// with propname.
func wantsExtras(pf *propFind) bool {
	if pf.PropName != nil {
		return true
	}
	if pf.Prop == nil {
		return false
	}
	for _, p := range pf.Prop.Props {
		if slices.Contains(calendarExtraNames, p.XMLName) {
			return true
		}
	}
	return false
}

// removeProp takes a property out of every propstat of resp, dropping propstats left empty.
func removeProp(resp *response, name xml.Name) {
	kept := resp.PropStats[:0]
	for _, ps := range resp.PropStats {
		props := ps.Prop.Props[:0]
		for _, p := range ps.Prop.Props {
			if p.XMLName != name {
				props = append(props, p)
			}
		}
		ps.Prop.Props = props
		if len(props) > 0 {
			kept = append(kept, ps)
		}
	}
	resp.PropStats = kept
}

// addProps adds properties to the 200 propstat of resp, creating it first in line if needed.
func addProps(resp *response, props []property) {
	ok := statusLine(http.StatusOK)
	for i := range resp.PropStats {
		if strings.Contains(resp.PropStats[i].Status, " 200 ") || resp.PropStats[i].Status == ok {
			resp.PropStats[i].Prop.Props = append(resp.PropStats[i].Prop.Props, props...)
			return
		}
	}
	resp.PropStats = append([]propStat{{Status: ok, Prop: propList{Props: props}}}, resp.PropStats...)
}
