package notify_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
	"courtside/storage"
)

const replyAddress = "bookings@courtside.test"

// replyObject is an iTIP REPLY; the server does not read it, it hands it on.
const replyObject = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:booking-1-00@courtside.test\r\n" +
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:interp-a@mail.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// gmailShaped is a reply as Google Calendar shapes it: the object inline in a
// multipart/alternative and attached as application/ics in base64.
func gmailShaped(headers string) string {
	b64 := base64.StdEncoding.EncodeToString([]byte(replyObject))
	return headers + "From: interp-a@mail.test\r\nTo: Courtside <" + replyAddress + ">\r\nSubject: Accepted: Trial\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nana@mail.test has accepted this invitation.\r\n" +
		"--inner\r\nContent-Type: text/calendar; charset=\"UTF-8\"; method=REPLY\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + replyObject +
		"--inner--\r\n--outer\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n--outer--\r\n"
}

// mailWorld is a MailServer on 127.0.0.1:0 that records what it hands on.
type mailWorld struct {
	addr   string
	server *notify.MailServer
	mu     sync.Mutex
	got    []notify.InboundMail
	id     *notifytest.TLSIdentity
}

func startMailServer(t *testing.T, edit func(cfg *notify.MailConfig)) *mailWorld {
	t.Helper()
	id, err := notifytest.NewTLSIdentity()
	if err != nil {
		t.Fatal(err)
	}
	w := &mailWorld{id: id}
	cfg := notify.MailConfig{Address: replyAddress, TLSConfig: id.ServerConfig(), Replies: func(ctx context.Context, m notify.InboundMail) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.got = append(w.got, m)
	}}
	if edit != nil {
		edit(&cfg)
	}
	w.server, err = notify.NewMailServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- w.server.Serve(l) }()
	t.Cleanup(func() {
		w.server.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return w
}

func (w *mailWorld) received() []notify.InboundMail {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notify.InboundMail(nil), w.got...)
}

