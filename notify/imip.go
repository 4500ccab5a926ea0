package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"courtside"
)

// The inbound mail of invitation replies (iMIP, RFC 6047). The invitations Courtside sends
// name an address it receives mail for as their ORGANIZER; calendar apps send the
// interpreter's answer there as an iTIP REPLY. MailServer is that address's SMTP server: it
// takes mail for the reply address only, reads the message's calendar parts and hands them,
// with the message's From address, to MailConfig.Replies. Everything else is dropped without a
// word: the server accepts a message it will not act on rather than refusing it, so that no
// bounce ever goes to a sender who may be forged, and so that the answer says nothing about
// which bookings exist. It is treated as hostile input: bounded in message size, recipients,
// messages per connection, connections in all and per address, and time.

// InboundMail is an accepted message addressed to the reply address.
type InboundMail struct {
	// From is the address in the message's From header (its one mailbox), as written.
	From string
	// Calendars are the iCalendar objects the message carries: its text/calendar parts and its
	// application/ics (or *.ics) attachments, decoded, at most MaxInboundCalendars.
	Calendars [][]byte
}

// Bounds of the inbound mail server (MailConfig's defaults).
const (
	// DefaultMaxInboundBytes is the largest message accepted: replies are a few kilobytes
	// (Outlook's with their HTML, some tens).
	DefaultMaxInboundBytes = 1 << 20
	// DefaultMaxInboundConns is how many connections are served at once, and
	// DefaultMaxInboundConnsPerAddr how many of them from one client address.
	DefaultMaxInboundConns        = 64
	DefaultMaxInboundConnsPerAddr = 8
	// DefaultInboundTimeout bounds each command and its answer; DefaultInboundSession a
	// whole connection, however it trickles.
	DefaultInboundTimeout = 30 * time.Second
	DefaultInboundSession = 5 * time.Minute
	// MaxInboundRecipients is how many recipients one message may name; MaxInboundMessages
	// how many messages one connection may send.
	MaxInboundRecipients = 5
	MaxInboundMessages   = 10
	// MaxInboundParts bounds the MIME parts read of one message, MaxInboundDepth their
	// nesting, MaxInboundCalendars the calendar objects kept and MaxInboundCalendarBytes the
	// size of each.
	MaxInboundParts         = 50
	MaxInboundDepth         = 5
	MaxInboundCalendars     = 4
	MaxInboundCalendarBytes = 256 << 10
)

// MailConfig configures a MailServer.
type MailConfig struct {
	// Address is the reply address (the invitations' ORGANIZER). Mail to any other recipient
	// is refused at RCPT (550), as any mail server refuses an address it does not serve.
	Address string
	// Domain is the name the server greets with; "" means Address's domain.
	Domain string
	// TLSConfig, when set, offers STARTTLS (RFC 3207) with its certificate.
	TLSConfig *tls.Config
	// Relays, when set, are the only client addresses served (the MX relay in front); any
	// other connection is answered 554 and closed.
	Relays []netip.Prefix
	// AuthServID, when set, requires each message to carry an Authentication-Results header
	// (RFC 8601) of that authentication service (the relay's) saying that the From domain
	// passed DMARC, or DKIM or SPF aligned with it (AuthenticatedFrom). Set Relays with it,
	// so that only the relay can write that header.
	AuthServID string
	// MaxMessageBytes, MaxConns, MaxConnsPerAddr, Timeout and SessionTimeout bound the server;
	// zero means the Default* constants.
	MaxMessageBytes int64
	MaxConns        int
	MaxConnsPerAddr int
	Timeout         time.Duration
	SessionTimeout  time.Duration
	// Replies receives each message that carries a calendar object before the server
	// acknowledges it, and decides what the objects answer; whatever it decides, the message is
	// acknowledged the same way. It must not block for long.
	Replies func(ctx context.Context, m InboundMail)
	// Logger receives one line per dropped message and per refused connection, never an
	// address or any content.
	Logger *slog.Logger
	// Observe, when set, is told of each connection refused (MailRefused) and of each
	// message read, handed on to Replies (MailAccepted) or dropped (MailDropped): what the
	// operator's metrics count.
	Observe func(outcome string)
}

