package calendar

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
)

// CalDAV scheduling (RFC 6638) for interpreters' bookings. The principal advertises its
// calendar-user-address-set (mailto: of the user's e-mail address), schedule-inbox-URL and
// schedule-outbox-URL. The inbox (/dav/calendars/{user}/inbox/) holds, as iTIP messages built
// by BuildInvitation with Courtside as ORGANIZER, the booking invitations of the caller
// (courtside.SchedulingService, read from the bookings as they stand): a REQUEST per offer or
// booking awaiting reconfirmation, a CANCEL per booking cancelled lately. A DELETE takes a
// message out of the inbox and changes nothing else. The interpreter answers either by PUT of
// the attendee's copy (the invitation stored in one of their calendars with their PARTSTAT)
// or by POST of an iTIP REPLY to the outbox; both go through
// SchedulingService.AnswerScheduledInvitation, the rules of every other answer. A POST of a
// VFREEBUSY REQUEST to the outbox answers the caller's own busy time. Other users' inboxes
// and outboxes answer 404 like everything else of theirs.

// DefaultOrganizer is the ORGANIZER of the inbox's invitations when no iMIP reply address is
// configured: answers then come by CalDAV only.
const DefaultOrganizer = "scheduling@courtside.invalid"

// Scheduling property and resource names.
var (
	scheduleInboxURLName  = xml.Name{Space: caldavNS, Local: "schedule-inbox-URL"}
	scheduleOutboxURLName = xml.Name{Space: caldavNS, Local: "schedule-outbox-URL"}
	displayNamePropName   = xml.Name{Space: "DAV:", Local: "displayname"}
	scheduleTagName       = xml.Name{Space: caldavNS, Local: "schedule-tag"}
)

// setScheduleTag adds the Schedule-Tag header to a GET or HEAD of a personal object that is
// an attendee's copy of an invitation (RFC 6638 section 3.2.10); go-webdav writes the rest.
func (h *handler) setScheduleTag(w *responseWriter, r *http.Request, p davPath) {
	if h.avail == nil || !h.schedulingOn() {
		return
	}
	if o, err := h.avail.FindAvailabilityObject(r.Context(), p.calendar, p.object); err == nil && o.ScheduleTag != "" {
		w.Header().Set("Schedule-Tag", `"`+o.ScheduleTag+`"`)
	}
}

// schedulingOn reports whether the handler serves scheduling.
func (h *handler) schedulingOn() bool {
	return h.scheduling != nil && h.invitationUID != nil && h.organizer != ""
}

// inboxMessage is one message of an inbox, rendered.
type inboxMessage struct {
	name string
	data []byte
	etag string
	inv  *courtside.ScheduledInvitation
}

// inboxMessages renders the caller's inbox. A user without an e-mail address has an empty
// inbox: an invitation needs their address as ATTENDEE.
func (h *handler) inboxMessages(r *http.Request, user *courtside.User) ([]inboxMessage, error) {
	if user.Email == "" {
		return nil, nil
	}
	invs, err := h.scheduling.FindScheduledInvitations(r.Context())
	if err != nil {
		return nil, err
	}
	domain := h.organizer[strings.LastIndexByte(h.organizer, '@')+1:]
	out := make([]inboxMessage, 0, len(invs))
	for _, inv := range invs {
		data, err := BuildInvitation(Invitation{Method: inv.Method, UID: h.invitationUID(inv.BookingID, inv.InterpreterID, domain),
			Sequence: inv.Sequence, Stamp: inv.Stamp, Organizer: h.organizer, Attendee: user.Email, Hearing: inv.Hearing,
			Language: inv.Language, Withdrawn: inv.Withdrawn})
		if err != nil {
			return nil, err
		}
		out = append(out, inboxMessage{name: inboxItemName(inv.BookingID, inv.Method, inv.Sequence), data: data, etag: ETag(data), inv: inv})
	}
	return out, nil
}

