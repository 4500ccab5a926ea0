package notifytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPMessage is one message an SMTPSink accepted.
type SMTPMessage struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Data is the message as received, headers and body, with CRLF line endings.
	Data []byte
	// MessageID is the Message-ID header, angle brackets included.
	MessageID string
	// Header is the parsed header of Data.
	Header mail.Header
	// TLS reports whether the message came over TLS.
	TLS bool
	// Username is the authenticated user.
	Username string
	// Received is when the sink accepted the message (the end of DATA).
	Received time.Time
}

// Subject returns the Subject header with RFC 2047 encoded words decoded.
func (m SMTPMessage) Subject() (string, error) {
	return new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
}

// Body returns the plain-text body with its transfer encoding undone: the whole body of a
// text/plain message, or the text/plain part of a multipart one (an invitation's e-mail).
func (m SMTPMessage) Body() (string, error) {
	text, _, err := m.parts()
	return text, err
}

// Calendar returns the text/calendar part of a multipart message, decoded, with the method
// its Content-Type names; "" and nil when there is none.
func (m SMTPMessage) Calendar() (method string, data []byte, err error) {
	_, cal, err := m.parts()
	if err != nil || cal == nil {
		return "", nil, err
	}
	return cal.method, cal.data, nil
}

// calendarPart is a message's text/calendar part.
type calendarPart struct {
	method string
	data   []byte
}

// parts returns the message's plain text and its calendar part (nil when it has none).
func (m SMTPMessage) parts() (string, *calendarPart, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return "", nil, err
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		b, err := io.ReadAll(decodeTransfer(msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
		return string(b), nil, err
	}
	var text string
	var cal *calendarPart
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return text, cal, nil
		} else if err != nil {
			return "", nil, err
		}
		b, err := io.ReadAll(decodeTransfer(p.Header.Get("Content-Transfer-Encoding"), p))
		if err != nil {
			return "", nil, err
		}
		partType, partParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch partType {
		case "text/plain":
			text = string(b)
		case "text/calendar":
			cal = &calendarPart{method: partParams["method"], data: b}
		}
	}
}

// decodeTransfer undoes a quoted-printable or base64 transfer encoding.
func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}

func cloneSMTPMessage(m SMTPMessage) SMTPMessage {
	m.To = append([]string(nil), m.To...)
	m.Data = bytes.Clone(m.Data)
	h := make(mail.Header, len(m.Header))
	for k, v := range m.Header {
		h[k] = append([]string(nil), v...)
	}
	m.Header = h
	return m
}

// SMTPSinkOptions configures StartSMTPSink.
type SMTPSinkOptions struct {
	// Addr is the address to listen on; "" means 127.0.0.1:0.
	Addr string
	// Username and Password are the AUTH PLAIN credentials; "" means "courtside" and a
	// random password.
	Username, Password string
	// Identity is the TLS certificate; nil means a fresh one. Pass the previous sink's
	// Identity to restart a sink that clients already trust.
	Identity *TLSIdentity
	// ImplicitTLS makes the sink speak TLS from the first byte (smtps://).
	ImplicitTLS bool
	// NoTLS makes the sink offer neither STARTTLS nor TLS, while still offering AUTH in
	// clear, to test that a client refuses to authenticate.
	NoTLS bool
	// NoAuth makes the sink accept mail without AUTH, as a relay does for a client
	// without credentials.
	NoAuth bool
}

// SMTPSink is an SMTP server that records the messages it accepts. Unless NoAuth is set,
// it requires AUTH PLAIN before MAIL.
type SMTPSink struct {
	server   *smtp.Server
	listener net.Listener
	opts     SMTPSinkOptions
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error

	rec          recorder[SMTPMessage]
	mu           sync.Mutex
	authAttempts int
	dataFailN    int
	dataFailCode int
}

// NewSMTPServer starts an SMTP sink on 127.0.0.1:0 with STARTTLS and AUTH PLAIN, closed
// when the test ends.
func NewSMTPServer(tb testing.TB) *SMTPSink {
	tb.Helper()
	return NewSMTPServerWith(tb, SMTPSinkOptions{})
}

