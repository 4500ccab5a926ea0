package calendar

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// The few WebDAV XML answers the handler writes itself, where go-webdav's are wrong or missing
// (PROPFIND on /dav/, PROPPATCH).

// multistatus is a DAV:multistatus (RFC 4918 section 14.16).
type multistatus struct {
	XMLName   xml.Name   `xml:"DAV: multistatus"`
	Responses []response `xml:"DAV: response"`
	// SyncToken is the new token of a sync-collection report (RFC 6578 section 6.2).
	SyncToken string `xml:"DAV: sync-token,omitempty"`
}

// response is one DAV:response: a resource and its properties, grouped by status.
type response struct {
	Href string `xml:"DAV: href"`
	// Status is set for a response without properties, such as a sync-collection report's
	// 404 for a hearing that left the calendar.
	Status    string     `xml:"DAV: status,omitempty"`
	PropStats []propStat `xml:"DAV: propstat"`
	Error     *rawXML    `xml:"DAV: error,omitempty"`
}

// rawXML is an element whose content is raw XML.
type rawXML struct {
	Inner string `xml:",innerxml"`
}

// propStat is one DAV:propstat.
type propStat struct {
	Prop   propList `xml:"DAV: prop"`
	Status string   `xml:"DAV: status"`
}

// propList is the content of a DAV:prop.
type propList struct {
	Props []property `xml:",any"`
}

// property is an XML element with its content kept as raw XML.
type property struct {
	XMLName xml.Name
	Inner   string `xml:",innerxml"`
}

// statusLine returns the DAV:status text for an HTTP status.
func statusLine(status int) string {
	return "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status)
}

// writeMultistatus writes a 207 with ms.
func writeMultistatus(w http.ResponseWriter, ms *multistatus) {
	body, err := xml.Marshal(ms)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusMultiStatus)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// escapeText escapes s for XML character data.
func escapeText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