// serveScheduling answers the requests on the inbox, its messages and the outbox. It reports
// false for a request that is not one of those.
func (h *handler) serveScheduling(w *responseWriter, r *http.Request, user *courtside.User, p davPath) bool {
	switch p.kind {
	case resourceInbox, resourceInboxItem, resourceOutbox:
	default:
		return false
	}
	if !h.schedulingOn() {
		w.fail(http.StatusNotFound, "")
		return true
	}
	switch {
	case r.Method == http.MethodOptions:
		allow := "OPTIONS, PROPFIND, REPORT"
		switch p.kind {
		case resourceInboxItem:
			allow = "OPTIONS, GET, HEAD, PROPFIND, DELETE"
		case resourceOutbox:
			allow = "OPTIONS, PROPFIND, POST"
		}
		w.Header().Set("DAV", "1, 3, calendar-access, calendar-schedule")
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "PROPFIND":
		h.serveSchedulePropFind(w, r, user, p)
	case r.Method == "REPORT" && p.kind == resourceInbox:
		h.serveInboxReport(w, r, user)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && p.kind == resourceInboxItem:
		msgs, err := h.inboxMessages(r, user)
		if err != nil {
			h.serviceError(w, r.Context(), "scheduling inbox", err)
			return true
		}
		for _, m := range msgs {
			if m.name == p.canonical()[len(InboxPath(user.Username)):] {
				w.Header().Set("Content-Type", ical.MIMEType+"; charset=utf-8")
				w.Header().Set("ETag", `"`+m.etag+`"`)
				w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
				w.WriteHeader(http.StatusOK)
				if r.Method == http.MethodGet {
					w.Write(m.data)
				}
				return true
			}
		}
		w.fail(http.StatusNotFound, "")
	case r.Method == http.MethodDelete && p.kind == resourceInboxItem:
		if err := h.scheduling.DismissScheduledInvitation(r.Context(), p.bookingID, p.method, p.sequence); err != nil {
			h.serviceError(w, r.Context(), "dismiss inbox message", err)
			return true
		}
		w.raw(http.StatusNoContent, func() { w.ResponseWriter.WriteHeader(http.StatusNoContent) })
	case r.Method == http.MethodPost && p.kind == resourceOutbox:
		h.serveOutboxPost(w, r, user)
	default:
		w.fail(http.StatusMethodNotAllowed, "")
	}
	return true
}

// principalScheduleProps returns the scheduling properties of the user's principal, as raw
// XML: the calendar-user-address-set (mailto: first, then the ATTENDEE address of the
// hearings calendar), and the inbox and outbox URLs when scheduling is served.
func (h *handler) principalScheduleProps(user *courtside.User) map[xml.Name]string {
	addrs := ""
	if user.Email != "" {
		addrs += `<href xmlns="DAV:">` + escapeText("mailto:"+user.Email) + `</href>`
	}
	addrs += `<href xmlns="DAV:">` + escapeText(AttendeeAddress(user.Username)) + `</href>`
	out := map[xml.Name]string{calendarUserAddressSetName: addrs}
	if h.schedulingOn() {
		out[scheduleInboxURLName] = `<href xmlns="DAV:">` + escapeText(InboxPath(user.Username)) + `</href>`
		out[scheduleOutboxURLName] = `<href xmlns="DAV:">` + escapeText(OutboxPath(user.Username)) + `</href>`
	}
	return out
}

// The privileges of the inbox and the outbox (RFC 6638 section 6.1).
const (
	inboxPrivileges = readOnlyPrivileges + `<privilege xmlns="DAV:"><unbind></unbind></privilege>` +
		`<privilege xmlns="DAV:"><schedule-deliver xmlns="` + caldavNS + `"></schedule-deliver></privilege>`
	outboxPrivileges = readOnlyPrivileges +
		`<privilege xmlns="DAV:"><schedule-send xmlns="` + caldavNS + `"></schedule-send></privilege>`
	inboxReports = supportedReports
)

// inboxCTag is the inbox's CS:getctag: a hash of its messages' names and ETags.
func inboxCTag(msgs []inboxMessage) string {
	s := sha256.New()
	for _, m := range msgs {
		io.WriteString(s, m.name+" "+m.etag+"\n")
	}
	return "https://courtside/inbox/" + hex.EncodeToString(s.Sum(nil)[:16])
}

