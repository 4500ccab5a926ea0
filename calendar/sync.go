package calendar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
)

// The sync-collection REPORT (RFC 6578) on the hearings calendar, which go-webdav v0.6.0 lacks.
//
// A sync token is "https://courtside/sync/<userID>/<version>", where version is the user's
// calendar version (courtside.CalendarService.CalendarVersion). The user ID binds a token to
// its user, so another user's token is refused like a made-up one. A token whose version is
// ahead of the calendar (a database restored from a backup) is refused too, and the client
// starts over with an empty token. The same string is the calendar's CS:getctag.
//
// An initial sync (empty token) reads the version before the hearings, so a change that lands
// in between is reported again next time rather than lost. The projection that moves the
// version runs after the change commits; until it has run, a new token equals the old one and
// the change is reported on a later sync.

// syncTokenPrefix starts every sync token.
const syncTokenPrefix = "https://courtside/sync/"

// SyncToken returns the sync token of a user's hearings calendar at version.
func SyncToken(userID, version int64) string {
	return syncTokenPrefix + strconv.FormatInt(userID, 10) + "/" + strconv.FormatInt(version, 10)
}

// parseSyncToken returns the version of a sync token of the user. ok is false for any other
// string, another user's token included.
func parseSyncToken(token string, userID int64) (version int64, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), syncTokenPrefix)
	if !ok {
		return 0, false
	}
	user, v, ok := strings.Cut(rest, "/")
	if !ok || user != strconv.FormatInt(userID, 10) {
		return 0, false
	}
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil || version < 0 || strconv.FormatInt(version, 10) != v {
		return 0, false
	}
	return version, true
}

// syncCollection is the body of a sync-collection REPORT (RFC 6578 section 6.1).
type syncCollection struct {
	XMLName   xml.Name  `xml:"DAV: sync-collection"`
	SyncToken string    `xml:"DAV: sync-token"`
	SyncLevel string    `xml:"DAV: sync-level"`
	Limit     *limit    `xml:"DAV: limit"`
	Prop      *propList `xml:"DAV: prop"`
}

// limit is a DAV:limit (RFC 5323 section 5.17).
type limit struct {
	NResults string `xml:"DAV: nresults"`
}

var (
	syncCollectionName = xml.Name{Space: "DAV:", Local: "sync-collection"}
	getETagName        = xml.Name{Space: "DAV:", Local: "getetag"}
	getContentTypeName = xml.Name{Space: "DAV:", Local: "getcontenttype"}
	getContentLenName  = xml.Name{Space: "DAV:", Local: "getcontentlength"}
	getLastModName     = xml.Name{Space: "DAV:", Local: "getlastmodified"}
	calendarDataName   = xml.Name{Space: caldavNS, Local: "calendar-data"}
)

// caldavNS is the CalDAV XML namespace (RFC 4791).
const caldavNS = "urn:ietf:params:xml:ns:caldav"

// reportName returns the name of the root element of a REPORT body, or the zero name.
func reportName(body []byte) xml.Name {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name
		}
	}
}

// writeDAVError writes a 403 (or other status) with a DAV:error body naming a precondition
// (RFC 4918 section 16).
func writeDAVError(w http.ResponseWriter, status int, condition string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(status)
	w.Write([]byte(xml.Header + `<D:error xmlns:D="DAV:"><D:` + condition + `/></D:error>` + "\n"))
}

