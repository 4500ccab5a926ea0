package notify_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
)

const testFrom = "notices@courtside.example"

func newSMTP(t *testing.T, sink *notifytest.SMTPSink, rawURL string) *notify.SMTP {
	t.Helper()
	s, err := notify.NewSMTP(rawURL, "Ignored Name <"+testFrom+">", notify.WithTLSConfig(sink.TLSConfig()))
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func emailMessage(key string) notify.Message {
	return notify.Message{
		IdempotencyKey: key,
		Kind:           courtside.NotifyHearingChanged,
		To:             "advocate@org.example",
		SenderName:     "Courtside Notices",
		Subject:        "Hearing moved",
		Body:           "Your hearing has moved.",
		Language:       "en",
	}
}

// TestSMTP_STARTTLSAuthAndMessage sends a Chinese message over STARTTLS with AUTH PLAIN and
// checks every header the receiver sees, the CRLF line endings and the decoded body.
func TestSMTP_STARTTLSAuthAndMessage(t *testing.T) {
	sink := notifytest.NewSMTPServer(t)
	s := newSMTP(t, sink, sink.URL())
	sent := time.Date(2026, 3, 4, 9, 30, 0, 0, time.FixedZone("EST", -5*3600))
	s.Now = func() time.Time { return sent }

	m := emailMessage("cs-ev-42-v7-EMAIL")
	m.SenderName = "法院陪同服务"
	m.Subject = "您的听证会时间已更改：第4庭，请准时到达法院并携带身份证件以便安检人员核对您的身份信息"
	m.Language = "zh-Hans"
	m.Body = "您好：\n\n您的听证会已改期至 2026年3月9日 上午10:00。\n.这一行以句点开头。\r\n" +
		strings.Repeat("这是一个很长的句子，用来检查软换行。", 10) + "\nEnd = done"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sink has %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if !got.TLS {
		t.Error("message did not come over TLS")
	}
	if got.Username != "courtside" {
		t.Errorf("authenticated as %q", got.Username)
	}
	if got.From != testFrom || len(got.To) != 1 || got.To[0] != m.To {
		t.Errorf("envelope from %q to %v", got.From, got.To)
	}
	if want := "<cs-ev-42-v7-EMAIL@courtside.example>"; got.MessageID != want {
		t.Errorf("Message-ID = %q, want %q", got.MessageID, want)
	}
	subject, err := got.Subject()
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	if raw := got.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not Q-encoded", raw)
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != m.SenderName || from[0].Address != testFrom {
		t.Errorf("From = %v (%v), want %q <%s>", from, err, m.SenderName, testFrom)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To = %v (%v)", to, err)
	}
	date, err := got.Header.Date()
	if err != nil || !date.Equal(sent) {
		t.Errorf("Date = %v (%v), want %v", date, err, sent)
	}
	for h, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	for i, line := range bytes.SplitAfter(got.Data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.Count(line, []byte("\r")) != 1 {
			t.Errorf("line %d is not a single CRLF-terminated line: %q", i, line)
		}
		if len(line) > 998+2 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
	}
	if !bytes.Contains(got.Data, []byte("?=\r\n =?utf-8?q?")) {
		t.Error("the long encoded Subject is not folded")
	}
	body, err := got.Body()
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	want := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if body = strings.ReplaceAll(body, "\r\n", "\n"); strings.TrimSuffix(body, "\n") != want {
		t.Errorf("body decodes to\n%q\nwant\n%q", body, want)
	}
}

// TestSMTP_ImplicitTLS sends over smtps:// to a sink that speaks TLS from the first byte.
func TestSMTP_ImplicitTLS(t *testing.T) {
	sink := notifytest.NewSMTPServerWith(t, notifytest.SMTPSinkOptions{ImplicitTLS: true})
	if !strings.HasPrefix(sink.URL(), "smtps://") {
		t.Fatalf("sink URL %q", sink.URL())
	}
	s := newSMTP(t, sink, sink.URL())
	if err := s.Send(context.Background(), emailMessage("k-implicit")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].MessageID != "<k-implicit@courtside.example>" {
		t.Fatalf("sink got %+v", msgs)
	}

}

// TestSMTP_NoAuthWithoutTLS checks that credentials are never sent to a server that offers
// AUTH but not STARTTLS: the send fails, temporarily, and the server sees no AUTH command.
func TestSMTP_NoAuthWithoutTLS(t *testing.T) {
	sink := notifytest.NewSMTPServerWith(t, notifytest.SMTPSinkOptions{NoTLS: true})
	s, err := notify.NewSMTP(sink.URL(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), emailMessage("k-notls"))
	if err == nil {
		t.Fatal("Send succeeded without TLS")
	}
	if notify.IsPermanent(err) {
		t.Errorf("a server without STARTTLS is a configuration problem, not a permanent one: %v", err)
	}
	if !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("error does not say why: %v", err)
	}
	u, _ := url.Parse(sink.URL())
	pass, _ := u.User.Password()
	if strings.Contains(err.Error(), pass) {
		t.Errorf("error contains the password: %v", err)
	}
	if n := sink.AuthAttempts(); n != 0 {
		t.Errorf("server saw %d AUTH commands", n)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("server accepted %d messages", n)
	}
}

