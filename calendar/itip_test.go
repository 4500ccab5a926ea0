package calendar_test

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	. "courtside/calendar"

	"github.com/emersion/go-ical"
)

// invitationFixture is the offer of the hearing of hearingFixture to an interpreter.
func invitationFixture() Invitation {
	ch := hearingFixture()
	return Invitation{
		Method: MethodRequest, UID: "booking-41-00112233445566778899aabbccddeeff@courtside.example.org", Sequence: 0,
		Stamp: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Organizer: "bookings@courtside.example.org", Attendee: "interp@mail.example",
		Hearing: courtside.HearingFacts{Kind: ch.Hearing.Kind, Status: ch.Hearing.Status, StartsAt: ch.Hearing.StartsAt, EndsAt: ch.Hearing.EndsAt,
			Court: ch.Court.Name, Address: ch.Court.Address, Courtroom: ch.Hearing.Courtroom, Docket: ch.Docket, Zone: ch.Court.TimeZone},
		Language: "es",
	}
}

// onlyInvitationEvent decodes an iTIP object and returns its calendar and its one VEVENT.
func onlyInvitationEvent(t *testing.T, data []byte) (*ical.Calendar, *ical.Component) {
	t.Helper()
	cal, err := DecodeICal(data)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	if len(cal.Children) != 1 || cal.Children[0].Name != ical.CompEvent {
		t.Fatalf("want one VEVENT:\n%s", data)
	}
	return cal, cal.Children[0]
}

// TestInvitation_RequestAndCancel checks the iTIP objects against golden files and the
// properties RFC 5546 requires of a REQUEST (section 3.2.2) and a CANCEL (section 3.2.5):
// METHOD, ORGANIZER, ATTENDEE, DTSTAMP, DTSTART, SEQUENCE, SUMMARY, UID, and for the CANCEL
// STATUS:CANCELLED. The SUMMARY and LOCATION are those of the interpreter's CalDAV object.
func TestInvitation_RequestAndCancel(t *testing.T) {
	for _, tt := range []struct {
		golden string
		edit   func(inv *Invitation)
	}{
		{"itip-request.ics", nil},
		{"itip-update.ics", func(inv *Invitation) {
			inv.Sequence = 1
			inv.Hearing.StartsAt = inv.Hearing.StartsAt.Add(24 * time.Hour)
			inv.Hearing.EndsAt = inv.Hearing.EndsAt.Add(24 * time.Hour)
			inv.Stamp = inv.Stamp.Add(time.Hour)
		}},
		{"itip-cancel.ics", func(inv *Invitation) {
			inv.Method = MethodCancel
			inv.Sequence = 2
			inv.Hearing.Status = courtside.HearingCancelled
		}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			inv := invitationFixture()
			if tt.edit != nil {
				tt.edit(&inv)
			}
			got, err := BuildInvitation(inv)
			if err != nil {
				t.Fatal(err)
			}
			matchGolden(t, tt.golden, got)
			if again, _ := BuildInvitation(inv); !bytes.Equal(again, got) {
				t.Error("the output is not deterministic")
			}

			cal, ev := onlyInvitationEvent(t, got)
			if m, _ := cal.Props.Text(ical.PropMethod); m != inv.Method {
				t.Errorf("METHOD = %q", m)
			}
			for _, p := range []string{ical.PropUID, ical.PropDateTimeStamp, ical.PropSequence, ical.PropOrganizer, ical.PropDateTimeStart,
				ical.PropSummary, ical.PropStatus} {
				if ev.Props.Get(p) == nil {
					t.Errorf("no %s", p)
				}
			}
			if ev.Props.Get(ical.PropUID).Value != inv.UID || ev.Props.Get(ical.PropSequence).Value != strconv.Itoa(inv.Sequence) {
				t.Errorf("UID %q SEQUENCE %q", ev.Props.Get(ical.PropUID).Value, ev.Props.Get(ical.PropSequence).Value)
			}
			org := ev.Props.Get(ical.PropOrganizer)
			if org.Value != "mailto:bookings@courtside.example.org" || org.Params.Get(ical.ParamCommonName) != "Courtside" {
				t.Errorf("ORGANIZER %+v", org)
			}
			att := ev.Props.Values(ical.PropAttendee)
			if len(att) != 1 || att[0].Value != "mailto:interp@mail.example" || att[0].Params.Get(ical.ParamRole) != "REQ-PARTICIPANT" {
				t.Fatalf("ATTENDEE %+v", att)
			}
			if start, _ := ev.Props.DateTime(ical.PropDateTimeStart, nil); !start.Equal(inv.Hearing.StartsAt) {
				t.Errorf("DTSTART %v", start)
			}
			// The same SUMMARY and LOCATION as the interpreter's CalDAV object of the hearing.
			ch := hearingFixture()
			ch.Pseudonyms = nil
			ch.Hearing.Status = inv.Hearing.Status
			ch.Attendee = &courtside.CalendarAttendee{Username: "interp", BookingID: 41, Status: courtside.BookingOffered}
			object, err := RenderHearing(ch, "")
			if err != nil {
				t.Fatal(err)
			}
			_, caldav := onlyInvitationEvent(t, object)
			for _, p := range []string{ical.PropSummary, ical.PropLocation} {
				got, _ := ev.Props.Text(p)
				want, _ := caldav.Props.Text(p)
				if got != want {
					t.Errorf("%s %q, CalDAV %q", p, got, want)
				}
			}
			partstat, rsvp := att[0].Params.Get(ical.ParamParticipationStatus), att[0].Params.Get(ical.ParamRSVP)
			status := ev.Props.Get(ical.PropStatus).Value
			if inv.Method == MethodRequest && (partstat != "NEEDS-ACTION" || rsvp != "TRUE" || status != "CONFIRMED") {
				t.Errorf("REQUEST: PARTSTAT %q RSVP %q STATUS %q", partstat, rsvp, status)
			}
			if inv.Method == MethodCancel && (rsvp != "" || status != "CANCELLED") {
				t.Errorf("CANCEL: RSVP %q STATUS %q", rsvp, status)
			}
			for _, leak := range []string{"V-12-R", "V-13-S", "Judge of Part 4", "Accompanying"} {
				if bytes.Contains(got, []byte(leak)) {
					t.Errorf("the invitation carries %q", leak)
				}
			}
		})
	}
}

