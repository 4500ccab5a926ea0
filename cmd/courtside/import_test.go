package main_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEndToEnd_ImportHearings imports a docket with the CLI: counts on stdout, a progress line
// on stderr, idempotent on a second run; a bad line exits 2 naming the line and column and
// imports nothing.
func TestEndToEnd_ImportHearings(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	mustGQL(t, s.url, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
	for i := 0; i < 2500; i++ {
		day := 1 + i%28
		fmt.Fprintf(&b, "DA-%d,26-CR-%d,Main Courthouse,STATUS,2027-02-%02d 09:30,2027-02-%02d 10:00,4B,,\n", i, 1000+i%40, day, day)
	}
	good := filepath.Join(dir, "docket.csv")
	if err := os.WriteFile(good, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code, stderr := cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", good)
	if code != 0 || strings.TrimSpace(out) != "created 2500, updated 0, unchanged 0" || !strings.Contains(stderr, "read 2500 lines") {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// Right after the first import the server works through its 2,500 events: the second one
	// waits its turn for the write lock, however long that takes.
	out, code, stderr = cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", good)
	if code != 0 || strings.TrimSpace(out) != "created 0, updated 0, unchanged 2500" {
		t.Fatalf("re-import: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// The running server sees the imported docket.
	data := mustGQL(t, s.url, w.prosecutor, `{ hearings(from: "2027-02-01T00:00:00Z", to: "2027-03-01T00:00:00Z", first: 200) { edges { id } hasNextPage } }`, nil)
	if len(dig(data, "hearings", "edges").([]any)) != 200 || dig(data, "hearings", "hasNextPage") != true {
		t.Fatalf("hearings after import: %v", data)
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n"+
		"NEW-1,26-CR-9999,Main Courthouse,PLEA,2027-03-01 09:30,2027-03-01 10:00,,,\n"+
		"NEW-2,26-CR-9999,Main Courthouse,PLEA,next tuesday,2027-03-01 10:00,,,\n"), 0o600)
	out, code, stderr = cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", bad)
	last := strings.TrimSpace(stderr)[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:]
	if code != 2 || out != "" || !strings.Contains(last, "line 3, column starts_at") || !strings.Contains(last, "nothing was imported") {
		t.Fatalf("bad import: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	_, errs := gql(t, s.url, w.prosecutor, `{ hearings(from: "2027-03-01T00:00:00Z", to: "2027-03-02T00:00:00Z") { edges { id } } }`, nil)
	data = mustGQL(t, s.url, w.prosecutor, `{ hearings(from: "2027-03-01T00:00:00Z", to: "2027-03-02T00:00:00Z") { edges { id } } }`, nil)
	if len(errs) > 0 || len(dig(data, "hearings", "edges").([]any)) != 0 {
		t.Fatalf("a failed import wrote hearings: %v %v", errs, data)
	}
	for _, args := range [][]string{
		{"import", "hearings", "--db", w.db, "--file", good},
		{"import", "hearings", "--db", w.db, "--org", "Nobody's Office", "--file", good},
		{"import", "hearings", "--db", w.db, "--org", "County DA", "--file", filepath.Join(dir, "missing.csv")},
	} {
		if _, code, stderr := cliResult(t, "", args...); code != 2 || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d %q", args, code, stderr)
		}
	}
}

// holdWriteLock takes the database's write lock from a connection of the test's own, as a
// service busy with its events holds it; the returned function lets it go.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=60000")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin()
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			tx.Rollback()
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// startCLI starts a courtside command and returns it with a channel of its stderr lines and
// its stdout.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
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
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, &stdout
}

// waitLine reads lines until one contains want and returns every line read.
func waitLine(t *testing.T, lines <-chan string, want string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("no line with %q; stderr: %q", want, seen)
			}
			seen = append(seen, l)
			if strings.Contains(l, want) {
				return seen
			}
		case <-timeout:
			t.Fatalf("no line with %q after 60 s; stderr: %q", want, seen)
		}
	}
}

// TestEndToEnd_ImportWaitsItsTurn runs `courtside import hearings` while another process holds
// the write lock, as the service does while it works through a backlog of events: the import
// says that it waits for the database and why, and imports once the lock is free, however long
// that took. Interrupted while it waits (Ctrl-C), it stops with nothing imported.
func TestEndToEnd_ImportWaitsItsTurn(t *testing.T) {
	sqliteOnly(t) // SQLite's busy wait and the -writers file; PostgreSQL's writers queue on a lock
	w := newWorld(t)
	s := startServer(t, w.db)
	mustGQL(t, s.url, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	dir := t.TempDir()
	docket := func(name, prefix string, day int) string {
		var b strings.Builder
		b.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "%s-%d,26-CR-%d,Main Courthouse,STATUS,2027-04-%02d 09:30,2027-04-%02d 10:00,4B,,\n", prefix, i, 2000+i%5, day, day)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	count := func(day int) int {
		from := time.Date(2027, 4, day, 0, 0, 0, 0, time.UTC)
		data := mustGQL(t, s.url, w.prosecutor, `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 200) { edges { id } } }`,
			map[string]any{"f": from.Format(time.RFC3339), "t": from.Add(24 * time.Hour).Format(time.RFC3339)})
		return len(dig(data, "hearings", "edges").([]any))
	}

	release := holdWriteLock(t, w.db)
	cmd, lines, stdout := startCLI(t, "import", "hearings", "--db", w.db, "--org", "County DA", "--file", docket("waits.csv", "W", 5))
	seen := waitLine(t, lines, "waiting for the database")
	if l := seen[len(seen)-1]; !strings.Contains(l, "another process is writing") || !strings.Contains(l, "Ctrl-C") {
		t.Errorf("waiting line %q does not say what it waits for and how to stop", l)
	}
	release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("import after the wait: %v; stdout %q", err, stdout.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != "created 50, updated 0, unchanged 0" {
		t.Errorf("import after the wait printed %q", got)
	}
	if n := count(5); n != 50 {
		t.Errorf("%d hearings after the import that waited, want 50", n)
	}

	release = holdWriteLock(t, w.db)
	cmd, lines, stdout = startCLI(t, "import", "hearings", "--db", w.db, "--org", "County DA", "--file", docket("interrupted.csv", "I", 6))
	waitLine(t, lines, "waiting for the database")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest := waitLine(t, lines, "interrupted")
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(rest[len(rest)-1], "nothing was imported") {
		t.Errorf("interrupted import: exit %d, stdout %q, stderr %q", code, stdout.String(), rest)
	}
	release()
	if n := count(6); n != 0 {
		t.Errorf("%d hearings after the interrupted import, want 0", n)
	}
}
