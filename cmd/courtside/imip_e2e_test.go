package main_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/emersion/go-ical"

	"courtside/calendar"
	"courtside/notify/notifytest"
)

// The iMIP round trip (RFC 6047) against the real binary: offers by e-mail carry the booking's
// invitation, and the interpreter's answer, sent by Gmail or Outlook to the reply address,
// comes back over SMTP to the binary's own listener and answers the booking.

const imipAddress = "bookings@courtside.test"

// imipWorld is a server with the notify sinks, the reply address and the inbound listener,
// three interpreters with e-mail addresses (ranked in this order), a victim linked to the case
// and a hearing ten days out.
type imipWorld struct {
	s         *sinks
	w         *world
	srv       *server
	base      string
	mailAddr  string // the inbound listener, host:port
	caseID    string
	hearingID string
	starts    time.Time
}

// The interpreters' addresses, as their mail providers spell them.
const (
	interpAMail = "InterpA.Interpreter@gmail.test"
	interpBMail = "interpB.interpreter@outlook.test"
	interpCMail = "interpC.interpreter@gmail.test"
)

// startIMIP starts the world; extra are more flags for the server.
func startIMIP(t *testing.T, extra ...string) *imipWorld {
	t.Helper()
	x := &imipWorld{s: newSinks(t)}
	x.w = noticeWorld(t, x.s)
	for _, u := range []struct{ name, mail string }{{"interp-a", interpAMail}, {"interp-b", interpBMail}, {"interp-c", interpCMail}} {
		cli(t, "", "user", "add", "--db", x.w.db, "--username", u.name, "--role", "interpreter", "--email", u.mail, "--interpreter-languages", "pt:CERTIFIED")
	}
	x.srv, x.mailAddr = startServerWithMail(t, x.w.db, append(x.s.env, "COURTSIDE_IMIP_ADDRESS="+imipAddress), append([]string{"--smtp-addr", "127.0.0.1:0"}, extra...)...)
	x.base = x.srv.url
	court := mustGQL(t, x.base, x.w.admin, `mutation { createCourt(input: {name: "Eastern Courthouse", address: "1 Court Plaza, Springfield", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, x.base, x.w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-04471", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	x.caseID = caseID
	x.starts = time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Hour)
	h := mustGQL(t, x.base, x.w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": caseID, "kind": "TRIAL", "startsAt": x.starts.Format(time.RFC3339), "endsAt": x.starts.Add(2 * time.Hour).Format(time.RFC3339),
		"courtroom": "9C", "externalId": "DA-4471"}})
	x.hearingID = dig(h, "postHearing", "id").(string)
	victimID := victimReachable(t, x.base, x.w, "+12025550171")
	shareCase(t, x.base, x.w.prosecutor, caseID, "Harbor Advocacy")
	mustGQL(t, x.base, x.w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`, map[string]any{"c": caseID, "v": victimID})
	return x
}

// startServerWithMail starts the binary as startServerEnv does, and also waits for the
// address of its inbound SMTP listener.
func startServerWithMail(t *testing.T, db string, env []string, extra ...string) (*server, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	web, mail := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				web <- line
			} else if line, ok := strings.CutPrefix(sc.Text(), "listening for mail on smtp://"); ok {
				mail <- line
			}
		}
	}()
	var mailAddr string
	for s.url == "" || mailAddr == "" {
		select {
		case s.url = <-web:
		case mailAddr = <-mail:
		case <-time.After(60 * time.Second):
			t.Fatalf("server did not start; log:\n%s", s.logs.String())
		}
	}
	return s, mailAddr
}

// invitation is a message to an interpreter with its calendar part.
type invitation struct {
	msg    notifytest.SMTPMessage
	text   string
	method string
	raw    []byte
	event  *ical.Component
	cal    *ical.Calendar
}

func (i *invitation) prop(name string) string {
	if p := i.event.Props.Get(name); p != nil {
		return p.Value
	}
	return ""
}

