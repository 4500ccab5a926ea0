package main_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The transport's bounds on the real binary: bodies that trickle are closed by the server,
// connections are capped in all and per client address, /healthz and /readyz answer under that
// load. The attacks come from other loopback addresses (127.0.0.2, ...) than the test's own
// probes (127.0.0.1), as they would from other hosts. Nothing here times the server: each test
// waits, with a generous limit, for what must happen (a connection closed, an answer given).

// closeWait is how long a test waits for the server to close what it must close.
const closeWait = 2 * time.Minute

// trickler is one connection that sends a request's headers and then its body one byte at a
// time, until the server closes the connection.
type trickler struct {
	conn     net.Conn
	answered chan struct{} // closed once the status line is read, or the connection ended without one
	done     chan struct{} // closed once the server has closed the connection
	status   string        // the status line the server answered, if any: read it after answered
}

// startTrickle dials addr from the loopback address local, sends head (the request line and
// headers, ending with the blank line) and then one byte of body every `every`.
func startTrickle(t *testing.T, local, addr, head string, every time.Duration) *trickler {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 30 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	tr := &trickler{conn: c, answered: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		// Refused at once: the server may have closed it already; the reader tells.
		t.Logf("write headers from %s: %v", local, err)
	}
	go func() {
		defer close(tr.done)
		br := bufio.NewReader(c)
		if line, err := br.ReadString('\n'); err == nil {
			tr.status = strings.TrimSpace(line)
		}
		close(tr.answered)
		io.Copy(io.Discard, br) // until the server closes (EOF) or resets the connection
	}()
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tr.done:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	return tr
}

// waitClosed waits until the server has closed every connection of ts, or fails the test
// after closeWait naming how many are still open.
func waitClosed(t *testing.T, ts []*trickler) {
	t.Helper()
	deadline := time.After(closeWait)
	for i, tr := range ts {
		select {
		case <-tr.done:
		case <-deadline:
			open := 0
			for _, tr := range ts[i:] {
				select {
				case <-tr.done:
				default:
					open++
				}
			}
			t.Fatalf("%d of %d trickling connections still open after %s", open, len(ts), closeWait)
		}
	}
}

// probe sends GET path from the test's own address and returns the status and headers (with
// Connection: close when the server asked to close), or fails.
func probe(t *testing.T, base, path string) (int, http.Header) {
	t.Helper()
	tr := &http.Transport{} // a connection of its own, kept alive unless the server closes it
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: time.Minute, Transport: tr}
	resp, err := client.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		resp.Header.Set("Connection", "close")
	}
	return resp.StatusCode, resp.Header
}

// putHead is the head of a CalDAV PUT of a 100,000-byte object with the advocate's app password.
func putHead(w *world, name string) string {
	req, _ := http.NewRequest(http.MethodPut, "http://x/dav/calendars/adv/availability/"+name, nil)
	req.SetBasicAuth("adv", w.advocateApp)
	return "PUT /dav/calendars/adv/availability/" + name + " HTTP/1.1\r\nHost: courtside\r\nAuthorization: " +
		req.Header.Get("Authorization") + "\r\nContent-Type: text/calendar\r\nContent-Length: 100000\r\n\r\n"
}

// graphHead is the head of an anonymous GraphQL POST declaring a 100,000-byte body.
const graphHead = "POST /graphql HTTP/1.1\r\nHost: courtside\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"

