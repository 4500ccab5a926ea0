package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// davUser is the CalDAV user of both servers.
const davUser = "bench-advocate"

// davTarget is one CalDAV server under test.
type davTarget struct {
	name   string
	base   string // scheme and host
	coll   string // the calendar collection's path, ending in /
	auth   string // the Authorization header, or ""
	client *http.Client
	token  string // the sync token of the last sync-collection
	// from is when the generated events PUT into the collection start; zero means
	// benchStart.
	from time.Time
}

// davResponse is what a request answered.
type davResponse struct {
	status int
	ctype  string
	body   []byte
}

// do sends one request and reads the whole answer.
func (t *davTarget) do(ctx context.Context, method, path string, header map[string]string, body []byte) (*davResponse, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if t.auth != "" {
		req.Header.Set("Authorization", t.auth)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", t.name, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", t.name, method, path, err)
	}
	return &davResponse{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: data}, nil
}

// eventName is the resource name of generated event i.
func eventName(i int) string { return fmt.Sprintf("bench-%05d.ics", i) }

// benchStart is when the generated events of section 1 start.
var benchStart = time.Date(2031, 1, 6, 14, 0, 0, 0, time.UTC)

// eventStart is when generated event i starts: weekdays, spread over the months of the run.
func eventStart(i, n, months int) time.Time { return eventStartFrom(benchStart, i, n, months) }

// eventStartFrom is when generated event i starts, the first one starting at from: n events
// spread evenly over the days of months months, 37 minutes apart within a day.
func eventStartFrom(from time.Time, i, n, months int) time.Time {
	days := months * 30
	perDay := max(1, n/days)
	return from.Add(time.Duration(i/perDay)*24*time.Hour + time.Duration(i%perDay)*37*time.Minute)
}

// eventICS renders generated event i, hearing-like: docket, court, courtroom, judge. rev changes
// the summary, for the sync-collection rounds.
func eventICS(i, n, months, rev int) []byte { return eventICSFrom(benchStart, i, n, months, rev) }

// eventICSFrom is eventICS for events whose first starts at from. Its UID is the name the
// event is stored under without ".ics", as Radicale names the items of a collection PUT whole.
func eventICSFrom(from time.Time, i, n, months, rev int) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Courtside//Bench//EN\r\nCALSCALE:GREGORIAN\r\n")
	b.Write(eventVEVENT(from, i, n, months, rev))
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

