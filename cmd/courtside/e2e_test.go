package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"courtside/storage/pgtest"
	"courtside/storage/storagetest"
)

// binary is the courtside binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "courtside-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "courtside")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build courtside:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running courtside binary.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

// startServer runs `courtside serve` on 127.0.0.1:0 and waits for its address.
func startServer(t *testing.T, db string, extra ...string) *server {
	t.Helper()
	return startServerEnv(t, db, nil, extra...)
}

// startServerEnv is startServer with env added to the test's environment.
func startServerEnv(t *testing.T, db string, env []string, extra ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
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
		t.Fatalf("server did not start; log:\n%s", s.logs.String())
	}
	return s
}

// cli runs a courtside command and returns its stdout; it fails the test on a non-zero exit.
func cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, code, stderr := cliResult(t, stdin, args...)
	if code != 0 {
		t.Fatalf("courtside %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// cliCommand returns the command running courtside with args.
func cliCommand(args ...string) *exec.Cmd { return exec.Command(binary, args...) }

// cliResult runs a courtside command and returns stdout, exit status and stderr.
func cliResult(t *testing.T, stdin string, args ...string) (string, int, string) {
	t.Helper()
	cmd := cliCommand(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return stdout.String(), cmd.ProcessState.ExitCode(), stderr.String()
}

// gql posts a GraphQL operation and returns data and errors.
func gql(t *testing.T, base, token, query string, vars map[string]any) (map[string]any, []map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("graphql answered %d %q: %v", resp.StatusCode, raw, err)
	}
	return out.Data, out.Errors
}

// mustGQL is gql for operations that must succeed.
func mustGQL(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	data, errs := gql(t, base, token, query, vars)
	if len(errs) > 0 {
		t.Fatalf("graphql errors: %v", errs)
	}
	return data
}

// dig walks nested maps by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// world is the people and tokens of an end-to-end scenario.
type world struct {
	db                                string
	admin, prosecutor, coordinator    string // API tokens
	advocate, advocateApp, advocateID string
	interpreter                       string
}

// newWorld creates users and tokens with the CLI, as an operator would.
func newWorld(t *testing.T) *world {
	t.Helper()
	if storagetest.Postgres() {
		// COURTSIDE_TEST_ENGINE=postgres: the world lives in a PostgreSQL database, its key in
		// the environment the commands and the server inherit.
		t.Setenv("COURTSIDE_KEY", strings.Repeat("5a", 32))
		return newWorldAt(t, pgtest.URL(t))
	}
	return newWorldAt(t, filepath.Join(t.TempDir(), "courtside.db"))
}

// newWorldAt is newWorld on the database db: a SQLite file or a postgres:// URL.
func newWorldAt(t *testing.T, db string) *world {
	t.Helper()
	w := &world{db: db}
	pw := "tidal basin lantern 42\n"
	cli(t, "", "init", "--db", w.db)
	cli(t, pw, "user", "add", "--db", w.db, "--username", "admin", "--role", "admin", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "pros", "--role", "Prosecutor", "--org", "County DA", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "coord", "--role", "coordinator", "--org", "Harbor Advocacy", "--password-stdin")
	cli(t, pw, "user", "add", "--db", w.db, "--username", "adv", "--role", "advocate", "--org", "Harbor Advocacy", "--password-stdin")
	cli(t, "", "user", "add", "--db", w.db, "--username", "interp", "--role", "interpreter", "--interpreter-languages", "es:CERTIFIED")
	token := func(user, kind string) string {
		return strings.TrimSpace(cli(t, "", "token", "create", "--db", w.db, "--username", user, "--kind", kind, "--label", "e2e"))
	}
	w.admin, w.prosecutor, w.coordinator = token("admin", "api"), token("pros", "api"), token("coord", "api")
	w.advocate, w.advocateApp, w.interpreter = token("adv", "api"), token("adv", "app"), token("interp", "api")
	return w
}

// caldavProbe runs Debian's python3-caldav client against the server.
func caldavProbe(t *testing.T, base, user, password, uid string, from, to time.Time) map[string]any {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "testdata/caldav_probe.py", base, user, password, uid,
		from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("caldav probe: %v\n%s", err, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("caldav probe printed %q: %v", out, err)
	}
	return res
}

const (
	postHearing = `mutation($in: PostHearingInput!) { postHearing(input: $in) { id sequence status startsAt } }`
	reschedule  = `mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
		rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, reason: "judge unavailable") { id sequence status startsAt } }`
	cancel = `mutation($id: ID!) { cancelHearing(id: $id, reason: "dismissed") { id sequence status } }`
)

// shareCase shares a case, as the office's prosecutor, with an advocacy organisation: the
// office's decision, before which the organisation may not link victims to the case.
func shareCase(t *testing.T, base, prosecutor, caseID, organisation string) {
	t.Helper()
	mustGQL(t, base, prosecutor, `mutation($c: ID!, $o: String!) { shareCase(caseId: $c, organisation: $o) { sharedAt } }`,
		map[string]any{"c": caseID, "o": organisation})
}

// setUpHearing creates a court, a case and a hearing, the case shared with the advocacy
// organisation, a victim linked to the case and the advocate assigned, all through GraphQL.
// It returns the hearing ID.
func setUpHearing(t *testing.T, base string, w *world, starts time.Time) string {
	t.Helper()
	court := mustGQL(t, base, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	courtID := dig(court, "createCourt", "id").(string)
	kase := mustGQL(t, base, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-01042", courtId: $c}) { id } }`, map[string]any{"c": courtID})
	caseID := dig(kase, "openCase", "id").(string)
	h := mustGQL(t, base, w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": caseID, "kind": "SENTENCING", "startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(time.Hour).Format(time.RFC3339),
		"courtroom": "4B", "externalId": "DA-77"}})
	hearingID := dig(h, "postHearing", "id").(string)
	v := mustGQL(t, base, w.coordinator, `mutation { registerVictim(input: {pseudonym: "V-1042-A", legalName: "Sentinel Legalname", preferredLanguage: "es"}) { id } }`, nil)
	victimID := dig(v, "registerVictim", "id").(string)
	shareCase(t, base, w.prosecutor, caseID, "Harbor Advocacy")
	mustGQL(t, base, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`, map[string]any{"c": caseID, "v": victimID})
	me := mustGQL(t, base, w.advocate, `{ me { id username role } }`, nil)
	if dig(me, "me", "role") != "ADVOCATE" {
		t.Fatalf("me: %v", me)
	}
	w.advocateID = dig(me, "me", "id").(string)
	a := mustGQL(t, base, w.coordinator, `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id status } }`,
		map[string]any{"h": hearingID, "v": victimID, "a": w.advocateID})
	if dig(a, "assignAdvocate", "status") != "ASSIGNED" {
		t.Fatalf("assign: %v", a)
	}
	return hearingID
}

// TestEndToEnd_HearingReachesAdvocateCalendar is the walking skeleton: a hearing posted over
// GraphQL appears, changes and is cancelled in the assigned advocate's calendar app.
func TestEndToEnd_HearingReachesAdvocateCalendar(t *testing.T) {
	hearingReachesAdvocateCalendar(t, newWorld(t))
}

// hearingReachesAdvocateCalendar runs the walking skeleton on w's database.
func hearingReachesAdvocateCalendar(t *testing.T, w *world) {
	t.Helper()
	s := startServer(t, w.db)
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	starts := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)
	uid := "hearing-" + hearingID + "@courtside"
	window := func(at time.Time) (time.Time, time.Time) { return at.Add(-24 * time.Hour), at.Add(24 * time.Hour) }

	from, to := window(starts)
	got := caldavProbe(t, s.url, "adv", w.advocateApp, uid, from, to)
	if got["found"] != true || got["in_range"] != true || got["dtstart"] != starts.Format(time.RFC3339) ||
		got["sequence"] != 0.0 || got["status"] != "CONFIRMED" {
		t.Fatalf("after postHearing the advocate's calendar shows %v", got)
	}
	// The raw object, as the calendar app received it: CRLF line endings, UTC times, the
	// pseudonym at most, never the legal name.
	req, _ := http.NewRequest(http.MethodGet, got["calendar"].(string)+"hearing-"+hearingID+".ics", nil)
	req.SetBasicAuth("adv", w.advocateApp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ics := string(raw)
	if resp.StatusCode != http.StatusOK || !strings.Contains(ics, "\r\nUID:"+uid+"\r\n") || strings.Contains(strings.ReplaceAll(ics, "\r\n", ""), "\n") ||
		!strings.Contains(ics, "DTSTART:"+starts.Format("20060102T150405Z")) || !strings.Contains(ics, "V-1042-A") || strings.Contains(ics, "Sentinel") {
		t.Fatalf("GET of the calendar object: %d\n%s", resp.StatusCode, ics)
	}

	moved := starts.Add(7 * 24 * time.Hour)
	r := mustGQL(t, s.url, w.prosecutor, reschedule, map[string]any{"id": hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
	if dig(r, "rescheduleHearing", "sequence") != 1.0 || dig(r, "rescheduleHearing", "status") != "CONTINUED" {
		t.Fatalf("reschedule: %v", r)
	}
	from, to = window(moved)
	got = caldavProbe(t, s.url, "adv", w.advocateApp, uid, from, to)
	if got["dtstart"] != moved.Format(time.RFC3339) || got["sequence"] != 1.0 || got["in_range"] != true {
		t.Fatalf("after rescheduleHearing the advocate's calendar shows %v", got)
	}

	c := mustGQL(t, s.url, w.prosecutor, cancel, map[string]any{"id": hearingID})
	if dig(c, "cancelHearing", "status") != "CANCELLED" {
		t.Fatalf("cancel: %v", c)
	}
	got = caldavProbe(t, s.url, "adv", w.advocateApp, uid, from, to)
	if got["status"] != "CANCELLED" || got["sequence"] != 2.0 {
		t.Fatalf("after cancelHearing the advocate's calendar shows %v", got)
	}

	// SIGTERM stops the server cleanly.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, s.logs.String())
	}
	if strings.Contains(s.logs.String(), "Sentinel") {
		t.Fatal("the server log carries the victim's legal name")
	}
}

// TestEndToEnd_KillAfterPost kills the server with SIGKILL right after postHearing returns:
// after a restart the hearing, its audit row and its event are there, and the projection
// catches up.
func TestEndToEnd_KillAfterPost(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)
	moved := starts.Add(3 * time.Hour)
	mustGQL(t, s.url, w.prosecutor, reschedule, map[string]any{"id": hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq, changes, audits, evs int
	var ok string
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ok = "ok"
	if !storagetest.Postgres() {
		must(db.QueryRow(`PRAGMA integrity_check`).Scan(&ok))
	}
	must(db.QueryRow(`SELECT sequence FROM hearings WHERE id = ?`, hearingID).Scan(&seq))
	must(db.QueryRow(`SELECT COUNT(*) FROM hearing_changes WHERE hearing_id = ?`, hearingID).Scan(&changes))
	must(db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE object = ? AND action IN ('hearing.post', 'hearing.reschedule')`, "hearing:"+hearingID).Scan(&audits))
	must(db.QueryRow(`SELECT COUNT(*) FROM events WHERE `+jsonField("payload", "hearingId")+` = ? AND `+jsonField("payload", "type")+` IN ('hearing.scheduled', 'hearing.changed')`, hearingID).Scan(&evs))
	if ok != "ok" || seq != 1 || changes != 2 || audits != 2 || evs != 2 {
		t.Fatalf("after SIGKILL: integrity %q, sequence %d, changes %d, audit rows %d, events %d", ok, seq, changes, audits, evs)
	}

	// Restarted, the projection catches up with every event, including the last.
	s2 := startServer(t, w.db)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int
		must(db.QueryRow(`SELECT (SELECT COALESCE(MAX(id), 0) FROM events) - COALESCE((SELECT last_id FROM event_offsets WHERE consumer_group = 'calendar-projection'), 0)`).Scan(&pending))
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection still %d events behind after restart", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var version, changedAt int
	must(db.QueryRow(`SELECT v.version, c.version FROM calendar_versions v JOIN users u ON u.id = v.user_id
		JOIN calendar_changes c ON c.user_id = v.user_id AND c.hearing_id = ? WHERE u.username = 'adv'`, hearingID).Scan(&version, &changedAt))
	if version < 2 || changedAt != version {
		t.Fatalf("advocate's calendar version %d, hearing changed at %d", version, changedAt)
	}
	got := caldavProbe(t, s2.url, "adv", w.advocateApp, "hearing-"+hearingID+"@courtside", moved.Add(-time.Hour), moved.Add(2*time.Hour))
	if got["sequence"] != 1.0 || got["dtstart"] != moved.Format(time.RFC3339) {
		t.Fatalf("after restart the calendar shows %v", got)
	}
}