// The outcomes MailConfig.Observe is told of.
const (
	MailRefused  = "refused"
	MailAccepted = "accepted"
	MailDropped  = "dropped"
)

// MailServer is the SMTP server of the reply address.
type MailServer struct {
	cfg    MailConfig
	server *smtp.Server
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    int
	byAddr   map[netip.Addr]int
	closed   bool
	inflight sync.WaitGroup // messages being handed on
}

// NewMailServer returns the server of cfg; Serve starts it.
func NewMailServer(cfg MailConfig) (*MailServer, error) {
	addr := strings.TrimSpace(cfg.Address)
	if err := courtside.ValidateEmail(addr); err != nil {
		return nil, courtside.Invalidf("address", "The reply address %q is not an e-mail address.", cfg.Address)
	}
	cfg.Address = addr
	if cfg.Domain == "" {
		cfg.Domain = addr[strings.LastIndexByte(addr, '@')+1:]
	}
	if cfg.AuthServID != "" && len(cfg.Relays) == 0 {
		return nil, courtside.Invalidf("authservId", "Authentication results are believed only from a relay: give the relays' addresses too.")
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxInboundBytes
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxInboundConns
	}
	if cfg.MaxConnsPerAddr <= 0 {
		cfg.MaxConnsPerAddr = DefaultMaxInboundConnsPerAddr
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultInboundTimeout
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultInboundSession
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &MailServer{cfg: cfg, byAddr: map[netip.Addr]int{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{server: s}, nil
	}))
	srv.Domain = cfg.Domain
	srv.TLSConfig = cfg.TLSConfig
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = MaxInboundRecipients
	srv.MaxLineLength = 2000
	srv.ReadTimeout = cfg.Timeout
	srv.WriteTimeout = cfg.Timeout
	srv.ErrorLog = log.New(io.Discard, "", 0) // its lines name client addresses
	s.server = srv
	return s, nil
}

// Serve accepts connections on l until Close. Connections past the caps, or from outside the
// relays, are answered and closed before the SMTP server sees them.
func (s *MailServer) Serve(l net.Listener) error {
	err := s.server.Serve(&mailListener{Listener: l, server: s})
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops the server and closes its connections, then waits for the messages being handed
// on to Replies (a reply being applied finishes; no new one starts).
func (s *MailServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.server.Close()
	s.inflight.Wait()
	s.cancel()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// mailListener applies the relays and the connection caps, and bounds each connection's life.
type mailListener struct {
	net.Listener
	server *MailServer
}

func (l *mailListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if conn, ok := l.server.admit(c); ok {
			return conn, nil
		}
	}
}

// observe tells MailConfig.Observe, when set, of an outcome.
func (s *MailServer) observe(outcome string) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(outcome)
	}
}

// admit decides whether connection c is served; a refused one is answered and closed.
func (s *MailServer) admit(c net.Conn) (net.Conn, bool) {
	addr := remoteAddr(c)
	refuse := func(reply, why string) (net.Conn, bool) {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(c, reply)
		c.Close()
		s.cfg.Logger.Info("mail connection refused", "reason", why)
		s.observe(MailRefused)
		return nil, false
	}
	if len(s.cfg.Relays) > 0 && !inPrefixes(addr, s.cfg.Relays) {
		return refuse("554 5.7.1 Not accepting mail from this address\r\n", "not a relay")
	}
	s.mu.Lock()
	switch {
	case s.conns >= s.cfg.MaxConns:
		s.mu.Unlock()
		return refuse("421 4.3.2 Too busy, try again later\r\n", "connection cap")
	case s.byAddr[addr] >= s.cfg.MaxConnsPerAddr:
		s.mu.Unlock()
		return refuse("421 4.7.0 Too many connections from your address\r\n", "per-address connection cap")
	}
	s.conns++
	s.byAddr[addr]++
	s.mu.Unlock()
	mc := &mailConn{Conn: c, release: func() {
		s.mu.Lock()
		s.conns--
		if s.byAddr[addr]--; s.byAddr[addr] <= 0 {
			delete(s.byAddr, addr)
		}
		s.mu.Unlock()
	}}
	// However slowly it trickles, a connection ends SessionTimeout after it began.
	mc.timer = time.AfterFunc(s.cfg.SessionTimeout, func() { mc.Close() })
	return mc, true
}

