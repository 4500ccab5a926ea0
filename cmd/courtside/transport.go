package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"courtside/calendar"
	"courtside/graph"
	"courtside/web"
)

// The bounds of the HTTP transport: how long a request may take to arrive and its answer to
// leave, how large its headers may be, how many connections may be open at once and from one
// client address, and the connections kept for health probes. Each has a flag and a
// COURTSIDE_* variable (docs/security.md, "Hostile load").
//
// A request body must keep up a minimum average rate: it may arrive until BodyTimeout after the
// headers plus one second per MinRate bytes read so far, and never later than that allowance
// for the largest body its handler accepts. An answer likewise must leave by WriteTimeout after
// the headers plus one second per MinRate bytes written. A body that arrives too slowly answers
// 408 and closes the connection. WebSocket upgrades carry no body and outlive any request
// deadline: they get none.
//
// Connections are counted by the listener: past MaxConnsPerAddr from one address, or past
// MaxConns + HealthConns in all, a new connection gets a 503 and is closed at once. The
// HealthConns connections over MaxConns serve only GET /healthz and /readyz (anything else
// answers 503), one request each, and are closed after healthConnLifetime: a load balancer's
// probe is answered while ordinary connections are exhausted.

// Transport holds the bounds of the HTTP transport. Zero fields take DefaultTransport's values.
type Transport struct {
	MaxHeaderBytes    int           // request line and headers
	ReadHeaderTimeout time.Duration // from the connection (or the previous request) to the end of the headers
	BodyTimeout       time.Duration // a body's allowance beyond its minimum rate
	WriteTimeout      time.Duration // an answer's allowance beyond its minimum rate
	MinRate           int64         // bytes per second a body and an answer must keep up on average
	MaxConns          int           // open connections serving every path
	MaxConnsPerAddr   int           // open connections from one client IP address; 0 switches the cap off
	HealthConns       int           // connections over MaxConns that serve only the health probes
}

// DefaultTransport returns the default bounds.
func DefaultTransport() Transport {
	return Transport{
		MaxHeaderBytes:    32 << 10,
		ReadHeaderTimeout: 10 * time.Second,
		BodyTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second,
		MinRate:           16 << 10,
		MaxConns:          4096,
		MaxConnsPerAddr:   100,
		HealthConns:       64,
	}
}

// healthConnLifetime is how long a connection kept for health probes may stay open.
const healthConnLifetime = 5 * time.Second

// fdReserve is the number of file descriptors kept out of the connection caps for the database,
// its journal and the log.
const fdReserve = 128

// transportFlag ties a flag to its environment variable.
type transportFlag struct{ name, env string }

// transportFlags are the flags of Transport, in the order they are registered.
var transportFlags = []transportFlag{
	{"max-header-bytes", "COURTSIDE_MAX_HEADER_BYTES"},
	{"read-header-timeout", "COURTSIDE_READ_HEADER_TIMEOUT"},
	{"body-timeout", "COURTSIDE_BODY_TIMEOUT"},
	{"write-timeout", "COURTSIDE_WRITE_TIMEOUT"},
	{"min-rate", "COURTSIDE_MIN_RATE"},
	{"max-conns", "COURTSIDE_MAX_CONNS"},
	{"max-conns-per-addr", "COURTSIDE_MAX_CONNS_PER_ADDR"},
	{"health-conns", "COURTSIDE_HEALTH_CONNS"},
}