// TestSMTP_WithoutCredentials uses STARTTLS when a relay offers it and sends in clear
// only when it does not, since no credentials are at stake.
func TestSMTP_WithoutCredentials(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    notifytest.SMTPSinkOptions
		wantTLS bool
	}{
		{"STARTTLS offered", notifytest.SMTPSinkOptions{NoAuth: true}, true},
		{"no STARTTLS", notifytest.SMTPSinkOptions{NoAuth: true, NoTLS: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := notifytest.NewSMTPServerWith(t, tc.opts)
			s := newSMTP(t, sink, "smtp://"+sink.Addr())
			if err := s.Send(context.Background(), emailMessage("k-relay")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := sink.Messages()
			if len(msgs) != 1 || msgs[0].TLS != tc.wantTLS || msgs[0].Username != "" {
				t.Fatalf("sink got %+v, want one message with TLS=%v", msgs, tc.wantTLS)
			}
			if sink.AuthAttempts() != 0 {
				t.Error("client authenticated without credentials")
			}
		})
	}
}

// TestSMTP_ErrorClassification checks which refusals are Permanent.
func TestSMTP_ErrorClassification(t *testing.T) {
	sink := notifytest.NewSMTPServer(t)
	s := newSMTP(t, sink, sink.URL())
	ctx := context.Background()

	for _, tc := range []struct {
		name      string
		fail      func()
		permanent bool
		code      int
	}{
		{"recipient 550", func() { sink.FailNext(1, 550) }, true, 550},
		{"recipient 451", func() { sink.FailNext(1, 451) }, false, 451},
		{"data 554", func() { sink.FailNextData(1, 554) }, true, 554},
		{"data 452", func() { sink.FailNextData(1, 452) }, false, 452},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fail()
			err := s.Send(ctx, emailMessage("k-fail"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if notify.IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			var re *notify.SMTPReplyError
			if !errors.As(err, &re) || re.Code != tc.code {
				t.Errorf("error %v does not carry reply code %d", err, tc.code)
			}
			if strings.Contains(err.Error(), "failure requested") {
				t.Errorf("error repeats the server's text: %v", err)
			}
		})
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("sink accepted %d refused messages", n)
	}
	if err := s.Send(ctx, emailMessage("k-ok")); err != nil {
		t.Fatalf("Send after the failures: %v", err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("sink has %d messages, want 1", n)
	}

	// A wrong password is refused at AUTH: temporary, and the password is not in the error.
	u, _ := url.Parse(sink.URL())
	u.User = url.UserPassword("courtside", "wrong-secret-value")
	bad := newSMTP(t, sink, u.String())
	err := bad.Send(ctx, emailMessage("k-badpass"))
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("wrong password: %v (permanent %v)", err, notify.IsPermanent(err))
	}

	// A server that is not there is temporary.
	addr := sink.Addr()
	sink.Close()
	gone := newSMTP(t, sink, "smtp://courtside:x@"+addr)
	if err := gone.Send(ctx, emailMessage("k-gone")); err == nil || notify.IsPermanent(err) {
		t.Errorf("closed server: %v", err)
	}
}