// TestInvitation_WithdrawalCancelsTheInvitationAlone: the CANCEL of an offer that expired
// withdraws this interpreter's invitation while the hearing goes on. RFC 5546 section 3.2.5
// has such a CANCEL carry no STATUS (STATUS:CANCELLED would cancel the event for everyone);
// its SUMMARY is the hearing's, not "Cancelled: ...", and its SEQUENCE is the one given (one
// above the offer's, so that calendar apps take it as newer). Python's icalendar reads it as
// a CANCEL of the same UID.
func TestInvitation_WithdrawalCancelsTheInvitationAlone(t *testing.T) {
	offer := invitationFixture()
	inv := offer
	inv.Method, inv.Sequence, inv.Withdrawn = MethodCancel, offer.Sequence+1, true
	got, err := BuildInvitation(inv)
	if err != nil {
		t.Fatal(err)
	}
	matchGolden(t, "itip-withdrawal.ics", got)
	cal, ev := onlyInvitationEvent(t, got)
	if m, _ := cal.Props.Text(ical.PropMethod); m != MethodCancel {
		t.Errorf("METHOD = %q", m)
	}
	if s := ev.Props.Get(ical.PropStatus); s != nil {
		t.Errorf("a withdrawal carries STATUS %q", s.Value)
	}
	if ev.Props.Get(ical.PropUID).Value != offer.UID || ev.Props.Get(ical.PropSequence).Value != strconv.Itoa(offer.Sequence+1) {
		t.Errorf("UID %q SEQUENCE %q", ev.Props.Get(ical.PropUID).Value, ev.Props.Get(ical.PropSequence).Value)
	}
	request, err := BuildInvitation(offer)
	if err != nil {
		t.Fatal(err)
	}
	_, req := onlyInvitationEvent(t, request)
	if sum, _ := ev.Props.Text(ical.PropSummary); sum == "" || strings.Contains(sum, "Cancelled") || sum != req.Props.Get(ical.PropSummary).Value {
		t.Errorf("SUMMARY %q, the offer's %q", sum, req.Props.Get(ical.PropSummary).Value)
	}
	att := ev.Props.Values(ical.PropAttendee)
	if len(att) != 1 || att[0].Value != "mailto:interp@mail.example" || att[0].Params.Get(ical.ParamRSVP) != "" {
		t.Errorf("ATTENDEE %+v", att)
	}

	py := "/usr/bin/python3"
	cmd := exec.Command(py, "-c", `import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
e = [c for c in cal.walk() if c.name == "VEVENT"][0]
print(cal["METHOD"], e["UID"], e["SEQUENCE"], e.get("STATUS", "-"))`)
	cmd.Stdin = bytes.NewReader(got)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-icalendar (installed by make test): %v", err)
	}
	if line := strings.TrimSpace(string(out)); line != "CANCEL "+offer.UID+" 1 -" {
		t.Errorf("python3-icalendar reads %q", line)
	}
}