// serveSchedulePropFind answers PROPFIND on the inbox (Depth 1 lists its messages), a
// message, or the outbox.
func (h *handler) serveSchedulePropFind(w *responseWriter, r *http.Request, user *courtside.User, p davPath) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var pf propFind
	if len(bytes.TrimSpace(body)) == 0 {
		pf.AllProp = &struct{}{}
	} else if err := xml.Unmarshal(body, &pf); err != nil {
		w.fail(http.StatusBadRequest, "Bad request: malformed PROPFIND body.")
		return
	}
	depth := strings.TrimSpace(r.Header.Get("Depth"))
	principal := PrincipalPath(user.Username)
	var ms multistatus
	if p.kind == resourceOutbox {
		ms.Responses = append(ms.Responses, propResponse(OutboxPath(user.Username), &pf, map[xml.Name]string{
			resourceTypeName:         `<collection xmlns="DAV:"></collection><schedule-outbox xmlns="` + caldavNS + `"></schedule-outbox>`,
			displayNamePropName:      "Outbox",
			currentUserPrincipalName: `<href xmlns="DAV:">` + escapeText(principal) + `</href>`,
			currentUserPrivName:      outboxPrivileges,
		}))
		writeMultistatus(w, &ms)
		return
	}
	msgs, err := h.inboxMessages(r, user)
	if err != nil {
		h.serviceError(w, r.Context(), "scheduling inbox", err)
		return
	}
	item := func(m inboxMessage) response {
		return propResponse(InboxPath(user.Username)+m.name, &pf, map[xml.Name]string{
			resourceTypeName:         "",
			getETagName:              escapeText(`"` + m.etag + `"`),
			getContentTypeName:       escapeText(ical.MIMEType + "; charset=utf-8"),
			getContentLenName:        strconv.Itoa(len(m.data)),
			calendarDataName:         escapeData(m.data),
			currentUserPrincipalName: `<href xmlns="DAV:">` + escapeText(principal) + `</href>`,
		})
	}
	if p.kind == resourceInboxItem {
		for _, m := range msgs {
			if InboxPath(user.Username)+m.name == p.canonical() {
				ms.Responses = append(ms.Responses, item(m))
				writeMultistatus(w, &ms)
				return
			}
		}
		w.fail(http.StatusNotFound, "")
		return
	}
	ctag := escapeText(inboxCTag(msgs))
	ms.Responses = append(ms.Responses, propResponse(InboxPath(user.Username), &pf, map[xml.Name]string{
		resourceTypeName:         `<collection xmlns="DAV:"></collection><schedule-inbox xmlns="` + caldavNS + `"></schedule-inbox>`,
		displayNamePropName:      "Inbox",
		getCTagName:              ctag,
		currentUserPrincipalName: `<href xmlns="DAV:">` + escapeText(principal) + `</href>`,
		currentUserPrivName:      inboxPrivileges,
		supportedReportSetName:   inboxReports,
		syncTokenName:            ctag,
	}))
	if depth == "1" {
		for _, m := range msgs {
			ms.Responses = append(ms.Responses, item(m))
		}
	}
	writeMultistatus(w, &ms)
}