// TestEndToEnd_RefusedMutations checks the codes of refused mutations and that nothing is written.
func TestEndToEnd_RefusedMutations(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	court := mustGQL(t, s.url, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	courtID := dig(court, "createCourt", "id").(string)
	count := func() int {
		db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM courts) + (SELECT COUNT(*) FROM events)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	_, errs := gql(t, s.url, w.coordinator, `mutation($c: ID!) { openCase(input: {docket: "X-1", courtId: $c}) { id } }`, map[string]any{"c": courtID})
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "FORBIDDEN" {
		t.Fatalf("coordinator opening a case: %v", errs)
	}
	_, errs = gql(t, s.url, w.admin, `mutation { createCourt(input: {name: "Nowhere", timeZone: "Mars/Olympus"}) { id } }`, nil)
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "INVALID" || !strings.Contains(fmt.Sprint(dig(errs[0], "extensions", "field")), "timeZone") {
		t.Fatalf("bad time zone: %v", errs)
	}
	_, errs = gql(t, s.url, "cs_api_not-a-token", `{ me { id } }`, nil)
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "UNAUTHENTICATED" {
		t.Fatalf("bad token: %v", errs)
	}
	if after := count(); after != before {
		t.Fatalf("refused mutations wrote %d rows", after-before)
	}
}

// TestEndToEnd_CLIErrors checks that bad command lines name the flag, exit 2 and write nothing.
func TestEndToEnd_CLIErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "courtside.db")
	cli(t, "", "init", "--db", db)
	for _, tt := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"user", "add", "--db", db, "--username", "x", "--role", "judge"}, "", "--role"},
		{[]string{"user", "add", "--db", db, "--role", "admin"}, "", "--username"},
		{[]string{"user", "add", "--db", db, "--username", "p", "--role", "prosecutor"}, "", "--org"},
		{[]string{"user", "add", "--db", db, "--username", "i", "--role", "interpreter", "--interpreter-languages", "es:GREAT"}, "", "--interpreter-languages"},
		{[]string{"user", "add", "--db", db, "--username", "a", "--role", "admin", "--password-stdin"}, "short\n", "--password-stdin"},
		{[]string{"user", "add", "--db", db, "--username", "a", "--role", "admin", "--phone", "555"}, "", "--phone"},
		{[]string{"token", "create", "--db", db, "--username", "nobody"}, "", "--username"},
		{[]string{"token", "create", "--db", db, "--username", "nobody", "--kind", "root"}, "", "--kind"},
		{[]string{"serve", "--db", db, "--addr", "not-an-address"}, "", "--addr"},
		{[]string{"serve", "--db", db, "--bogus"}, "", "bogus"},
		{[]string{"frobnicate"}, "", "unknown command"},
	} {
		out, code, stderr := cliResult(t, tt.stdin, tt.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != 2 || out != "" || !strings.Contains(last, tt.want) || !strings.HasPrefix(last, "courtside: ") {
			t.Errorf("%v: exit %d, stdout %q, last stderr line %q; want exit 2 naming %s", tt.args, code, out, last, tt.want)
		}
	}
	// Nothing was half-written: the one valid command afterwards creates the first user.
	cli(t, "", "user", "add", "--db", db, "--username", "admin", "--role", "admin")
	out, code, stderr := cliResult(t, "", "user", "add", "--db", db, "--username", "ADMIN", "--role", "admin")
	if code != 2 || !strings.Contains(stderr, "taken") || out != "" {
		t.Fatalf("duplicate username: exit %d %q", code, stderr)
	}
}