// registerFlags adds the transport's flags to fs, with t's values as their defaults.
func (t *Transport) registerFlags(fs *flag.FlagSet) {
	fs.IntVar(&t.MaxHeaderBytes, "max-header-bytes", t.MaxHeaderBytes, "largest request line and headers, in bytes (COURTSIDE_MAX_HEADER_BYTES)")
	fs.DurationVar(&t.ReadHeaderTimeout, "read-header-timeout", t.ReadHeaderTimeout, "time allowed for a request's headers (COURTSIDE_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&t.BodyTimeout, "body-timeout", t.BodyTimeout, "time allowed for a request body beyond its minimum rate (COURTSIDE_BODY_TIMEOUT)")
	fs.DurationVar(&t.WriteTimeout, "write-timeout", t.WriteTimeout, "time allowed for an answer beyond its minimum rate; not for WebSocket subscriptions (COURTSIDE_WRITE_TIMEOUT)")
	fs.Int64Var(&t.MinRate, "min-rate", t.MinRate, "bytes per second a request body and an answer must keep up on average (COURTSIDE_MIN_RATE)")
	fs.IntVar(&t.MaxConns, "max-conns", t.MaxConns, "open connections in all, lowered to fit the open-file limit (COURTSIDE_MAX_CONNS)")
	fs.IntVar(&t.MaxConnsPerAddr, "max-conns-per-addr", t.MaxConnsPerAddr, "open connections from one client address, 0 for no cap: raise it behind a reverse proxy (COURTSIDE_MAX_CONNS_PER_ADDR)")
	fs.IntVar(&t.HealthConns, "health-conns", t.HealthConns, "connections over --max-conns kept for GET /healthz and /readyz (COURTSIDE_HEALTH_CONNS)")
}

// applyTransportEnv sets each transport flag from its environment variable, when set, before the
// command line is parsed (which then overrides it). A bad value names the variable.
func applyTransportEnv(fs *flag.FlagSet) error {
	for _, f := range transportFlags {
		if v := env(f.env, ""); v != "" {
			if err := fs.Set(f.name, v); err != nil {
				return usagef("%s: %v", f.env, err)
			}
		}
	}
	return nil
}

// validate checks the bounds and fills the zero ones with the defaults.
func (t *Transport) validate() error {
	def := DefaultTransport()
	switch {
	case t.MaxHeaderBytes < 0 || t.ReadHeaderTimeout < 0 || t.BodyTimeout < 0 || t.WriteTimeout < 0 || t.MinRate < 0 ||
		t.MaxConns < 0 || t.MaxConnsPerAddr < 0 || t.HealthConns < 0:
		return usagef("--max-header-bytes, the timeouts, --min-rate and the connection caps must not be negative")
	case t.MaxHeaderBytes != 0 && t.MaxHeaderBytes < 4<<10:
		return usagef("--max-header-bytes: at least 4096")
	case t.MinRate != 0 && t.MinRate < 64:
		return usagef("--min-rate: at least 64 bytes per second")
	}
	if t.MaxHeaderBytes == 0 {
		t.MaxHeaderBytes = def.MaxHeaderBytes
	}
	if t.ReadHeaderTimeout == 0 {
		t.ReadHeaderTimeout = def.ReadHeaderTimeout
	}
	if t.BodyTimeout == 0 {
		t.BodyTimeout = def.BodyTimeout
	}
	if t.WriteTimeout == 0 {
		t.WriteTimeout = def.WriteTimeout
	}
	if t.MinRate == 0 {
		t.MinRate = def.MinRate
	}
	if t.MaxConns == 0 {
		t.MaxConns = def.MaxConns
	}
	if t.HealthConns == 0 {
		t.HealthConns = def.HealthConns
	}
	return nil
}

// fitOpenFiles lowers the connection caps so that every connection they allow, and fdReserve
// more, fit under the process's open-file limit: a connection past the limit could not even be
// refused, and the database could not open its files. It returns the limit, 0 when unknown.
func (t *Transport) fitOpenFiles() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 0 // unknown or practically unlimited
	}
	usable := int(lim.Cur) - fdReserve
	if t.HealthConns > usable/4 {
		t.HealthConns = max(1, usable/4)
	}
	if t.MaxConns+t.HealthConns > usable {
		t.MaxConns = max(1, usable-t.HealthConns)
	}
	return lim.Cur
}