// TestTransport_SlowBodiesClosedWhileHealthAnswers shows that bodies trickling below the
// minimum rate are closed by the server once their allowance is spent (408 where the handler
// was reading the body), that /healthz answers 200 meanwhile, and that a body sent slowly but
// above the minimum rate, for longer than --body-timeout, is served.
func TestTransport_SlowBodiesClosedWhileHealthAnswers(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db, "--body-timeout", "1s", "--min-rate", "1024", "--max-conns-per-addr", "0")
	addr := strings.TrimPrefix(s.url, "http://")

	var ts []*trickler
	for i := range 20 {
		ts = append(ts, startTrickle(t, "127.0.0.2", addr, putHead(w, fmt.Sprintf("slow-%d.ics", i)), 250*time.Millisecond))
		ts = append(ts, startTrickle(t, "127.0.0.2", addr, graphHead, 250*time.Millisecond))
	}
	for range 3 {
		if code, _ := probe(t, s.url, "/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz under trickling bodies: %d", code)
		}
	}
	waitClosed(t, ts)
	for i, tr := range ts {
		if i%2 == 0 && !strings.Contains(tr.status, " 408 ") {
			t.Errorf("trickling PUT: answered %q, want 408", tr.status)
		}
	}

	// 6,000 bytes over about 2.4 s: slower than --body-timeout alone allows, faster than
	// --min-rate.
	event := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nBEGIN:VEVENT\r\nUID:steady\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20270105T130000Z\r\nDTEND:20270105T140000Z\r\nSUMMARY:Steady upload\r\n"
	for len(event) < 6000 {
		event += "COMMENT:" + strings.Repeat("n", 70) + "\r\n"
	}
	event += "END:VEVENT\r\nEND:VCALENDAR\r\n"
	pr, pw := io.Pipe()
	go func() {
		for rest := event; len(rest) > 0; {
			n := min(250, len(rest))
			if _, err := io.WriteString(pw, rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPut, s.url+"/dav/calendars/adv/availability/steady.ics", pr)
	req.ContentLength = int64(len(event))
	req.Header.Set("Content-Type", "text/calendar")
	req.SetBasicAuth("adv", w.advocateApp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("steady PUT: %d %s", resp.StatusCode, body)
	}
}

// TestTransport_OpenFileLimitKeepsHealthAnswering runs the binary under an open-file limit of
// 256 with its default bounds, and opens 300 connections from one address, each trickling a
// declared 100 KB body: more than the process could hold. The connections over the
// per-address cap are refused with 503 at once, the others are closed when their body
// allowance runs out, and /healthz and /readyz answer 200 from another address meanwhile.
func TestTransport_OpenFileLimitKeepsHealthAnswering(t *testing.T) {
	w := newWorld(t)
	s := startLimited(t, w.db, 256)
	addr := strings.TrimPrefix(s.url, "http://")

	var ts []*trickler
	for i := range 300 {
		head := graphHead
		if i%2 == 0 {
			head = putHead(w, fmt.Sprintf("fd-%d.ics", i))
		}
		ts = append(ts, startTrickle(t, "127.0.0.2", addr, head, time.Second))
	}
	for _, path := range []string{"/healthz", "/readyz", "/healthz"} {
		if code, _ := probe(t, s.url, path); code != http.StatusOK {
			t.Fatalf("%s with 300 trickling connections open: %d", path, code)
		}
	}
	waitClosed(t, ts)
	refused := 0
	for _, tr := range ts {
		if strings.Contains(tr.status, " 503 ") {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("no connection over the per-address cap was refused")
	}
	if code, _ := probe(t, s.url, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after the attack: %d", code)
	}
}

// startLimited runs `courtside serve` with its open-file limit (soft and hard) set to nofile.
func startLimited(t *testing.T, db string, nofile int) *server {
	t.Helper()
	cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" serve --addr 127.0.0.1:0 --db "$1"`, nofile), binary, db)
	return startCmd(t, cmd)
}

// startCmd starts cmd, a `courtside serve` however wrapped, and waits for its address.
func startCmd(t *testing.T, cmd *exec.Cmd) *server {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: s.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log (last part):\n%s", tail(s.logs.String(), 4000))
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- line
			}
		}
	}()
	select {
	case s.url = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start")
	}
	return s
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestTransport_HealthConnsAnswerProbesWhenFull fills --max-conns with trickling bodies and
// shows that a probe still gets /healthz and /readyz (on a connection kept for probes, closed
// after its one answer) while any other request gets 503 with Retry-After; once the trickling
// connections are gone, other requests are served again.
func TestTransport_HealthConnsAnswerProbesWhenFull(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db, "--max-conns", "8", "--health-conns", "4", "--max-conns-per-addr", "0", "--body-timeout", "5m")
	addr := strings.TrimPrefix(s.url, "http://")
	var ts []*trickler
	for range 8 {
		ts = append(ts, startTrickle(t, "127.0.0.2", addr, graphHead, time.Second))
	}
	// Once the server holds all eight, an ordinary request finds no ordinary connection.
	deadline := time.Now().Add(closeWait)
	for {
		code, h := probe(t, s.url, "/graphql")
		if code == http.StatusServiceUnavailable {
			if h.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			break
		}
		if code != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("GET /graphql while the trickling connections are taken: %d, want 200 and then 503", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, h := probe(t, s.url, path)
		if code != http.StatusOK {
			t.Fatalf("%s with every ordinary connection taken: %d", path, code)
		}
		if !strings.EqualFold(h.Get("Connection"), "close") {
			t.Errorf("%s on a probe connection: Connection %q, want close", path, h.Get("Connection"))
		}
	}
	for _, tr := range ts {
		tr.conn.Close()
	}
	for {
		if code, _ := probe(t, s.url, "/graphql"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /graphql still refused after the trickling connections closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTransport_HeadersOverTheCapAnswer431 sends 40 KB of headers: 431, where Go's default
// would read up to 1 MB.
func TestTransport_HeadersOverTheCapAnswer431(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 40<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("40 KB of headers: %d, want 431", resp.StatusCode)
	}
	// A bad bound in the environment names its variable.
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", w.db)
	cmd.Env = append(cmd.Environ(), "COURTSIDE_MAX_CONNS=lots")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "COURTSIDE_MAX_CONNS") {
		t.Fatalf("COURTSIDE_MAX_CONNS=lots: exit %d, %s", cmd.ProcessState.ExitCode(), out)
	}
}
