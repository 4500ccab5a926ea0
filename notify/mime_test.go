package notify

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"

	"courtside"
)

// fixedInvitation is an iTIP REQUEST of the shape calendar.BuildInvitation makes.
const fixedInvitation = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Courtside//Scheduling//EN\r\nCALSCALE:GREGORIAN\r\n" +
	"METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:booking-41-00112233445566778899aabbccddeeff@courtside.example.org\r\n" +
	"DTSTAMP:20260304T150000Z\r\nSEQUENCE:0\r\nORGANIZER;CN=Courtside:mailto:bookings@courtside.example.org\r\n" +
	"ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=\r\n TRUE:mailto:interp@mail.example\r\n" +
	"DTSTART:20260310T133000Z\r\nDTEND:20260310T150000Z\r\nSUMMARY:Sentencing hearing — CR-5521-XQ\r\n" +
	"LOCATION:Riverside Justice Center\\, Part 17C\\, 400 Pine Street\\, Springfield\r\nDESCRIPTION:Interpreting (es).\r\n" +
	"STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// composeFixed renders the English BOOKING_OFFER e-mail of the golden messages, with or
// without its invitation, as the SMTP sender puts it on the wire.
func composeFixed(t *testing.T, calendar *CalendarPart) []byte {
	t.Helper()
	r, err := DefaultTemplates().Render(fixedNotice(t, AudienceInterpreter, courtside.NotifyBookingOffer, courtside.DetailFull, courtside.ChannelEmail, "en"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMTP("smtp://relay.example:587", "notices@courtside.example.org")
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.FixedZone("EST", -5*3600)) }
	data, err := s.compose(Message{IdempotencyKey: "cs-ev-0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b-u12-EMAIL", Kind: courtside.NotifyBookingOffer,
		To: "interp@mail.example", SenderName: "Courtside", Subject: r.Subject, Body: r.Body, Language: r.Language, Calendar: calendar}, "interp@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// golden compares data with testdata/mime/name, rewriting it with -update.
func golden(t *testing.T, name string, data []byte) {
	t.Helper()
	path := filepath.Join("testdata", "mime", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, data)
	}
}

// TestMIME_OfferWithInvitation holds the MIME shape of an offer by e-mail (RFC 6047 section
// 2.4): a multipart/alternative of the text/plain message, then the invitation as
// text/calendar with its method, so that calendar-aware mail apps show Yes and No; the whole
// message is the golden file testdata/mime/offer-invitation.eml.
func TestMIME_OfferWithInvitation(t *testing.T) {
	data := composeFixed(t, &CalendarPart{Method: "REQUEST", Data: []byte(fixedInvitation)})
	golden(t, "offer-invitation.eml", data)
	if again := composeFixed(t, &CalendarPart{Method: "REQUEST", Data: []byte(fixedInvitation)}); !bytes.Equal(again, data) {
		t.Error("the message is not the same on every send (boundary, headers)")
	}

	e, err := gomessage.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, _ := e.Header.ContentType()
	if mediaType != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q %v", mediaType, params)
	}
	for h, want := range map[string]string{"Mime-Version": "1.0", "Auto-Submitted": "auto-generated",
		"Message-Id": "<cs-ev-0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b-u12-EMAIL@courtside.example.org>"} {
		if got := e.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	mr := e.MultipartReader()
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := p.Header.ContentType()
		body, _ := io.ReadAll(p.Body)
		parts = append(parts, ct+" "+cp["method"]+" "+cp["charset"]+" "+p.Header.Get("Content-Transfer-Encoding"))
		switch ct {
		case "text/plain":
			if !strings.Contains(string(body), "Can you interpret at this hearing?") || !strings.Contains(string(body), "/bookings/41/respond?token=") {
				t.Errorf("text part:\n%s", body)
			}
		case "text/calendar":
			if string(body) != fixedInvitation {
				t.Errorf("calendar part decodes to\n%q", body)
			}
		}
	}
	if got := strings.Join(parts, "; "); got != "text/plain  utf-8 quoted-printable; text/calendar REQUEST utf-8 base64" {
		t.Errorf("parts: %s", got)
	}
	// Header lines stay within RFC 5322's 998 (a Message-ID cannot be folded); body lines,
	// quoted-printable and base64, within 76.
	_, body, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	for i, line := range bytes.SplitAfter(data, []byte("\r\n")) {
		if len(line) > 998+2 {
			t.Errorf("line %d is %d bytes: %q", i, len(line), line)
		}
	}
	for i, line := range bytes.SplitAfter(body, []byte("\r\n")) {
		if len(line) > 76+2 {
			t.Errorf("body line %d is %d bytes: %q", i, len(line), line)
		}
	}
}

// TestMIME_PlainMessageUnchanged holds the shape of every other e-mail: one text/plain body in
// quoted-printable, golden file testdata/mime/offer-plain.eml.
func TestMIME_PlainMessageUnchanged(t *testing.T) {
	data := composeFixed(t, nil)
	golden(t, "offer-plain.eml", data)
	e, err := gomessage.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if ct := e.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || e.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestMIME_RefusesABadCalendarPart(t *testing.T) {
	s, _ := NewSMTP("smtp://relay.example:587", "notices@courtside.example.org")
	for _, part := range []*CalendarPart{{Method: "", Data: []byte(fixedInvitation)}, {Method: "REQUEST\r\nX: 1", Data: []byte(fixedInvitation)},
		{Method: "REQUEST"}} {
		if _, err := s.compose(Message{IdempotencyKey: "k", To: "a@b.example", Body: "x", Calendar: part}, "a@b.example"); !IsPermanent(err) {
			t.Errorf("%+v: %v", part, err)
		}
	}
}