// propResponse answers a PROPFIND for one resource with the given property values: those
// asked for (404 for the others), every name for propname, all but calendar-data for allprop.
func propResponse(href string, pf *propFind, values map[xml.Name]string) response {
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
	default:
		for name, v := range values {
			if pf.PropName != nil {
				v = ""
			} else if name == calendarDataName {
				continue
			}
			found.Prop.Props = append(found.Prop.Props, property{XMLName: name, Inner: v})
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

// serveInboxReport answers calendar-multiget (the named messages), calendar-query (every
// message: they are all VEVENTs of the caller's invitations) and sync-collection on the inbox.
func (h *handler) serveInboxReport(w *responseWriter, r *http.Request, user *courtside.User) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var q simpleMultiget // a calendar-query reads the same prop; its filter is not needed
	var props []xml.Name
	var hrefs []string
	syncToken, syncing := "", false
	switch reportName(body) {
	case syncCollectionName:
		// No change log is kept for an inbox: the empty token and the current one are
		// answered (every message, or none), any other is no longer valid and the client
		// starts over (RFC 6578 section 3.2).
		req, _, sp, ok := parseSyncRequest(w, r, body)
		if !ok {
			return
		}
		syncToken, syncing = strings.TrimSpace(req.SyncToken), true
		q.Prop = &propList{}
		for _, name := range sp {
			q.Prop.Props = append(q.Prop.Props, property{XMLName: name})
		}
	case calendarMultigetName:
		if err := xml.Unmarshal(body, &q); err != nil {
			w.fail(http.StatusBadRequest, "")
			return
		}
		hrefs = q.Hrefs
	case calendarQueryName:
		var cq personalQuery
		if err := xml.Unmarshal(body, &cq); err != nil {
			w.fail(http.StatusBadRequest, "")
			return
		}
		q.Prop = cq.Prop
	default:
		w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "supported-report") })
		return
	}
	if q.Prop != nil {
		for _, p := range q.Prop.Props {
			props = append(props, p.XMLName)
		}
	} else {
		props = []xml.Name{getETagName}
	}
	msgs, err := h.inboxMessages(r, user)
	if err != nil {
		h.serviceError(w, r.Context(), "scheduling inbox", err)
		return
	}
	byPath := map[string]inboxMessage{}
	for _, m := range msgs {
		byPath[InboxPath(user.Username)+m.name] = m
	}
	pf := &propFind{Prop: &propList{}}
	for _, name := range props {
		pf.Prop.Props = append(pf.Prop.Props, property{XMLName: name})
	}
	var ms multistatus
	if syncing {
		current := inboxCTag(msgs)
		switch syncToken {
		case "":
		case current:
			msgs = nil
		default:
			w.raw(http.StatusForbidden, func() { writeDAVError(w.ResponseWriter, http.StatusForbidden, "valid-sync-token") })
			return
		}
		ms.SyncToken = current
	}
	add := func(path string, m inboxMessage) {
		ms.Responses = append(ms.Responses, propResponse(path, pf, map[xml.Name]string{
			getETagName:        escapeText(`"` + m.etag + `"`),
			getContentTypeName: escapeText(ical.MIMEType + "; charset=utf-8"),
			calendarDataName:   escapeData(m.data),
		}))
	}
	if hrefs == nil {
		for _, m := range msgs {
			add(InboxPath(user.Username)+m.name, m)
		}
	}
	for _, href := range hrefs {
		u, err := url.Parse(strings.TrimSpace(href))
		if err != nil {
			w.fail(http.StatusBadRequest, "")
			return
		}
		if m, ok := byPath[u.Path]; ok {
			add(u.Path, m)
		} else {
			ms.Responses = append(ms.Responses, response{Href: u.Path, Status: statusLine(http.StatusNotFound)})
		}
	}
	writeMultistatus(w, &ms)
}

// serveOutboxPost answers a POST to the outbox (RFC 6638 section 5): an iTIP REPLY answers
// the caller's booking; a VFREEBUSY REQUEST answers the caller's own busy time. The answer is
// a CALDAV:schedule-response with one response per recipient.
func (h *handler) serveOutboxPost(w *responseWriter, r *http.Request, user *courtside.User) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxReplyBytes+1))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if len(body) > MaxReplyBytes {
		w.fail(http.StatusRequestEntityTooLarge, "")
		return
	}
	cal, err := DecodeICal(body)
	if err != nil {
		writeCalDAVErrorMessage(w, http.StatusBadRequest, "valid-calendar-data", "Malformed iCalendar.")
		return
	}
	method := ""
	if p := cal.Props.Get(ical.PropMethod); p != nil {
		method = strings.ToUpper(strings.TrimSpace(p.Value))
	}
	switch {
	case method == MethodReply:
		reply, err := ParseReply(body)
		if err != nil {
			writeCalDAVErrorMessage(w, http.StatusBadRequest, "valid-scheduling-message", "Not an iTIP REPLY of one VEVENT with one ATTENDEE.")
			return
		}
		if _, err := h.scheduling.AnswerScheduledInvitation(r.Context(), reply); err != nil {
			h.writeSchedulingError(w, r, err)
			return
		}
		writeScheduleResponse(w, []scheduleRecipient{{href: "mailto:" + h.organizer, status: "2.0;Success"}})
	case method == MethodRequest && len(cal.Children) > 0 && cal.Children[0].Name == ical.CompFreeBusy:
		h.serveOutboxFreeBusy(w, r, user, cal.Children[0])
	default:
		writeCalDAVErrorMessage(w, http.StatusForbidden, "valid-scheduling-message",
			"The outbox takes an iTIP REPLY to a booking invitation or a VFREEBUSY REQUEST.")
	}
}

