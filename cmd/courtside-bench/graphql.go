package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"courtside"
	"courtside/graph"
	"courtside/storage"
)

// nestedQuery is the nested query of graph/statements_test.go, with the bookings added: every
// hearing with its court, history, case, the case's victims, accompaniments and bookings.
const nestedQuery = `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 200) { edges {
	id kind startsAt status sequence court { name timeZone } history { reason by fromStartsAt }
	case { docket court { name } victims { attends victim { pseudonym legalName } } }
	accompaniments { status advocate { username } victim { pseudonym } }
	bookings { status language interpreter { name } } } } }`

// graphWorld is the data of the GraphQL section.
type graphWorld struct {
	db     *storage.DB
	tokens map[string]string // API tokens by username
	from   time.Time
	to     time.Time
}

// seedGraphWorld creates an office, an advocacy organisation, a victim, and n hearings of one
// case, each with an advocate assigned, an interpreter requested and one continuance.
func (b *Bench) seedGraphWorld(ctx context.Context, path string, n int) (*graphWorld, error) {
	db, err := b.openStore(path)
	if err != nil {
		return nil, err
	}
	w := &graphWorld{db: db, tokens: map[string]string{}}
	users := map[string]*courtside.User{}
	for _, nu := range []courtside.NewUser{
		{User: courtside.User{Username: "bench-admin", Role: courtside.RoleAdmin}},
		{User: courtside.User{Username: "bench-pros", Role: courtside.RoleProsecutor}, OrganizationName: benchOffice},
		{User: courtside.User{Username: "bench-coord", Role: courtside.RoleCoordinator}, OrganizationName: "Bench Advocacy"},
		{User: courtside.User{Username: "bench-adv", Role: courtside.RoleAdvocate}, OrganizationName: "Bench Advocacy"},
		{User: courtside.User{Username: "bench-interp", Role: courtside.RoleInterpreter,
			Languages: []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}}},
	} {
		u, err := storage.NewUserService(db).CreateUser(ctx, nu)
		if err != nil {
			db.Close()
			return nil, err
		}
		users[u.Username] = u
		if _, w.tokens[u.Username], err = storage.NewTokenService(db).CreateToken(ctx, u.ID, courtside.TokenAPI, "bench"); err != nil {
			db.Close()
			return nil, err
		}
	}
	as := func(name string) context.Context { return courtside.NewContextWithUser(ctx, users[name]) }
	fail := func(err error) (*graphWorld, error) { db.Close(); return nil, err }
	court := &courtside.Court{Name: benchCourt, TimeZone: "America/New_York", Address: "1 Bench Plaza"}
	if err := storage.NewCourtService(db).CreateCourt(as("bench-admin"), court); err != nil {
		return fail(err)
	}
	c := &courtside.Case{Docket: "31-CR-000001", CourtID: court.ID}
	if err := storage.NewCaseService(db).OpenCase(as("bench-pros"), c); err != nil {
		return fail(err)
	}
	v := &courtside.Victim{Pseudonym: "V-BENCH-A", LegalName: "Demo Person A", PreferredLanguage: "es"}
	if err := storage.NewVictimService(db).RegisterVictim(as("bench-coord"), v); err != nil {
		return fail(err)
	}
	// The office shares the case; the victim's release lets the office see the pseudonym.
	if _, err := storage.NewCaseService(db).ShareCase(as("bench-pros"), c.ID, "Bench Advocacy"); err != nil {
		return fail(err)
	}
	if err := storage.NewCaseService(db).LinkVictim(as("bench-coord"), c.ID, v.ID, true); err != nil {
		return fail(err)
	}
	release := &courtside.Release{VictimID: v.ID, Purpose: courtside.PurposeCaseCoordination, Reference: "bench release",
		ExpiresAt: time.Now().UTC().AddDate(0, 6, 0)}
	if err := storage.NewVictimService(db).RecordRelease(as("bench-coord"), release, benchOffice); err != nil {
		return fail(err)
	}
	base := time.Date(2031, 1, 6, 15, 0, 0, 0, time.UTC)
	w.from, w.to = base.Add(-time.Hour), base.Add(time.Duration(n+2)*24*time.Hour)
	for i := 0; i < n; i++ {
		start := base.Add(time.Duration(i) * 24 * time.Hour)
		h := &courtside.Hearing{CaseID: c.ID, Kind: courtside.KindMotion, StartsAt: start, EndsAt: start.Add(time.Hour),
			Courtroom: "4B", Judge: "Judge of Part 4", ExternalID: fmt.Sprintf("G-%04d", i)}
		if _, err := storage.NewHearingService(db).PostHearing(as("bench-pros"), h); err != nil {
			return fail(err)
		}
		if _, err := storage.NewAccompanimentService(db).AssignAdvocate(as("bench-coord"), h.ID, v.ID, users["bench-adv"].ID); err != nil {
			return fail(err)
		}
		if _, err := storage.NewBookingService(db).RequestInterpreter(as("bench-coord"), h.ID, "es", nil); err != nil && courtside.ErrorCode(err) != courtside.ECONFLICT {
			return fail(err)
		}
		if _, err := storage.NewHearingService(db).RescheduleHearing(as("bench-pros"), h.ID, courtside.HearingUpdate{StartsAt: start.Add(time.Hour),
			EndsAt: start.Add(2 * time.Hour), Reason: "moved"}); err != nil {
			return fail(err)
		}
	}
	return w, nil
}