// TestSMTP_RefusesBadMessages checks that a message that can never be sent is Permanent
// before any connection is made.
func TestSMTP_RefusesBadMessages(t *testing.T) {
	sink := notifytest.NewSMTPServer(t)
	s := newSMTP(t, sink, sink.URL())
	for name, mutate := range map[string]func(*notify.Message){
		"recipient with a name":     func(m *notify.Message) { m.To = "Demo Person A <a@org.example>" },
		"recipient not an address":  func(m *notify.Message) { m.To = "not an address" },
		"recipient with CRLF":       func(m *notify.Message) { m.To = "a@org.example\r\nRCPT TO:<b@org.example>" },
		"key with a space":          func(m *notify.Message) { m.IdempotencyKey = "a b" },
		"key with an angle bracket": func(m *notify.Message) { m.IdempotencyKey = "a>b" },
		"empty key":                 func(m *notify.Message) { m.IdempotencyKey = "" },
		"body not UTF-8":            func(m *notify.Message) { m.Body = "\xff\xfe" },
	} {
		m := emailMessage("k-bad")
		mutate(&m)
		if err := s.Send(context.Background(), m); !notify.IsPermanent(err) {
			t.Errorf("%s: err = %v, want Permanent", name, err)
		}
	}
	if sink.AuthAttempts() != 0 || len(sink.Messages()) != 0 {
		t.Error("a refused message reached the server")
	}
}

// TestSMTP_HeaderInjection checks that CR and LF in the sender name and subject cannot add
// headers.
func TestSMTP_HeaderInjection(t *testing.T) {
	sink := notifytest.NewSMTPServer(t)
	s := newSMTP(t, sink, sink.URL())
	m := emailMessage("k-inject")
	m.SenderName = "Advocate\r\nBcc: victim-list@evil.example"
	m.Subject = "Hearing\r\nBcc: other@evil.example\nX-Injected: yes\r\n\r\nbody"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sink.Messages()[0]
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v, ok := got.Header[h]; ok {
			t.Errorf("injected header %s: %v", h, v)
		}
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Advocate Bcc: victim-list@evil.example" || from[0].Address != testFrom {
		t.Errorf("From = %v (%v)", from, err)
	}
	if subject, _ := got.Subject(); subject != "Hearing Bcc: other@evil.example X-Injected: yes body" {
		t.Errorf("Subject = %q", subject)
	}
	if len(got.To) != 1 {
		t.Errorf("recipients %v", got.To)
	}

	// An empty sender name falls back to the default.
	m = emailMessage("k-default-name")
	m.SenderName = " \r\n "
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	from, err = sink.Messages()[1].Header.AddressList("From")
	if err != nil || from[0].Name != notify.DefaultSenderName {
		t.Errorf("From = %v (%v), want the default name", from, err)
	}
}

// TestSMTP_ContextEndsSend checks that cancelling the context ends a send that a server
// which never answers would otherwise hold open.
func TestSMTP_ContextEndsSend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c // never greets
		}
	}()
	s, err := notify.NewSMTP("smtp://user:pass@"+l.Addr().String(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, emailMessage("k-ctx")) }()
	c := <-accepted
	defer c.Close()
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || notify.IsPermanent(err) {
		t.Fatalf("Send after cancel = %v, want a temporary context.Canceled", err)
	}
}

// TestNewSMTP_BadURLs checks that bad configuration is refused with an error that never
// contains the password.
func TestNewSMTP_BadURLs(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct{ url, from, want string }{
		{"http://u:" + secret + "@mail.example", testFrom, "scheme"},
		{"smtp://u:" + secret + "@", testFrom, "no host"},
		{"smtp://u:" + secret + "@mail.example:99999", testFrom, "port"},
		{"smtp://u:" + secret + "@mail.example:smtp", testFrom, "URL"},
		{"smtp://u:" + secret + "@mail.example/path", testFrom, "path"},
		{"smtp://u@mail.example", testFrom, "password"},
		{"smtp://u:" + secret + "%zz@mail.example", testFrom, "not a valid URL"},
		{"smtp://u:" + secret + "@mail.example", "not-an-address", "sender address"},
		{"smtp://u:" + secret + "@mail.example", "", "sender address"},
	} {
		_, err := notify.NewSMTP(tc.url, tc.from)
		if err == nil {
			t.Errorf("NewSMTP(%q) succeeded", tc.url)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("NewSMTP(%q): error contains the password: %v", tc.url, err)
		}
		if !strings.Contains(courtside.ErrorMessage(err), tc.want) {
			t.Errorf("NewSMTP(%q) = %v, want it to mention %q", tc.url, err, tc.want)
		}
	}
	s, err := notify.NewSMTP("smtps://u:"+secret+"@mail.example", "Name <"+testFrom+">")
	if err != nil {
		t.Fatal(err)
	}
	if s.From() != testFrom || s.Channel() != courtside.ChannelEmail {
		t.Errorf("From %q, channel %s", s.From(), s.Channel())
	}
	if str := s.String(); strings.Contains(str, secret) || !strings.Contains(str, "mail.example:465") {
		t.Errorf("String() = %q", str)
	}
}
