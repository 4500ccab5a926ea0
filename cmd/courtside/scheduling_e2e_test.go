package main_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// davAs sends one CalDAV request to the real binary as username with its app password.
func davAs(t *testing.T, base, username, app, method, path, depth, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.SetBasicAuth(username, app)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// inboxInvitation discovers username's scheduling inbox from the server's root URL as a
// calendar app does (current-user-principal, then schedule-inbox-URL), lists it and returns
// the one invitation in it: its href and its iCalendar data.
func inboxInvitation(t *testing.T, base, username, app string) (string, string) {
	t.Helper()
	href := func(body, prop string) string {
		m := regexp.MustCompile(`<` + prop + `[^>]*>\s*<href[^>]*>([^<]+)</href>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in %s", prop, body)
		}
		return m[1]
	}
	_, root := davAs(t, base, username, app, "PROPFIND", "/", "0", "application/xml",
		`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>`, nil)
	principal := href(root, "current-user-principal")
	_, props := davAs(t, base, username, app, "PROPFIND", principal, "0", "application/xml",
		`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/>`+
			`<C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-user-address-set/></D:prop></D:propfind>`, nil)
	inbox := href(props, "schedule-inbox-URL")
	resp, list := davAs(t, base, username, app, "PROPFIND", inbox, "1", "application/xml",
		`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>`, nil)
	items := regexp.MustCompile(`<href[^>]*>(`+regexp.QuoteMeta(inbox)+`[^<]+\.ics)</href>`).FindAllStringSubmatch(list, -1)
	if resp.StatusCode != http.StatusMultiStatus || len(items) != 1 {
		t.Fatalf("%s's inbox: %d %s", username, resp.StatusCode, list)
	}
	resp, data := davAs(t, base, username, app, "GET", items[0][1], "", "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(data, "METHOD:REQUEST") {
		t.Fatalf("GET of the invitation: %d %s", resp.StatusCode, data)
	}
	return items[0][1], data
}

// TestEndToEnd_SchedulingInboxAcceptAndDeclineReoffer runs the real binary: a booking offer
// reaches the interpreter's CalDAV scheduling inbox as an iTIP REQUEST from Courtside; the
// interpreter, as Thunderbird does on a server that schedules, stores the attendee copy with
// PARTSTAT=ACCEPTED and the booking is ACCEPTED in GraphQL. After a move, the update is in
// the inbox again; the interpreter declines it the same way, and the hearing is offered to
// the next candidate, whose inbox now holds it. Other users see no inbox of theirs. The
// server's root URL answers PROPFIND for discovery and GET with the web app.
func TestEndToEnd_SchedulingInboxAcceptAndDeclineReoffer(t *testing.T) {
	x := startIMIP(t)
	interpA := strings.TrimSpace(cli(t, "", "token", "create", "--db", x.w.db, "--username", "interp-a", "--kind", "app", "--label", "thunderbird"))
	interpB := strings.TrimSpace(cli(t, "", "token", "create", "--db", x.w.db, "--username", "interp-b", "--kind", "app", "--label", "thunderbird"))
	b := mustGQL(t, x.base, x.w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "pt") { id interpreter { name } } }`,
		map[string]any{"h": x.hearingID})
	first := dig(b, "requestInterpreter", "id").(string)
	if who := dig(b, "requestInterpreter", "interpreter", "name"); who != "interp-a" {
		t.Fatalf("offered to %v, want interp-a", who)
	}

	// The root URL: PROPFIND is CalDAV's, GET stays the web app's.
	if resp, body := davAs(t, x.base, "interp-a", interpA, "GET", "/", "", "", "", nil); resp.StatusCode >= 400 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Contains(body, "multistatus") {
		t.Errorf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	href, invitation := inboxInvitation(t, x.base, "interp-a", interpA)
	unfolded := strings.ReplaceAll(invitation, "\r\n ", "")
	for _, want := range []string{"ORGANIZER;CN=Courtside:mailto:" + imipAddress, "mailto:" + interpAMail, "PARTSTAT=NEEDS-ACTION",
		"UID:booking-" + first + "-", "26-CR-04471"} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("the invitation lacks %q:\n%s", want, invitation)
		}
	}
	// InterpB sees neither interpA's inbox nor her invitation.
	for _, p := range []string{href, "/dav/calendars/interp-a/inbox/"} {
		if resp, _ := davAs(t, x.base, "interp-b", interpB, "PROPFIND", p, "0", "", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("interpB's PROPFIND %s: %d, want 404", p, resp.StatusCode)
		}
	}

	// Accept: the attendee copy, stored in interpA's calendar with her PARTSTAT.
	copyOf := func(request, partstat string) string {
		out := strings.Replace(request, "METHOD:REQUEST\r\n", "", 1)
		return strings.Replace(out, "PARTSTAT=NEEDS-ACTION", "PARTSTAT="+partstat, 1)
	}
	stored := "/dav/calendars/interp-a/availability/invitation.ics"
	resp, body := davAs(t, x.base, "interp-a", interpA, "PUT", stored, "", "text/calendar; charset=utf-8", copyOf(invitation, "ACCEPTED"), nil)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Schedule-Tag") == "" {
		t.Fatalf("PUT of the accepted copy: %d %q %s", resp.StatusCode, resp.Header.Get("Schedule-Tag"), body)
	}
	if status, _, _ := x.booking(t, first); status != "ACCEPTED" {
		t.Fatalf("after the accepted copy the booking is %s", status)
	}
	// Thunderbird deletes the message it handled.
	if resp, _ := davAs(t, x.base, "interp-a", interpA, "DELETE", href, "", "", "", nil); resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of the handled message: %d", resp.StatusCode)
	}

	// The hearing moves: the update waits in the inbox; interpA declines it from her calendar.
	moved := x.starts.Add(26 * time.Hour)
	mustGQL(t, x.base, x.w.prosecutor, reschedule, map[string]any{"id": x.hearingID, "s": moved.Format(time.RFC3339),
		"e": moved.Add(2 * time.Hour).Format(time.RFC3339)})
	if status, _, _ := x.booking(t, first); status != "NEEDS_RECONFIRMATION" {
		t.Fatalf("after the move the booking is %s", status)
	}
	_, update := inboxInvitation(t, x.base, "interp-a", interpA)
	if !strings.Contains(update, "SEQUENCE:1") || !strings.Contains(update, "DTSTART:"+moved.Format("20060102T150405Z")) {
		t.Errorf("the update:\n%s", update)
	}
	resp, body = davAs(t, x.base, "interp-a", interpA, "PUT", stored, "", "text/calendar; charset=utf-8", copyOf(update, "DECLINED"), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT of the declined copy: %d %s", resp.StatusCode, body)
	}
	if status, _, _ := x.booking(t, first); status != "DECLINED" {
		t.Fatalf("after the declined copy the booking is %s", status)
	}
	next, who := x.latestBooking(t)
	if next == first || who != "interp-b" {
		t.Fatalf("the decline offered booking %s to %s, want a new booking for interp-b", next, who)
	}
	if s, _, _ := x.booking(t, next); s != "OFFERED" {
		t.Fatalf("the re-offer is %s", s)
	}
	// The re-offer is in interpB's inbox, and interpB accepts by a REPLY to his outbox.
	_, interpBInvitation := inboxInvitation(t, x.base, "interp-b", interpB)
	if !strings.Contains(interpBInvitation, "UID:booking-"+next+"-") {
		t.Fatalf("interpB's invitation:\n%s", interpBInvitation)
	}
	reply := strings.Replace(strings.Replace(interpBInvitation, "METHOD:REQUEST", "METHOD:REPLY", 1), "PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED", 1)
	resp, body = davAs(t, x.base, "interp-b", interpB, "POST", "/dav/calendars/interp-b/outbox/", "", "text/calendar; charset=utf-8", reply, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "2.0;Success") {
		t.Fatalf("interpB's REPLY: %d %s", resp.StatusCode, body)
	}
	if s, _, _ := x.booking(t, next); s != "ACCEPTED" {
		t.Fatalf("after interpB's REPLY his booking is %s", s)
	}
	// InterpA's REPLY for interpB's booking changes nothing.
	resp, _ = davAs(t, x.base, "interp-a", interpA, "POST", "/dav/calendars/interp-a/outbox/", "", "text/calendar; charset=utf-8",
		strings.Replace(strings.Replace(reply, "PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED", 1), interpBMail, interpAMail, 1), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("interpA's REPLY for interpB's booking: %d, want 403", resp.StatusCode)
	}
	if s, _, _ := x.booking(t, next); s != "ACCEPTED" {
		t.Fatalf("after interpA's REPLY for interpB's booking it is %s", s)
	}
}
