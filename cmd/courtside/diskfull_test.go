package main

import (
	"bytes"
	"context"
	"courtside/storage"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
)

// lockedBuffer is a log sink that the test may read while the service writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// diskFullEnv is a service opened in-process (the real Main: database, router, HTTP server on
// 127.0.0.1:0), so that the test can lower the writer connection's PRAGMA max_page_count: SQLite
// then answers SQLITE_FULL exactly as on a full disk, on any machine, without mounts.
type diskFullEnv struct {
	t          *testing.T
	m          *Main
	url        string
	logs       *lockedBuffer
	admin, pro string // API tokens
}

func newDiskFullEnv(t *testing.T) *diskFullEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = filepath.Join(t.TempDir(), "courtside.db")
	logs := &lockedBuffer{}
	m := &Main{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := m.Open(context.Background(), io.Discard); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	e := &diskFullEnv{t: t, m: m, url: "http://" + m.Listener.Addr().String(), logs: logs}
	ctx := context.Background()
	for _, u := range []struct {
		name string
		role courtside.Role
		org  string
		tok  *string
	}{{"admin", courtside.RoleAdmin, "", &e.admin}, {"pros", courtside.RoleProsecutor, "County DA", &e.pro}} {
		user, err := storage.NewUserService(m.DB).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: u.name, Role: u.role}, OrganizationName: u.org})
		if err != nil {
			t.Fatal(err)
		}
		if _, *u.tok, err = storage.NewTokenService(m.DB).CreateToken(ctx, user.ID, courtside.TokenAPI, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// gql runs an operation and returns the raw answer, data and errors.
func (e *diskFullEnv) gql(token, query string, vars map[string]any) (string, map[string]any, []map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("graphql answered %d %q: %v", resp.StatusCode, raw, err)
	}
	return string(raw), out.Data, out.Errors
}

// readyz returns the status and body of GET /readyz.
func (e *diskFullEnv) readyz() (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.url + "/readyz")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// counts returns the rows of the tables one mutation writes together.
func (e *diskFullEnv) counts() string {
	e.t.Helper()
	var h, c, a, ev int
	if err := e.m.DB.Reader.QueryRow(`SELECT (SELECT COUNT(*) FROM hearings), (SELECT COUNT(*) FROM hearing_changes),
		(SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM events)`).Scan(&h, &c, &a, &ev); err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("hearings %d, changes %d, audit rows %d, events %d", h, c, a, ev)
}

