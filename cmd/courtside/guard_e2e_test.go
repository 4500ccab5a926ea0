package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// loginQuery signs in.
const loginQuery = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`

// attempt is the answer to one login.
type attempt struct {
	status     int
	retryAfter string
	code       string
	token      string
}

// tryLogin posts a login, from forwardedFor when not "".
func tryLogin(t *testing.T, base, username, password, forwardedFor string) attempt {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": loginQuery, "variables": map[string]any{"u": username, "p": password}})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return attempt{}
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any
		Errors []map[string]any
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("login answered %d %q", resp.StatusCode, raw)
	}
	a := attempt{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if len(out.Errors) > 0 {
		a.code, _ = dig(out.Errors[0], "extensions", "code").(string)
	}
	a.token, _ = dig(out.Data, "login", "token").(string)
	return a
}

// loginAudit counts the login audit rows of the database by outcome, and the account locks.
func loginAudit(t *testing.T, path string) (failed, denied, ok, locks int) {
	t.Helper()
	db, err := openRaw(t, path, "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FILTER (WHERE action = 'login' AND outcome = 'failed'), COUNT(*) FILTER (WHERE action = 'login' AND outcome = 'denied'),
		COUNT(*) FILTER (WHERE action = 'login' AND outcome = 'ok'), COUNT(*) FILTER (WHERE action = 'account.lock') FROM audit_log`).
		Scan(&failed, &denied, &ok, &locks); err != nil {
		t.Fatal(err)
	}
	return
}

// TestGuard_ParallelWrongPasswordsLockOnce sends 100 wrong passwords for one account at once to
// the real binary: the throttles answer most with 429 and Retry-After, at most five are checked
// against the password (audited "failed"), the account is locked once, and after a restart
// the right password is refused because the account is locked.
func TestGuard_ParallelWrongPasswordsLockOnce(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	var wg sync.WaitGroup
	answers := make(chan attempt, 100)
	for i := range 100 {
		wg.Go(func() { answers <- tryLogin(t, s.url, "coord", fmt.Sprintf("wrong password number %03d", i), "") })
	}
	wg.Wait()
	close(answers)
	refused, throttled := 0, 0
	for a := range answers {
		switch {
		case a.status == http.StatusOK && a.code == "UNAUTHENTICATED":
			refused++
		case a.status == http.StatusTooManyRequests && a.code == "RATE_LIMITED":
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q", a.retryAfter)
			}
			throttled++
		default:
			t.Fatalf("a wrong password answered %+v", a)
		}
	}
	failed, denied, ok, locks := loginAudit(t, w.db)
	t.Logf("%d refused, %d throttled; audited %d failed, %d denied", refused, throttled, failed, denied)
	if failed != 5 || locks != 1 || ok != 0 || failed+denied != refused {
		t.Fatalf("audited %d checked and failed, %d denied, %d ok, %d locks for %d refused answers; want 5 checked and one lock",
			failed, denied, ok, locks, refused)
	}
	if a := tryLogin(t, s.url, "coord", "tidal basin lantern 42", ""); a.token != "" {
		t.Fatal("the right password signed in to the locked account")
	}

	// The lock is in the database: a restarted server, whose throttles let the attempt through
	// (fresh on SQLite; on PostgreSQL the buckets are rows, kept across the restart, which here
	// refill in 50 ms, less than any restart takes), refuses the right password too, and answers
	// it like any wrong one.
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s = startServer(t, w.db, "--login-rate-per-account", "10/50ms", "--login-rate-per-address", "20/50ms")
	if a := tryLogin(t, s.url, "coord", "tidal basin lantern 42", ""); a.status != http.StatusOK || a.code != "UNAUTHENTICATED" || a.token != "" {
		t.Fatalf("the right password on the locked account after a restart: %+v", a)
	}
	if a := tryLogin(t, s.url, "pros", "tidal basin lantern 42", ""); a.token == "" {
		t.Fatalf("another account: %+v", a)
	}
}