// server returns the http.Server of h with the transport's bounds.
func (t Transport) server(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           t.handler(h),
		ReadHeaderTimeout: t.ReadHeaderTimeout,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// bodyLimits are the largest bodies the handlers accept, by path prefix; other paths take
// defaultBodyLimit. A body's deadline never goes past the allowance for its handler's limit.
var bodyLimits = []struct {
	prefix string
	limit  int64
}{
	{"/graphql", graph.DefaultMaxBodyBytes},
	{"/dav/", calendar.DefaultMaxBodyBytes},
	{calendar.WellKnownPath, calendar.DefaultMaxBodyBytes},
	{"/bookings/", web.MaxFormBytes},
}

// defaultBodyLimit is the body allowance of paths that take no body.
const defaultBodyLimit = 64 << 10

// bodyLimit returns the largest body the handler of path accepts.
func bodyLimit(path string) int64 {
	for _, b := range bodyLimits {
		if strings.HasPrefix(path, b.prefix) {
			return b.limit
		}
	}
	return defaultBodyLimit
}

// handler wraps next with the per-request deadlines and the rule of the health connections.
func (t Transport) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthOnly(r.Context()) {
			w.Header().Set("Connection", "close")
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
				next.ServeHTTP(w, r)
				return
			}
			busy(w)
			return
		}
		rc := http.NewResponseController(w)
		if isUpgrade(r) {
			// A WebSocket lives past any request deadline: clear those an earlier request on
			// this connection left.
			rc.SetReadDeadline(time.Time{})
			rc.SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		bw := &boundedWriter{ResponseWriter: w, rc: rc, start: start, grace: t.WriteTimeout, rate: t.MinRate}
		rc.SetWriteDeadline(start.Add(t.WriteTimeout))
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			b := &boundedBody{ReadCloser: r.Body, rc: rc, start: start, grace: t.BodyTimeout, rate: t.MinRate}
			b.last = start.Add(t.BodyTimeout + rateTime(bodyLimit(r.URL.Path), t.MinRate))
			rc.SetReadDeadline(start.Add(t.BodyTimeout))
			r.Body, bw.body = b, b
		}
		next.ServeHTTP(bw, r)
	})
}

// busy answers 503 to a request on a connection kept for health probes.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, strings.TrimSuffix(busyText, "\n"), http.StatusServiceUnavailable)
}

// isUpgrade reports whether r asks to switch to the WebSocket protocol.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// rateTime is the time n bytes take at rate bytes per second.
func rateTime(n, rate int64) time.Duration {
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}

// boundedBody is a request body that must keep up its minimum rate: after each read, the
// connection's read deadline moves to start + grace + (bytes read)/rate, never past last.
type boundedBody struct {
	io.ReadCloser
	rc          *http.ResponseController
	start, last time.Time
	grace       time.Duration
	rate        int64
	read        int64
	timedOut    bool
}

// Read implements io.Reader.
func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	var ne net.Error
	switch {
	case err == io.EOF:
		// The whole body is in: the server's own read of the connection, which notices a
		// client that leaves, must not hit a deadline meant for the body.
		b.rc.SetReadDeadline(time.Time{})
	case errors.As(err, &ne) && ne.Timeout():
		b.timedOut = true
	case n > 0:
		d := b.start.Add(b.grace + rateTime(b.read, b.rate))
		if d.After(b.last) {
			d = b.last
		}
		b.rc.SetReadDeadline(d)
	}
	return n, err
}

// boundedWriter is a response that must keep up its minimum rate: before each write, the
// connection's write deadline moves to start + grace + (bytes written, this write included)/rate.
// When the request body timed out, the answer becomes 408 and the connection closes.
type boundedWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	body    *boundedBody
	start   time.Time
	grace   time.Duration
	rate    int64
	written int64

	wroteHeader, discard bool
}

// WriteHeader implements http.ResponseWriter.
func (w *boundedWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if w.body != nil && w.body.timedOut && status != http.StatusRequestTimeout {
		h := w.Header()
		for k := range h {
			delete(h, k)
		}
		h.Set("Connection", "close")
		http.Error(w.ResponseWriter, "Request timeout: the request body arrived too slowly.", http.StatusRequestTimeout)
		w.discard = true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *boundedWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(p), nil
	}
	w.written += int64(len(p))
	w.rc.SetWriteDeadline(w.start.Add(w.grace + rateTime(w.written, w.rate)))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, hijack).