// dial opens a client, past EHLO, on STARTTLS when tls is set.
func (w *mailWorld) dial(t *testing.T, tls bool) *smtp.Client {
	t.Helper()
	var c *smtp.Client
	var err error
	if tls {
		c, err = smtp.DialStartTLS(w.addr, w.id.ClientConfig())
	} else {
		c, err = smtp.Dial(w.addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("mx.relay.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// send sends one message on c and returns the error of the first refused step.
func send(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(wc, data); err != nil {
		return err
	}
	return wc.Close()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// TestMailServer_HandsOnRepliesOverSTARTTLS: STARTTLS is offered with a certificate; a reply
// shaped as Gmail's reaches the handler with its From and both copies of the object, decoded.
func TestMailServer_HandsOnRepliesOverSTARTTLS(t *testing.T) {
	w := startMailServer(t, nil)
	plain := w.dial(t, false)
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS is not offered")
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH is offered: the listener takes no logins")
	}
	if ok, size := plain.Extension("SIZE"); !ok || size != fmt.Sprint(notify.DefaultMaxInboundBytes) {
		t.Errorf("SIZE %q", size)
	}
	c := w.dial(t, true)
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("not on TLS")
	}
	if err := send(c, "bounce-1@calendar-server.bounces.google.test", []string{strings.ToUpper(replyAddress)}, gmailShaped("")); err != nil {
		t.Fatal(err)
	}
	got := w.received()
	// The inline copy ends where its boundary's CRLF begins (RFC 2046 section 5.1.1).
	if len(got) != 1 || got[0].From != "interp-a@mail.test" || len(got[0].Calendars) != 2 ||
		string(got[0].Calendars[0]) != strings.TrimSuffix(replyObject, "\r\n") || string(got[0].Calendars[1]) != replyObject {
		t.Fatalf("handed on: %q", got)
	}
}

// TestMailServer_Bounds: another recipient is refused at RCPT; more than five recipients,
// a message over the size (declared or not) and an eleventh message on one connection are
// refused; what is accepted but holds no calendar object, or is malformed, is dropped without
// a word; connections past the caps, or from outside the relays, are turned away at once.
func TestMailServer_Bounds(t *testing.T) {
	w := startMailServer(t, func(cfg *notify.MailConfig) { cfg.MaxMessageBytes = 64 << 10 })
	c := w.dial(t, false)
	if err := send(c, "a@mail.test", []string{"postmaster@courtside.test"}, gmailShaped("")); smtpCode(err) != 550 {
		t.Errorf("another recipient: %v, want 550", err)
	}
	c.Reset()
	if err := send(c, "a@mail.test", []string{replyAddress, replyAddress, replyAddress, replyAddress, replyAddress, replyAddress}, gmailShaped("")); smtpCode(err) != 452 {
		t.Errorf("six recipients: %v, want 452", err)
	}
	c.Reset()
	huge := gmailShaped("X-Padding: " + strings.Repeat("x", 900) + "\r\n" + strings.Repeat("X-More: "+strings.Repeat("y", 900)+"\r\n", 80))
	if err := send(c, "a@mail.test", []string{replyAddress}, huge); smtpCode(err) != 552 {
		t.Errorf("an oversized message: %v, want 552", err)
	}
	c2 := w.dial(t, false)
	if err := c2.Mail("a@mail.test", &smtp.MailOptions{Size: 10 << 20}); smtpCode(err) != 552 {
		t.Errorf("a declared oversized message: %v, want 552", err)
	}
	for _, body := range []string{
		"From: interp-a@mail.test\r\nTo: " + replyAddress + "\r\nSubject: hello\r\n\r\nJust text.\r\n",
		"From: interp-a@mail.test\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n--b", // no closing boundary
		"From: a@mail.test, b@mail.test\r\n\r\n" + replyObject,
		"To: " + replyAddress + "\r\n\r\n" + replyObject,
		nested(notify.MaxInboundDepth + 1),
	} {
		c3 := w.dial(t, false)
		if err := send(c3, "a@mail.test", []string{replyAddress}, body); err != nil {
			t.Errorf("a message that is dropped must still be accepted: %v", err)
		}
	}
	if got := w.received(); len(got) != 0 {
		t.Errorf("handed on: %+v", got)
	}

	// An eleventh message on one connection.
	c4 := w.dial(t, false)
	for i := 0; i < notify.MaxInboundMessages; i++ {
		if err := send(c4, "a@mail.test", []string{replyAddress}, "From: a@mail.test\r\n\r\nhi\r\n"); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := send(c4, "a@mail.test", []string{replyAddress}, "From: a@mail.test\r\n\r\nhi\r\n"); smtpCode(err) != 421 {
		t.Errorf("message %d: %v, want 421", notify.MaxInboundMessages+1, err)
	}
}

// nested is a message whose MIME parts nest n deep, the last holding a calendar object.
func nested(n int) string {
	var b strings.Builder
	b.WriteString("From: interp-a@mail.test\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i, i+1)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n%s\r\n--b%d--\r\n", n, replyObject, n)
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestMailServer_ConnectionCaps: past the connections per address, or from outside the
// relays, a connection is answered and closed before any SMTP; a connection ends after its
// session time however little it sends.
func TestMailServer_ConnectionCaps(t *testing.T) {
	w := startMailServer(t, func(cfg *notify.MailConfig) { cfg.MaxConnsPerAddr = 2 })
	a, b := w.dial(t, false), w.dial(t, false)
	greeting := func(addr string) string {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line
	}
	if g := greeting(w.addr); !strings.HasPrefix(g, "421 ") {
		t.Errorf("a third connection from one address is greeted %q", g)
	}
	a.Close()
	b.Close()
	// The slots come back once the server has seen the connections close.
	waitFor(t, "a free slot", func() bool { return strings.HasPrefix(greeting(w.addr), "220 ") })

	relayed := startMailServer(t, func(cfg *notify.MailConfig) { cfg.Relays = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	if g := greeting(relayed.addr); !strings.HasPrefix(g, "554 ") {
		t.Errorf("a connection from outside the relays is greeted %q", g)
	}

	short := startMailServer(t, func(cfg *notify.MailConfig) { cfg.SessionTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", short.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	// The greeting, then nothing more: the server closes the silent connection.
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("the session did not end on the server's side: %v", err)
	}
}

// TestMailServer_ObservesEachOutcome: Observe hears of a message handed on (accepted), of a
// message read and dropped (no calendar object), and of a connection refused (past the
// connections per address), once each: what the operator's metrics count.
func TestMailServer_ObservesEachOutcome(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	w := startMailServer(t, func(cfg *notify.MailConfig) {
		cfg.MaxConnsPerAddr = 1
		cfg.Observe = func(outcome string) {
			mu.Lock()
			defer mu.Unlock()
			seen[outcome]++
		}
	})
	counts := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
	c := w.dial(t, false)
	if err := send(c, "interp-a@mail.test", []string{replyAddress}, gmailShaped("")); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	if err := send(c, "interp-a@mail.test", []string{replyAddress}, "From: interp-a@mail.test\r\n\r\nJust text.\r\n"); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", w.addr) // a second connection from the one address
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if line, _ := bufio.NewReader(conn).ReadString('\n'); !strings.HasPrefix(line, "421 ") {
		t.Fatalf("the second connection is greeted %q", line)
	}
	want := map[string]int{notify.MailAccepted: 1, notify.MailDropped: 1, notify.MailRefused: 1}
	waitFor(t, "the three outcomes", func() bool { return maps.Equal(counts(), want) })
	if len(w.received()) != 1 {
		t.Errorf("handed on %d messages, want 1", len(w.received()))
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMailServer_AuthenticationResultsFromTheRelay: with an authserv-id, only a message whose
// relay's Authentication-Results (the topmost of that id) passed the From domain is handed on.
func TestMailServer_AuthenticationResultsFromTheRelay(t *testing.T) {
	w := startMailServer(t, func(cfg *notify.MailConfig) {
		cfg.Relays = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		cfg.AuthServID = "mx.courtside.test"
	})
	for _, c := range []struct {
		headers string
		pass    bool
	}{
		{"", false},
		{"Authentication-Results: mx.courtside.test; dmarc=pass (p=NONE) header.from=mail.test\r\n", true},
		{"Authentication-Results: mx.courtside.test;\r\n dkim=pass header.d=mail.test header.s=s1; spf=fail smtp.mailfrom=x@other.test\r\n", true},
		{"Authentication-Results: mx.courtside.test; dmarc=fail header.from=mail.test\r\n" +
			"Authentication-Results: mx.courtside.test; dmarc=pass header.from=mail.test\r\n", false}, // a forged one below the relay's
		{"Authentication-Results: mx.elsewhere.test; dmarc=pass header.from=mail.test\r\n", false},
		{"Authentication-Results: mx.courtside.test; dkim=pass header.d=other.test\r\n", false},
	} {
		before := len(w.received())
		cl := w.dial(t, false)
		if err := send(cl, "a@mail.test", []string{replyAddress}, gmailShaped(c.headers)); err != nil {
			t.Fatalf("%q: %v", c.headers, err)
		}
		if handed := len(w.received()) > before; handed != c.pass {
			t.Errorf("%q: handed on %v, want %v", c.headers, handed, c.pass)
		}
	}
	if _, err := notify.NewMailServer(notify.MailConfig{Address: replyAddress, AuthServID: "mx.courtside.test"}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("an authserv-id without relays: %v", err)
	}
	if _, err := notify.NewMailServer(notify.MailConfig{Address: "Courtside <" + replyAddress + ">"}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("a reply address with a display name: %v", err)
	}
}

func TestAuthenticatedFrom(t *testing.T) {
	const id = "mx.courtside.test"
	for _, c := range []struct {
		header, from string
		want         bool
	}{
		{"mx.courtside.test; dmarc=pass header.from=gmail.test", "interp-a@gmail.test", true},
		{"mx.courtside.test 1; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=gmail.test", "interp-a@gmail.test", true},
		{"MX.Courtside.test; dmarc=pass", "interp-a@gmail.test", true},
		{"mx.courtside.test; dmarc=pass header.from=other.test", "interp-a@gmail.test", false},
		{"mx.courtside.test; dmarc=fail header.from=gmail.test", "interp-a@gmail.test", false},
		{"mx.courtside.test; dkim=pass header.i=@mail.gmail.test", "interp-a@mail.gmail.test", true},
		{"mx.courtside.test; dkim=pass header.d=gmail.test", "interp-a@eu.gmail.test", true},
		{"mx.courtside.test; dkim=pass header.d=test", "interp-a@gmail.test", false},
		{"mx.courtside.test; dkim=pass header.d=evilgmail.test", "interp-a@gmail.test", false},
		{"mx.courtside.test; dkim=pass (good signature) header.d=calendar.google.test", "interp-a@gmail.test", false},
		{"mx.courtside.test; spf=pass smtp.mailfrom=bounce@gmail.test", "interp-a@gmail.test", true},
		{"mx.courtside.test; spf=pass smtp.mailfrom=x@calendar-server.bounces.google.test", "interp-a@gmail.test", false},
		{"mx.courtside.test; none", "interp-a@gmail.test", false},
		{"mx.courtside.test (comment; dmarc=pass header.from=gmail.test); dkim=none", "interp-a@gmail.test", false},
		{"other.test; dmarc=pass header.from=gmail.test", "interp-a@gmail.test", false},
		{"", "interp-a@gmail.test", false},
		{"mx.courtside.test; dmarc=pass header.from=gmail.test", "no-at-sign", false},
	} {
		if got := notify.AuthenticatedFrom([]string{c.header}, id, c.from); got != c.want {
			t.Errorf("%q for %s: %v, want %v", c.header, c.from, got, c.want)
		}
	}
}

// TestWorker_InvitationsGoWithInterpretersBookingMail: the worker asks for the booking's iTIP
// object only for an interpreter's offer, move and cancellation by e-mail, and sends the
// message with it; the advocate's messages carry none; a failed object leaves the message
// without one rather than unsent.
func TestWorker_InvitationsGoWithInterpretersBookingMail(t *testing.T) {
	w := newWorkerWorld(t)
	ls, _ := courtside.ParseInterpreterLanguages("pt:CERTIFIED")
	interp, err := storage.NewUserService(w.db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: "interp-a", Role: courtside.RoleInterpreter,
		Languages: ls, Email: "interp-a@mail.test"}})
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		kind    courtside.NotificationKind
		booking int64
		to      string
	}
	var calls []call
	fail := false
	w.worker.Invitation = func(d *courtside.PendingDelivery, to string, now time.Time) (*notify.CalendarPart, error) {
		calls = append(calls, call{d.Kind, d.Notice.BookingID, to})
		if fail {
			return nil, errors.New("no object")
		}
		return &notify.CalendarPart{Method: "REQUEST", Data: []byte(replyObject)}, nil
	}
	as := func(u *courtside.User) context.Context { return courtside.NewContextWithUser(context.Background(), u) }
	b, err := storage.NewBookingService(w.db).RequestInterpreter(as(w.coord), w.hearing.ID, "pt", nil)
	if err != nil || b.InterpreterID != interp.ID {
		t.Fatalf("request: %v %+v", err, b)
	}
	w.plan(t)
	w.run(t)
	w.moveADay(t)
	fail = true
	w.run(t)

	want := []call{{courtside.NotifyBookingOffer, b.ID, "interp-a@mail.test"}, {courtside.NotifyHearingChanged, b.ID, "interp-a@mail.test"}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("asked for %v, want %v", calls, want)
	}
	var withCalendar, without []string
	for _, m := range w.smtp.Messages() {
		method, _, err := m.Calendar()
		if err != nil {
			t.Fatal(err)
		}
		line := m.To[0] + " " + m.MessageID
		if method != "" {
			withCalendar = append(withCalendar, line)
		} else {
			without = append(without, line)
		}
	}
	if len(withCalendar) != 1 || !strings.HasPrefix(withCalendar[0], "interp-a@mail.test ") {
		t.Errorf("messages with an invitation: %v", withCalendar)
	}
	interpAPlain := 0
	for _, line := range without {
		if strings.HasPrefix(line, "interp-a@mail.test ") {
			interpAPlain++
		}
	}
	if interpAPlain != 1 {
		t.Errorf("the move's message, its object failing, should go plain: %v", without)
	}
}

// TestMailServer_APanicDropsTheMessageOnly: a handler that panics costs the one message, not
// the server.
func TestMailServer_APanicDropsTheMessageOnly(t *testing.T) {
	var calls atomic.Int32
	w := startMailServer(t, func(cfg *notify.MailConfig) {
		cfg.Replies = func(ctx context.Context, m notify.InboundMail) {
			if calls.Add(1) == 1 {
				panic("boom")
			}
		}
	})
	for i := 0; i < 2; i++ {
		if err := send(w.dial(t, false), "a@mail.test", []string{replyAddress}, gmailShaped("")); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times", n)
	}
}