// TestGuard_LoginThrottledByClientAddress shows the per-address throttle on the real binary
// (20 at once, and here no refill within the test): without --trusted-proxies, X-Forwarded-For
// is ignored and every attempt counts against the connection's address; with it, each
// forwarded client has its own bucket.
func TestGuard_LoginThrottledByClientAddress(t *testing.T) {
	w := newWorld(t)
	const rate = "20/1h"
	s := startServer(t, w.db, "--login-rate-per-address", rate)
	for i := range 20 {
		if a := tryLogin(t, s.url, fmt.Sprint("nobody-", i), "not the password at all", fmt.Sprintf("203.0.113.%d", i)); a.code != "UNAUTHENTICATED" {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	if a := tryLogin(t, s.url, "nobody-20", "not the password at all", "203.0.113.250"); a.status != http.StatusTooManyRequests || a.code != "RATE_LIMITED" {
		t.Fatalf("a 21st attempt from one connection address, whatever X-Forwarded-For says: %+v", a)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()

	s = startServerEnv(t, w.db, []string{"COURTSIDE_LOGIN_RATE_PER_ADDRESS=" + rate}, "--trusted-proxies", "127.0.0.1/32")
	for i := range 20 {
		if a := tryLogin(t, s.url, fmt.Sprint("nobody-", i), "not the password at all", "198.51.100.7, 203.0.113.5"); a.code != "UNAUTHENTICATED" {
			t.Fatalf("attempt %d through the proxy: %+v", i, a)
		}
	}
	a := tryLogin(t, s.url, "nobody-20", "not the password at all", "198.51.100.7, 203.0.113.5")
	if a.status != http.StatusTooManyRequests || a.code != "RATE_LIMITED" || a.retryAfter == "" {
		t.Fatalf("a 21st attempt from one forwarded client: %+v", a)
	}
	if a := tryLogin(t, s.url, "nobody-21", "not the password at all", "203.0.113.6"); a.code != "UNAUTHENTICATED" {
		t.Fatalf("another forwarded client: %+v", a)
	}
	if a := tryLogin(t, s.url, "adv", "tidal basin lantern 42", "203.0.113.9"); a.token == "" {
		t.Fatalf("a person signing in from elsewhere: %+v", a)
	}
}

// importDocket imports n hearings of one case through GraphQL as the prosecutor.
func importDocket(t *testing.T, base string, w *world, n int) {
	t.Helper()
	mustGQL(t, base, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	var b strings.Builder
	b.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
	for i := range n {
		d := time.Date(2030, 6, 3, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
		fmt.Fprintf(&b, "ATK-%d,26-CR-01042,Main Courthouse,ARRAIGNMENT,%s,%s,4B,,\n", i, d.Format("2006-01-02 15:04"), d.Add(time.Hour).Format("2006-01-02 15:04"))
	}
	r := mustGQL(t, base, w.prosecutor, `mutation($csv: String!) { importHearings(csv: $csv) { created } }`, map[string]any{"csv": b.String()})
	if dig(r, "importHearings", "created") != float64(n) {
		t.Fatalf("import: %v", r)
	}
}

// rawGQL posts an operation and returns the status and the decoded body, keeping whether data
// was there at all.
func rawGQL(t *testing.T, base, token, query string) (int, map[string]json.RawMessage) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// hearingsPage is the window of the imported docket.
const hearingsPage = `from: "2030-01-01T00:00:00Z", to: "2032-01-01T00:00:00Z"`

// heavyQuery is within the budget of returned objects (40,401) but takes the server a while.
const heavyQuery = `{ hearings(` + hearingsPage + `, first: 200) { edges { case { hearings(first: 100) { id startsAt case { docket } } } } } }`

// TestGuard_NestedListAttackRefused reproduces the nested-list attack on the real binary, as a
// prosecutor with 300 hearings in one case: refused with INVALID, rule "nodes", naming the
// budget, before it runs (no data at all); the same shape within the budget is answered.
func TestGuard_NestedListAttackRefused(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	importDocket(t, s.url, w, 300)
	for _, first := range []int{20, 200} {
		q := fmt.Sprintf(`{ hearings(%s, first: %d) { edges { case { hearings { case { hearings { id } } } } } } }`, hearingsPage, first)
		status, out := rawGQL(t, s.url, w.prosecutor, q)
		var errs []map[string]any
		json.Unmarshal(out["errors"], &errs)
		if _, ran := out["data"]; ran || status != http.StatusOK || len(errs) != 1 || dig(errs[0], "extensions", "code") != "INVALID" ||
			dig(errs[0], "extensions", "rule") != "nodes" || !strings.Contains(fmt.Sprint(errs[0]["message"]), "the limit is 100000") {
			t.Fatalf("first: %d: %d %v", first, status, errs)
		}
	}
	data := mustGQL(t, s.url, w.prosecutor, heavyQuery, nil)
	edges, _ := dig(data, "hearings", "edges").([]any)
	if len(edges) != 200 || len(dig(edges[0], "case", "hearings").([]any)) != 100 {
		t.Fatalf("the query within the budget answered %d edges", len(edges))
	}
}

// TestGuard_ClientGoneStopsTheOperation sends an operation that takes the server a while and
// hangs up at once: the server stops it, and says so in its log once the work has stopped,
// with how many fields it had resolved (a fraction of the operation's) and how many it refused
// to start.
func TestGuard_ClientGoneStopsTheOperation(t *testing.T) {
	w := newWorld(t)
	_, base, logs := startLoggedServer(t, w.db)
	importDocket(t, base, w, 300)
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": heavyQuery})
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
		u.Host, w.prosecutor, len(body), body)
	conn.Close()

	// The log line is written when the operation has stopped.
	stopped := regexp.MustCompile(`msg="graphql: operation stopped" reason="client gone" operation="" resolved=(\d+) refused=(\d+)`)
	var line []string
	deadline := time.Now().Add(60 * time.Second)
	for line = stopped.FindStringSubmatch(logs.String()); line == nil; line = stopped.FindStringSubmatch(logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line of the stopped operation:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Run to its end, the operation resolves 20,402 object and list fields: the page, its
	// edges, 200 cases, their 200 lists of 100 hearings and those 20,000 hearings' cases. It
	// stopped long before: at its first lookup (whose SQL saw the cancellation) or at the next
	// field (refused).
	if resolved, _ := strconv.Atoi(line[1]); resolved >= 20402 {
		t.Fatalf("the operation ran to its end: %s", line[0])
	}
}

// TestGuard_RequestDeadline starts the binary with a deadline far shorter than the heavy
// query needs: the query answers TIMEOUT. A deadline that is no duration is refused by name.
func TestGuard_RequestDeadline(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	importDocket(t, s.url, w, 300)
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	s = startServerEnv(t, w.db, []string{"COURTSIDE_REQUEST_TIMEOUT=10ms"})
	_, errs := gql(t, s.url, w.prosecutor, heavyQuery, nil)
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "TIMEOUT" {
		t.Fatalf("the heavy query past its deadline: %v", errs)
	}
	for _, bad := range [][]string{{"--request-timeout", "soon"}, {"--request-timeout", "0s"}, {"--trusted-proxies", "the proxy"},
		{"--login-rate-per-address", "many"}} {
		out, code, stderr := cliResult(t, "", append([]string{"serve", "--db", w.db, "--addr", "127.0.0.1:0"}, bad...)...)
		if code != 2 || out != "" || !strings.Contains(stderr, bad[0]) {
			t.Errorf("serve %v: exit %d, %q", bad, code, stderr)
		}
	}
}

// TestGuard_SecretsListedAndSessionMintingNeedsPassword shows, on the real binary, that a
// session cannot mint a secret without the account password, that mySecrets and `courtside
// token list` list what was minted (never the secret), and that revokeSecret takes the listed
// id.
func TestGuard_SecretsListedAndSessionMintingNeedsPassword(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	session := tryLogin(t, s.url, "coord", "tidal basin lantern 42", "").token
	if session == "" {
		t.Fatal("no session")
	}
	const mint = `mutation($p: String) { createApiToken(label: "case system", password: $p) { id secret } }`
	_, errs := gql(t, s.url, session, mint, nil)
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "INVALID" || dig(errs[0], "extensions", "field") != "password" {
		t.Fatalf("minting from a session without the password: %v", errs)
	}
	_, errs = gql(t, s.url, session, mint, map[string]any{"p": "a guess at the password"})
	if len(errs) != 1 || dig(errs[0], "extensions", "code") != "FORBIDDEN" {
		t.Fatalf("minting from a session with a wrong password: %v", errs)
	}
	minted := mustGQL(t, s.url, session, mint, map[string]any{"p": "tidal basin lantern 42"})
	id, _ := dig(minted, "createApiToken", "id").(string)
	secret, _ := dig(minted, "createApiToken", "secret").(string)
	mustGQL(t, s.url, secret, `{ me { username } }`, nil)

	listed := mustGQL(t, s.url, session, `{ mySecrets { id kind label lastUsedAt } }`, nil)
	raw, _ := json.Marshal(listed)
	if strings.Contains(string(raw), secret) || strings.Contains(string(raw), w.coordinator) {
		t.Fatal("mySecrets shows a secret")
	}
	secrets, _ := listed["mySecrets"].([]any)
	found := false
	for _, x := range secrets {
		if dig(x, "id") == id {
			found = dig(x, "kind") == "API" && dig(x, "label") == "case system" && dig(x, "lastUsedAt") != nil
		}
	}
	if len(secrets) != 2 || !found { // the operator's "e2e" token and the minted one
		t.Fatalf("mySecrets: %s", raw)
	}

	out := cli(t, "", "token", "list", "--db", w.db, "--username", "coord")
	if !regexp.MustCompile(`(?m)^`+id+`\s+api\s+"case system"\s+\S+Z\s+\S+Z$`).MatchString(out) || !strings.Contains(out, `"e2e"`) ||
		strings.Contains(out, secret[10:]) || strings.Contains(out, w.coordinator[10:]) {
		t.Fatalf("token list:\n%s", out)
	}
	mustGQL(t, s.url, session, `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": id})
	if out := cli(t, "", "token", "list", "--db", w.db, "--username", "coord"); regexp.MustCompile(`(?m)^` + id + `\s`).MatchString(out) {
		t.Fatalf("token list after revoking %s:\n%s", id, out)
	}
	if _, code, stderr := cliResult(t, "", "token", "list", "--db", w.db, "--username", "nobody"); code != 2 || !strings.Contains(stderr, "--username") {
		t.Fatalf("token list for nobody: exit %d %q", code, stderr)
	}
}
