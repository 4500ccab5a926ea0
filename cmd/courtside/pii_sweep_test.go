package main_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The victim's PII in the sweep: distinctive values that nothing else could contain.
const (
	sweepLegalName = "Demo Person Qx7Sweep"
	sweepEmail     = "Qx7Sweep.Contact@Example.org"
	sweepPhone     = "+12025550176"
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLoggedServer is startServer keeping the complete stdout as well as stderr.
func startLoggedServer(t *testing.T, db string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", db)
	out := &syncBuffer{}
	cmd.Stderr = out
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if line, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- line
			}
		}
	}()
	select {
	case url := <-addr:
		return cmd, url, out
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start; log:\n%s", out.String())
	}
	return nil, "", nil
}

// piiNeedles returns the forms of the PII values the sweep looks for: as given, lower-case,
// and base64 (standard and URL alphabets, with and without padding) of both.
func piiNeedles() map[string]string {
	needles := map[string]string{}
	for _, v := range []string{sweepLegalName, sweepEmail, sweepPhone, "2025550176"} {
		for _, form := range []string{v, strings.ToLower(v)} {
			needles[form] = v
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				needles[enc.EncodeToString([]byte(form))] = v + " (base64)"
			}
		}
	}
	return needles
}

// findPII returns a description of the first PII form found in text, or "".
func findPII(text string) string {
	lower := strings.ToLower(text)
	for needle, what := range piiNeedles() {
		if strings.Contains(text, needle) || (!strings.Contains(what, "base64") && strings.Contains(lower, strings.ToLower(needle))) {
			return what
		}
	}
	return ""
}