// graphQL measures the nested query over GraphHearings hearings through graph's real handler
// on httptest, over a real SQLite file, and counts the SQL statements of each request.
func (b *Bench) graphQL(ctx context.Context) (*Section, error) {
	n := b.Sizes.GraphHearings
	w, err := b.seedGraphWorld(ctx, filepath.Join(b.Dir, "graphql.db"), n)
	if err != nil {
		return nil, err
	}
	defer w.db.Close()
	db := w.db
	h, err := graph.NewHandler(graph.Config{Users: storage.NewUserService(db), Tokens: storage.NewTokenService(db), Courts: storage.NewCourtService(db), Cases: storage.NewCaseService(db), Hearings: storage.NewHearingService(db), Victims: storage.NewVictimService(db),
		Accompaniments: storage.NewAccompanimentService(db), Sessions: storage.NewSessionService(db), Imports: storage.NewImportService(db), Deliveries: storage.NewDeliveryService(db), Bookings: storage.NewBookingService(db), Coordination: storage.NewCoordinationService(db), AuditLog: storage.NewAuditService(db),
		BaseURL: "http://127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := newClient()
	bodyFor := func(days int) []byte {
		body, _ := json.Marshal(map[string]any{"query": nestedQuery, "variables": map[string]any{
			"f": w.from.Format(time.RFC3339), "t": w.from.Add(time.Duration(days) * 24 * time.Hour).Format(time.RFC3339)}})
		return body
	}
	body, small := bodyFor(n+2), bodyFor(n/10)
	request := func(user string) (time.Duration, int64, error) {
		return b.graphRequest(ctx, client, srv.URL, w, user, body, n)
	}
	var stop func()
	users := []string{"bench-coord", "bench-pros", "bench-adv"}
	// The statements of the same query over a tenth of the hearings: the count must not grow.
	smallStmts := map[string]int64{}
	for _, u := range users {
		_, st, err := b.graphRequest(ctx, client, srv.URL, w, u, small, n/10)
		if err != nil {
			return nil, err
		}
		smallStmts[u] = st
	}
	for i := 0; i < b.Sizes.GraphWarmupRuns; i++ {
		for _, u := range users {
			if _, _, err := request(u); err != nil {
				return nil, err
			}
		}
	}
	if b.Profile != "" {
		f, err := os.Create(filepath.Join(b.Profile, "graphql.pprof"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		stop = pprof.StopCPUProfile
	}
	samples := map[string]Sample{}
	stmts := map[string][2]int64{} // min, max
	for i := 0; i < b.Sizes.GraphRequests; i++ {
		u := users[i%len(users)]
		took, st, err := request(u)
		if err != nil {
			if stop != nil {
				stop()
			}
			return nil, err
		}
		samples[u] = append(samples[u], took)
		mm, ok := stmts[u]
		if !ok {
			mm = [2]int64{st, st}
		}
		stmts[u] = [2]int64{min(mm[0], st), max(mm[1], st)}
	}
	if stop != nil {
		stop()
	}
	var all Sample
	for _, u := range users {
		all = append(all, samples[u]...)
	}
	tab := Table{Header: []string{"caller", "requests", "p50", "p99", fmt.Sprintf("SQL statements per request over %d hearings", n),
		fmt.Sprintf("over %d hearings", n/10)}}
	roles := map[string]string{"bench-coord": "coordinator (opens the victim's legal name: decrypts and writes an audit row)",
		"bench-pros": "prosecutor's office (pseudonyms only)", "bench-adv": "advocate (accompanies the victim)"}
	grows := false
	var maxStmts int64
	for _, u := range users {
		st := fmt.Sprint(stmts[u][0])
		if stmts[u][1] != stmts[u][0] {
			st = fmt.Sprintf("%d–%d", stmts[u][0], stmts[u][1])
		}
		grows = grows || stmts[u][1] > smallStmts[u]
		maxStmts = max(maxStmts, stmts[u][1])
		tab.Rows = append(tab.Rows, []string{roles[u], fmt.Sprint(len(samples[u])), fmtDur(samples[u].Median()), fmtDur(samples[u].P99()), st,
			fmt.Sprint(smallStmts[u])})
	}
	sec := &Section{
		Intro: fmt.Sprintf("The nested query of graph/statements_test.go, with each hearing's bookings added, over %d hearings "+
			"(each with a continuance in its history, an advocate accompanying the case's victim and an interpreter booking): "+
			"graph's real handler on httptest, storage.DB over a real SQLite file, %d requests after %d warm-up rounds, "+
			"round-robin over three roles. SQL statements are counted by storage's counting driver (DB.Statements); "+
			"the same query over the first %d hearings shows whether the count grows with the hearings.",
			n, b.Sizes.GraphRequests, b.Sizes.GraphWarmupRuns, n/10),
		Targets: []Target{
			{Figure: fmt.Sprintf("nested GraphQL query over %d hearings, p50", n), Value: fmtDur(all.Median()), Goal: "none set", Measured: true, Reported: true},
			{Figure: fmt.Sprintf("nested GraphQL query over %d hearings, p99", n), Value: fmtDur(all.P99()), Goal: "none set", Measured: true, Reported: true},
			{Figure: "SQL statements per nested query", Value: fmt.Sprintf("at most %d over %d hearings", maxStmts, n),
				Goal: fmt.Sprintf("no more than over %d hearings", n/10), Measured: true, Pass: !grows},
		},
		Tables: []Table{tab},
	}
	if b.Profile != "" {
		sec.Notes = append(sec.Notes, "A CPU profile of the measured requests was written to "+filepath.Join(b.Profile, "graphql.pprof")+".")
	}
	return sec, nil
}

// graphRequest posts one GraphQL request as user and returns its time and its SQL statements;
// the answer must hold want hearings and no error.
func (b *Bench) graphRequest(ctx context.Context, client *http.Client, url string, w *graphWorld, user string, body []byte, want int) (time.Duration, int64, error) {
	db := w.db
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.tokens[user])
	before := db.Statements()
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	var out struct {
		Data struct {
			Hearings struct{ Edges []json.RawMessage }
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("graphql answered %d: %s", resp.StatusCode, snippet(raw))
	}
	if got := len(out.Data.Hearings.Edges); got != want {
		return 0, 0, fmt.Errorf("graphql returned %d hearings, want %d", got, want)
	}
	return took, db.Statements() - before, nil
}
