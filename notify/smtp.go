package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"courtside"
)

// DefaultSenderName is the display name of e-mail sent without a SenderName.
const DefaultSenderName = "Courtside"

// SMTP sends e-mail through a submission server, over STARTTLS (smtp://) or implicit TLS
// (smtps://). Credentials are never sent without TLS: with a user name in the URL, a server
// that does not offer STARTTLS is refused before AUTH.
type SMTP struct {
	// TLSConfig is the client TLS configuration; nil means the system roots. ServerName
	// defaults to the URL's host.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting (and, for smtps, the TLS handshake); 0 means 10 s.
	DialTimeout time.Duration
	// Timeout bounds a whole Send, from dialling to the server's answer to the message;
	// 0 means 60 s. A shorter deadline on Send's context wins.
	Timeout time.Duration
	// LocalName is the name the client gives in EHLO; "" means "localhost".
	LocalName string
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time

	host        string
	addr        string
	implicitTLS bool
	username    string
	password    string
	from        string // the bare envelope and header address
	fromDomain  string
}

// SMTPOption configures an SMTP sender in NewSMTP.
type SMTPOption func(*SMTP)

// WithTLSConfig sets the client TLS configuration (for example RootCAs for a private CA).
func WithTLSConfig(cfg *tls.Config) SMTPOption {
	return func(s *SMTP) { s.TLSConfig = cfg }
}

// WithTimeout sets the bound on one whole Send.
func WithTimeout(d time.Duration) SMTPOption {
	return func(s *SMTP) { s.Timeout = d }
}

// NewSMTP returns a sender for rawURL, which is smtp://[user:pass@]host[:port] (port 587;
// STARTTLS when the server offers it, and required when credentials are given) or
// smtps://[user:pass@]host[:port] (implicit TLS, port 465). from is the sender's address;
// a display name in it is ignored (each message names its own sender). Errors never
// contain the password.
func NewSMTP(rawURL, from string, opts ...SMTPOption) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, courtside.Invalidf("url", "not a valid URL (the value is not shown because it may hold a password)")
	}
	s := &SMTP{}
	var defaultPort string
	switch u.Scheme {
	case "smtp":
		defaultPort = "587"
	case "smtps":
		defaultPort = "465"
		s.implicitTLS = true
	default:
		return nil, courtside.Invalidf("url", "scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, courtside.Invalidf("url", "%s has no host; the form is %s://user:pass@host:port", hostOnly(u), u.Scheme)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, courtside.Invalidf("url", "%s must not have a path, query or fragment", hostOnly(u))
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, courtside.Invalidf("url", "%s has an invalid port", hostOnly(u))
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
		if s.username == "" || s.password == "" {
			return nil, courtside.Invalidf("url", "%s must give both a user name and a password, or neither", hostOnly(u))
		}
		if strings.ContainsAny(s.username+s.password, "\x00\r\n") {
			return nil, courtside.Invalidf("url", "%s has a control character in its credentials", hostOnly(u))
		}
	}
	s.host = u.Hostname()
	s.addr = net.JoinHostPort(s.host, port)

	addr, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(addr.Address, "\r\n<>") {
		return nil, courtside.Invalidf("from", "sender address %q is not an e-mail address", from)
	}
	at := strings.LastIndex(addr.Address, "@")
	if at <= 0 || at == len(addr.Address)-1 {
		return nil, courtside.Invalidf("from", "sender address %q has no domain", from)
	}
	s.from = addr.Address
	s.fromDomain = addr.Address[at+1:]
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Channel reports EMAIL.
func (s *SMTP) Channel() courtside.Channel { return courtside.ChannelEmail }

// String describes the sender without its password.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.implicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: s.addr}
	if s.username != "" {
		u.User = url.UserPassword(s.username, "xxxxx")
	}
	return u.String()
}

// From returns the sender's address.
func (s *SMTP) From() string { return s.from }

