package calendar

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"courtside"
)

// PROPFIND on /dav/: go-webdav answers it with the principal's href instead of /dav/, which
// clients that check hrefs (python-caldav) log as a server bug. The root has two properties,
// answered here.

// propFind is the body of a PROPFIND; an empty body means allprop.
type propFind struct {
	XMLName  xml.Name  `xml:"DAV: propfind"`
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *propList `xml:"DAV: prop"`
}

var (
	currentUserPrincipalName = xml.Name{Space: "DAV:", Local: "current-user-principal"}
	resourceTypeName         = xml.Name{Space: "DAV:", Local: "resourcetype"}
)

// serveRootPropFind answers a PROPFIND on /dav/ for user.
func serveRootPropFind(w *responseWriter, r *http.Request, user *courtside.User, href string) {
	var pf propFind
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if strings.TrimSpace(string(body)) == "" {
		pf.AllProp = &struct{}{}
	} else if err := xml.Unmarshal(body, &pf); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	values := map[xml.Name]string{
		currentUserPrincipalName: `<href xmlns="DAV:">` + escapeText(PrincipalPath(user.Username)) + `</href>`,
		resourceTypeName:         `<collection xmlns="DAV:"></collection>`,
	}
	found := propStat{Status: statusLine(http.StatusOK)}
	missing := propStat{Status: statusLine(http.StatusNotFound)}
	switch {
	case pf.Prop != nil:
		for _, p := range pf.Prop.Props {
			if v, ok := values[p.XMLName]; ok {
				found.Prop.Props = append(found.Prop.Props, property{XMLName: p.XMLName, Inner: v})
			} else {
				missing.Prop.Props = append(missing.Prop.Props, property{XMLName: p.XMLName})
			}
		}
	case pf.PropName != nil:
		found.Prop.Props = []property{{XMLName: currentUserPrincipalName}, {XMLName: resourceTypeName}}
	case pf.AllProp != nil:
		found.Prop.Props = []property{
			{XMLName: currentUserPrincipalName, Inner: values[currentUserPrincipalName]},
			{XMLName: resourceTypeName, Inner: values[resourceTypeName]},
		}
	default:
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	resp := response{Href: href}
	for _, ps := range []propStat{found, missing} {
		if len(ps.Prop.Props) > 0 {
			resp.PropStats = append(resp.PropStats, ps)
		}
	}
	writeMultistatus(w, &multistatus{Responses: []response{resp}})
}

// serveOptions answers OPTIONS with what the resource really allows; go-webdav's answer lists
// PUT, DELETE and MKCOL, which are refused here.
func serveOptions(w http.ResponseWriter, p davPath, scheduling bool) {
	allow := "OPTIONS, PROPFIND, REPORT"
	switch {
	case p.kind == resourceHomeSet:
		allow += ", MKCALENDAR"
	case p.kind == resourcePersonal:
		allow = "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, DELETE"
	case p.kind == resourceHearings:
		allow = "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT"
	case p.kind == resourcePersonalObject:
		allow = "OPTIONS, GET, HEAD, PROPFIND, PUT, DELETE"
	case p.kind == resourceHearing:
		allow = "OPTIONS, GET, HEAD, PROPFIND, PUT"
	case !p.collection():
		allow = "OPTIONS, GET, HEAD, PROPFIND"
	}
	dav := "1, 3, calendar-access"
	if scheduling {
		// The server schedules: an attendee's PUT of its copy is its reply (RFC 6638 section 2).
		dav += ", calendar-schedule, calendar-auto-schedule"
	}
	w.Header().Set("DAV", dav)
	w.Header().Set("Allow", allow)
	w.WriteHeader(http.StatusNoContent)
}