// TestEndToEnd_Demo starts the service with --demo and checks the printed logins work.
func TestEndToEnd_Demo(t *testing.T) {
	base, tokens := startDemo(t)
	if len(tokens) < 5 {
		t.Fatalf("demo printed %d logins", len(tokens))
	}
	from := time.Now().UTC().Format(time.RFC3339)
	to := time.Now().UTC().Add(60 * 24 * time.Hour).Format(time.RFC3339)
	data := mustGQL(t, base, tokens["prosecutor"][0], `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t) { edges { id } } }`, map[string]any{"f": from, "t": to})
	if n := len(dig(data, "hearings", "edges").([]any)); n < 10 {
		t.Fatalf("demo prosecutor sees %d hearings", n)
	}
	got := caldavProbe(t, base, "advocate", tokens["advocate"][1], "none", time.Now(), time.Now().Add(60*24*time.Hour))
	// The server's hearings calendar and the advocate's own availability calendar.
	cals, _ := got["calendars"].([]any)
	if len(cals) != 2 || !strings.HasSuffix(fmt.Sprint(cals[0]), "/advocate/hearings/") || !strings.HasSuffix(fmt.Sprint(cals[1]), "/advocate/availability/") {
		t.Fatalf("demo advocate's calendars: %v", got)
	}
}