// NewSMTPServerWith starts an SMTP sink configured by opts, closed when the test ends.
func NewSMTPServerWith(tb testing.TB, opts SMTPSinkOptions) *SMTPSink {
	tb.Helper()
	s, err := StartSMTPSink(opts)
	if err != nil {
		tb.Fatalf("notifytest: start SMTP sink: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// StartSMTPSink starts an SMTP sink; the caller closes it.
func StartSMTPSink(opts SMTPSinkOptions) (*SMTPSink, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Username == "" {
		opts.Username = "courtside"
	}
	if opts.Password == "" {
		opts.Password = randomHex(12)
	}
	if opts.Identity == nil && !opts.NoTLS {
		id, err := NewTLSIdentity()
		if err != nil {
			return nil, err
		}
		opts.Identity = id
	}
	s := &SMTPSink{opts: opts, done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{sink: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.NoTLS {
		srv.AllowInsecureAuth = true
	} else if !opts.ImplicitTLS {
		srv.TLSConfig = opts.Identity.ServerConfig()
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	if opts.ImplicitTLS {
		l = tls.NewListener(l, opts.Identity.ServerConfig())
	}
	s.server, s.listener = srv, l
	go func() {
		defer close(s.done)
		_ = srv.Serve(l)
	}()
	return s, nil
}

// Close stops the server and waits for it. It may be called more than once.
func (s *SMTPSink) Close() error {
	s.closeOnce.Do(func() {
		err := s.server.Close()
		// Serve may not have registered the listener yet; close it here too.
		lerr := s.listener.Close()
		<-s.done
		if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.closeErr = err
		} else if lerr != nil && !errors.Is(lerr, net.ErrClosed) {
			s.closeErr = lerr
		}
	})
	return s.closeErr
}

// Addr returns the address the sink listens on.
func (s *SMTPSink) Addr() string { return s.listener.Addr().String() }

// URL returns smtp://user:pass@addr, or smtps:// for an implicit-TLS sink.
func (s *SMTPSink) URL() string {
	scheme := "smtp"
	if s.opts.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, User: url.UserPassword(s.opts.Username, s.opts.Password), Host: s.Addr()}
	return u.String()
}

// Identity returns the sink's TLS identity (nil for a NoTLS sink).
func (s *SMTPSink) Identity() *TLSIdentity { return s.opts.Identity }

// TLSConfig returns a client configuration that trusts the sink's certificate.
func (s *SMTPSink) TLSConfig() *tls.Config {
	if s.opts.Identity == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return s.opts.Identity.ClientConfig()
}

// Messages returns copies of the accepted messages, oldest first.
func (s *SMTPSink) Messages() []SMTPMessage { return s.rec.snapshot(cloneSMTPMessage) }

// WaitMessages returns once at least n messages are accepted, or with ctx's error.
func (s *SMTPSink) WaitMessages(ctx context.Context, n int) ([]SMTPMessage, error) {
	return s.rec.wait(ctx, n, cloneSMTPMessage)
}

// FailNext makes the sink refuse the recipient of the next n transactions with code (a 4xx
// or 5xx reply code).
func (s *SMTPSink) FailNext(n, code int) { s.rec.setFailure(n, code) }

// FailNextData makes the sink refuse the message data of the next n transactions with code.
func (s *SMTPSink) FailNextData(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataFailN, s.dataFailCode = n, code
}

// AuthAttempts returns how many AUTH commands the sink has received.
func (s *SMTPSink) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authAttempts
}

func (s *SMTPSink) takeDataFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dataFailN > 0 {
		s.dataFailN--
		return s.dataFailCode
	}
	return 0
}

func replyError(code int) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "notifytest: failure requested"}
}

// smtpSession is one connection's state.
type smtpSession struct {
	sink *SMTPSink
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	ss.sink.mu.Lock()
	ss.sink.authAttempts++
	ss.sink.mu.Unlock()
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != ss.sink.opts.Username || password != ss.sink.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" && !ss.sink.opts.NoAuth {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.user == "" && !ss.sink.opts.NoAuth {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if code := ss.sink.rec.takeFailure(); code != 0 {
		return replyError(code)
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if code := ss.sink.takeDataFailure(); code != 0 {
		return replyError(code)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message"}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.sink.rec.add(SMTPMessage{
		From:      ss.from,
		To:        append([]string(nil), ss.to...),
		Data:      data,
		MessageID: msg.Header.Get("Message-ID"),
		Header:    msg.Header,
		TLS:       isTLS,
		Username:  ss.user,
		Received:  time.Now(),
	})
	return nil
}

func (ss *smtpSession) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *smtpSession) Logout() error { return nil }
