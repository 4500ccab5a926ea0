package calendar

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"

	"courtside"
)

// CALDAV:calendar-user-address-set on the principal (RFC 6638 section 2.4.1), which go-webdav
// v0.6.0 lacks: the user's mailto: address (the ATTENDEE of their booking invitations) and
// the address under which the hearings calendar lists them as ATTENDEE (AttendeeAddress), so
// that calendar apps recognise their own attendee and offer to answer; and, with scheduling,
// schedule-inbox-URL and schedule-outbox-URL (scheduling.go).

var calendarUserAddressSetName = xml.Name{Space: caldavNS, Local: "calendar-user-address-set"}

// servePrincipalPropFind answers a PROPFIND on the user's principal: go-webdav's answer, with
// calendar-user-address-set filled in when it is asked for by name or with propname.
func (h *handler) servePrincipalPropFind(w *responseWriter, r *http.Request, user *courtside.User) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var pf propFind
	wanted := false
	if len(bytes.TrimSpace(body)) > 0 && xml.Unmarshal(body, &pf) == nil {
		if pf.PropName != nil {
			wanted = true
		} else if pf.Prop != nil {
			for _, p := range pf.Prop.Props {
				wanted = wanted || p.XMLName == calendarUserAddressSetName || p.XMLName == scheduleInboxURLName ||
					p.XMLName == scheduleOutboxURLName
			}
		}
	}
	buf := &bufferedResponse{header: http.Header{}}
	h.principals.ServeHTTP(buf, r)
	var ms multistatus
	if !wanted || buf.status != http.StatusMultiStatus || xml.Unmarshal(buf.body.Bytes(), &ms) != nil {
		buf.copyTo(w)
		return
	}
	for i := range ms.Responses {
		resp := &ms.Responses[i]
		if p := parsePath(resp.Href); p.kind != resourcePrincipal || p.username != user.Username {
			continue
		}
		values := h.principalScheduleProps(user)
		var added []property
		for _, name := range []xml.Name{calendarUserAddressSetName, scheduleInboxURLName, scheduleOutboxURLName} {
			v, ok := values[name]
			if !ok {
				continue
			}
			asked := pf.PropName != nil
			if pf.Prop != nil {
				for _, p := range pf.Prop.Props {
					asked = asked || p.XMLName == name
				}
			}
			if !asked {
				continue
			}
			removeProp(resp, name)
			if pf.PropName != nil {
				v = ""
			}
			added = append(added, property{XMLName: name, Inner: v})
		}
		addProps(resp, added)
	}
	for k, v := range buf.header {
		if !strings.EqualFold(k, "Content-Length") {
			w.Header()[k] = v
		}
	}
	writeMultistatus(w, &ms)
}
