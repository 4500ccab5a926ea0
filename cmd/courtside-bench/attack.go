package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"courtside/storage"
)

// The hostile-load figures: the real binary under three attacks, each against a server of its
// own so that its peak resident memory (VmHWM) is the attack's. The targets are the issue's:
// peak RSS under 400 MB and the attack request refused or answered within 5 s; 300 trickling
// bodies closed within 90 s while /healthz answers in under 1 s.

const (
	attackMemoryTarget = 400_000_000
	attackAnswerTarget = 5 * time.Second
	trickleCloseTarget = 90 * time.Second
	healthTarget       = time.Second
	// attackClientTimeout is how long the bench waits for an attack request's answer.
	attackClientTimeout = 90 * time.Second
	// trickleConns is the number of connections trickling a body; trickleWait is how long the
	// bench waits for the server to close them all.
	trickleConns = 300
	trickleWait  = 2 * time.Minute
)

// nestedListQuery is the nested-list attack: each level multiplies by the case's hearings.
const nestedListQuery = `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 20) { edges {
	case { hearings { case { hearings { id } } } } } } }`

// fillAttackDB writes an office whose one case has n hearings (one a day from 2031-01-06),
// straight into the schema, after seeding the office and the court.
func (b *Bench) fillAttackDB(ctx context.Context, path string, n int) error {
	db, err := b.openStore(path)
	if err != nil {
		return err
	}
	defer db.Close()
	pros, court, err := seedOffice(ctx, db)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(storage.TimeFormat)
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO cases (docket, court_id, organization_id, created_at) VALUES ('31-CR-ATTACK', ?, ?, ?)`,
		court.ID, pros.OrganizationID, now)
	if err != nil {
		return err
	}
	caseID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		INSERT INTO hearings (case_id, court_id, organization_id, kind, starts_at, ends_at, courtroom, judge, status,
		    sequence, external_id, created_at, updated_at)
		SELECT ?, ?, ?, 'MOTION',
		    strftime('%Y-%m-%dT%H:%M:%S.000Z', '2031-01-06 14:00:00', '+' || i || ' days'),
		    strftime('%Y-%m-%dT%H:%M:%S.000Z', '2031-01-06 15:00:00', '+' || i || ' days'),
		    '4B', 'Judge of Part 4', 'SCHEDULED', 0, printf('A-%05d', i), ?, ? FROM n`,
		n, caseID, court.ID, pros.OrganizationID, now, now); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	return tx.Commit()
}

// attackResult is what one attack request got.
type attackResult struct {
	status string // the HTTP status, or why there was none
	bytes  int64
	took   time.Duration
	hwm    int64 // the server's peak resident memory after it
}

// attackRequest starts a server on db, sends req to it, reads the answer and returns what it
// got with the server's peak resident memory.
func (b *Bench) attackRequest(ctx context.Context, db string, newReq func(base string) (*http.Request, error)) (attackResult, error) {
	srv, err := b.startServer(ctx, db)
	if err != nil {
		return attackResult{}, err
	}
	defer srv.Stop()
	req, err := newReq(srv.URL)
	if err != nil {
		return attackResult{}, err
	}
	client := &http.Client{Timeout: attackClientTimeout, Transport: &http.Transport{DisableCompression: true}}
	var res attackResult
	start := time.Now()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		res.status = "no answer: " + shortErr(err)
	} else {
		res.bytes, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.status = resp.Status
		if err != nil {
			res.status += " (cut off: " + shortErr(err) + ")"
		}
	}
	res.took = time.Since(start)
	if _, res.hwm, err = procMemory(srv.Pid()); err != nil {
		return res, err
	}
	return res, nil
}

// shortErr is an error's text without the URL net/http puts in front of it.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "http://") {
		s = s[i+2:]
	}
	return s
}

