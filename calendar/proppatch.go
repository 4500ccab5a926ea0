package calendar

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"

	"courtside"
)

// PROPPATCH: go-webdav v0.6.0 answers 501, and iOS sends one (colour, order) right after
// setting an account up. On the user's calendars (hearings and personal ones) DAV:displayname,
// CALDAV:calendar-description (at most courtside.MaxCalendarDescription bytes) and Apple's
// calendar-color are stored per user (courtside.AvailabilityService's
// SetCalendarSettings); every other property is refused with 403 in a 207 multistatus (RFC 4918
// section 9.2), and then, the update being all or nothing, the storable ones in the same
// request are answered 424 and not stored. Elsewhere every property is refused.

var (
	displayNameName   = xml.Name{Space: "DAV:", Local: "displayname"}
	calendarColorName = xml.Name{Space: "http://apple.com/ns/ical/", Local: "calendar-color"}
	calendarDescName  = xml.Name{Space: caldavNS, Local: "calendar-description"}
)

// propertyUpdate is the body of a PROPPATCH.
type propertyUpdate struct {
	XMLName xml.Name     `xml:"DAV: propertyupdate"`
	Set     []propHolder `xml:"DAV: set"`
	Remove  []propHolder `xml:"DAV: remove"`
}

// propHolder is a DAV:set or DAV:remove; only the names of the properties in it matter.
type propHolder struct {
	Prop propList `xml:"DAV: prop"`
}

// servePropPatch answers a PROPPATCH on p. A body that is not a propertyupdate is a 400 (413
// when over the limit).
func (h *handler) servePropPatch(w *responseWriter, r *http.Request, p davPath) {
	var update propertyUpdate
	if err := xml.NewDecoder(r.Body).Decode(&update); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	calendarName := ""
	switch {
	case h.avail == nil:
	case p.kind == resourceHearings:
		calendarName = hearingsName
	case p.kind == resourcePersonal:
		calendarName = p.calendar
	}
	if calendarName == "" {
		refuseAll(w, r, update)
		return
	}
	var up courtside.CalendarSettingsUpdate
	ok, refused, failed := propStat{Status: statusLine(http.StatusOK)}, propStat{Status: statusLine(http.StatusForbidden)},
		propStat{Status: statusLine(http.StatusFailedDependency)}
	for i, holders := range [][]propHolder{update.Set, update.Remove} {
		for _, hd := range holders {
			for _, prop := range hd.Prop.Props {
				value := ""
				if i == 0 {
					value = strings.TrimSpace(innerText(prop.Inner))
				}
				switch prop.XMLName {
				case displayNameName:
					value = sanitizeLine(value, 200)
					up.DisplayName = &value
				case calendarColorName:
					if value != "" && courtside.ValidateCalendarColor(value) != nil {
						refused.Prop.Props = append(refused.Prop.Props, property{XMLName: prop.XMLName})
						continue
					}
					up.Color = &value
				case calendarDescName:
					if len(value) > courtside.MaxCalendarDescription || strings.ContainsRune(value, 0) {
						refused.Prop.Props = append(refused.Prop.Props, property{XMLName: prop.XMLName})
						continue
					}
					up.Description = &value
				default:
					refused.Prop.Props = append(refused.Prop.Props, property{XMLName: prop.XMLName})
					continue
				}
				ok.Prop.Props = append(ok.Prop.Props, property{XMLName: prop.XMLName})
			}
		}
	}
	resp := response{Href: r.URL.Path}
	if len(refused.Prop.Props) > 0 {
		failed.Prop.Props = ok.Prop.Props
		resp.PropStats = append(resp.PropStats, refused)
		if len(failed.Prop.Props) > 0 {
			resp.PropStats = append(resp.PropStats, failed)
		}
	} else {
		if up.DisplayName != nil || up.Color != nil || up.Description != nil {
			if err := h.avail.SetCalendarSettings(r.Context(), calendarName, up); err != nil {
				h.serviceError(w, r.Context(), "set calendar settings", err)
				return
			}
		}
		resp.PropStats = append(resp.PropStats, ok)
	}
	writeMultistatus(w, &multistatus{Responses: []response{resp}})
}

// innerText returns the character data of raw XML content.
func innerText(inner string) string {
	d := xml.NewDecoder(bytes.NewReader([]byte("<x>" + inner + "</x>")))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return b.String()
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}

// refuseAll refuses every property of a PROPPATCH with a 403 inside a 207 multistatus.
func refuseAll(w *responseWriter, r *http.Request, update propertyUpdate) {
	refused := propStat{Status: statusLine(http.StatusForbidden)}
	for _, holders := range [][]propHolder{update.Set, update.Remove} {
		for _, h := range holders {
			for _, p := range h.Prop.Props {
				refused.Prop.Props = append(refused.Prop.Props, property{XMLName: p.XMLName})
			}
		}
	}
	writeMultistatus(w, &multistatus{Responses: []response{{Href: r.URL.Path, PropStats: []propStat{refused}}}})
}
