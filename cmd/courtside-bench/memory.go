package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"courtside/storage"
)

// memoryTarget is the bound on resident memory, in bytes (MB = 10^6 bytes).
const memoryTarget = 150_000_000

// fillMemoryDB writes hearings hearings (five per case) and deliveries deliveries straight
// into the schema with SQL, in one transaction, after seeding the office and the court.
func (b *Bench) fillMemoryDB(ctx context.Context, path string, hearings, deliveries int) error {
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
	stmts := []struct {
		sql  string
		args []any
	}{
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		  INSERT INTO cases (docket, court_id, organization_id, created_at)
		  SELECT printf('31-CR-%06d', i), ?, ?, ? FROM n`, []any{(hearings + 4) / 5, court.ID, pros.OrganizationID, now}},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		  INSERT INTO hearings (case_id, court_id, organization_id, kind, starts_at, ends_at, courtroom, judge, status,
		      sequence, external_id, created_at, updated_at)
		  SELECT c.id, ?, ?, 'MOTION',
		      strftime('%Y-%m-%dT%H:%M:%S.000Z', '2031-01-06 14:00:00', '+' || (i / 40) || ' days', '+' || (i % 8) || ' hours'),
		      strftime('%Y-%m-%dT%H:%M:%S.000Z', '2031-01-06 15:00:00', '+' || (i / 40) || ' days', '+' || (i % 8) || ' hours'),
		      (1 + i % 9) || 'B', 'Judge of Part ' || (1 + i % 12), 'SCHEDULED', 0, printf('M-%07d', i), ?, ?
		  FROM n JOIN cases c ON c.docket = printf('31-CR-%06d', i / 5) AND c.court_id = ?`,
			[]any{hearings, court.ID, pros.OrganizationID, now, now, court.ID}},
		// Hearings written without events have no calendar objects yet: queued for the
		// server's start-up backfill, as those of a database from before the stored objects.
		{`INSERT INTO calendar_backfill (hearing_id) SELECT id FROM hearings`, nil},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
		  INSERT INTO deliveries (kind, hearing_id, user_id, channel, language, status, idempotency_key, attempts, created_at, sent_at, reason)
		  SELECT 'HEARING_CHANGED', 1 + i % ?, ?, 'EMAIL', 'en', CASE i % 4 WHEN 0 THEN 'PENDING' WHEN 1 THEN 'SENT' WHEN 2 THEN 'DELIVERED' ELSE 'FAILED' END,
		      printf('bench-%07d', i), i % 3, ?, CASE WHEN i % 4 IN (1, 2) THEN ? END, '' FROM n`,
			[]any{deliveries, hearings, pros.ID, now, now}},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	var nh, nd int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM hearings), (SELECT count(*) FROM deliveries)`).Scan(&nh, &nd); err != nil {
		return err
	}
	if nh != hearings || nd != deliveries {
		return fmt.Errorf("fill wrote %d hearings and %d deliveries, want %d and %d", nh, nd, hearings, deliveries)
	}
	return tx.Commit()
}

// memory measures the resident memory of the real server over a database of MemHearings
// hearings and MemDeliveries deliveries, after a few GraphQL and CalDAV requests.
func (b *Bench) memory(ctx context.Context) (*Section, error) {
	nh, nd := b.Sizes.MemHearings, b.Sizes.MemDeliveries
	path := filepath.Join(b.Dir, "memory.db")
	t0 := time.Now()
	if err := b.fillMemoryDB(ctx, path, nh, nd); err != nil {
		return nil, err
	}
	b.Log("filled %d hearings and %d deliveries in %s", nh, nd, time.Since(t0))
	api, err := b.cli(ctx, "", "token", "create", "--db", path, "--username", "bench-pros", "--kind", "api", "--label", "bench")
	if err != nil {
		return nil, err
	}
	app, err := b.cli(ctx, "", "token", "create", "--db", path, "--username", "bench-pros", "--kind", "app", "--label", "bench")
	if err != nil {
		return nil, err
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			size += fi.Size()
		}
	}
	srv, err := b.startServer(ctx, path)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	rssIdle, _, err := procMemory(srv.Pid())
	if err != nil {
		return nil, err
	}
	client := newClient()
	// A few requests: the nested GraphQL query over five months, one at a time, and the
	// one-month CalDAV calendar-query of the hearings calendar (the office's 100,000 hearings).
	base := time.Date(2031, 1, 6, 0, 0, 0, 0, time.UTC)
	requests := 0
	for m := 0; m < 5; m++ {
		body, _ := json.Marshal(map[string]any{"query": `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 200) { edges {
			id kind startsAt status court { name } history { reason } case { docket victims { victim { pseudonym } } } accompaniments { status } } } }`,
			"variables": map[string]any{"f": base.AddDate(0, m, 0).Format(time.RFC3339), "t": base.AddDate(0, m+1, 0).Format(time.RFC3339)}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(api))
		if err := expectOK(client, req, `"edges":[{`); err != nil {
			return nil, fmt.Errorf("graphql: %w", err)
		}
		requests++
	}
	rssGraph, _, err := procMemory(srv.Pid())
	if err != nil {
		return nil, err
	}
	cal := &davTarget{name: "Courtside", base: srv.URL, coll: "/dav/calendars/bench-pros/hearings/",
		auth: basicAuth("bench-pros", strings.TrimSpace(app)), client: client}
	q := davOps(nh, 12, 50)[0]
	for i := 0; i < 3; i++ {
		if _, _, err := q.send(ctx, cal); err != nil {
			return nil, err
		}
		requests++
	}
	rss, hwm, err := procMemory(srv.Pid())
	if err != nil {
		return nil, err
	}
	return &Section{
		Intro: fmt.Sprintf("The real server (`courtside serve`) over a database of %s hearings (five per case) and %s deliveries, "+
			"written with SQL into the real schema before the server starts (%.0f MB on disk), the hearings queued for the "+
			"calendar backfill the server runs at start (it renders each for the office's calendar, 500 a transaction). "+
			"Resident memory is read from /proc/PID/status: VmRSS after start, and VmRSS and VmHWM (the peak) after %d requests: the nested GraphQL query "+
			"over five one-month windows (up to 200 hearings each) and three one-month CalDAV calendar-queries of the "+
			"office's hearings calendar.", fmtInt(nh), fmtInt(nd), float64(size)/1e6, requests),
		Targets: []Target{{Figure: fmt.Sprintf("resident memory at %s hearings and %s deliveries (peak)", fmtInt(nh), fmtInt(nd)), Value: fmtMB(hwm),
			Goal: "< 150 MB", Measured: true, Pass: hwm < memoryTarget}},
		Tables: []Table{{Header: []string{"", "resident"}, Rows: [][]string{
			{"after start, the backfill done (VmRSS)", fmtMB(rssIdle)}, {"after the GraphQL requests (VmRSS)", fmtMB(rssGraph)},
			{"after the CalDAV requests too (VmRSS)", fmtMB(rss)}, {"peak (VmHWM)", fmtMB(hwm)}}}},
		Notes: []string{fmt.Sprintf("The one-month CalDAV calendar-queries of the %s-hearing calendar moved VmRSS from %s to %s; "+
			"the GraphQL queries from %s to %s.", fmtInt(nh), fmtMB(rssGraph), fmtMB(rss), fmtMB(rssIdle), fmtMB(rssGraph))},
	}, nil
}

// expectOK sends req and checks for a 200 whose body contains want.
func expectOK(client *http.Client, req *http.Request, want string) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), want) {
		return fmt.Errorf("answered %d: %s", resp.StatusCode, snippet(raw))
	}
	return nil
}