// regexpReplace replaces every match of expr in s.
func regexpReplace(s, expr, with string) string {
	return regexp.MustCompile(expr).ReplaceAllString(s, with)
}

func TestInvitation_RefusesWhatCannotBeSent(t *testing.T) {
	for name, edit := range map[string]func(inv *Invitation){
		"PUBLISH":              func(inv *Invitation) { inv.Method = "PUBLISH" },
		"REPLY":                func(inv *Invitation) { inv.Method = MethodReply },
		"no UID":               func(inv *Invitation) { inv.UID = " " },
		"a line break in UID":  func(inv *Invitation) { inv.UID = "a\r\nATTENDEE:mailto:x@y.example" },
		"organizer":            func(inv *Invitation) { inv.Organizer = "Courtside <bookings@courtside.example.org>" },
		"attendee":             func(inv *Invitation) { inv.Attendee = "interp" },
		"attendee with a line": func(inv *Invitation) { inv.Attendee = "interp@mail.example\r\nX:1" },
		"end before start":     func(inv *Invitation) { inv.Hearing.EndsAt = inv.Hearing.StartsAt.Add(-time.Hour) },
		"no DTSTAMP":           func(inv *Invitation) { inv.Stamp = time.Time{} },
		"negative SEQUENCE":    func(inv *Invitation) { inv.Sequence = -1 },
		"a withdrawn REQUEST":  func(inv *Invitation) { inv.Withdrawn = true },
	} {
		t.Run(name, func(t *testing.T) {
			inv := invitationFixture()
			edit(&inv)
			if got, err := BuildInvitation(inv); err == nil {
				t.Fatalf("built:\n%s", got)
			}
		})
	}
}

// TestInvitation_PythonIcalendar parses the REQUEST and the CANCEL with Debian's
// python3-icalendar, as a consumer other than ours.
func TestInvitation_PythonIcalendar(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import icalendar").Run(); err != nil {
		t.Fatalf("python3-icalendar is not installed (%v): run `make test`, which installs it", err)
	}
	script := `import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
e = [c for c in cal.walk() if c.name == "VEVENT"][0]
a = e["ATTENDEE"]
print(cal["METHOD"], e["UID"], e["SEQUENCE"], e["ORGANIZER"].params["CN"], a, a.params.get("PARTSTAT", "-"), e["DTSTART"].dt.isoformat(), e["STATUS"])`
	for method, want := range map[string]string{
		MethodRequest: "REQUEST booking-41-00112233445566778899aabbccddeeff@courtside.example.org 0 Courtside mailto:interp@mail.example NEEDS-ACTION 2026-12-01T14:30:00+00:00 CONFIRMED",
		MethodCancel:  "CANCEL booking-41-00112233445566778899aabbccddeeff@courtside.example.org 0 Courtside mailto:interp@mail.example - 2026-12-01T14:30:00+00:00 CANCELLED",
	} {
		inv := invitationFixture()
		inv.Method = method
		data, err := BuildInvitation(inv)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, "-c", script)
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", method, err, stderr.String())
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s reads\n%s\nwant\n%s", method, got, want)
		}
	}
}