// writeSchedulingError answers a refused reply: 403 with CALDAV:valid-scheduling-message for
// a reply that is not the caller's to give (a forged or unknown UID, another interpreter's
// booking, another address), 409 for one that comes too late (answered, expired, moved since),
// 400 for a PARTSTAT that answers nothing. Nothing was changed.
func (h *handler) writeSchedulingError(w *responseWriter, r *http.Request, err error) {
	switch courtside.ErrorCode(err) {
	case courtside.ENOTFOUND, courtside.EFORBIDDEN:
		w.raw(http.StatusForbidden, func() {
			writeCalDAVErrorMessage(w.ResponseWriter, http.StatusForbidden, "valid-scheduling-message",
				"No invitation of yours has that UID.")
		})
	case courtside.ECONFLICT:
		w.raw(http.StatusConflict, func() {
			writeCalDAVErrorMessage(w.ResponseWriter, http.StatusConflict, "valid-scheduling-message", courtside.ErrorMessage(err))
		})
	case courtside.EINVALID:
		w.raw(http.StatusBadRequest, func() {
			writeCalDAVErrorMessage(w.ResponseWriter, http.StatusBadRequest, "valid-scheduling-message", courtside.ErrorMessage(err))
		})
	default:
		h.serviceError(w, r.Context(), "answer scheduled invitation", err)
	}
}

// serveOutboxFreeBusy answers a VFREEBUSY REQUEST: the caller's own busy time between its
// DTSTART and DTEND (at most a year), from the data the free-busy-query REPORT and the
// interpreters' ranking use; other attendees are not the caller's to look at (3.7).
func (h *handler) serveOutboxFreeBusy(w *responseWriter, r *http.Request, user *courtside.User, fb *ical.Component) {
	start, err1 := fb.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	end, err2 := fb.Props.DateTime(ical.PropDateTimeEnd, time.UTC)
	if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > 366*24*time.Hour {
		writeCalDAVErrorMessage(w, http.StatusBadRequest, "valid-scheduling-message", "A VFREEBUSY needs DTSTART and DTEND, at most a year apart.")
		return
	}
	var out []scheduleRecipient
	for _, a := range fb.Props.Values(ical.PropAttendee) {
		addr := strings.TrimSpace(a.Value)
		own := user.Email != "" && strings.EqualFold(strings.TrimPrefix(strings.ToLower(addr), "mailto:"), strings.ToLower(user.Email))
		if !own {
			out = append(out, scheduleRecipient{href: addr, status: "3.7;Invalid calendar user"})
			continue
		}
		busy, err := h.busyTime(r, user, start, end)
		if err != nil {
			h.serviceError(w, r.Context(), "find busy time", err)
			return
		}
		out = append(out, scheduleRecipient{href: addr, status: "2.0;Success", data: renderFreeBusy(busy, start, end, time.Now())})
		if len(out) >= 20 {
			break
		}
	}
	writeScheduleResponse(w, out)
}

// scheduleRecipient is one response of a CALDAV:schedule-response.
type scheduleRecipient struct {
	href, status string
	data         []byte
}

// writeScheduleResponse writes 200 with a CALDAV:schedule-response (RFC 6638 section 10.2).
func writeScheduleResponse(w http.ResponseWriter, rs []scheduleRecipient) {
	var b strings.Builder
	b.WriteString(xml.Header + `<C:schedule-response xmlns:D="DAV:" xmlns:C="` + caldavNS + `">`)
	for _, r := range rs {
		b.WriteString(`<C:response><C:recipient><D:href>` + escapeText(r.href) + `</D:href></C:recipient><C:request-status>` +
			escapeText(r.status) + `</C:request-status>`)
		if r.data != nil {
			b.WriteString(`<C:calendar-data>` + escapeData(r.data) + `</C:calendar-data>`)
		}
		b.WriteString(`</C:response>`)
	}
	b.WriteString(`</C:schedule-response>`)
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, b.String())
}

