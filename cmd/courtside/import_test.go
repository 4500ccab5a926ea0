package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	out, code, _ = cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", good)
	if code != 0 || strings.TrimSpace(out) != "created 0, updated 0, unchanged 2500" {
		t.Fatalf("re-import: exit %d, %q", code, out)
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