// attack runs the three attacks and reports them.
func (b *Bench) attack(ctx context.Context) (*Section, error) {
	n := 300 // the case
	if b.Sizes.Events < fullSizes.Events {
		n = 100 // a -quick run
	}
	path := filepath.Join(b.Dir, "attack.db")
	if err := b.fillAttackDB(ctx, path, n); err != nil {
		return nil, err
	}
	api, err := b.cli(ctx, "", "token", "create", "--db", path, "--username", "bench-pros", "--kind", "api", "--label", "bench")
	if err != nil {
		return nil, err
	}
	app, err := b.cli(ctx, "", "token", "create", "--db", path, "--username", "bench-pros", "--kind", "app", "--label", "bench")
	if err != nil {
		return nil, err
	}
	api, app = strings.TrimSpace(api), strings.TrimSpace(app)

	// (a) The nested-list GraphQL query.
	b.Log("attack: nested-list GraphQL query over %d hearings", n)
	gql, err := b.attackRequest(ctx, path, func(base string) (*http.Request, error) {
		body, _ := json.Marshal(map[string]any{"query": nestedListQuery, "variables": map[string]any{
			"f": "2031-01-01T00:00:00Z", "t": "2033-01-01T00:00:00Z"}})
		req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+api)
		return req, nil
	})
	if err != nil {
		return nil, err
	}

	// (b) The PROPFIND naming 80,000 properties, Depth 1 on the hearings calendar.
	b.Log("attack: PROPFIND flood")
	var flood strings.Builder
	flood.WriteString(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop>`)
	for i := range 80_000 {
		fmt.Fprintf(&flood, "<X:p%d/>", i)
	}
	flood.WriteString(`</D:prop></D:propfind>`)
	floodBody := flood.String()
	dav, err := b.attackRequest(ctx, path, func(base string) (*http.Request, error) {
		req, err := http.NewRequest("PROPFIND", base+"/dav/calendars/bench-pros/hearings/", strings.NewReader(floodBody))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("Depth", "1")
		req.Header.Set("Authorization", basicAuth("bench-pros", app))
		return req, nil
	})
	if err != nil {
		return nil, err
	}

	// (c) 300 connections trickling a declared 100 KB body, one byte a second.
	b.Log("attack: %d trickling bodies", trickleConns)
	tr, err := b.trickle(ctx, path, api)
	if err != nil {
		return nil, err
	}

	row := func(name string, r attackResult) []string {
		return []string{name, r.status, fmt.Sprint(r.bytes), fmtDur(r.took), fmtMB(r.hwm)}
	}
	sec := &Section{
		Intro: fmt.Sprintf("The real binary (`courtside serve`, default bounds), a fresh server for each attack, so that its peak "+
			"resident memory (VmHWM from /proc/PID/status, read after the attack) is the attack's. The data: one prosecutor's "+
			"case with %d hearings. (a) The nested-list GraphQL query `hearings(first: 20) { edges { case { hearings { case "+
			"{ hearings { id } } } } } }` as the prosecutor (%s objects in the worst case). (b) A PROPFIND of %d KB naming 80,000 "+
			"properties, Depth 1, on the prosecutor's hearings calendar (a propstat per property and hearing would be %s entries). "+
			"(c) %d connections from three loopback addresses (100 each, the per-address cap) each declaring a 100 KB GraphQL "+
			"body with the prosecutor's token and sending one byte a second, while /healthz is asked every 250 ms from a fourth "+
			"address, each time on a new connection: the time until the server has closed every trickling connection, and "+
			"/healthz's latency meanwhile. Each attack request is given %s.",
			n, fmtInt(20*n*n), len(floodBody)/1000, fmtInt(80_000*(n+1)), trickleConns, fmtDur(attackClientTimeout)),
		Targets: []Target{
			{Figure: "nested-list GraphQL attack, peak RSS", Value: fmtMB(gql.hwm), Goal: "< 400 MB", Measured: true, Pass: gql.hwm < attackMemoryTarget},
			{Figure: "nested-list GraphQL attack, refused or answered in", Value: fmtDur(gql.took) + " (" + gql.status + ")", Goal: "≤ 5 s",
				Measured: true, Pass: gql.took <= attackAnswerTarget && !strings.HasPrefix(gql.status, "no answer")},
			{Figure: "PROPFIND flood (80,000 properties), peak RSS", Value: fmtMB(dav.hwm), Goal: "< 400 MB", Measured: true, Pass: dav.hwm < attackMemoryTarget},
			{Figure: "PROPFIND flood, refused or answered in", Value: fmtDur(dav.took) + " (" + dav.status + ")", Goal: "≤ 5 s",
				Measured: true, Pass: dav.took <= attackAnswerTarget && !strings.HasPrefix(dav.status, "no answer")},
			{Figure: fmt.Sprintf("%d trickling bodies, all closed by the server in", trickleConns), Value: tr.closedValue(), Goal: "≤ 90 s",
				Measured: true, Pass: tr.open == 0 && tr.allClosed <= trickleCloseTarget},
			{Figure: "/healthz during the trickle, slowest", Value: tr.healthValue(), Goal: "< 1 s",
				Measured: true, Pass: tr.healthFailed == 0 && len(tr.health) > 0 && tr.health.Quantile(1) < healthTarget},
		},
		Tables: []Table{
			{Header: []string{"attack", "answer", "bytes", "time", "peak RSS (VmHWM)"}, Rows: [][]string{
				row("nested-list GraphQL query", gql), row("PROPFIND, 80,000 properties", dav)}},
			{Header: []string{"trickling bodies", ""}, Rows: tr.rows()},
		},
	}
	return sec, nil
}

// trickleResult is what the trickling attack measured.
type trickleResult struct {
	answers      map[string]int // the status lines the trickling connections got, by line
	allClosed    time.Duration  // from the first connection to the last one closed
	open         int            // connections still open when the bench stopped waiting
	health       Sample         // /healthz latencies meanwhile
	healthFailed int
	hwm          int64
	addrs        []string
}

func (t *trickleResult) closedValue() string {
	if t.open > 0 {
		return fmt.Sprintf("%d still open after %s", t.open, fmtDur(trickleWait))
	}
	return fmtDur(t.allClosed)
}

func (t *trickleResult) healthValue() string {
	if len(t.health) == 0 {
		return "no answer"
	}
	s := fmt.Sprintf("%s (median %s, %d probes)", fmtDur(t.health.Quantile(1)), fmtDur(t.health.Median()), len(t.health))
	if t.healthFailed > 0 {
		s += fmt.Sprintf(", %d failed", t.healthFailed)
	}
	return s
}

func (t *trickleResult) rows() [][]string {
	rows := [][]string{{"client addresses", strings.Join(t.addrs, ", ")}, {"all closed after", t.closedValue()},
		{"/healthz, slowest of the probes", t.healthValue()}, {"server's peak RSS (VmHWM)", fmtMB(t.hwm)}}
	for line, n := range t.answers {
		rows = append(rows, []string{"answered " + line, fmt.Sprint(n)})
	}
	return rows
}

// trickle runs the trickling attack against a server of its own on db.
func (b *Bench) trickle(ctx context.Context, db, token string) (*trickleResult, error) {
	srv, err := b.startServer(ctx, db)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	addr := strings.TrimPrefix(srv.URL, "http://")
	res := &trickleResult{answers: map[string]int{}}
	// Three source addresses, 100 connections each; where the machine lacks them, all from
	// 127.0.0.1 (the per-address cap then refuses two thirds at once).
	sources := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sources[0])}}).DialContext(ctx, "tcp", addr); err != nil {
		sources = []string{"127.0.0.1"}
	} else {
		c.Close()
	}
	res.addrs = sources
	head := "POST /graphql HTTP/1.1\r\nHost: courtside\r\nContent-Type: application/json\r\nAuthorization: Bearer " + token +
		"\r\nContent-Length: 100000\r\n\r\n"

	var mu sync.Mutex // guards answers and last
	answers := map[string]int{}
	var closed sync.WaitGroup
	start := time.Now()
	var last time.Duration
	stop := make(chan struct{})
	for i := range trickleConns {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(sources[i%len(sources)])}, Timeout: 10 * time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			close(stop)
			return nil, fmt.Errorf("dial %d: %w", i, err)
		}
		defer c.Close()
		closed.Add(1)
		io.WriteString(c, head)
		go func() { // one byte a second until the server closes the connection
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte("{")); err != nil {
						return
					}
				}
			}
		}()
		go func() {
			defer closed.Done()
			br := bufio.NewReader(c)
			line, err := br.ReadString('\n')
			if err == nil {
				io.Copy(io.Discard, br)
			}
			line = strings.TrimSpace(line)
			if line == "" {
				line = "nothing (closed)"
			}
			mu.Lock()
			answers[line]++
			if d := time.Since(start); d > last {
				last = d
			}
			mu.Unlock()
		}()
	}
	done := make(chan struct{})
	go func() { closed.Wait(); close(done) }()

	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.After(trickleWait)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline:
			break wait
		case <-ctx.Done():
			close(stop)
			return nil, ctx.Err()
		case <-tick.C:
			t0 := time.Now()
			resp, err := probe.Get(srv.URL + "/healthz")
			if err != nil {
				res.healthFailed++
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				res.healthFailed++
				continue
			}
			res.health = append(res.health, time.Since(t0))
		}
	}
	close(stop)
	mu.Lock()
	total := 0
	for line, n := range answers {
		res.answers[line] = n
		total += n
	}
	res.open = trickleConns - total
	res.allClosed = last
	mu.Unlock()
	if _, res.hwm, err = procMemory(srv.Pid()); err != nil {
		return nil, err
	}
	return res, nil
}