// attendeeCopy is what a PUT of an object holding one of Courtside's invitations says: the
// object is the attendee's copy of a scheduling object (RFC 6638 section 3.2), and the
// caller's PARTSTAT in it.
type attendeeCopy struct {
	reply courtside.InvitationReply
	tag   string // the Schedule-Tag: changes with the invitation's SEQUENCE only
}

// scheduleTag returns the Schedule-Tag of an attendee copy of invitation uid at sequence.
func scheduleTag(uid string, sequence int) string {
	sum := sha256.Sum256([]byte(uid + "\n" + strconv.Itoa(sequence)))
	return hex.EncodeToString(sum[:12])
}

// readAttendeeCopy reports whether po is a copy of one of Courtside's invitations (its
// ORGANIZER is Courtside's scheduling address), and if so what the caller's answer in it is.
func (h *handler) readAttendeeCopy(po *parsedObject, user *courtside.User) (*attendeeCopy, bool) {
	if !h.schedulingOn() || po.master == nil || po.component != ical.CompEvent {
		return nil, false
	}
	org := po.master.Props.Get(ical.PropOrganizer)
	if org == nil || !strings.EqualFold(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(org.Value)), "mailto:"), strings.ToLower(h.organizer)) {
		return nil, false
	}
	c := &attendeeCopy{reply: courtside.InvitationReply{UID: po.uid}}
	if p := po.master.Props.Get(ical.PropSequence); p != nil {
		c.reply.Sequence, _ = strconv.Atoi(strings.TrimSpace(p.Value))
	}
	for _, a := range po.master.Props.Values(ical.PropAttendee) {
		addr := strings.TrimSpace(a.Value)
		if len(addr) > 7 && strings.EqualFold(addr[:7], "mailto:") {
			addr = addr[7:]
		}
		if user.Email != "" && strings.EqualFold(addr, user.Email) {
			c.reply.Attendee = addr
			c.reply.PartStat = strings.ToUpper(strings.TrimSpace(a.Params.Get(ical.ParamParticipationStatus)))
		}
	}
	if p := po.master.Props.Get(ical.PropComment); p != nil {
		c.reply.Comment, _ = p.Text()
	}
	c.tag = scheduleTag(po.uid, c.reply.Sequence)
	return c, true
}

// answerAttendeeCopy applies the caller's PARTSTAT in a PUT attendee copy, before the copy is
// stored: ACCEPTED or DECLINED answers the booking (AnswerScheduledInvitation) unless the copy
// already stored says the same; NEEDS-ACTION and the rest answer nothing. If-Schedule-Tag-Match
// (RFC 6638 section 3.2.10) must name the stored copy's Schedule-Tag. It writes the refusal and
// reports false when the PUT must not go on.
func (h *handler) answerAttendeeCopy(w *responseWriter, r *http.Request, p davPath, c *attendeeCopy) bool {
	ctx := r.Context()
	var prev *attendeeCopy
	cur, err := h.avail.FindAvailabilityObject(ctx, p.calendar, p.object)
	if err == nil {
		if po, err := parseObject(cur.Data); err == nil && po.uid == c.reply.UID {
			prev, _ = h.readAttendeeCopy(po, courtside.UserFromContext(ctx))
		}
	}
	if v := r.Header.Get("If-Schedule-Tag-Match"); v != "" {
		tag, ok := unquoteETag(v)
		if !ok || cur == nil || cur.ScheduleTag == "" || cur.ScheduleTag != tag {
			w.fail(http.StatusPreconditionFailed, "")
			return false
		}
	}
	switch c.reply.PartStat {
	case courtside.PartStatAccepted, courtside.PartStatDeclined:
	default:
		return true
	}
	if prev != nil && prev.reply.PartStat == c.reply.PartStat && prev.reply.Sequence == c.reply.Sequence {
		return true // the answer stored already: a client writing its copy again
	}
	if _, err := h.scheduling.AnswerScheduledInvitation(ctx, c.reply); err != nil {
		h.writeSchedulingError(w, r, err)
		return false
	}
	return true
}