// caughtUp waits until every consumer group has handled every event (the router polls).
func (e *diskFullEnv) caughtUp() {
	e.t.Helper()
	for i := 0; ; i++ {
		var behind int
		if err := e.m.DB.Reader.QueryRow(`SELECT COUNT(*) FROM (SELECT 'calendar-projection' AS g UNION ALL SELECT 'live-feed') groups
			WHERE COALESCE((SELECT last_id FROM event_offsets o WHERE o.consumer_group = groups.g), 0) < (SELECT COALESCE(MAX(id), 0) FROM events)`).Scan(&behind); err != nil {
			e.t.Fatal(err)
		}
		if behind == 0 {
			return
		}
		if i > 2400 {
			e.t.Fatalf("%d consumer groups still behind the event log", behind)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

const diskFullPost = `mutation($in: PostHearingInput!) { postHearing(input: $in) { id sequence } }`

// TestDiskFull_WritesFailCleanlyAndRecover holds the database at its current size: a mutation
// that needs new pages (a docket import) answers INTERNAL with the generic message (no SQL, no file name),
// writes nothing at all (no change without its event and audit row, no event without its
// change), reads keep working, /readyz answers 503 while the database cannot grow; when space
// returns, /readyz is ready again and writes succeed without a restart, and the event router
// has neither stopped nor dead-lettered anything.
func TestDiskFull_WritesFailCleanlyAndRecover(t *testing.T) {
	e := newDiskFullEnv(t)
	_, data, errs := e.gql(e.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	courtID := data["createCourt"].(map[string]any)["id"]
	_, data, errs = e.gql(e.pro, `mutation($c: ID!) { openCase(input: {docket: "26-CR-00022", courtId: $c}) { id } }`, map[string]any{"c": courtID})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	caseID := data["openCase"].(map[string]any)["id"]
	starts := time.Date(2031, 1, 6, 14, 0, 0, 0, time.UTC)
	n := 0
	post := func() (string, map[string]any, []map[string]any) {
		n++
		at := starts.Add(time.Duration(n) * 24 * time.Hour)
		return e.gql(e.pro, diskFullPost, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "STATUS",
			"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(time.Hour).Format(time.RFC3339),
			"courtroom": strings.Repeat("R", 100), "judge": strings.Repeat("Judge of Part 4 ", 12), "externalId": fmt.Sprintf("FULL-%04d", n)}})
	}
	if _, _, errs := post(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if code, body := e.readyz(); code != http.StatusOK {
		t.Fatalf("readyz before: %d %q", code, body)
	}
	e.caughtUp()

	// The disk is full: the database may not grow by a single page.
	w := e.m.DB.Writer
	var pages int64
	if err := w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	if code, body := e.readyz(); code != http.StatusServiceUnavailable || strings.TrimSpace(body) != "database unavailable" {
		t.Fatalf("readyz on a full disk: %d %q", code, body)
	}

	// A docket import of 300 hearings needs many new pages: it fails, whole.
	var docket strings.Builder
	docket.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
	for i := 0; i < 300; i++ {
		at := starts.AddDate(1, 0, i)
		fmt.Fprintf(&docket, "BULK-%04d,26-CR-00022,Main Courthouse,MOTION,%s,%s,%s,%s,SCHEDULED\n", i,
			at.Format(time.RFC3339), at.Add(time.Hour).Format(time.RFC3339), strings.Repeat("R", 100), strings.Repeat("Judge of Part 4 ", 12))
	}
	const importDocket = `mutation($csv: String!) { importHearings(csv: $csv) { created } }`
	before := e.counts()
	raw, _, failed := e.gql(e.pro, importDocket, map[string]any{"csv": docket.String()})
	if after := e.counts(); after != before {
		t.Fatalf("the failed import wrote something: before %s, after %s", before, after)
	}
	if len(failed) != 1 || failed[0]["message"] != "Internal error." || fmt.Sprint(failed[0]["extensions"]) != "map[code:INTERNAL]" {
		t.Fatalf("error on a full disk: %s", raw)
	}
	for _, leak := range []string{"SQL", "sqlite", "disk", "full", "INSERT", ".db"} {
		if strings.Contains(raw, leak) {
			t.Fatalf("the answer on a full disk shows %q: %s", leak, raw)
		}
	}
	if !strings.Contains(e.logs.String(), "full") {
		t.Fatalf("the service log does not say the disk is full")
	}
	// Reads keep working.
	_, data, errs = e.gql(e.pro, `query { hearings(from: "2031-01-01T00:00:00Z", to: "2033-01-01T00:00:00Z") { edges { id } } }`, nil)
	if len(errs) > 0 {
		t.Fatalf("read on a full disk: %v", errs)
	}
	if got := len(data["hearings"].(map[string]any)["edges"].([]any)); got < 1 {
		t.Fatalf("read on a full disk found %d hearings", got)
	}
	if code, _ := e.readyz(); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz still on a full disk: %d", code)
	}

	// Space returns: ready again, and writes succeed without a restart.
	if _, err := w.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if code, body := e.readyz(); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("readyz after space returned: %d %q", code, body)
	}
	if _, data, errs := post(); len(errs) > 0 || data["postHearing"] == nil {
		t.Fatalf("post after space returned: %v", errs)
	}
	if _, data, errs := e.gql(e.pro, importDocket, map[string]any{"csv": docket.String()}); len(errs) > 0 ||
		fmt.Sprint(data["importHearings"]) != "map[created:300]" {
		t.Fatalf("import after space returned: %v %v", data, errs)
	}
	e.caughtUp()
	var dead int
	var ok string
	if err := e.m.DB.Reader.QueryRow(`SELECT COUNT(*) FROM event_dead_letters`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	if dead != 0 || ok != "ok" {
		t.Fatalf("after recovery: %d dead letters, integrity %q", dead, ok)
	}
}