func (i *invitation) sequence(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(i.prop(ical.PropSequence))
	if err != nil {
		t.Fatalf("SEQUENCE %q", i.prop(ical.PropSequence))
	}
	return n
}

// waitInvitation waits for the n-th message to addr that carries a calendar part of method,
// and parses it.
func (x *imipWorld) waitInvitation(t *testing.T, addr, method string, n int) *invitation {
	t.Helper()
	var found *invitation
	waitUntil(t, fmt.Sprintf("invitation %d (%s) to %s", n, method, addr), func() bool {
		seen := 0
		for _, m := range x.s.smtp.Messages() {
			if len(m.To) != 1 || m.To[0] != addr {
				continue
			}
			got, data, err := m.Calendar()
			if err != nil || got != method {
				continue
			}
			if seen++; seen == n {
				text, _ := m.Body()
				found = &invitation{msg: m, text: text, method: got, raw: data}
				return true
			}
		}
		return false
	})
	cal, err := calendar.DecodeICal(found.raw)
	if err != nil {
		t.Fatalf("the invitation does not parse: %v\n%s", err, found.raw)
	}
	found.cal = cal
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			found.event = c
		}
	}
	if found.event == nil || len(cal.Children) != 1 {
		t.Fatalf("the invitation is not one VEVENT:\n%s", found.raw)
	}
	if m, _ := cal.Props.Text(ical.PropMethod); m != method {
		t.Fatalf("METHOD %q in a part of method %q", m, method)
	}
	return found
}

// booking returns the status and decline reason of booking id, as the coordinator sees it.
func (x *imipWorld) booking(t *testing.T, id string) (status, reason, interpreter string) {
	t.Helper()
	res := mustGQL(t, x.base, x.w.coordinator, `{ bookings { id status declineReason interpreter { name } } }`, nil)
	for _, b := range dig(res, "bookings").([]any) {
		b := b.(map[string]any)
		if b["id"] == id {
			reason, _ := b["declineReason"].(string)
			name, _ := dig(b, "interpreter", "name").(string)
			return b["status"].(string), reason, name
		}
	}
	t.Fatalf("booking %s not found", id)
	return "", "", ""
}

// offerToInterpA asks for a Portuguese interpreter for the hearing and returns the booking,
// offered to interp-a, whom the ranking puts first.
func (x *imipWorld) offerToInterpA(t *testing.T) string {
	t.Helper()
	b := mustGQL(t, x.base, x.w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "pt") { id interpreter { name } } }`,
		map[string]any{"h": x.hearingID})
	if who := dig(b, "requestInterpreter", "interpreter", "name"); who != "interp-a" {
		t.Fatalf("offered to %v, want interp-a", who)
	}
	return dig(b, "requestInterpreter", "id").(string)
}

// passDeadline moves the deadline of the offer of booking id a minute into the past, as the
// clock would move past it.
func (x *imipWorld) passDeadline(t *testing.T, id string) {
	t.Helper()
	raw, err := openRaw(t, x.w.db, "file:"+x.w.db+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE interpreter_bookings SET respond_by = ? WHERE id = ?`,
		time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"), id); err != nil {
		t.Fatal(err)
	}
}

// latestBooking returns the newest booking of the hearing and its interpreter.
func (x *imipWorld) latestBooking(t *testing.T) (id, interpreter string) {
	t.Helper()
	res := mustGQL(t, x.base, x.w.coordinator, `{ bookings { id interpreter { name } } }`, nil)
	bs := dig(res, "bookings").([]any)
	last := bs[len(bs)-1].(map[string]any)
	return last["id"].(string), dig(last, "interpreter", "name").(string)
}

// replyFacts fill a reply fixture.
type replyFacts struct {
	App                                    string // gmail or outlook
	From, Name, To, Attendee, Organizer    string
	UID                                    string
	Sequence                               int
	PartStat, Verb, Comment                string
	StartUTC, EndUTC, StartLocal, EndLocal string
	Stamp, Date, When, Nonce               string
	Summary, Location, Description         string
	Encoding                               string
	Text, HTML, ICS                        string
}