// serveSyncCollection answers a sync-collection REPORT with body on the collection p, from the
// objects the calendar projection stored: an initial sync lists the calendar, a later one reads
// the change rows after its token and the objects of those hearings only.
func (h *handler) serveSyncCollection(w *responseWriter, r *http.Request, user *courtside.User, p davPath, body []byte) {
	if p.kind != resourceHearings {
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "supported-report") })
		return
	}
	req, max, props, ok := parseSyncRequest(w, r, body)
	if !ok {
		return
	}
	withData := slices.Contains(props, calendarDataName)
	base := HearingsPath(user.Username)

	ctx := r.Context()
	if strings.TrimSpace(req.SyncToken) == "" {
		// Initial sync: the version first, then everything.
		version, _, err := h.calendars.CalendarVersion(ctx, user.ID)
		if err != nil {
			h.serviceError(w, ctx, "calendar version", err)
			return
		}
		var objs []*courtside.CalendarObject
		if withData {
			objs, err = h.calendars.FindCalendarObjects(ctx, user.ID, time.Time{}, time.Time{}, true)
		} else {
			objs, err = h.calendars.FindCalendarObjectHeads(ctx, user.ID)
		}
		if err != nil {
			h.serviceError(w, ctx, "find calendar objects", err)
			return
		}
		if max > 0 && len(objs) > max {
			// A first sync is not truncated: its token could not say where it stopped.
			w.raw(http.StatusForbidden, func() {
				writeDAVError(w.ResponseWriter, http.StatusForbidden, "number-of-matches-within-limits")
			})
			return
		}
		writeMultistatusFast(w, &multistatus{SyncToken: SyncToken(user.ID, version)}, func(b *bufio.Writer) {
			for _, o := range objs {
				writeSyncObject(b, base, o, props)
			}
		})
		return
	}

	since, ok := parseSyncToken(req.SyncToken, user.ID)
	if !ok {
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "valid-sync-token") })
		return
	}
	changes, version, err := h.calendars.CalendarObjectChanges(ctx, user.ID, since, withData)
	if err != nil {
		h.serviceError(w, ctx, "calendar changes", err)
		return
	}
	if since > version {
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "valid-sync-token") })
		return
	}
	truncated := max > 0 && len(changes) > max
	if truncated {
		// Changes come in version order, one version each: the token of the last one
		// reported is where the next sync goes on (RFC 6578 section 3.6).
		changes = changes[:max]
		version = changes[max-1].Version
	}
	writeMultistatusFast(w, &multistatus{SyncToken: SyncToken(user.ID, version)}, func(b *bufio.Writer) {
		for _, c := range changes {
			if c.Deleted || c.Object == nil {
				// Gone from the calendar, or never visible to this user any more.
				b.WriteString("<response><href>")
				writeEscapedString(b, base+hearingFile(c.HearingID))
				b.WriteString("</href><status>" + statusNotFound + "</status></response>")
				continue
			}
			writeSyncObject(b, base, c.Object, props)
		}
		if truncated {
			b.WriteString("<response><href>")
			writeEscapedString(b, base)
			b.WriteString("</href><status>" + statusLine(http.StatusInsufficientStorage) + "</status>" +
				`<error><number-of-matches-within-limits xmlns="DAV:"></number-of-matches-within-limits></error></response>`)
		}
	})
}

// serviceError answers an error of the root services: logged once when internal, mapped to
// its status, with a short plain-text body.
func (h *handler) serviceError(w *responseWriter, ctx context.Context, op string, err error) {
	_ = davError(ctx, h.logger, op, err)
	w.fail(httpStatus(courtside.ErrorCode(err)), "")
}

// writeSyncObject writes the DAV:response of one stored hearing object in a sync-collection
// report, with the requested properties: getetag (the ETag GET serves), getcontenttype,
// getcontentlength, getlastmodified and calendar-data (the bytes GET serves); any other in a
// 404 propstat.
func writeSyncObject(b *bufio.Writer, base string, o *courtside.CalendarObject, props []xml.Name) {
	has := func(name xml.Name) bool {
		switch name {
		case getETagName, getContentTypeName, getContentLenName, getLastModName:
			return true
		case calendarDataName:
			return o.Data != nil
		}
		return false
	}
	writeResponse(b, base, hearingFile(o.HearingID), props, has, func(name xml.Name) {
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
			b.WriteString(o.ModifiedAt.UTC().Format(http.TimeFormat))
		case calendarDataName:
			writeEscaped(b, o.Data)
		}
	})
}

// readBody reads a request body whole. It writes the error response (413 over the limit, 400
// otherwise) and returns ok false when it cannot.
func readBody(w *responseWriter, r *http.Request) (body []byte, ok bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest) // 413 when the limit was hit: see responseWriter
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// parseSyncRequest reads a sync-collection REPORT: the Depth header, the body, the sync level,
// the result limit (0 when none) and the properties asked for (getetag when none). It answers
// 400 or 403 itself and reports false when the request is refused.
func parseSyncRequest(w *responseWriter, r *http.Request, body []byte) (req syncCollection, max int, props []xml.Name, ok bool) {
	// RFC 6578 section 3.2 defines the report for Depth 0 only (the default for REPORT).
	// python-caldav sends Depth 1, which is taken as 0; infinity is refused.
	switch strings.TrimSpace(r.Header.Get("Depth")) {
	case "", "0", "1":
	default:
		w.WriteHeader(http.StatusBadRequest)
		return req, 0, nil, false
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return req, 0, nil, false
	}
	switch strings.TrimSpace(strings.ToLower(req.SyncLevel)) {
	case "", "1": // an absent level (drafts of RFC 6578) means 1
	case "infinite":
		// Courtside's calendars have no child collections, but RFC 6578 section 3.3 lets a
		// server refuse infinite; we do, so that clients never rely on it here.
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "sync-traversal-supported") })
		return req, 0, nil, false
	default:
		w.WriteHeader(http.StatusBadRequest)
		return req, 0, nil, false
	}
	if req.Limit != nil {
		n, err := strconv.Atoi(strings.TrimSpace(req.Limit.NResults))
		if err != nil || n < 1 {
			w.WriteHeader(http.StatusBadRequest)
			return req, 0, nil, false
		}
		max = n
	}
	props = []xml.Name{getETagName}
	if req.Prop != nil {
		props = props[:0]
		for _, p := range req.Prop.Props {
			props = append(props, p.XMLName)
		}
	}
	return req, max, props, true
}