// gmailReply is a REPLY as Google Calendar writes it: LF or CRLF, the attendee line folded in
// the middle of its CN, every property of the event.
const gmailReply = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\n" +
	"METHOD:REPLY\r\nBEGIN:VEVENT\r\nDTSTART:20261201T143000Z\r\nDTEND:20261201T160000Z\r\nDTSTAMP:20261120T093256Z\r\n" +
	"ORGANIZER;CN=Courtside:mailto:bookings@courtside.example.org\r\n" +
	"UID:booking-41-00112233445566778899aabbccddeeff@courtside.example.org\r\n" +
	"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=interp@m\r\n ail.example;X-NUM-GUESTS=0:mailto:Interp@Mail.example\r\n" +
	"CREATED:20261120T090000Z\r\nDESCRIPTION:Interpreting (es).\r\nLAST-MODIFIED:20261120T093255Z\r\n" +
	"LOCATION:U.S. District Court\\, E.D.N.Y.\\, Courtroom 4B\r\nSEQUENCE:1\r\nSTATUS:CONFIRMED\r\n" +
	"SUMMARY:Sentencing hearing — 1:26-cr-00042\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// outlookReply is a REPLY as Exchange writes it: a VTIMEZONE with a Windows zone name, local
// times, the attendee's COMMENT, X-MICROSOFT properties, no ORGANIZER.
const outlookReply = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n" +
	"BEGIN:VTIMEZONE\r\nTZID:Eastern Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\n" +
	"TZOFFSETTO:-0500\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n" +
	"DTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\n" +
	"END:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=DECLINED;CN=Interp:MAILTO:interp@mail.example\r\n" +
	"COMMENT;LANGUAGE=en-US:In another court\\; sorry\\, truly.\\nBack Friday.\r\n" +
	"SUMMARY;LANGUAGE=en-US:Declined: Sentencing hearing — 1:26-cr-00042\r\n" +
	"DTSTART;TZID=Eastern Standard Time:20261201T093000\r\nDTEND;TZID=Eastern Standard Time:20261201T110000\r\n" +
	"UID:booking-41-00112233445566778899aabbccddeeff@courtside.example.org\r\nCLASS:PUBLIC\r\nPRIORITY:5\r\n" +
	"DTSTAMP:20261120T163957Z\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\nSEQUENCE:2\r\nX-MICROSOFT-CDO-APPT-SEQUENCE:2\r\n" +
	"X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-MICROSOFT-ISRESPONSE:TRUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func TestParseReply_GmailAndOutlook(t *testing.T) {
	got, err := ParseReply([]byte(gmailReply))
	if err != nil {
		t.Fatal(err)
	}
	want := courtside.InvitationReply{UID: "booking-41-00112233445566778899aabbccddeeff@courtside.example.org", Sequence: 1,
		Attendee: "Interp@Mail.example", PartStat: "ACCEPTED"}
	if got != want {
		t.Errorf("Gmail: %+v, want %+v", got, want)
	}
	// Inline in a multipart message the object ends without its last CRLF.
	if cut, err := ParseReply([]byte(strings.TrimSuffix(gmailReply, "\r\n"))); err != nil || cut != want {
		t.Errorf("Gmail without the last line ending: %+v %v", cut, err)
	}
	// Google Calendar has written LF line endings too.
	if lf, err := ParseReply([]byte(strings.ReplaceAll(gmailReply, "\r\n", "\n"))); err != nil || lf != want {
		t.Errorf("Gmail with LF: %+v %v", lf, err)
	}
	got, err = ParseReply([]byte(outlookReply))
	if err != nil {
		t.Fatal(err)
	}
	want = courtside.InvitationReply{UID: "booking-41-00112233445566778899aabbccddeeff@courtside.example.org", Sequence: 2,
		Attendee: "interp@mail.example", PartStat: "DECLINED", Comment: "In another court; sorry, truly.\nBack Friday."}
	if got != want {
		t.Errorf("Outlook: %+v, want %+v", got, want)
	}
	// No SEQUENCE is 0, no PARTSTAT NEEDS-ACTION.
	bare := strings.Replace(strings.Replace(gmailReply, "SEQUENCE:1\r\n", "", 1), "PARTSTAT=ACCEPTED;", "", 1)
	if got, err := ParseReply([]byte(bare)); err != nil || got.Sequence != 0 || got.PartStat != "NEEDS-ACTION" {
		t.Errorf("bare: %+v %v", got, err)
	}
}