// answer makes the facts of an answer to inv from attendee as app writes it.
func answer(t *testing.T, inv *invitation, app, attendee, partstat string) *replyFacts {
	t.Helper()
	start, err := inv.event.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	end, err := inv.event.Props.DateTime(ical.PropDateTimeEnd, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("America/New_York")
	verb := map[string]string{"ACCEPTED": "Accepted", "DECLINED": "Declined"}[partstat]
	summary, _ := inv.event.Props.Text(ical.PropSummary)
	location, _ := inv.event.Props.Text(ical.PropLocation)
	f := &replyFacts{App: app, From: attendee, Name: "Interpreter", To: imipAddress, Attendee: attendee, Organizer: imipAddress,
		UID: inv.prop(ical.PropUID), Sequence: inv.sequence(t), PartStat: partstat, Verb: verb,
		StartUTC: start.UTC().Format("20060102T150405Z"), EndUTC: end.UTC().Format("20060102T150405Z"),
		StartLocal: start.In(zone).Format("20060102T150405"), EndLocal: end.In(zone).Format("20060102T150405"),
		Stamp: time.Now().UTC().Format("20060102T150405Z"), Date: time.Now().Format(time.RFC1123Z),
		When:    start.In(zone).Format("Mon Jan 2, 2006 3:04pm") + " - " + end.In(zone).Format("3:04pm") + " (EST)",
		Nonce:   strconv.FormatInt(time.Now().UnixNano(), 16),
		Summary: summary, Location: location, Encoding: "base64"}
	f.Text = fmt.Sprintf("%s has %s this invitation.\r\n\r\nTitle: %s\r\nWhen: %s\r\n", attendee, strings.ToLower(verb), summary, f.When)
	f.HTML = fmt.Sprintf(`<html><body><span itemprop="attendee">%s</span> has %s this invitation.<h3>%s</h3></body></html>`, attendee, strings.ToLower(verb), summary)
	return f
}

// icsEscape escapes iCalendar TEXT (RFC 5545 section 3.3.11).
func icsEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\n", `\n`).Replace(s)
}