// eventVEVENT renders the VEVENT of generated event i, BEGIN to END.
func eventVEVENT(from time.Time, i, n, months, rev int) []byte {
	start := eventStartFrom(from, i, n, months)
	const f = "20060102T150405Z"
	summary := fmt.Sprintf("Hearing: MOTION (31-CR-%06d)", i/5)
	if rev > 0 {
		summary += fmt.Sprintf(" rev %d", rev)
	}
	var b strings.Builder
	for _, line := range []string{"BEGIN:VEVENT", "UID:" + strings.TrimSuffix(eventName(i), ".ics"), "DTSTAMP:20301201T120000Z",
		"DTSTART:" + start.Format(f), "DTEND:" + start.Add(time.Hour).Format(f), "SUMMARY:" + summary,
		fmt.Sprintf("LOCATION:Courtroom %dB\\, %s", 1+i%9, "Superior Court\\, Bench Courthouse"),
		fmt.Sprintf("DESCRIPTION:Judge of Part %d. Docket 31-CR-%06d.", 1+i%12, i/5),
		"STATUS:CONFIRMED", "TRANSP:OPAQUE", fmt.Sprintf("SEQUENCE:%d", rev), "END:VEVENT"} {
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}

// collectionICS renders the first n generated events (of total) as one VCALENDAR: the body of a
// PUT of a whole collection, which Radicale stores as one item per UID.
func collectionICS(from time.Time, n, total, months int) []byte {
	var b bytes.Buffer
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Courtside//Bench//EN\r\nCALSCALE:GREGORIAN\r\n")
	for i := 0; i < n; i++ {
		b.Write(eventVEVENT(from, i, total, months, 0))
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.Bytes()
}

// put stores event i (revision rev) by PUT and checks the status.
func (t *davTarget) put(ctx context.Context, i, n, months, rev int) error {
	hdr := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	if rev == 0 {
		hdr["If-None-Match"] = "*"
	}
	from := t.from
	if from.IsZero() {
		from = benchStart
	}
	r, err := t.do(ctx, http.MethodPut, t.coll+eventName(i), hdr, eventICSFrom(from, i, n, months, rev))
	if err != nil {
		return err
	}
	if r.status != http.StatusCreated && r.status != http.StatusNoContent && r.status != http.StatusOK {
		return fmt.Errorf("%s PUT %s answered %d: %s", t.name, eventName(i), r.status, snippet(r.body))
	}
	return nil
}

// snippet returns the start of a body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// davOp is one measured CalDAV operation.
type davOp struct {
	name   string
	short  string // a one-word name, for file names
	method string
	depth  string
	body   func(t *davTarget) []byte
	// before runs untimed before each measured request (the change before a sync).
	before func(ctx context.Context, t *davTarget, round int) error
	// after reads the answer (the next sync token).
	after func(t *davTarget, r *davResponse)
}

const xmlHead = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// davOps returns the four operations of the issue over n events in months months.
func davOps(n, months, multiget int) []*davOp { return davOpsFrom(benchStart, n, months, multiget) }

// davOpsFrom is davOps over events whose first starts at start: the calendar-query asks for the
// month from the middle event's day.
func davOpsFrom(start time.Time, n, months, multiget int) []*davOp {
	from := eventStartFrom(start, n/2, n, months).Truncate(24 * time.Hour)
	to := from.AddDate(0, 1, 0)
	const f = "20060102T150405Z"
	query := xmlHead + `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="` + from.Format(f) + `" end="` + to.Format(f) + `"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>`
	propfind := xmlHead + `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/><D:resourcetype/></D:prop></D:propfind>`
	syncBody := func(token string) []byte {
		return []byte(xmlHead + `<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token +
			`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
	}
	return []*davOp{
		{name: "calendar-query, one month", short: "query", method: "REPORT", depth: "1", body: func(*davTarget) []byte { return []byte(query) }},
		{name: "PROPFIND Depth 1", short: "propfind", method: "PROPFIND", depth: "1", body: func(*davTarget) []byte { return []byte(propfind) }},
		{name: fmt.Sprintf("calendar-multiget of %d", multiget), short: "multiget", method: "REPORT", depth: "1", body: func(t *davTarget) []byte {
			var b strings.Builder
			b.WriteString(xmlHead + `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
			for k := 0; k < multiget; k++ {
				b.WriteString("<D:href>" + t.coll + eventName(k*n/multiget) + "</D:href>")
			}
			b.WriteString("</C:calendar-multiget>")
			return []byte(b.String())
		}},
		{name: "sync-collection after one change", short: "sync", method: "REPORT", depth: "",
			body: func(t *davTarget) []byte { return syncBody(t.token) },
			before: func(ctx context.Context, t *davTarget, round int) error {
				return t.put(ctx, (round*7919)%n, n, months, round+1)
			},
			after: func(t *davTarget, r *davResponse) {
				if tok := syncToken(r.body); tok != "" {
					t.token = tok
				}
			}},
	}
}

// syncTokenRE finds the sync-token element of a multistatus, with any namespace prefix.
var syncTokenRE = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?sync-token[^>]*>\s*([^<\s]+)\s*</`)

// syncToken returns the sync token in a multistatus, or "".
func syncToken(body []byte) string {
	m := syncTokenRE.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// send runs op once against t and returns its answer and the time it took.
func (op *davOp) send(ctx context.Context, t *davTarget) (*davResponse, time.Duration, error) {
	hdr := map[string]string{"Content-Type": "application/xml; charset=utf-8"}
	if op.depth != "" {
		hdr["Depth"] = op.depth
	}
	body := op.body(t)
	t0 := time.Now()
	r, err := t.do(ctx, op.method, t.coll, hdr, body)
	took := time.Since(t0)
	if err != nil {
		return nil, 0, err
	}
	if r.status != http.StatusMultiStatus {
		return nil, 0, fmt.Errorf("%s %s answered %d, want 207: %s", t.name, op.name, r.status, snippet(r.body))
	}
	if op.after != nil {
		op.after(t, r)
	}
	return r, took, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startRadicale runs Debian's radicale on loopback with filesystem storage in dir, no
// authentication and fsync on, and waits until it answers.
func (b *Bench) startRadicale(ctx context.Context, dir string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	conf := filepath.Join(dir, "radicale.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[server]
hosts = 127.0.0.1:%d
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = %s
[web]
type = none
[logging]
level = warning
`, port, filepath.Join(dir, "collections"))), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command(b.Radicale, "--config", conf)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limitedBuffer{buf: &logs, max: 1 << 16}, &limitedBuffer{buf: &logs, max: 1 << 16}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start radicale (install Debian's package radicale): %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/.well-known/caldav")
		if err == nil {
			resp.Body.Close()
			return base, stop, nil
		}
		select {
		case <-done:
			return "", nil, fmt.Errorf("radicale exited: %s", lastLines(logs.String(), 5))
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("radicale did not answer in 30 s: %s", lastLines(logs.String(), 5))
		}
	}
}

// basicAuth returns a Basic Authorization header.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// newClient returns a keep-alive HTTP client for one server.
func newClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
}

// floorHandler serves captured answers, doing no other work: the loopback HTTP floor.
type floorHandler struct {
	answers map[string]*davResponse // by operation name
}

func (f *floorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	a, ok := f.answers[r.Header.Get("X-Bench-Op")]
	if !ok {
		http.Error(w, "no captured answer", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// caldav loads the same events into Courtside and Radicale and measures the four operations
// in interleaved rounds against both and against the floor.
func (b *Bench) caldav(ctx context.Context) (*Section, error) {
	n, months, rounds := b.Sizes.Events, b.Sizes.CalendarMonths, b.Sizes.Rounds
	dir := filepath.Join(b.Dir, "caldav")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Courtside: the real binary, a user with an app password made by the real CLI.
	dbPath := filepath.Join(dir, "courtside.db")
	if _, err := b.cli(ctx, "", "user", "add", "--db", dbPath, "--username", davUser, "--role", "advocate", "--org", "Bench Advocacy"); err != nil {
		return nil, err
	}
	out, err := b.cli(ctx, "", "token", "create", "--db", dbPath, "--username", davUser, "--kind", "app", "--label", "bench")
	if err != nil {
		return nil, err
	}
	srv, err := b.startServer(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	cs := &davTarget{name: "Courtside", base: srv.URL, coll: "/dav/calendars/" + davUser + "/availability/",
		auth: basicAuth(davUser, strings.TrimSpace(out)), client: newClient()}
	if err := cs.put(ctx, 0, n, months, 0); err != nil {
		return notMeasured("", "Courtside does not take PUT into the availability calendar yet ("+err.Error()+")"), nil
	}

	radBase, stopRadicale, err := b.startRadicale(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer stopRadicale()
	rad := &davTarget{name: "Radicale", base: radBase, coll: "/" + davUser + "/availability/", auth: basicAuth(davUser, "x"), client: newClient()}
	mk := xmlHead + `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>availability</D:displayname></D:prop></D:set></C:mkcalendar>`
	if r, err := rad.do(ctx, "MKCALENDAR", rad.coll, map[string]string{"Content-Type": "application/xml"}, []byte(mk)); err != nil {
		return nil, err
	} else if r.status != http.StatusCreated {
		return nil, fmt.Errorf("radicale MKCALENDAR answered %d: %s", r.status, snippet(r.body))
	}

	// Load, through each server's HTTP interface only: Courtside by PUT of every event, one
	// after another, each timed; Radicale by PUT of the same event right after Courtside's in
	// two windows of RadicalePuts events (at the start and at the end), each timed, the events
	// before the last window loaded by one PUT of the whole collection (Radicale's own import,
	// timed too). Radicale's PUT slows down as its collection grows (it reads the collection on
	// each) and all n one by one take many minutes: the load time of all n by PUT is estimated
	// from the medians of the windows (trapezoid rule over the fill levels; the hearings
	// calendars' section measures its PUT at more sizes).
	k := min(b.Sizes.RadicalePuts, n/5)
	levels := []int{0, n - k}
	levelPuts := make([]Sample, len(levels))
	csLevelPuts := make([]Sample, len(levels))
	collPuts := make([]time.Duration, len(levels))
	b.Log("loading %d events into Courtside by PUT, Radicale's windows interleaved", n)
	if err := rad.put(ctx, 0, n, months, 0); err != nil { // the first event, as Courtside's above
		return nil, err
	}
	var csPut time.Duration
	for i := 1; i < n; i++ {
		level := -1
		for j, l := range levels {
			if i >= max(l, 1) && i < l+k {
				level = j
			}
			if i == l && l > 0 {
				// The collection up to the window, by one PUT of it whole.
				t0 := time.Now()
				r, err := rad.do(ctx, http.MethodPut, rad.coll, map[string]string{"Content-Type": "text/calendar; charset=utf-8"},
					collectionICS(benchStart, l, n, months))
				if err != nil {
					return nil, err
				} else if r.status != http.StatusCreated {
					return nil, fmt.Errorf("radicale PUT of the collection answered %d: %s", r.status, snippet(r.body))
				}
				collPuts[j] = time.Since(t0)
			}
		}
		t0 := time.Now()
		if err := cs.put(ctx, i, n, months, 0); err != nil {
			return nil, err
		}
		took := time.Since(t0)
		csPut += took
		if level < 0 {
			continue
		}
		csLevelPuts[level] = append(csLevelPuts[level], took)
		t0 = time.Now()
		if err := rad.put(ctx, i, n, months, 0); err != nil {
			return nil, err
		}
		levelPuts[level] = append(levelPuts[level], time.Since(t0))
	}
	csRate := float64(n-1) / csPut.Seconds()
	b.Log("Courtside: %d PUT in %s (%.0f/s)", n-1, csPut, csRate)
	var radLoad float64 // estimated seconds to load all n by PUT, from the medians
	levelRows := [][]string{}
	for j := range levels {
		med := levelPuts[j].Median().Seconds()
		coll := ""
		if collPuts[j] > 0 {
			coll = fmt.Sprintf("%s (%s/s)", fmtDur(collPuts[j]), fmtRate(float64(levels[j])/collPuts[j].Seconds()))
		}
		levelRows = append(levelRows, []string{fmt.Sprint(levels[j] + k/2), coll, fmt.Sprint(len(levelPuts[j])),
			fmtDur(levelPuts[j].Median()), fmtDur(levelPuts[j].P90()), fmtRate(1 / med), fmtDur(csLevelPuts[j].Median())})
		if j > 0 {
			prev := levelPuts[j-1].Median().Seconds()
			radLoad += float64(levels[j]-levels[j-1]) * (prev + med) / 2
		}
	}
	radLoad += float64(n-levels[len(levels)-1]) * levelPuts[len(levels)-1].Median().Seconds()
	radRate := float64(n) / radLoad
	b.Log("Radicale: estimated whole-load rate by PUT %.1f/s", radRate)

	// The floor: Courtside's own answers, captured once per operation, served by a handler
	// that does nothing else.
	ops := davOps(n, months, b.Sizes.MultigetSize)
	floor := &floorHandler{answers: map[string]*davResponse{}}
	fsrv := httptest.NewServer(floor)
	defer fsrv.Close()
	fl := &davTarget{name: "floor", base: fsrv.URL, coll: cs.coll, client: newClient()}
	// Initial sync tokens: an empty token lists everything.
	for _, t := range []*davTarget{cs, rad} {
		t.token = ""
		if _, _, err := ops[3].send(ctx, t); err != nil {
			return nil, err
		}
		if t.token == "" {
			return nil, fmt.Errorf("%s answered sync-collection without a sync-token", t.name)
		}
	}
	bytesOf := map[string]map[string]int{}
	for _, op := range ops {
		if op.before != nil {
			if err := op.before(ctx, cs, 0); err != nil {
				return nil, err
			}
		}
		r, _, err := op.send(ctx, cs)
		if err != nil {
			return nil, err
		}
		floor.answers[op.name] = r
		bytesOf[op.name] = map[string]int{"Courtside": len(r.body)}
	}
	fl.client.Transport = &headerTransport{base: fl.client.Transport, header: "X-Bench-Op"}

	// Interleaved rounds: each round runs every operation once against each server, in an
	// order that rotates. Radicale stops taking part in an operation once it has spent its
	// budget on it, after at least three samples.
	samples := map[string]map[string]Sample{}
	spent := map[string]time.Duration{}
	targets := []*davTarget{cs, rad, fl}
	for round := 1; round <= rounds; round++ {
		for _, op := range ops {
			for j := range targets {
				t := targets[(j+round)%len(targets)]
				if samples[op.name] == nil {
					samples[op.name] = map[string]Sample{}
				}
				if t == rad && len(samples[op.name][t.name]) >= 3 && spent[op.name] > b.Sizes.RadicaleBudget/time.Duration(len(ops)) {
					continue
				}
				if op.before != nil && t != fl {
					if err := op.before(ctx, t, round); err != nil {
						return nil, err
					}
				}
				if t == fl {
					fl.client.Transport.(*headerTransport).value = op.name
				}
				r, took, err := op.send(ctx, t)
				if err != nil {
					return nil, err
				}
				samples[op.name][t.name] = append(samples[op.name][t.name], took)
				if t == rad {
					spent[op.name] += took
					if _, ok := bytesOf[op.name]["Radicale"]; !ok {
						bytesOf[op.name]["Radicale"] = len(r.body)
					}
				}
			}
		}
		if round%5 == 0 || round == rounds {
			b.Log("CalDAV round %d of %d", round, rounds)
		}
	}

	sec := &Section{Intro: fmt.Sprintf("The same %s hearing-like VEVENTs (one UID each, one hour, docket, court, courtroom, judge; "+
		"spread over %d months of weekdays) in Courtside's `availability` calendar (the real binary on 127.0.0.1, "+
		"HTTP Basic with an app password) and in Debian's Radicale (on 127.0.0.1, filesystem storage, no "+
		"authentication; it fsyncs every write: its internal `_filesystem_fsync` defaults to true). Then %d interleaved rounds of each operation against "+
		"Courtside, Radicale and the floor: a Go handler on 127.0.0.1 that answers with Courtside's own captured "+
		"response bytes and does nothing else, through the same client. Radicale leaves an operation once it has "+
		"spent %s on it (after at least three samples). Times are whole requests: sent, answered, body read.",
		fmtInt(n), months, rounds, (b.Sizes.RadicaleBudget / time.Duration(len(ops))).Round(time.Second))}
	tab := Table{Header: []string{"operation", "Courtside median", "p90", "Radicale median", "p90", "floor median", "p90",
		"Radicale ÷ Courtside", "Courtside ÷ floor", "bytes (Courtside / Radicale)", "samples (C / R / floor)"}}
	med := func(op, t string) time.Duration { return samples[op][t].Median() }
	for _, op := range ops {
		s := samples[op.name]
		tab.Rows = append(tab.Rows, []string{op.name,
			fmtDur(s["Courtside"].Median()), fmtDur(s["Courtside"].P90()),
			fmtDur(s["Radicale"].Median()), fmtDur(s["Radicale"].P90()),
			fmtDur(s["floor"].Median()), fmtDur(s["floor"].P90()),
			fmtRatio(Ratio(float64(med(op.name, "Radicale")), float64(med(op.name, "Courtside")))),
			fmtRatio(Ratio(float64(med(op.name, "Courtside")), float64(med(op.name, "floor")))),
			fmt.Sprintf("%d / %d", bytesOf[op.name]["Courtside"], bytesOf[op.name]["Radicale"]),
			fmt.Sprintf("%d / %d / %d", len(s["Courtside"]), len(s["Radicale"]), len(s["floor"]))})
	}
	sec.Tables = append(sec.Tables, tab)
	sec.Tables = append(sec.Tables, Table{Header: []string{"PUT", "count", "rate", "median", "p90"}, Rows: [][]string{
		{fmt.Sprintf("Courtside, all %d one after another (synchronous=FULL: each PUT is one fsynced transaction)", n-1),
			fmt.Sprint(n - 1), fmtRate(csRate) + "/s", "", ""},
		{fmt.Sprintf("Radicale, estimated for all %d one by one from the medians at the fill levels below", n), "", fmtRate(radRate) + "/s", "", ""},
	}})
	sec.Tables = append(sec.Tables, Table{Caption: "Radicale's PUT at each fill level (fsync on), with Courtside's PUT of the same events just before:",
		Header: []string{"events already in the collection (about)", "Radicale: the collection up to there by one PUT", "PUTs timed",
			"Radicale median", "Radicale p90", "Radicale rate", "Courtside median"}, Rows: levelRows})
	q, p := ops[0].name, ops[1].name
	qr := Ratio(float64(med(q, "Radicale")), float64(med(q, "Courtside")))
	qf := Ratio(float64(med(q, "Courtside")), float64(med(q, "floor")))
	pr := Ratio(csRate, radRate)
	sec.Targets = []Target{
		{Figure: "calendar-query over one month, against Radicale", Value: fmt.Sprintf("%s faster (%s against %s)", fmtRatio(qr), fmtDur(med(q, "Courtside")), fmtDur(med(q, "Radicale"))),
			Goal: "≥ 50× faster", Measured: true, Pass: qr >= 50},
		{Figure: "calendar-query over one month, against the floor", Value: fmt.Sprintf("%s the floor (%s)", fmtRatio(qf), fmtDur(med(q, "floor"))),
			Goal: "≤ 10× the floor", Measured: true, Pass: qf <= 10},
		{Figure: fmt.Sprintf("PROPFIND Depth 1 over %s (median)", fmtInt(n)), Value: fmtDur(med(p, "Courtside")),
			Goal: "≤ 50 ms", Measured: true, Pass: med(p, "Courtside") <= 50*time.Millisecond},
		{Figure: fmt.Sprintf("PUT throughput at %s events, durable", fmtInt(n)), Value: fmt.Sprintf("%s/s, %s Radicale's %s/s", fmtRate(csRate), fmtRatio(pr), fmtRate(radRate)),
			Goal: "≥ 100× Radicale's", Measured: true, Pass: pr >= 100},
	}
	if b.Profile != "" {
		files, err := b.profileCalDAV(ctx, dbPath, ops, cs, max(10, rounds))
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		sec.Notes = append(sec.Notes, "CPU profiles of each operation against the handler in-process: "+strings.Join(files, ", ")+".")
	}
	sec.Notes = append(sec.Notes, fmt.Sprintf("Radicale was loaded only through its HTTP interface: %d events by PUT one "+
		"at a time, right after Courtside's PUT of the same event, in windows of %d at two fill levels, and the events "+
		"before the last window by one PUT of the whole collection (its own import); its whole-load rate one by one is "+
		"estimated from the windows' medians.", len(levels)*k-1, k))
	return sec, nil
}

// headerTransport sets one header on every request: the floor's operation name.
type headerTransport struct {
	base   http.RoundTripper
	header string
	value  string
}

func (h *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.header, h.value)
	return h.base.RoundTrip(r)
}