func (w *boundedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// healthOnlyKey marks the context of a connection kept for health probes.
type healthOnlyKey struct{}

// connContext marks the requests of a connection kept for health probes.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok && lc.healthOnly {
		return context.WithValue(ctx, healthOnlyKey{}, true)
	}
	return ctx
}

// healthOnly reports whether the request came on a connection kept for health probes.
func healthOnly(ctx context.Context) bool {
	v, _ := ctx.Value(healthOnlyKey{}).(bool)
	return v
}

// connLimiter is a net.Listener that caps open connections: in all, and from one client IP
// address. A connection over a cap is answered 503 and closed as soon as it is accepted, so
// that it holds no file descriptor and no goroutine; the HealthConns connections past MaxConns
// are marked for the health probes (see Transport).
type connLimiter struct {
	net.Listener
	max, perAddr, health int
	logger               *slog.Logger

	mu      sync.Mutex
	open    int
	byAddr  map[string]int
	refused int       // connections refused since the last log line
	logged  time.Time // when the last refusal was logged
}

// refusalLogEvery is the most often refused connections are logged (as a count).
const refusalLogEvery = time.Minute

// limitListener wraps ln with t's connection caps.
func (t Transport) limitListener(ln net.Listener, logger *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: t.MaxConns, perAddr: t.MaxConnsPerAddr, health: t.HealthConns,
		logger: logger, byAddr: map[string]int{}}
}

// busyText is the body of the 503 of a refused connection or a health connection.
const busyText = "Service busy: too many connections; try again shortly.\n"

// busyResponse is what a refused connection receives before it is closed.
var busyResponse = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(busyText)) + "\r\n\r\n" + busyText

// Accept implements net.Listener.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientIP(c.RemoteAddr())
		l.mu.Lock()
		if (l.perAddr > 0 && l.byAddr[addr] >= l.perAddr) || l.open >= l.max+l.health {
			l.refuseLocked()
			l.mu.Unlock()
			c.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(c, busyResponse)
			c.Close()
			continue
		}
		lc := &limitedConn{Conn: c, l: l, addr: addr, healthOnly: l.open >= l.max}
		l.open++
		l.byAddr[addr]++
		l.mu.Unlock()
		if lc.healthOnly {
			time.AfterFunc(healthConnLifetime, func() { lc.Close() })
		}
		return lc, nil
	}
}

// refuseLocked counts a refused connection and logs the count at most every refusalLogEvery.
func (l *connLimiter) refuseLocked() {
	l.refused++
	if now := time.Now(); now.Sub(l.logged) >= refusalLogEvery {
		l.logger.Warn("connections refused", "count", l.refused, "open", l.open, "max_conns", l.max,
			"max_conns_per_addr", l.perAddr)
		l.refused, l.logged = 0, now
	}
}

// Open returns the number of open connections.
func (l *connLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// release counts a connection closed.
func (l *connLimiter) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// clientIP returns the IP address of a connection's peer, the key of the per-address cap.
func clientIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn is a connection counted by a connLimiter until it is closed.
type limitedConn struct {
	net.Conn
	l          *connLimiter
	addr       string
	healthOnly bool
	once       sync.Once
}

// Close implements net.Conn; the connection is counted out once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

// describe is the transport's bounds as one log line's attributes.
func (t Transport) describe(openFiles uint64) []any {
	return []any{"max_conns", t.MaxConns, "max_conns_per_addr", t.MaxConnsPerAddr, "health_conns", t.HealthConns,
		"open_files", openFiles, "body_timeout", t.BodyTimeout, "write_timeout", t.WriteTimeout,
		"min_rate", fmt.Sprintf("%d B/s", t.MinRate), "max_header_bytes", t.MaxHeaderBytes}
}