// foldICS folds iCalendar lines longer than 75 octets, as Google and Exchange do.
func foldICS(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		for len(line) > 75 {
			cut := 75
			for cut > 0 && line[cut]&0xC0 == 0x80 {
				cut--
			}
			b.WriteString(line[:cut] + "\n")
			line = " " + line[cut:]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// render renders the fixtures of f.App into a whole message with CRLF line endings.
func (f *replyFacts) render(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join("testdata", "imip")
	escaped := *f
	escaped.Summary, escaped.Location, escaped.Comment = icsEscape(f.Summary), icsEscape(f.Location), icsEscape(f.Comment)
	escaped.Description = icsEscape("Interpreting. Reply for Courtside.")
	if f.ICS == "" {
		var ics bytes.Buffer
		tmpl := template.Must(template.ParseFiles(filepath.Join(dir, f.App+"-reply.ics")))
		if err := tmpl.Execute(&ics, escaped); err != nil {
			t.Fatal(err)
		}
		f.ICS = strings.ReplaceAll(foldICS(ics.String()), "\n", "\r\n")
	}
	funcs := template.FuncMap{
		"b64": func(s string) string {
			enc := base64.StdEncoding.EncodeToString([]byte(s))
			var b strings.Builder
			for len(enc) > 76 {
				b.WriteString(enc[:76] + "\n")
				enc = enc[76:]
			}
			b.WriteString(enc)
			return b.String()
		},
		"qp": func(s string) string {
			var b bytes.Buffer
			w := quotedprintable.NewWriter(&b)
			w.Write([]byte(s))
			w.Close()
			return b.String()
		},
	}
	tmpl := template.Must(template.New(f.App + "-reply.eml").Funcs(funcs).ParseFiles(filepath.Join(dir, f.App+"-reply.eml")))
	var msg bytes.Buffer
	if err := tmpl.Execute(&msg, f); err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(msg.String(), "\r\n", "\n")
	return []byte(strings.ReplaceAll(out, "\n", "\r\n"))
}

// sendMail sends data to the listener from envelope sender from to rcpt, as a mail server does.
func sendMail(addr, from, rcpt string, data []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("mail-sor-f69.google.com"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// googleBounce is the envelope sender Google Calendar's replies come from: not the
// interpreter's address.
const googleBounce = "3Kl8pZxcKCeQ0JNK5I1-aEHIL8FKN.BLJJLNALEHNQE7BHL.5IJDXFC@calendar-server.bounces.google.com"

// TestEndToEnd_IMIPGmailAcceptOutlookDeclineReoffer: an offer by e-mail carries the
// invitation (multipart/alternative, text/plain then text/calendar; method=REQUEST); the
// interpreter accepts with Gmail's Yes button (the REPLY comes back to the binary's listener)
// and the booking is accepted; the hearing moves, the update (same UID, SEQUENCE + 1) goes
// out, the interpreter declines it from Outlook with a comment, and the next candidate is
// offered the booking, accepts from Outlook, and gets the CANCEL when the hearing is cancelled.
func TestEndToEnd_IMIPGmailAcceptOutlookDeclineReoffer(t *testing.T) {
	x := startIMIP(t)
	first := x.offerToInterpA(t)

	// The offer: the text with its one-click link, then the invitation.
	offer := x.waitInvitation(t, interpAMail, "REQUEST", 1)
	if ct := offer.msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative;") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !regexp.MustCompile(`/bookings/`+first+`/respond\?token=[A-Za-z0-9_-]+`).MatchString(offer.text) || !strings.Contains(offer.text, "26-CR-04471") {
		t.Errorf("the text part lacks the link or the docket:\n%s", offer.text)
	}
	uid := offer.prop(ical.PropUID)
	if !regexp.MustCompile(`^booking-` + first + `-[0-9a-f]{32}@courtside\.test$`).MatchString(uid) {
		t.Errorf("UID %q is not the booking's signed UID", uid)
	}
	org := offer.event.Props.Get(ical.PropOrganizer)
	att := offer.event.Props.Values(ical.PropAttendee)
	if org == nil || !strings.EqualFold(org.Value, "mailto:"+imipAddress) {
		t.Errorf("ORGANIZER = %+v", org)
	}
	if len(att) != 1 || !strings.EqualFold(att[0].Value, "mailto:"+interpAMail) || att[0].Params.Get("PARTSTAT") != "NEEDS-ACTION" || att[0].Params.Get("RSVP") != "TRUE" {
		t.Errorf("ATTENDEE = %+v", att)
	}
	if start, err := offer.event.Props.DateTime(ical.PropDateTimeStart, time.UTC); err != nil || !start.Equal(x.starts) {
		t.Errorf("DTSTART = %v (%v), want %v", start, err, x.starts)
	}
	for _, leak := range []string{"Sentinel", "V-2207-B", "2025550171", "sentinel.private"} {
		if bytes.Contains(offer.raw, []byte(leak)) || strings.Contains(string(offer.msg.Data), leak) {
			t.Errorf("the invitation carries victim data %q", leak)
		}
	}
	validateWithPython(t, offer.raw, "REQUEST")

	// InterpA answers Yes in Gmail: Google Calendar mails the REPLY from its own bounce address.
	reply := answer(t, offer, "gmail", interpAMail, "ACCEPTED").render(t)
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, reply); err != nil {
		t.Fatalf("send the Gmail reply: %v", err)
	}
	if status, _, _ := x.booking(t, first); status != "ACCEPTED" {
		t.Fatalf("after Gmail's Yes the booking is %s", status)
	}
	// Google sends it again: nothing changes, no error.
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, reply); err != nil {
		t.Fatalf("send the Gmail reply again: %v", err)
	}
	if status, _, _ := x.booking(t, first); status != "ACCEPTED" {
		t.Fatalf("after the repeated reply the booking is %s", status)
	}

	// The hearing moves: the accepted booking awaits reconfirmation and the invitation is updated.
	moved := x.starts.Add(26 * time.Hour)
	mustGQL(t, x.base, x.w.prosecutor, reschedule, map[string]any{"id": x.hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(2 * time.Hour).Format(time.RFC3339)})
	update := x.waitInvitation(t, interpAMail, "REQUEST", 2)
	if update.prop(ical.PropUID) != uid || update.sequence(t) != offer.sequence(t)+1 {
		t.Errorf("update: UID %q SEQUENCE %d, want %q and %d", update.prop(ical.PropUID), update.sequence(t), uid, offer.sequence(t)+1)
	}
	if start, _ := update.event.Props.DateTime(ical.PropDateTimeStart, time.UTC); !start.Equal(moved) {
		t.Errorf("the update's DTSTART = %v, want %v", start, moved)
	}
	if a := update.event.Props.Get(ical.PropAttendee); a == nil || a.Params.Get("PARTSTAT") != "NEEDS-ACTION" || a.Params.Get("RSVP") != "TRUE" {
		t.Errorf("the update asks for no answer: %+v", a)
	}
	if status, _, _ := x.booking(t, first); status != "NEEDS_RECONFIRMATION" {
		t.Fatalf("after the move the booking is %s", status)
	}
	// The old Yes, sent again, answers the invitation before the move: nothing changes.
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, reply); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := x.booking(t, first); status != "NEEDS_RECONFIRMATION" {
		t.Fatalf("a reply to the invitation before the move made the booking %s", status)
	}

	// InterpA declines the update from Outlook, with a note, in quoted-printable.
	decline := answer(t, update, "outlook", interpAMail, "DECLINED")
	decline.Comment = "I am in another court that morning, sorry."
	decline.Encoding = "quoted-printable"
	if err := sendMail(x.mailAddr, interpAMail, imipAddress, decline.render(t)); err != nil {
		t.Fatalf("send the Outlook decline: %v", err)
	}
	status, reason, _ := x.booking(t, first)
	if status != "DECLINED" || reason != decline.Comment {
		t.Fatalf("after Outlook's decline the booking is %s with reason %q", status, reason)
	}
	next, who := x.latestBooking(t)
	if next == first || who != "interp-b" {
		t.Fatalf("the decline offered booking %s to %s, want a new booking for interp-b", next, who)
	}
	if s, _, _ := x.booking(t, next); s != "OFFERED" {
		t.Fatalf("the re-offer is %s", s)
	}

	// InterpB gets his own invitation, with his own UID, and accepts from Outlook (base64).
	interpBOffer := x.waitInvitation(t, interpBMail, "REQUEST", 1)
	if u := interpBOffer.prop(ical.PropUID); !strings.HasPrefix(u, "booking-"+next+"-") {
		t.Fatalf("interpB's invitation UID %q is not his booking's", u)
	}
	if err := sendMail(x.mailAddr, interpBMail, imipAddress, answer(t, interpBOffer, "outlook", interpBMail, "ACCEPTED").render(t)); err != nil {
		t.Fatalf("send the Outlook accept: %v", err)
	}
	if s, _, _ := x.booking(t, next); s != "ACCEPTED" {
		t.Fatalf("after Outlook's accept interpB's booking is %s", s)
	}

	// The hearing is cancelled: interpB's invitation is cancelled, same UID, a higher SEQUENCE.
	mustGQL(t, x.base, x.w.prosecutor, cancel, map[string]any{"id": x.hearingID})
	cancelled := x.waitInvitation(t, interpBMail, "CANCEL", 1)
	if cancelled.prop(ical.PropUID) != interpBOffer.prop(ical.PropUID) || cancelled.sequence(t) <= interpBOffer.sequence(t) ||
		cancelled.prop(ical.PropStatus) != "CANCELLED" {
		t.Errorf("CANCEL: UID %q SEQUENCE %d STATUS %q; offer UID %q SEQUENCE %d", cancelled.prop(ical.PropUID), cancelled.sequence(t),
			cancelled.prop(ical.PropStatus), interpBOffer.prop(ical.PropUID), interpBOffer.sequence(t))
	}
	validateWithPython(t, cancelled.raw, "CANCEL")
}

