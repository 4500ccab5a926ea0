package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"courtside/notify/notifytest"
)

// fanoutPoll is how long the committed-deliveries poller sleeps between two looks at the
// database: the resolution of the "committed" figure.
const fanoutPoll = 200 * time.Microsecond

// fanoutPollPG is fanoutPoll on PostgreSQL, where each look is a query over loopback to the
// server rather than a read of SQLite's shared memory: looking every 200 µs would take a large
// share of a core from what is measured.
const fanoutPollPG = time.Millisecond

// fanout measures a reschedule of a hearing with four people to notify (two victims whose
// policies allow e-mail, an advocate and an interpreter, all by e-mail), against the real
// server and an in-process SMTP sink: from the start of the mutation to the four
// HEARING_CHANGED deliveries committed, and to the sink holding the four messages.
func (b *Bench) fanout(ctx context.Context) (*Section, error) {
	n := b.Sizes.Reschedules
	env, err := b.startFanout(ctx, "fanout")
	if err != nil {
		return nil, err
	}
	defer env.close()
	sink, srv, g, hearingID, dbPath := env.sink, env.srv, env.g, env.hearingID, env.dbPath
	// The setup's notices (two HEARING_SCHEDULED, the assignment, the offer) go first.
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err = sink.WaitMessages(wctx, 4)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("the setup's 4 notices did not arrive: %w", err)
	}
	time.Sleep(time.Second)

	ro, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer ro.Close()
	conn, err := ro.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var lastID int64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM deliveries`).Scan(&lastID); err != nil {
		return nil, err
	}
	cpu0, _ := procCPU(srv.Pid())
	idle := 3 * time.Second
	time.Sleep(idle)
	cpu1, _ := procCPU(srv.Pid())

	base := time.Date(2031, 3, 3, 14, 0, 0, 0, time.UTC)
	var answered, committed, routed, received Sample
	seen := len(sink.Messages())
	t0run := time.Now()
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Alternate between two times a day apart, so that every reschedule is a move.
		start := base.Add(time.Duration(i%2) * 24 * time.Hour).Add(time.Duration(i%7) * time.Minute)
		t0 := time.Now()
		seq, err := g.reschedule(ctx, hearingID, start)
		if err != nil {
			return nil, fmt.Errorf("reschedule %d: %w", i, err)
		}
		answered = append(answered, time.Since(t0))
		keys, at, err := waitCommitted(ctx, conn, false, hearingID, seq, &lastID)
		if err != nil {
			return nil, fmt.Errorf("reschedule %d: %w", i, err)
		}
		committed = append(committed, at.Sub(t0))
		routed = append(routed, committed[len(committed)-1]-answered[len(answered)-1])
		last, err := waitReceived(ctx, sink, keys, &seen)
		if err != nil {
			return nil, fmt.Errorf("reschedule %d: %w", i, err)
		}
		received = append(received, last.Sub(t0))
	}
	took := time.Since(t0run)
	cpu2, _ := procCPU(srv.Pid())
	b.Log("fan-out: %d reschedules in %s", n, took)

	sec := &Section{
		Intro: fmt.Sprintf("The real binary (`courtside serve`, its event router, notice planner and delivery worker) with "+
			"an in-process SMTP sink (STARTTLS, AUTH) as its mail server. One hearing with four people to notify, all by "+
			"e-mail: two victims linked to its case (policies allowing e-mail, confirmed safe), the advocate accompanying "+
			"one of them and the interpreter whose booking was accepted. Then %s reschedules through GraphQL, one after "+
			"another, each moving the hearing. *Committed*: from sending the mutation to the four HEARING_CHANGED "+
			"delivery rows of its sequence existing, seen by a read-only connection that checks `PRAGMA data_version` "+
			"every %s and reads the new delivery rows when it changes. *Received*: from sending the mutation "+
			"to the SMTP sink having accepted all four messages whose Message-IDs carry those deliveries' keys "+
			"(the sink's own time of acceptance of the last one).", fmtInt(n), fanoutPoll),
		Targets: []Target{
			{Figure: "fan-out p99, reschedule to deliveries committed", Value: fmt.Sprintf("%s (p50 %s)", fmtDur(committed.P99()), fmtDur(committed.Median())),
				Goal: "≤ 20 ms", Measured: true, Pass: committed.P99() <= 20*time.Millisecond},
			{Figure: "fan-out p99, reschedule to SMTP sink receiving", Value: fmt.Sprintf("%s (p50 %s)", fmtDur(received.P99()), fmtDur(received.Median())),
				Goal: "none set", Measured: true, Reported: true},
		},
		Tables: []Table{{Header: []string{"from the mutation's start to", "reschedules", "p50", "p90", "p99", "max"}, Rows: [][]string{
			{"the mutation answered (its transaction committed)", fmtInt(len(answered)), fmtDur(answered.Median()), fmtDur(answered.P90()), fmtDur(answered.P99()), fmtDur(answered.Quantile(1))},
			{"the four deliveries committed", fmtInt(len(committed)), fmtDur(committed.Median()), fmtDur(committed.P90()), fmtDur(committed.P99()), fmtDur(committed.Quantile(1))},
			{"(from the mutation's answer to the four deliveries committed: the event router's part)", fmtInt(len(routed)), fmtDur(routed.Median()), fmtDur(routed.P90()), fmtDur(routed.P99()), fmtDur(routed.Quantile(1))},
			{"the SMTP sink holding the four messages", fmtInt(len(received)), fmtDur(received.Median()), fmtDur(received.P90()), fmtDur(received.P99()), fmtDur(received.Quantile(1))},
		}}},
	}
	if cpu0 >= 0 && cpu2 >= 0 {
		sec.Notes = append(sec.Notes, fmt.Sprintf("The server's CPU time (user and system, from /proc): %s over %s idle before the run "+
			"(the router's and the worker's polling), %s over the %s of the run (%s per reschedule).",
			fmtDur(cpu1-cpu0), idle, fmtDur(cpu2-cpu1), took.Round(time.Millisecond), fmtDur((cpu2-cpu1)/time.Duration(n))))
	}
	return sec, nil
}

// fanoutEnv is the fan-out world on a running server: the SMTP sink the server sends to, the
// server, a GraphQL client with the users' tokens and the hearing with four people to notify.
type fanoutEnv struct {
	sink      *notifytest.SMTPSink
	srv       *Server
	g         *gqlClient
	hearingID string
	dbPath    string   // the server's database: a file, or a PostgreSQL URL
	serverEnv []string // the server's environment beside the run's key: the sink's address and CA
}

// startFanout starts an SMTP sink and the real server on a new database name.db with the
// fan-out section's users, and sets up the fan-out hearing through GraphQL.
func (b *Bench) startFanout(ctx context.Context, name string) (*fanoutEnv, error) {
	return b.startFanoutOn(ctx, name, filepath.Join(b.Dir, name+".db"))
}

// startFanoutOn is startFanout on the database db, a file path or the URL of an empty
// PostgreSQL database.
func (b *Bench) startFanoutOn(ctx context.Context, name, db string) (_ *fanoutEnv, err error) {
	env := &fanoutEnv{dbPath: db}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if env.sink, err = notifytest.StartSMTPSink(notifytest.SMTPSinkOptions{}); err != nil {
		return nil, err
	}
	ca := filepath.Join(b.Dir, name+"-ca.pem")
	if err := os.WriteFile(ca, env.sink.Identity().CertPEM, 0o600); err != nil {
		return nil, err
	}
	tokens, err := b.fanoutUsers(ctx, env.dbPath)
	if err != nil {
		return nil, err
	}
	env.serverEnv = []string{"COURTSIDE_SMTP_URL=" + env.sink.URL(), "COURTSIDE_SMTP_FROM=notices@courtside.test", "SSL_CERT_FILE=" + ca}
	if env.srv, err = b.startServerEnv(ctx, env.dbPath, env.serverEnv); err != nil {
		return nil, err
	}
	env.g = &gqlClient{url: env.srv.URL + "/graphql", client: newClient(), tokens: tokens}
	if env.hearingID, err = env.g.fanoutWorld(ctx); err != nil {
		return nil, err
	}
	return env, nil
}

// close stops the server, then the sink.
func (e *fanoutEnv) close() {
	if e.srv != nil {
		e.srv.Stop()
	}
	if e.sink != nil {
		e.sink.Close()
	}
}

// fanoutUsers creates the users of the fan-out section with the CLI and returns their API
// tokens by username.
func (b *Bench) fanoutUsers(ctx context.Context, db string) (map[string]string, error) {
	if err := b.initDB(ctx, db); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"--username", "bench-admin", "--role", "admin"},
		{"--username", "bench-pros", "--role", "prosecutor", "--org", benchOffice},
		{"--username", "bench-coord", "--role", "coordinator", "--org", "Bench Advocacy", "--email", "coord@advocacy.test"},
		{"--username", "bench-adv", "--role", "advocate", "--org", "Bench Advocacy", "--email", "adv@advocacy.test"},
		{"--username", "bench-interp", "--role", "interpreter", "--email", "interp@interpreters.test", "--interpreter-languages", "es:CERTIFIED"},
	} {
		if _, err := b.cli(ctx, "", append([]string{"user", "add", "--db", db}, args...)...); err != nil {
			return nil, err
		}
	}
	tokens := map[string]string{}
	for _, u := range []string{"bench-admin", "bench-pros", "bench-coord", "bench-adv", "bench-interp"} {
		out, err := b.cli(ctx, "", "token", "create", "--db", db, "--username", u, "--kind", "api")
		if err != nil {
			return nil, err
		}
		tokens[u] = strings.TrimSpace(out)
	}
	return tokens, nil
}

// gqlClient posts GraphQL requests to the server as one of its users.
type gqlClient struct {
	url    string
	client *http.Client
	tokens map[string]string
}

// do runs query as user and decodes its data into out; an error in the answer is an error.
func (g *gqlClient) do(ctx context.Context, user, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.tokens[user])
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var ans struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(raw, &ans); err != nil || len(ans.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("graphql answered %d: %s", resp.StatusCode, snippet(raw))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(ans.Data, out)
}

// fanoutWorld creates, through GraphQL, a court, a case, a hearing, two victims reachable by
// e-mail linked to the case, an advocate accompanying one of them and an interpreter who has
// accepted the hearing's booking. It returns the hearing's ID.
func (g *gqlClient) fanoutWorld(ctx context.Context) (string, error) {
	var court struct{ CreateCourt struct{ ID string } }
	if err := g.do(ctx, "bench-admin", `mutation { createCourt(input: {name: "`+benchCourt+`", timeZone: "America/New_York"}) { id } }`, nil, &court); err != nil {
		return "", err
	}
	var kase struct{ OpenCase struct{ ID string } }
	if err := g.do(ctx, "bench-pros", `mutation($c: ID!) { openCase(input: {docket: "31-CR-000777", courtId: $c}) { id } }`,
		map[string]any{"c": court.CreateCourt.ID}, &kase); err != nil {
		return "", err
	}
	starts := time.Date(2031, 3, 3, 14, 0, 0, 0, time.UTC)
	var h struct{ PostHearing struct{ ID string } }
	if err := g.do(ctx, "bench-pros", `mutation($in: PostHearingInput!) { postHearing(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"caseId": kase.OpenCase.ID, "kind": "TRIAL", "startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(2 * time.Hour).Format(time.RFC3339),
		"courtroom": "9C", "externalId": "BENCH-FANOUT"}}, &h); err != nil {
		return "", err
	}
	hearingID := h.PostHearing.ID
	if err := g.do(ctx, "bench-pros", `mutation($c: ID!, $o: String!) { shareCase(caseId: $c, organisation: $o) { sharedAt } }`,
		map[string]any{"c": kase.OpenCase.ID, "o": "Bench Advocacy"}, nil); err != nil {
		return "", err
	}
	var victims []string
	for i, code := range []string{"A", "B"} {
		var v struct{ RegisterVictim struct{ ID string } }
		if err := g.do(ctx, "bench-coord", `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"pseudonym": "V-BENCH-" + code, "legalName": "Demo Person " + code, "preferredLanguage": "es",
			"contacts": []any{map[string]any{"channel": "EMAIL", "address": fmt.Sprintf("victim-%d@mail.test", i+1)}}}}, &v); err != nil {
			return "", err
		}
		id := v.RegisterVictim.ID
		if err := g.do(ctx, "bench-coord", `mutation($id: ID!, $in: ContactPolicyInput!) { setContactPolicy(victimId: $id, input: $in) { id } }`, map[string]any{
			"id": id, "in": map[string]any{"neutralSender": "Bench Office", "channels": []any{
				map[string]any{"channel": "EMAIL", "allowed": true, "detail": "MINIMAL", "confirmedSafe": true}}}}, nil); err != nil {
			return "", err
		}
		if err := g.do(ctx, "bench-coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
			map[string]any{"c": kase.OpenCase.ID, "v": id}, nil); err != nil {
			return "", err
		}
		victims = append(victims, id)
	}
	var me struct{ Me struct{ ID string } }
	if err := g.do(ctx, "bench-adv", `{ me { id } }`, nil, &me); err != nil {
		return "", err
	}
	if err := g.do(ctx, "bench-coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": hearingID, "v": victims[0], "a": me.Me.ID}, nil); err != nil {
		return "", err
	}
	var bk struct{ RequestInterpreter struct{ ID string } }
	if err := g.do(ctx, "bench-coord", `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "es") { id } }`,
		map[string]any{"h": hearingID}, &bk); err != nil {
		return "", err
	}
	if err := g.do(ctx, "bench-interp", `mutation($b: ID!) { respondToBooking(bookingId: $b, accept: true) { id } }`,
		map[string]any{"b": bk.RequestInterpreter.ID}, nil); err != nil {
		return "", err
	}
	return hearingID, nil
}

// reschedule moves the hearing to start and returns its new sequence.
func (g *gqlClient) reschedule(ctx context.Context, hearingID string, start time.Time) (int, error) {
	var out struct{ RescheduleHearing struct{ Sequence int } }
	err := g.do(ctx, "bench-pros", `mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
		rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, reason: "judge unavailable") { sequence } }`,
		map[string]any{"id": hearingID, "s": start.Format(time.RFC3339), "e": start.Add(2 * time.Hour).Format(time.RFC3339)}, &out)
	return out.RescheduleHearing.Sequence, err
}

// waitCommitted polls conn until the four HEARING_CHANGED deliveries of the hearing's
// sequence exist, and returns their idempotency keys and when they were seen. On SQLite it
// reads the delivery rows only when `PRAGMA data_version` says another connection has
// committed, looking every fanoutPoll; on PostgreSQL (pg), which keeps no such counter, conn is
// a rebinding connection of storage's and the rows are read at every look, every fanoutPollPG.
// lastID is the highest delivery ID already read, moved on as rows are read.
func waitCommitted(ctx context.Context, conn *sql.Conn, pg bool, hearingID string, seq int, lastID *int64) ([]string, time.Time, error) {
	hid, err := strconv.ParseInt(hearingID, 10, 64)
	if err != nil {
		return nil, time.Time{}, err
	}
	deadline := time.Now().Add(60 * time.Second)
	var keys []string
	version := int64(-1)
	for {
		changed := pg // PostgreSQL: the rows are read at every look
		if !pg {
			var v int64
			if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
				return nil, time.Time{}, err
			}
			changed, version = v != version, v
		}
		if changed {
			rows, err := conn.QueryContext(ctx, `SELECT id, kind, hearing_id, sequence, idempotency_key FROM deliveries WHERE id > ? ORDER BY id`, *lastID)
			if err != nil {
				return nil, time.Time{}, err
			}
			for rows.Next() {
				var id, h int64
				var kind, key string
				var s int
				if err := rows.Scan(&id, &kind, &h, &s, &key); err != nil {
					rows.Close()
					return nil, time.Time{}, err
				}
				*lastID = id
				if kind == "HEARING_CHANGED" && h == hid && s == seq {
					keys = append(keys, key)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, time.Time{}, err
			}
			if len(keys) >= 4 {
				at := time.Now()
				if len(keys) > 4 {
					return nil, time.Time{}, fmt.Errorf("%d deliveries for sequence %d, want 4", len(keys), seq)
				}
				return keys, at, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, time.Time{}, fmt.Errorf("%d of 4 deliveries of sequence %d committed after 60 s", len(keys), seq)
		}
		poll := fanoutPoll
		if pg {
			poll = fanoutPollPG
		}
		select {
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// waitReceived waits until the sink holds a message for each key and returns when the sink
// accepted the last of them. seen is how many of the sink's messages were matched already.
func waitReceived(ctx context.Context, sink *notifytest.SMTPSink, keys []string, seen *int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	want := map[string]bool{}
	for _, k := range keys {
		want["<"+k+"@"] = true
	}
	var last time.Time
	for len(want) > 0 {
		msgs, err := sink.WaitMessages(ctx, *seen+1)
		if err != nil {
			return time.Time{}, fmt.Errorf("%d of %d messages reached the SMTP sink: %w", len(keys)-len(want), len(keys), err)
		}
		for _, m := range msgs[*seen:] {
			prefix, _, _ := strings.Cut(m.MessageID, "@")
			if want[prefix+"@"] {
				delete(want, prefix+"@")
				if m.Received.After(last) {
					last = m.Received
				}
			}
		}
		*seen = len(msgs)
	}
	if last.IsZero() {
		return time.Time{}, errors.New("the SMTP sink gave no time of receipt")
	}
	return last, nil
}

// procCPU returns the user and system CPU time of a process from /proc/PID/stat, or -1.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1, err
	}
	return parseProcCPU(string(data))
}

// parseProcCPU reads utime and stime out of the text of /proc/PID/stat.
func parseProcCPU(stat string) (time.Duration, error) {
	// The command name, in parentheses, may hold spaces and parentheses: fields count from
	// after its last closing parenthesis, where the third field (the state) begins.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return -1, fmt.Errorf("unexpected /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return -1, fmt.Errorf("unexpected /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return -1, err
	}
	// Linux reports clock ticks of USER_HZ, 100 a second on every common configuration.
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
