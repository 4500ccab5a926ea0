package calendar

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"courtside"

	"github.com/emersion/go-ical"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The CALDAV:filter of a calendar-query on a personal calendar, read in full (RFC 4791
// section 9.7) and applied here rather than by go-webdav, whose text-match ignores the
// collation and negate-condition. Time ranges on VEVENT, VTODO and VJOURNAL (and on the
// VCALENDAR) are decided from the stored occurrences (personalMatches); everything else
// (prop-filter, param-filter, text-match, is-not-defined, nested comp-filters) on the decoded
// object. Filters are bounded: MaxFilterDepth nested comp-filters, MaxFilterTests prop- and
// param-filters, MaxTextMatchBytes per text-match.

// Bounds of a calendar-query filter (security.md 58).
const (
	MaxFilterDepth    = 4    // nested comp-filters: VCALENDAR, VEVENT, VALARM and one more
	MaxFilterTests    = 64   // prop-filters and param-filters in one filter
	MaxTextMatchBytes = 1024 // the text of one text-match
)

// The collations a text-match may name (RFC 4791 section 7.5; RFC 4790, RFC 5051):
// i;ascii-casemap is the default.
const (
	collationASCII   = "i;ascii-casemap"
	collationOctet   = "i;octet"
	collationUnicode = "i;unicode-casemap"
)

// supportedCollations is the CALDAV:supported-collation-set of a personal calendar.
const supportedCollations = `<supported-collation xmlns="` + caldavNS + `">` + collationASCII + `</supported-collation>` +
	`<supported-collation xmlns="` + caldavNS + `">` + collationOctet + `</supported-collation>` +
	`<supported-collation xmlns="` + caldavNS + `">` + collationUnicode + `</supported-collation>`

// xmlCompFilter, xmlPropFilter, xmlParamFilter and xmlTextMatch are the filter's elements.
type xmlCompFilter struct {
	Name         string           `xml:"name,attr"`
	IsNotDefined *struct{}        `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *simpleTimeRange `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	Props        []xmlPropFilter  `xml:"urn:ietf:params:xml:ns:caldav prop-filter"`
	Comps        []xmlCompFilter  `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

type xmlPropFilter struct {
	Name         string           `xml:"name,attr"`
	IsNotDefined *struct{}        `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *simpleTimeRange `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	TextMatch    *xmlTextMatch    `xml:"urn:ietf:params:xml:ns:caldav text-match"`
	Params       []xmlParamFilter `xml:"urn:ietf:params:xml:ns:caldav param-filter"`
}

type xmlParamFilter struct {
	Name         string        `xml:"name,attr"`
	IsNotDefined *struct{}     `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TextMatch    *xmlTextMatch `xml:"urn:ietf:params:xml:ns:caldav text-match"`
}

type xmlTextMatch struct {
	Collation string `xml:"collation,attr"`
	Negate    string `xml:"negate-condition,attr"`
	Text      string `xml:",chardata"`
}

// personalQuery is a calendar-query REPORT on a personal calendar.
type personalQuery struct {
	XMLName  xml.Name  `xml:"urn:ietf:params:xml:ns:caldav calendar-query"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *propList `xml:"DAV: prop"`
	Filter   *struct {
		Comps []xmlCompFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
	} `xml:"urn:ietf:params:xml:ns:caldav filter"`
}

// filterError is why a filter is refused: a status, the precondition (a CALDAV: element)
// and a message.
type filterError struct {
	status    int
	condition string
	msg       string
}

func (e *filterError) Error() string { return e.msg }

// textMatch is a checked text-match.
type textMatch struct {
	text      string // folded by the collation
	collation string
	negate    bool
}

// queryPlan is a calendar-query made ready: the time ranges personalMatches applies, the
// rest of the filter, and whether that rest needs the objects decoded.
type queryPlan struct {
	ranges map[string]timeRange
	top    *xmlCompFilter
	// component is the one component the objects must be, when the filter says no more
	// than that beside its time ranges; decode is false then.
	component string
	decode    bool
	texts     map[*xmlTextMatch]*textMatch
}

// rangedComponents are the components whose time ranges are decided from what is stored.
var rangedComponents = map[string]bool{ical.CompEvent: true, ical.CompToDo: true, ical.CompJournal: true}

// planQuery checks a calendar-query filter against the bounds and the collations, and takes
// its time ranges out. Its errors are *filterError.
func planQuery(comps []xmlCompFilter) (*queryPlan, error) {
	if len(comps) != 1 || comps[0].Name != ical.CompCalendar || comps[0].IsNotDefined != nil {
		return nil, &filterError{http.StatusBadRequest, "valid-filter", "A filter holds one comp-filter, for VCALENDAR."}
	}
	plan := &queryPlan{ranges: map[string]timeRange{}, top: &comps[0], texts: map[*xmlTextMatch]*textMatch{}}
	tests := 0
	var walk func(f *xmlCompFilter, depth int) error
	walk = func(f *xmlCompFilter, depth int) error {
		if depth > MaxFilterDepth {
			return &filterError{http.StatusBadRequest, "valid-filter", fmt.Sprintf("At most %d nested comp-filters.", MaxFilterDepth)}
		}
		if f.TimeRange != nil {
			tr, err := parseFilterRange(f.TimeRange)
			if err != nil {
				return err
			}
			switch {
			case depth == 1:
				plan.ranges[ical.CompCalendar] = tr
			case depth == 2 && rangedComponents[f.Name] && f.IsNotDefined == nil:
				plan.ranges[f.Name] = tr
			default:
				return &filterError{http.StatusForbidden, "supported-filter",
					"Time ranges are supported on the VCALENDAR, VEVENT, VTODO and VJOURNAL components only."}
			}
		}
		for i := range f.Props {
			pf := &f.Props[i]
			tests += 1 + len(pf.Params)
			if pf.TimeRange != nil {
				if _, err := parseFilterRange(pf.TimeRange); err != nil {
					return err
				}
			}
			if err := plan.checkText(pf.TextMatch); err != nil {
				return err
			}
			for j := range pf.Params {
				if err := plan.checkText(pf.Params[j].TextMatch); err != nil {
					return err
				}
			}
		}
		if tests > MaxFilterTests {
			return &filterError{http.StatusBadRequest, "valid-filter", fmt.Sprintf("At most %d prop-filters and param-filters.", MaxFilterTests)}
		}
		for i := range f.Comps {
			if err := walk(&f.Comps[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(plan.top, 1); err != nil {
		return nil, err
	}
	// The objects need decoding unless the filter is at most one component's time range.
	top := plan.top
	plan.decode = len(top.Props) > 0 || len(top.Comps) > 1
	if len(top.Comps) == 1 {
		c := top.Comps[0]
		plan.component = c.Name
		plan.decode = plan.decode || c.IsNotDefined != nil || len(c.Props) > 0 || len(c.Comps) > 0 || !rangedComponents[c.Name]
	}
	if plan.decode {
		plan.component = ""
	}
	return plan, nil
}

// parseFilterRange reads a time-range: UTC bounds, at least one of them, start before end.
func parseFilterRange(r *simpleTimeRange) (timeRange, error) {
	s, ok1 := parseRangeBound(r.Start)
	e, ok2 := parseRangeBound(r.End)
	if !ok1 || !ok2 || (s.IsZero() && e.IsZero()) || (!s.IsZero() && !e.IsZero() && !s.Before(e)) {
		return timeRange{}, &filterError{http.StatusBadRequest, "valid-filter",
			"A time-range has a start or an end in UTC (20060102T150405Z), the start before the end."}
	}
	return timeRange{s, e}, nil
}

// checkText checks a text-match (nil is none) and keeps it folded by its collation.
func (plan *queryPlan) checkText(t *xmlTextMatch) error {
	if t == nil {
		return nil
	}
	if len(t.Text) > MaxTextMatchBytes {
		return &filterError{http.StatusBadRequest, "valid-filter", fmt.Sprintf("A text-match is at most %d bytes.", MaxTextMatchBytes)}
	}
	collation := strings.TrimSpace(t.Collation)
	if collation == "" {
		collation = collationASCII
	}
	switch collation {
	case collationASCII, collationOctet, collationUnicode:
	default:
		return &filterError{http.StatusForbidden, "supported-collation",
			"The collations supported are i;ascii-casemap, i;octet and i;unicode-casemap."}
	}
	negate := false
	switch strings.TrimSpace(t.Negate) {
	case "", "no":
	case "yes":
		negate = true
	default:
		return &filterError{http.StatusBadRequest, "valid-filter", `negate-condition is "yes" or "no".`}
	}
	plan.texts[t] = &textMatch{text: fold(collation, t.Text), collation: collation, negate: negate}
	return nil
}

// fold puts s in the form its collation compares: ASCII letters in lower case for
// i;ascii-casemap; compatibility decomposition and Unicode case folding for
// i;unicode-casemap (RFC 5051, approximately); unchanged for i;octet.
func fold(collation, s string) string {
	switch collation {
	case collationASCII:
		b := []byte(s)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	case collationUnicode:
		return cases.Fold().String(norm.NFKD.String(s))
	}
	return s
}

// matches reports whether the text-match matches value: a substring, by its collation,
// negated when it says so (RFC 4791 section 9.7.5).
func (t *textMatch) matches(value string) bool {
	return strings.Contains(fold(t.collation, value), t.text) != t.negate
}

// match applies the filter, less the time ranges already applied, to a decoded object.
func (plan *queryPlan) match(po *parsedObject) bool {
	return plan.matchComp(plan.top, po.cal.Component, po, 1)
}

// matchComp applies comp-filter f to component c, whose name is f's.
func (plan *queryPlan) matchComp(f *xmlCompFilter, c *ical.Component, po *parsedObject, depth int) bool {
	for i := range f.Props {
		if !plan.matchProp(&f.Props[i], c, po) {
			return false
		}
	}
	for i := range f.Comps {
		cf := &f.Comps[i]
		found := false
		for _, child := range c.Children {
			if child.Name == cf.Name && (cf.IsNotDefined != nil || plan.matchComp(cf, child, po, depth+1)) {
				found = true
				break
			}
		}
		if found == (cf.IsNotDefined != nil) {
			return false
		}
	}
	return true
}

// matchProp applies prop-filter f to component c: some instance of the property passes its
// param-filters and its time-range or text-match (RFC 4791 section 9.7.2).
func (plan *queryPlan) matchProp(f *xmlPropFilter, c *ical.Component, po *parsedObject) bool {
	props := c.Props.Values(strings.ToUpper(strings.TrimSpace(f.Name)))
	if len(props) == 0 || f.IsNotDefined != nil {
		return len(props) == 0 && f.IsNotDefined != nil
	}
	for i := range props {
		p := &props[i]
		ok := true
		for j := range f.Params {
			if !plan.matchParam(&f.Params[j], p) {
				ok = false
				break
			}
		}
		if ok && f.TimeRange != nil {
			tr, _ := parseFilterRange(f.TimeRange)
			t, err := po.time(p)
			ok = err == nil && (tr.start.IsZero() || !t.Before(tr.start)) && (tr.end.IsZero() || t.Before(tr.end))
		} else if ok && f.TextMatch != nil {
			ok = plan.matchText(plan.texts[f.TextMatch], p)
		}
		if ok {
			return true
		}
	}
	return false
}

// matchText applies a text-match to a property's text: each value of a list (CATEGORIES,
// RESOURCES), else the unescaped value.
func (plan *queryPlan) matchText(t *textMatch, p *ical.Prop) bool {
	var values []string
	switch p.Name {
	case ical.PropCategories, ical.PropResources:
		if l, err := p.TextList(); err == nil {
			values = l
		}
	}
	if values == nil {
		if v, err := p.Text(); err == nil {
			values = []string{v}
		} else {
			values = []string{p.Value}
		}
	}
	if t.negate {
		// Not in any of them.
		for _, v := range values {
			if !t.matches(v) {
				return false
			}
		}
		return true
	}
	for _, v := range values {
		if t.matches(v) {
			return true
		}
	}
	return false
}

// matchParam applies param-filter f to property p (RFC 4791 section 9.7.3).
func (plan *queryPlan) matchParam(f *xmlParamFilter, p *ical.Prop) bool {
	values := p.Params.Values(strings.ToUpper(strings.TrimSpace(f.Name)))
	if len(values) == 0 || f.IsNotDefined != nil {
		return len(values) == 0 && f.IsNotDefined != nil
	}
	if f.TextMatch == nil {
		return true
	}
	t := plan.texts[f.TextMatch]
	for _, v := range values {
		if t.matches(v) {
			return true
		}
	}
	return false
}

// readQuery reads a calendar-query body for the filters of this file: the properties asked
// for (getetag and calendar-data for allprop) and the checked plan. ok is false, with nothing
// written, for a body go-webdav should answer (propname, unreadable); a refused filter is
// answered here (handled true).
func readQuery(w *responseWriter, body []byte) (props []xml.Name, plan *queryPlan, ok bool) {
	var q personalQuery
	if err := xml.Unmarshal(body, &q); err != nil || q.PropName != nil || (q.Prop == nil && q.AllProp == nil) {
		return nil, nil, false
	}
	if q.Prop != nil {
		for _, pr := range q.Prop.Props {
			props = append(props, pr.XMLName)
		}
	} else {
		props = []xml.Name{getETagName, calendarDataName}
	}
	if q.Filter == nil {
		w.raw(http.StatusBadRequest, func() {
			writeCalDAVErrorMessage(w.ResponseWriter, http.StatusBadRequest, "valid-filter", "A calendar-query needs a filter.")
		})
		return nil, nil, true
	}
	plan, err := planQuery(q.Filter.Comps)
	if err != nil {
		fe := err.(*filterError)
		w.raw(fe.status, func() { writeCalDAVErrorMessage(w.ResponseWriter, fe.status, fe.condition, fe.msg) })
		return nil, nil, true
	}
	return props, plan, true
}

// serveHearingsFilteredQuery answers a calendar-query on the hearings calendar whose filter
// the stored extents alone do not decide (serveHearingsQuery's shape): its time range from
// the stored extents, the rest of the filter on the decoded objects, as on personal
// calendars. It returns false, having written nothing, for a body go-webdav should answer.
func (h *handler) serveHearingsFilteredQuery(w *responseWriter, r *http.Request, user *courtside.User, body []byte) bool {
	props, plan, ok := readQuery(w, body)
	if !ok || plan == nil {
		return ok
	}
	tr, _ := prefilterRange(plan.ranges)
	if etr, ok := plan.ranges[ical.CompEvent]; ok {
		tr = etr
	}
	objs, err := h.calendars.FindCalendarObjects(r.Context(), user.ID, tr.start, tr.end, true)
	if err != nil {
		h.serviceError(w, r.Context(), "find calendar objects", err)
		return true
	}
	var kept []*courtside.CalendarObject
	for _, o := range tr.filterObjects(objs) {
		if plan.component != "" && plan.component != ical.CompEvent {
			continue // a hearing object holds one VEVENT
		}
		if plan.decode {
			po, err := parseObject(o.Data)
			if err != nil || !plan.match(po) {
				continue
			}
		}
		kept = append(kept, o)
	}
	writeHearingObjects(w, user, kept, props)
	return true
}