// remoteAddr returns the connection's peer address, IPv4 unmapped.
func remoteAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func inPrefixes(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// mailConn is a served connection: its slot is released once when it closes.
type mailConn struct {
	net.Conn
	timer   *time.Timer
	once    sync.Once
	release func()
}

func (c *mailConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.timer.Stop()
		c.release()
	})
	return err
}

// mailSession is one SMTP session.
type mailSession struct {
	server   *MailServer
	messages int
	rcpt     bool
}

func (m *mailSession) Reset()        { m.rcpt = false }
func (m *mailSession) Logout() error { return nil }

func (m *mailSession) Mail(from string, opts *smtp.MailOptions) error {
	if m.messages >= MaxInboundMessages {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages on one connection"}
	}
	return nil
}

func (m *mailSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if !strings.EqualFold(strings.TrimSpace(to), m.server.cfg.Address) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	}
	m.rcpt = true
	return nil
}

// Data reads the message whole (go-smtp refuses one over MaxMessageBytes with 552), accepts
// it, and hands its calendar objects on. What it answers does not depend on the content; a
// panic while reading or handing on is logged, and the message dropped.
func (m *mailSession) Data(r io.Reader) (err error) {
	m.messages++
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !m.rcpt {
		return nil
	}
	s := m.server
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()
	accepted := false
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("mail dropped", "reason", "panic while reading it")
			if !accepted { // a message handed on is counted once, as accepted
				s.observe(MailDropped)
			}
			err = nil
		}
	}()
	in, why := s.read(data)
	if why != "" {
		s.cfg.Logger.Info("mail dropped", "reason", why)
		s.observe(MailDropped)
		return nil
	}
	s.observe(MailAccepted)
	accepted = true
	if s.cfg.Replies != nil {
		s.cfg.Replies(s.ctx, in)
	}
	return nil
}

// read takes what a reply needs from a message: its From address and its calendar objects.
// why says why the message is dropped.
func (s *MailServer) read(data []byte) (in InboundMail, why string) {
	e, err := gomessage.Read(bytes.NewReader(data))
	if e == nil {
		return in, "not a message"
	}
	_ = err // an unknown charset or encoding of the top part: its calendar parts may still be read
	h := gomail.Header{Header: e.Header}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 {
		return in, "no single From address"
	}
	in.From = from[0].Address
	if s.cfg.AuthServID != "" && !AuthenticatedFrom(e.Header.Values("Authentication-Results"), s.cfg.AuthServID, in.From) {
		return in, "From not authenticated by the relay"
	}
	parts := 0
	err = e.Walk(func(path []int, part *gomessage.Entity, err error) error {
		if parts++; parts > MaxInboundParts || len(path) > MaxInboundDepth {
			return errTooComplex
		}
		if err != nil && part == nil {
			return err
		}
		if !calendarPart(part) {
			return nil
		}
		b, rerr := io.ReadAll(io.LimitReader(part.Body, MaxInboundCalendarBytes+1))
		if rerr != nil || len(b) > MaxInboundCalendarBytes {
			return nil
		}
		if len(in.Calendars) < MaxInboundCalendars {
			in.Calendars = append(in.Calendars, b)
		}
		return nil
	})
	if errors.Is(err, errTooComplex) {
		return in, "too many MIME parts"
	} else if err != nil {
		return in, "malformed MIME"
	}
	if len(in.Calendars) == 0 {
		return in, "no calendar object"
	}
	return in, ""
}