// TestEndToEnd_IMIPExpiredOfferIsWithdrawn: interpA lets an offer she got by e-mail pass its
// deadline. The offer-expiry sweep (every second here, --offer-sweep) expires it and offers
// interpB the hearing, and interpA gets a BOOKING_EXPIRED e-mail whose CANCEL withdraws the
// offer's invitation: the same UID, one SEQUENCE above the offer's (so that her calendar app
// takes it as newer), no STATUS (the hearing goes on). Her late Yes then accepts nothing.
func TestEndToEnd_IMIPExpiredOfferIsWithdrawn(t *testing.T) {
	x := startIMIP(t, "--offer-sweep", "1s")
	first := x.offerToInterpA(t)
	offer := x.waitInvitation(t, interpAMail, "REQUEST", 1)

	x.passDeadline(t, first)
	withdrawal := x.waitInvitation(t, interpAMail, "CANCEL", 1)
	if status, _, _ := x.booking(t, first); status != "EXPIRED" {
		t.Fatalf("after the sweep the offer is %s", status)
	}
	if withdrawal.prop(ical.PropUID) != offer.prop(ical.PropUID) || withdrawal.sequence(t) != offer.sequence(t)+1 {
		t.Errorf("withdrawal: UID %q SEQUENCE %d; offer UID %q SEQUENCE %d", withdrawal.prop(ical.PropUID), withdrawal.sequence(t),
			offer.prop(ical.PropUID), offer.sequence(t))
	}
	if s := withdrawal.prop(ical.PropStatus); s != "" {
		t.Errorf("the withdrawal says STATUS %q of a hearing that goes on", s)
	}
	if subject := withdrawal.msg.Header.Get("Subject"); !strings.HasPrefix(subject, "Offer closed:") {
		t.Errorf("Subject %q", subject)
	}
	if !strings.Contains(withdrawal.text, "You do not need to come") || !strings.Contains(withdrawal.text, "26-CR-04471") {
		t.Errorf("the text part:\n%s", withdrawal.text)
	}
	for _, leak := range []string{"Sentinel", "V-2207-B", "2025550171", "sentinel.private"} {
		if strings.Contains(string(withdrawal.msg.Data), leak) {
			t.Errorf("the withdrawal carries victim data %q", leak)
		}
	}
	validateWithPython(t, withdrawal.raw, "CANCEL")

	// The hearing went to the next candidate, with an invitation of his own.
	next, who := x.latestBooking(t)
	if next == first || who != "interp-b" {
		t.Fatalf("after the expiry booking %s is %s's, want a new booking for interp-b", next, who)
	}
	if u := x.waitInvitation(t, interpBMail, "REQUEST", 1).prop(ical.PropUID); !strings.HasPrefix(u, "booking-"+next+"-") {
		t.Errorf("interpB's invitation UID %q", u)
	}

	// InterpA's Yes, late, accepts nothing; the sweeps since sent her no second withdrawal.
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, answer(t, offer, "gmail", interpAMail, "ACCEPTED").render(t)); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := x.booking(t, first); status != "EXPIRED" {
		t.Fatalf("a late Yes made the expired offer %s", status)
	}
	cancels := 0
	for _, m := range x.s.smtp.Messages() {
		if method, _, err := m.Calendar(); err == nil && method == "CANCEL" && len(m.To) == 1 && m.To[0] == interpAMail {
			cancels++
		}
	}
	if cancels != 1 {
		t.Errorf("%d withdrawals sent to interpA, want 1", cancels)
	}

	// A sweep interval out of bounds is refused, naming the flag.
	for _, bad := range []string{"0s", "2h", "soon"} {
		out, code, stderr := cliResult(t, "", "serve", "--db", x.w.db, "--addr", "127.0.0.1:0", "--offer-sweep", bad)
		if code != 2 || out != "" || !strings.Contains(stderr, "--offer-sweep") {
			t.Errorf("serve --offer-sweep %s: exit %d, %q", bad, code, stderr)
		}
	}
}