// TestPIISweep_NoPlaintextOutsideSealedColumns registers a victim with a distinctive legal
// name, e-mail address and phone number and runs every flow that touches them against the real
// binary: PII opened over GraphQL by the coordinator and the accompanying advocate, refused
// reads by other roles, a refused registration carrying the legal name, the contact policy set
// and confirmed, the CalDAV object and the ICS feed read, a docket import that moves the
// victim's hearing. Then it looks for each value (as given, lower-case, base64) in every
// column of every row of every table of a copy of the database except the sealed columns, in
// the server's complete stdout and stderr, in the CLI's output, and in the feed and CalDAV
// bodies, and finds none.
func TestPIISweep_NoPlaintextOutsideSealedColumns(t *testing.T) {
	sqliteOnly(t) // it sweeps the bytes of a SQLite file and its backup
	w := newWorld(t)
	cmd, base, logs := startLoggedServer(t, w.db)
	starts := time.Now().UTC().Add(15 * 24 * time.Hour).Truncate(time.Hour)
	var outputs []string // what the sweep scans besides the database

	court := mustGQL(t, base, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, base, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-05150", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	h := mustGQL(t, base, w.prosecutor, postHearing, map[string]any{"in": map[string]any{
		"caseId": caseID, "kind": "TRIAL", "startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(2 * time.Hour).Format(time.RFC3339),
		"courtroom": "7A", "externalId": "DA-5150"}})
	hearingID := dig(h, "postHearing", "id").(string)

	// A refused registration that carries the legal name and contacts: nothing of it may stay.
	_, errs := gql(t, base, w.coordinator, `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"pseudonym": "V-5150-X", "legalName": sweepLegalName, "preferredLanguage": "not a language!",
		"contacts": []any{map[string]any{"channel": "EMAIL", "address": sweepEmail}}}})
	if len(errs) == 0 {
		t.Fatal("a registration with a bad language was accepted")
	}
	reg := mustGQL(t, base, w.coordinator, `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id legalName } }`, map[string]any{"in": map[string]any{
		"pseudonym": "V-5150-A", "legalName": sweepLegalName, "preferredLanguage": "es",
		"contacts": []any{map[string]any{"channel": "EMAIL", "address": sweepEmail}, map[string]any{"channel": "SMS", "address": sweepPhone}}}})
	victimID := dig(reg, "registerVictim", "id").(string)
	if dig(reg, "registerVictim", "legalName") != sweepLegalName {
		t.Fatalf("registered: %v", reg)
	}
	shareCase(t, base, w.prosecutor, caseID, "Harbor Advocacy")
	mustGQL(t, base, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`, map[string]any{"c": caseID, "v": victimID})
	me := mustGQL(t, base, w.advocate, `{ me { id } }`, nil)
	mustGQL(t, base, w.coordinator, `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": hearingID, "v": victimID, "a": dig(me, "me", "id")})
	mustGQL(t, base, w.coordinator, `mutation($v: ID!) { setContactPolicy(victimId: $v, input: {channels: [
		{channel: EMAIL, allowed: true, detail: MINIMAL, confirmedSafe: true}, {channel: SMS, allowed: false, detail: CONTENT_FREE}],
		neutralSender: "Appointments"}) { id } }`, map[string]any{"v": victimID})

	// PII opened by those who may, refused to those who may not.
	const readPII = `query($id: ID!) { victim(id: $id) { id pseudonym legalName contacts { channel address } } }`
	for _, tok := range []string{w.coordinator, w.advocate} {
		data := mustGQL(t, base, tok, readPII, map[string]any{"id": victimID})
		if dig(data, "victim", "legalName") != sweepLegalName {
			t.Fatalf("PII read: %v", data)
		}
	}
	for _, tok := range []string{w.prosecutor, w.interpreter, w.admin} {
		data, errs := gql(t, base, tok, readPII, map[string]any{"id": victimID})
		if dig(data, "victim", "legalName") != nil && len(errs) == 0 {
			t.Fatalf("PII read by another role: %v", data)
		}
	}
	// A session: the coordinator signs in and opens the PII with the session token.
	sess := mustGQL(t, base, "", `mutation { login(username: "coord", password: "tidal basin lantern 42") { token } }`, nil)
	if data := mustGQL(t, base, dig(sess, "login", "token").(string), readPII, map[string]any{"id": victimID}); dig(data, "victim", "legalName") != sweepLegalName {
		t.Fatalf("PII read in a session: %v", data)
	}
	// A failed login with the legal name as the username and the e-mail as the password.
	if _, errs := gql(t, base, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": sweepLegalName, "p": sweepEmail}); len(errs) == 0 {
		t.Fatal("login with the victim's name succeeded")
	}

	// Calendar reads: the advocate's CalDAV object and the advocate's ICS feed.
	got := caldavProbe(t, base, "adv", w.advocateApp, "hearing-"+hearingID+"@courtside", starts.Add(-time.Hour), starts.Add(3*time.Hour))
	if got["found"] != true {
		t.Fatalf("caldav: %v", got)
	}
	req, _ := http.NewRequest(http.MethodGet, got["calendar"].(string)+"hearing-"+hearingID+".ics", nil)
	req.SetBasicAuth("adv", w.advocateApp)
	outputs = append(outputs, "caldav object: "+httpBody(t, req))
	feed := mustGQL(t, base, w.advocate, `mutation { createFeedToken(label: "phone") { url } }`, nil)
	req, _ = http.NewRequest(http.MethodGet, dig(feed, "createFeedToken", "url").(string), nil)
	feedBody := httpBody(t, req)
	if !strings.Contains(feedBody, "BEGIN:VCALENDAR") {
		t.Fatalf("feed: %s", feedBody)
	}
	outputs = append(outputs, "feed: "+feedBody)

	// A docket import that moves the victim's hearing.
	moved := starts.Add(24 * time.Hour)
	csvFile := filepath.Join(t.TempDir(), "docket.csv")
	if err := os.WriteFile(csvFile, []byte("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n"+
		fmt.Sprintf("DA-5150,26-CR-05150,Main Courthouse,TRIAL,%s,%s,7A,Judge of Part 4,SCHEDULED\n", moved.Format(time.RFC3339), moved.Add(2*time.Hour).Format(time.RFC3339))), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code, stderr := cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", csvFile)
	if code != 0 {
		t.Fatalf("import: exit %d %s", code, stderr)
	}
	outputs = append(outputs, "import: "+out+stderr)
	data := mustGQL(t, base, w.advocate, `query($id: ID!) { hearing(id: $id) { startsAt sequence } }`, map[string]any{"id": hearingID})
	if dig(data, "hearing", "startsAt") != moved.Format(time.RFC3339) {
		t.Fatalf("after import: %v", data)
	}

	// Stop the server cleanly; the database is read once it has stopped.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server stop: %v", err)
	}
	outputs = append(outputs, "server output: "+logs.String())
	for _, o := range outputs {
		if what := findPII(o); what != "" {
			name, _, _ := strings.Cut(o, ":")
			t.Errorf("%s carries the victim's %s", name, what)
		}
	}

	// A copy of the database: every column of every row of every table but the sealed ones.
	dir := t.TempDir()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(w.db + suffix)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "copy.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	scanned := 0
	for _, table := range names {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if strings.HasSuffix(cols[i], "_sealed") {
					continue // AES-256-GCM ciphertext (storage/seal.go)
				}
				var text string
				switch v := v.(type) {
				case []byte:
					text = string(v)
				case nil:
					continue
				default:
					text = fmt.Sprint(v)
				}
				scanned++
				if what := findPII(text); what != "" {
					t.Errorf("%s.%s carries the victim's %s", table, cols[i], what)
				}
			}
		}
		rows.Close()
	}
	var audits, events, sessions int
	db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'victim.read_pii'`).Scan(&audits)
	db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
	db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&sessions)
	t.Logf("swept %d values in %d tables, %d bytes of output; %d PII-read audit rows, %d events", scanned, len(names), len(strings.Join(outputs, "")), audits, events)
	if scanned < 200 || audits < 3 || events < 3 || sessions < 1 {
		t.Fatalf("the sweep looked at %d values, %d PII-read audit rows, %d events: the flows did not run", scanned, audits, events)
	}
	// The sweep can fail: findPII finds each form it looks for.
	if findPII(`{"legalName":"`+sweepLegalName+`"}`) == "" || findPII(base64.StdEncoding.EncodeToString([]byte(strings.ToLower(sweepEmail)))) == "" {
		t.Fatal("findPII does not find the values")
	}
}

// httpBody runs req and returns its body; it fails the test unless the answer is 200.
func httpBody(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", req.URL.Path, resp.StatusCode, b)
	}
	return string(b)
}