var errTooComplex = errors.New("notify: message too complex")

// calendarPart reports whether a MIME part holds an iCalendar object: text/calendar, Gmail's
// application/ics attachment, or an attachment named *.ics.
func calendarPart(part *gomessage.Entity) bool {
	mediaType, params, _ := part.Header.ContentType()
	switch strings.ToLower(mediaType) {
	case "text/calendar", "application/ics":
		return true
	case "application/octet-stream":
		_, dparams, _ := part.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		return strings.HasSuffix(strings.ToLower(name), ".ics")
	}
	return false
}

// AuthenticatedFrom reports whether the first Authentication-Results header (RFC 8601) of
// authServID among headers, in the message's order (the topmost is the relay's own, which
// RFC 8601 section 5 makes it write after removing any forged one), says that the domain of
// from passed: dmarc=pass, or dkim=pass with header.d (or header.i) the From domain or a
// parent of it, or spf=pass with smtp.mailfrom in the From domain or a parent of it.
func AuthenticatedFrom(headers []string, authServID, from string) bool {
	at := strings.LastIndexByte(from, '@')
	if at < 0 || authServID == "" {
		return false
	}
	domain := strings.ToLower(strings.TrimSuffix(from[at+1:], "."))
	for _, h := range headers {
		id, results, ok := parseAuthResults(h)
		if !ok || !strings.EqualFold(id, authServID) {
			continue
		}
		for _, r := range results {
			if r.result != "pass" {
				continue
			}
			switch r.method {
			case "dmarc":
				if v := r.props["header.from"]; v == "" || aligned(domain, v) {
					return true
				}
			case "dkim":
				if aligned(domain, r.props["header.d"]) || aligned(domain, domainOf(r.props["header.i"])) {
					return true
				}
			case "spf":
				if aligned(domain, domainOf(r.props["smtp.mailfrom"])) {
					return true
				}
			}
		}
		return false // only the relay's own header counts
	}
	return false
}

// aligned reports whether the From domain is the authenticated domain d or below it (relaxed
// alignment, RFC 7489 section 3.1).
func aligned(fromDomain, d string) bool {
	d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
	return d != "" && strings.Contains(d, ".") && (fromDomain == d || strings.HasSuffix(fromDomain, "."+d))
}

// domainOf returns the domain of an address or "@domain".
func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return addr
}

// authResult is one result of an Authentication-Results header.
type authResult struct {
	method, result string
	props          map[string]string
}

// parseAuthResults reads an Authentication-Results header: its authserv-id and results.
// Comments are dropped; quoted values are unquoted.
func parseAuthResults(h string) (id string, results []authResult, ok bool) {
	h = stripComments(h)
	fields := strings.Split(h, ";")
	head := strings.Fields(fields[0])
	if len(head) == 0 {
		return "", nil, false
	}
	id = head[0]
	for _, f := range fields[1:] {
		words := strings.Fields(f)
		if len(words) == 0 {
			continue
		}
		method, result, found := strings.Cut(words[0], "=")
		if !found {
			continue // "none", or something unreadable
		}
		method, _, _ = strings.Cut(method, "/")
		r := authResult{method: strings.ToLower(method), result: strings.ToLower(result), props: map[string]string{}}
		for _, w := range words[1:] {
			if k, v, found := strings.Cut(w, "="); found {
				r.props[strings.ToLower(k)] = strings.Trim(v, `"`)
			}
		}
		results = append(results, r)
	}
	return id, results, true
}

// stripComments removes RFC 5322 comments, nested ones included, outside quoted strings.
func stripComments(s string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (depth > 0 || quoted):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '(' && !quoted:
			depth++
			continue
		case c == ')' && !quoted && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}