// TestEndToEnd_IMIPRefusalsChangeNothing: a forged UID, a reply from another address, a
// REQUEST instead of a REPLY, an oversized message, mail to another recipient and a reply to
// an expired offer all leave the booking as it was; then the real answer still works.
func TestEndToEnd_IMIPRefusalsChangeNothing(t *testing.T) {
	x := startIMIP(t)
	b := mustGQL(t, x.base, x.w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "pt") { id } }`, map[string]any{"h": x.hearingID})
	id := dig(b, "requestInterpreter", "id").(string)
	offer := x.waitInvitation(t, interpAMail, "REQUEST", 1)
	still := func(what string) {
		t.Helper()
		if status, _, _ := x.booking(t, id); status != "OFFERED" {
			t.Fatalf("%s made the booking %s", what, status)
		}
		if next, _ := x.latestBooking(t); next != id {
			t.Fatalf("%s offered booking %s", what, next)
		}
	}

	forged := answer(t, offer, "gmail", interpAMail, "ACCEPTED")
	last := forged.UID[strings.IndexByte(forged.UID, '@')-1]
	flip := map[bool]string{true: "0", false: "1"}[last != '0']
	forged.UID = forged.UID[:strings.IndexByte(forged.UID, '@')-1] + flip + forged.UID[strings.IndexByte(forged.UID, '@'):]
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, forged.render(t)); err != nil {
		t.Fatalf("a forged UID is refused at SMTP level (%v): it must be accepted and dropped", err)
	}
	still("a forged UID")

	other := answer(t, offer, "gmail", "attacker@gmail.test", "ACCEPTED")
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, other.render(t)); err != nil {
		t.Fatal(err)
	}
	still("a reply from another address")
	sameAttendee := answer(t, offer, "gmail", interpAMail, "ACCEPTED")
	sameAttendee.From = "attacker@gmail.test"
	if err := sendMail(x.mailAddr, "attacker@gmail.test", imipAddress, sameAttendee.render(t)); err != nil {
		t.Fatal(err)
	}
	still("a reply naming the interpreter as attendee from another address")

	request := answer(t, offer, "gmail", interpAMail, "ACCEPTED")
	request.ICS = strings.ReplaceAll(strings.ReplaceAll(string(offer.raw), "PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED"), "\r\n", "\n")
	if err := sendMail(x.mailAddr, interpAMail, imipAddress, request.render(t)); err != nil {
		t.Fatal(err)
	}
	still("a REQUEST instead of a REPLY")

	huge := answer(t, offer, "gmail", interpAMail, "ACCEPTED")
	huge.Text = strings.Repeat("InterpA has accepted this invitation. ", 40000)
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, huge.render(t)); err == nil || !strings.Contains(err.Error(), "552") {
		t.Errorf("an oversized message: %v, want 552", err)
	}
	still("an oversized message")

	if err := sendMail(x.mailAddr, googleBounce, "someone-else@courtside.test", answer(t, offer, "gmail", interpAMail, "ACCEPTED").render(t)); err == nil ||
		!strings.Contains(err.Error(), "550") {
		t.Errorf("mail to another recipient: %v, want 550 at RCPT", err)
	}
	still("mail to another recipient")

	// The real answer works, once.
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, answer(t, offer, "gmail", interpAMail, "ACCEPTED").render(t)); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := x.booking(t, id); status != "ACCEPTED" {
		t.Fatalf("the interpreter's own reply made the booking %s", status)
	}

	// A second hearing's offer, whose deadline has passed (its respond-by moved into the past,
	// as the clock would move past it): the reply comes too late and accepts nothing.
	h2 := mustGQL(t, x.base, x.w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": x.caseID, "kind": "MOTION", "startsAt": x.starts.Add(72 * time.Hour).Format(time.RFC3339),
		"endsAt": x.starts.Add(73 * time.Hour).Format(time.RFC3339), "courtroom": "9C", "externalId": "DA-4471-2"}})
	b2 := mustGQL(t, x.base, x.w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "pt") { id interpreter { name } } }`,
		map[string]any{"h": dig(h2, "postHearing", "id")})
	late := dig(b2, "requestInterpreter", "id").(string)
	who := dig(b2, "requestInterpreter", "interpreter", "name").(string)
	nth := 1
	if who == "interp-a" {
		nth = 2 // her second invitation
	}
	lateOffer := x.waitInvitation(t, mailOf(who), "REQUEST", nth)
	x.passDeadline(t, late)
	if err := sendMail(x.mailAddr, googleBounce, imipAddress, answer(t, lateOffer, "gmail", mailOf(who), "ACCEPTED").render(t)); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := x.booking(t, late); status == "ACCEPTED" {
		t.Fatal("a reply to an expired offer accepted it")
	}

	// /metrics counts the messages handed on and what their replies did: one answered, four
	// refused, one that was no reply; the oversized message and the one to another recipient
	// were refused by SMTP before they were read.
	resp, err := http.Get(x.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for series, want := range map[string]float64{
		`courtside_imip_replies_total{outcome="answered"}`:    1,
		`courtside_imip_replies_total{outcome="refused"}`:     4,
		`courtside_imip_replies_total{outcome="not_a_reply"}`: 1,
		`courtside_imip_replies_total{outcome="failed"}`:      0,
		`courtside_imip_messages_total{outcome="accepted"}`:   6,
		`courtside_imip_messages_total{outcome="dropped"}`:    0,
		`courtside_imip_messages_total{outcome="refused"}`:    0,
	} {
		if got := metricValue(t, string(body), series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}

	// Each was refused for its own reason, and the log names no address.
	x.srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := x.srv.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
	logs := x.srv.logs.String()
	var outcomes []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "invitation reply") || strings.Contains(line, "mail dropped") {
			outcomes = append(outcomes, line)
		}
	}
	want := []string{"code=not_found", "code=forbidden", "code=forbidden", `reason="not an iTIP REPLY"`, "status=ACCEPTED", "code=conflict"}
	if len(outcomes) != len(want) {
		t.Fatalf("outcomes logged:\n%s\nwant %d", strings.Join(outcomes, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.Contains(outcomes[i], w) {
			t.Errorf("outcome %d = %s, want %s", i, outcomes[i], w)
		}
	}
	for _, addr := range []string{interpAMail, "attacker@gmail.test", "calendar-server.bounces.google.com", "someone-else"} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(addr)) {
			t.Errorf("the server log names %s", addr)
		}
	}
}

