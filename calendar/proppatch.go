package calendar

import (
	"encoding/xml"
	"net/http"
)

// PROPPATCH: go-webdav v0.6.0 answers 501, and iOS sends one (colour, order) right after
// setting an account up. Everything here is server-generated, so the polite answer is a
// multistatus that refuses every property with 403 (RFC 4918 section 9.2).

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

// servePropPatch refuses every property of a PROPPATCH with a 403 inside a 207 multistatus.
// A body that is not a propertyupdate is a 400 (413 when over the limit).
func servePropPatch(w *responseWriter, r *http.Request) {
	var update propertyUpdate
	if err := xml.NewDecoder(r.Body).Decode(&update); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
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