// startDemo runs `courtside serve --demo` on a fresh database and returns its URL and the
// printed logins: username -> {API token, app password}.
func startDemo(t *testing.T) (string, map[string][2]string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	cmd := exec.Command(binary, "serve", "--demo", "--addr", "127.0.0.1:0", "--db", db)
	stdout, _ := cmd.StdoutPipe()
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	tokens := map[string][2]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && strings.HasPrefix(f[2], "cs_api_") {
			tokens[f[0]] = [2]string{f[2], f[3]}
		}
		if base, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			return base, tokens
		}
	}
	t.Fatalf("demo server did not start; log:\n%s", logs.String())
	return "", nil
}

// TestEndToEnd_IntrospectionSwitch checks `serve --introspection=false` refuses __schema while
// ordinary queries still run.
func TestEndToEnd_IntrospectionSwitch(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db, "--introspection=false")
	checkIntrospectionOff(t, s.url, w.admin)
}

// TestEndToEnd_IntrospectionDefault: introspection is off unless asked for: a production
// service refuses __schema, --introspection allows it, and so does the demo.
func TestEndToEnd_IntrospectionDefault(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	checkIntrospectionOff(t, s.url, w.admin)
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s = startServer(t, w.db, "--introspection")
	if data := mustGQL(t, s.url, w.admin, `{ __schema { queryType { name } } }`, nil); dig(data, "__schema", "queryType", "name") != "Query" {
		t.Fatalf("introspection with --introspection: %v", data)
	}
	base, logins := startDemo(t)
	if data := mustGQL(t, base, logins["admin"][0], `{ __schema { queryType { name } } }`, nil); dig(data, "__schema", "queryType", "name") != "Query" {
		t.Fatalf("introspection in the demo: %v", data)
	}
}

// checkIntrospectionOff checks that the server at url refuses __schema and still runs an
// ordinary query for the admin's token.
func checkIntrospectionOff(t *testing.T, url, admin string) {
	t.Helper()
	_, errs := gql(t, url, admin, `{ __schema { queryType { name } } }`, nil)
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "INVALID" || dig(errs[0], "extensions", "rule") != "introspection" {
		t.Fatalf("introspection switched off: %v", errs)
	}
	if me := mustGQL(t, url, admin, `{ me { username } }`, nil); dig(me, "me", "username") != "admin" {
		t.Fatalf("me: %v", me)
	}
}