// Send delivers m to m.To. A 5xx answer to the recipient or to the message is Permanent;
// 4xx answers, refused or failed connections, TLS and authentication failures are
// temporary. Error messages carry reply codes, never the server's text (which may repeat
// the recipient's address) and never the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" || strings.ContainsAny(m.To, "\r\n<>") {
		return Permanent(courtside.Invalidf("to", "The recipient is not a bare e-mail address."))
	}
	data, err := s.compose(m, to.Address)
	if err != nil {
		return err
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c, err := s.connect(ctx)
	if err != nil {
		return s.fail(ctx, "connect", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.CommandTimeout = time.Until(dl)
		c.SubmissionTimeout = time.Until(dl)
	}

	if s.username != "" {
		if _, ok := c.TLSConnectionState(); !ok {
			return fmt.Errorf("smtp: %s: refusing to authenticate without TLS", s.addr)
		}
		var a sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", s.username, s.password)
		case c.SupportsAuth(sasl.Login):
			a = sasl.NewLoginClient(s.username, s.password)
		default:
			return fmt.Errorf("smtp: %s offers neither AUTH PLAIN nor AUTH LOGIN", s.addr)
		}
		if err := c.Auth(a); err != nil {
			return s.fail(ctx, "authentication", err)
		}
	}

	var mailOpts *smtp.MailOptions
	if !isASCII(to.Address) {
		mailOpts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(s.from, mailOpts); err != nil {
		return s.fail(ctx, "sender", err)
	}
	if err := c.Rcpt(to.Address, nil); err != nil {
		return s.fail(ctx, "recipient", err)
	}
	w, err := c.Data()
	if err != nil {
		return s.fail(ctx, "message", err)
	}
	if _, err := w.Write(data); err != nil {
		return s.fail(ctx, "message", err)
	}
	if err := w.Close(); err != nil {
		return s.fail(ctx, "message", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// connect dials the server and returns a client that is past EHLO and, unless the URL is
// smtp:// without credentials and the server offers no STARTTLS, on TLS.
func (s *SMTP) connect(ctx context.Context) (*smtp.Client, error) {
	if s.implicitTLS {
		conn, err := s.dial(ctx, true)
		if err != nil {
			return nil, err
		}
		c := smtp.NewClient(conn)
		if err := c.Hello(s.localName()); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	if s.username == "" {
		// Opportunistic STARTTLS: look at the server's extensions first.
		conn, err := s.dial(ctx, false)
		if err != nil {
			return nil, err
		}
		c := smtp.NewClient(conn)
		if err := c.Hello(s.localName()); err != nil {
			c.Close()
			return nil, err
		}
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return c, nil
		}
		// go-smtp starts TLS only on a fresh client; connect again.
		c.Close()
	}
	conn, err := s.dial(ctx, false)
	if err != nil {
		return nil, err
	}
	c, err := smtp.NewClientStartTLS(conn, s.tlsConfig())
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("STARTTLS failed, and credentials are never sent without TLS: %w", err)
	}
	if err := c.Hello(s.localName()); err != nil {
		c.Close()
		return nil, err
	}
	if _, ok := c.TLSConnectionState(); !ok {
		c.Close()
		return nil, errors.New("STARTTLS did not leave the connection on TLS")
	}
	return c, nil
}

// dial connects to the server. The connection is closed when ctx ends, which ends any
// exchange in progress.
func (s *SMTP) dial(ctx context.Context, implicitTLS bool) (net.Conn, error) {
	d := s.DialTimeout
	if d <= 0 {
		d = 10 * time.Second
	}
	nd := &net.Dialer{Timeout: d}
	var conn net.Conn
	var err error
	if implicitTLS {
		td := &tls.Dialer{NetDialer: nd, Config: s.tlsConfig()}
		conn, err = td.DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = nd.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	return conn, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func (s *SMTP) localName() string {
	if s.LocalName != "" {
		return s.LocalName
	}
	return "localhost"
}

// SMTPReplyError is a server's refusal at one stage of a send. Its message holds the reply
// code and enhanced code only.
type SMTPReplyError struct {
	// Stage is what was refused: "connect", "authentication", "sender", "recipient" or
	// "message".
	Stage string
	// Code is the SMTP reply code, such as 550.
	Code int
	// Enhanced is the RFC 3463 enhanced status code, such as "5.1.1", or "".
	Enhanced string
	err      *smtp.SMTPError
}

// Error describes the refusal without the server's text.
func (e *SMTPReplyError) Error() string {
	if e.Enhanced != "" {
		return fmt.Sprintf("smtp: %s refused: %d %s", e.Stage, e.Code, e.Enhanced)
	}
	return fmt.Sprintf("smtp: %s refused: %d", e.Stage, e.Code)
}

// Unwrap returns the go-smtp error.
func (e *SMTPReplyError) Unwrap() error { return e.err }

// fail classifies err from the given stage of a send.
func (s *SMTP) fail(ctx context.Context, stage string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("smtp: %s to %s: %w", stage, s.addr, ctxErr)
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		re := &SMTPReplyError{Stage: stage, Code: se.Code, err: se}
		if ec := se.EnhancedCode; ec != (smtp.EnhancedCode{}) && ec != smtp.NoEnhancedCode {
			re.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
		}
		if se.Code/100 == 5 && (stage == "recipient" || stage == "message") {
			return Permanent(re)
		}
		return re
	}
	return fmt.Errorf("smtp: %s to %s: %w", stage, s.addr, err)
}

// compose renders m as an RFC 5322 message with CRLF line endings, built with go-message: a
// text/plain body in quoted-printable, or, when m carries a calendar object, a
// multipart/alternative of that text and the object as text/calendar with its iTIP method
// (RFC 6047 section 2.4), in base64.
func (s *SMTP) compose(m Message, to string) ([]byte, error) {
	if !validMessageIDPart(m.IdempotencyKey) {
		return nil, Permanent(courtside.Invalidf("idempotencyKey",
			"The idempotency key must be 1 to 200 letters, digits, '-', '_' or '.'."))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	name := sanitizeHeaderText(m.SenderName)
	if name == "" {
		name = DefaultSenderName
	}
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	if !utf8.ValidString(body) {
		return nil, Permanent(courtside.Invalidf("body", "The message body is not valid UTF-8."))
	}
	var method string
	if m.Calendar != nil {
		method = strings.ToUpper(m.Calendar.Method)
		if !validToken(method) || len(m.Calendar.Data) == 0 {
			return nil, Permanent(courtside.Invalidf("calendar", "The calendar part needs an iTIP method and an object."))
		}
	}

	// go-message writes a header's fields in the reverse order of their setting, so they are
	// added last first; each is folded at spaces here (go-message folds encoded words poorly).
	var h gomail.Header
	add := func(name, value string) { h.AddRaw(foldField(name, value)) }
	add("Auto-Submitted", "auto-generated")
	if m.Calendar == nil {
		add("Content-Transfer-Encoding", "quoted-printable")
		add("Content-Type", "text/plain; charset=utf-8")
	} else {
		add("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary(m.IdempotencyKey)}))
	}
	add("MIME-Version", "1.0")
	add("Message-ID", "<"+m.IdempotencyKey+"@"+s.fromDomain+">")
	add("Date", now().Format(time.RFC1123Z))
	add("Subject", mime.QEncoding.Encode("utf-8", sanitizeHeaderText(m.Subject)))
	add("To", (&mail.Address{Address: to}).String())
	add("From", (&mail.Address{Name: name, Address: s.from}).String())
	text := textPartHeader()

	var b bytes.Buffer
	if m.Calendar == nil {
		w, err := gomessage.CreateWriter(&b, h.Header)
		if err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
	} else {
		mw, err := gomessage.CreateWriter(&b, h.Header)
		if err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
		// The plain text first, the calendar object last: the richest alternative comes last
		// (RFC 2046 section 5.1.4), and it is the one calendar-aware mail apps show.
		var cal gomessage.Header
		cal.Set("Content-Transfer-Encoding", "base64")
		cal.SetContentType("text/calendar", map[string]string{"charset": "utf-8", "method": method})
		for _, part := range []struct {
			header gomessage.Header
			data   []byte
		}{{text, []byte(body)}, {cal, m.Calendar.Data}} {
			pw, err := mw.CreatePart(part.header)
			if err != nil {
				return nil, fmt.Errorf("smtp: compose: %w", err)
			}
			if _, err := pw.Write(part.data); err != nil {
				return nil, fmt.Errorf("smtp: compose: %w", err)
			}
			if err := pw.Close(); err != nil {
				return nil, fmt.Errorf("smtp: compose: %w", err)
			}
		}
		if err := mw.Close(); err != nil {
			return nil, fmt.Errorf("smtp: compose: %w", err)
		}
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// textPartHeader is the header of a message's plain-text part.
func textPartHeader() gomessage.Header {
	var h gomessage.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	return h
}

// boundary returns the multipart boundary of the message with idempotency key key: the same
// for every send of the message, and, starting with "=_", a string that quoted-printable and
// base64 bodies never contain.
func boundary(key string) string {
	sum := sha256.Sum256([]byte("courtside boundary\x00" + key))
	return "=_cs_" + hex.EncodeToString(sum[:12])
}

// validToken reports whether s is a non-empty MIME token of letters, digits and '-'.
func validToken(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validMessageIDPart reports whether key can stand left of the @ in a Message-ID as is.
func validMessageIDPart(key string) bool {
	if key == "" || len(key) > 200 || key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, "..") {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// sanitizeHeaderText turns every control character (CR and LF among them) into a space
// and trims the result, so that no text can start a header of its own.
func sanitizeHeaderText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// foldField returns the header field "name: value" with CRLF, folded at spaces so that lines
// stay near 78 characters. value must not contain CR or LF.
func foldField(name, value string) []byte {
	var b strings.Builder
	line := name + ":"
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word != "" && len(line)+1+len(word) > 76 {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
	return []byte(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
