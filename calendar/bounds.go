package calendar

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"

	"courtside"
)

// The bounds of one CalDAV request and its answer. A PROPFIND, PROPPATCH or REPORT body is
// counted while it is parsed, token by token, before go-webdav or our own handlers build
// anything from it: more properties, hrefs or other elements than these answer 400 with a
// short message naming the bound. (A PROPFIND naming 80,000 properties once made an answer of
// 482 MB: go-webdav builds a propstat entry per property and resource.) Answers are capped at
// Config.MaxResponseBytes: a streamed multistatus stops before the cap with a 507 response for
// the collection carrying DAV:number-of-matches-within-limits (as RFC 6578 section 3.6
// truncates), a buffered one over it answers 507, and any other answer over it is cut off.

// Bounds of a request body.
const (
	// MaxRequestProperties caps the properties a request names (children of DAV:prop).
	MaxRequestProperties = 100
	// MaxRequestHrefs caps the hrefs of a request (a calendar-multiget names at most every
	// object of a calendar).
	MaxRequestHrefs = courtside.MaxCalendarObjects
	// MaxRequestElements caps the other elements of a request (filters, their tests, ...).
	MaxRequestElements = 1000
)

// DefaultMaxResponseBytes caps answers unless Config says otherwise: twice a full calendar
// (courtside.MaxCalendarBytes) with room for the XML around it.
const DefaultMaxResponseBytes = 64 << 20

// truncationMargin is kept free under the cap when a streamed multistatus decides whether one
// more object fits: an object's escaped data and its properties.
const truncationMargin = 5*courtside.MaxCalendarObjectBytes + 64<<10

var (
	davPropName = xml.Name{Space: "DAV:", Local: "prop"}
	davHrefName = xml.Name{Space: "DAV:", Local: "href"}
)

// checkRequestBody counts the properties, hrefs and other elements of an XML request body as
// it reads its tokens, stopping at the first bound passed. It returns the message of the 400
// answer, or "" when the body is within the bounds (or is not XML: the handlers answer that).
func checkRequestBody(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []xml.Name
	props, hrefs, others := 0, 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case len(stack) > 0 && stack[len(stack)-1] == davPropName:
				props++
			case t.Name == davHrefName:
				hrefs++
			default:
				others++
			}
			switch {
			case props > MaxRequestProperties:
				return fmt.Sprintf("Bad request: at most %d properties per request.", MaxRequestProperties)
			case hrefs > MaxRequestHrefs:
				return fmt.Sprintf("Bad request: at most %d hrefs per request.", MaxRequestHrefs)
			case others > MaxRequestElements:
				return fmt.Sprintf("Bad request: at most %d XML elements per request besides properties and hrefs.", MaxRequestElements)
			}
			stack = append(stack, t.Name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// bodyMethods are the methods whose XML bodies checkRequestBody counts.
var bodyMethods = map[string]bool{"PROPFIND": true, "PROPPATCH": true, "REPORT": true}

// writeTruncated writes the DAV:response a streamed multistatus ends with when the next object
// would not fit under the answer's cap (RFC 6578 section 3.6; RFC 5323 section 2.4).
func writeTruncated(b *bufio.Writer, collection string) {
	b.WriteString("<response><href>")
	writeEscapedString(b, collection)
	b.WriteString("</href><status>" + statusLine(http.StatusInsufficientStorage) + "</status>" +
		"<error><number-of-matches-within-limits/></error></response>")
}

// writeResponseTooLarge writes the answer of a buffered multistatus over the cap.
func writeResponseTooLarge(w http.ResponseWriter) {
	writeDAVError(w, http.StatusInsufficientStorage, "number-of-matches-within-limits")
}

// room reports whether n more bytes fit in w's answer under its cap, keeping truncationMargin
// free; w is the CalDAV handler's responseWriter or wraps it.
func room(w io.Writer, buffered int, n int64) bool {
	rw, ok := w.(*responseWriter)
	if !ok || rw.max <= 0 {
		return true
	}
	return rw.written+int64(buffered)+n+truncationMargin <= rw.max
}

var (
	compFilterName   = xml.Name{Space: caldavNS, Local: "comp-filter"}
	timeRangeName    = xml.Name{Space: caldavNS, Local: "time-range"}
	isNotDefinedName = xml.Name{Space: caldavNS, Local: "is-not-defined"}
)

// expandingFilter reports whether a calendar-query has a time range that only an expansion
// per object and per query could decide: on a component other than the VCALENDAR and the
// VEVENTs and VTODOs in it (a VALARM, a VTIMEZONE's STANDARD, whose RRULEs are not checked
// when objects are written), or beside is-not-defined (which RFC 4791 section 9.7.1 does not
// allow). go-webdav's filter would expand those with rrule-go, without bound; the stored
// occurrences decide the others.
func expandingFilter(body []byte) bool {
	type level struct {
		name              string
		ranged, undefined bool
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var comps []level // the comp-filters we are in
	var stack []xml.Name
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inComp := len(stack) > 0 && stack[len(stack)-1] == compFilterName && len(comps) > 0
			switch {
			case t.Name == compFilterName:
				l := level{}
				for _, a := range t.Attr {
					if a.Name.Local == "name" {
						l.name = a.Value
					}
				}
				comps = append(comps, l)
			case t.Name == timeRangeName && inComp:
				ok := (len(comps) == 1 && comps[0].name == "VCALENDAR") ||
					(len(comps) == 2 && comps[0].name == "VCALENDAR" && (comps[1].name == "VEVENT" || comps[1].name == "VTODO" || comps[1].name == "VJOURNAL"))
				if !ok {
					return true
				}
				comps[len(comps)-1].ranged = true
			case t.Name == isNotDefinedName && inComp:
				comps[len(comps)-1].undefined = true
			}
			stack = append(stack, t.Name)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			if stack[len(stack)-1] == compFilterName && len(comps) > 0 {
				if l := comps[len(comps)-1]; l.ranged && l.undefined {
					return true
				}
				comps = comps[:len(comps)-1]
			}
			stack = stack[:len(stack)-1]
		}
	}
}