func TestParseReply_RefusesAnythingElse(t *testing.T) {
	event := func(s string) string {
		return strings.Replace(gmailReply, "BEGIN:VEVENT\r\n", "BEGIN:VEVENT\r\n"+s, 1)
	}
	for name, data := range map[string]string{
		"a REQUEST":              strings.Replace(gmailReply, "METHOD:REPLY", "METHOD:REQUEST", 1),
		"a CANCEL":               strings.Replace(gmailReply, "METHOD:REPLY", "METHOD:CANCEL", 1),
		"no METHOD":              strings.Replace(gmailReply, "METHOD:REPLY\r\n", "", 1),
		"two attendees":          event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:other@mail.example\r\n"),
		"no attendee":            regexpReplace(gmailReply, "ATTENDEE;[^\r]*\r\n [^\r]*\r\n", ""),
		"not mailto":             strings.Replace(gmailReply, ":mailto:Interp@Mail.example", ":urn:courtside:user:interp", 1),
		"no UID":                 regexpReplace(gmailReply, "UID:[^\r]*\r\n", ""),
		"a bad SEQUENCE":         strings.Replace(gmailReply, "SEQUENCE:1", "SEQUENCE:one", 1),
		"a negative SEQUENCE":    strings.Replace(gmailReply, "SEQUENCE:1", "SEQUENCE:-1", 1),
		"one occurrence":         event("RECURRENCE-ID:20261201T143000Z\r\n"),
		"two events":             strings.Replace(gmailReply, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20261120T093256Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1),
		"a to-do":                strings.ReplaceAll(gmailReply, "VEVENT", "VTODO"),
		"not iCalendar":          "From: a@b.example\r\n\r\nhello",
		"empty":                  "",
		"over the size":          strings.Replace(gmailReply, "DESCRIPTION:", "DESCRIPTION:"+strings.Repeat("x", MaxReplyBytes), 1),
		"a long UID":             strings.Replace(gmailReply, "UID:booking", "UID:"+strings.Repeat("b", 300), 1),
		"two calendars run-on":   gmailReply + gmailReply,
		"a freebusy, not events": strings.ReplaceAll(gmailReply, "VEVENT", "VFREEBUSY"),
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseReply([]byte(data)); err == nil {
				t.Fatalf("parsed: %+v", got)
			}
		})
	}
}

// FuzzParseReply: whatever arrives by mail, ParseReply answers without panicking, and what it
// accepts has a UID, an attendee and a PARTSTAT.
func FuzzParseReply(f *testing.F) {
	f.Add([]byte(gmailReply))
	f.Add([]byte(outlookReply))
	f.Add([]byte(strings.Replace(gmailReply, "ATTENDEE;CUTYPE", "ATTENDEE;X-BAD;CUTYPE", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReply(data)
		if err == nil && (r.UID == "" || r.Attendee == "" || r.PartStat == "" || r.Sequence < 0) {
			t.Fatalf("accepted an incomplete reply: %+v", r)
		}
	})
}