// mailOf returns an interpreter's address.
func mailOf(name string) string {
	return map[string]string{"interp-a": interpAMail, "interp-b": interpBMail, "interp-c": interpCMail}[name]
}

// validateWithPython parses an iTIP object with python3-icalendar and checks its METHOD and
// that it has one VEVENT with an ORGANIZER, an ATTENDEE, a UID, a SEQUENCE and a DTSTAMP.
func validateWithPython(t *testing.T, data []byte, method string) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import icalendar").Run(); err != nil {
		t.Fatalf("python3-icalendar is not installed (%v): run `make test`, which installs it", err)
	}
	script := `import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = [c for c in cal.walk() if c.name == "VEVENT"]
assert len(events) == 1, len(events)
e = events[0]
for p in ("UID", "DTSTAMP", "SEQUENCE", "ORGANIZER", "ATTENDEE", "DTSTART"):
    assert p in e, p
print(cal["METHOD"], e["SEQUENCE"], str(e["ORGANIZER"]))`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-icalendar refuses the %s: %v\n%s\n%s", method, err, stderr.String(), data)
	}
	if f := strings.Fields(string(out)); len(f) != 3 || f[0] != method || !strings.EqualFold(f[2], "mailto:"+imipAddress) {
		t.Errorf("python3-icalendar reads %q", out)
	}
}
