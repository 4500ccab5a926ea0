package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCSV_HeaderAndKindErrors: the CLI refuses a docket whose header it does not
// understand or whose kind is unknown, on one line naming the line, the column and the fix,
// and imports nothing.
func TestImportCSV_HeaderAndKindErrors(t *testing.T) {
	w := newWorld(t)
	cli(t, "", "court", "add", "--db", w.db, "--name", "Main Courthouse", "--time-zone", "America/New_York")
	dir := t.TempDir()
	row := "DA-1,26-CR-1,Main Courthouse,PLEA,2027-03-01 09:30,2027-03-01 10:00,4B,,\n"
	for _, tt := range []struct {
		name, csv, want string
	}{
		{"misspelt", "external_id,docket,court,kind,starts_at,ends_at,courtrom,judge,status\n" + row, "line 1, column courtrom: unknown column; did you mean courtroom?"},
		{"headerless", row, "line 1: the first line must be the header"},
		{"kind", "external_id,docket,court,kind,starts_at,ends_at\nDA-1,26-CR-1,Main Courthouse,TRIAL_DAY,2027-03-01 09:30,2027-03-01 10:00\n",
			`line 2, column kind: unknown hearing kind "TRIAL_DAY"; the kinds are ARRAIGNMENT, DETENTION, PRELIMINARY, MOTION, PLEA, TRIAL, SENTENCING, RESTITUTION, STATUS, OTHER`},
	} {
		file := filepath.Join(dir, tt.name+".csv")
		os.WriteFile(file, []byte(tt.csv), 0o600)
		out, code, stderr := cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", file)
		if last := lastLine(stderr); code != 2 || out != "" || !strings.Contains(last, tt.want) || !strings.Contains(last, "nothing was imported") {
			t.Errorf("%s: exit %d, stdout %q, last line %q; want %q", tt.name, code, out, last, tt.want)
		}
	}
}

// TestImportCSV_ProgressShowsPhasesAndBacklog: the import's progress names parsing, writing
// and then the service's backlog: followed down to nothing while a service runs, announced
// as waiting for one when none does.
func TestImportCSV_ProgressShowsPhasesAndBacklog(t *testing.T) {
	w := newWorld(t)
	cli(t, "", "court", "add", "--db", w.db, "--name", "Main Courthouse", "--time-zone", "America/New_York")
	docket := func(n, offset int) string {
		var b strings.Builder
		b.WriteString("external_id,docket,court,kind,starts_at,ends_at\n")
		for i := range n {
			day := 1 + i%28
			fmt.Fprintf(&b, "DA-%d,26-CR-%d,Main Courthouse,STATUS,2027-02-%02d 09:30,2027-02-%02d 10:00\n", offset+i, 1000+i%40, day, day)
		}
		file := filepath.Join(t.TempDir(), "docket.csv")
		os.WriteFile(file, []byte(b.String()), 0o600)
		return file
	}
	// No service: the events wait for one.
	_, code, stderr := cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", docket(1200, 0))
	if code != 0 || !strings.Contains(stderr, "read 1200 lines") || !strings.Contains(stderr, "wrote 1200 of 1200 hearings") ||
		!strings.Contains(stderr, "events wait for the service") {
		t.Fatalf("import without a service: exit %d, stderr %q", code, stderr)
	}
	// A service: it works the backlog off while the import watches.
	startServer(t, w.db)
	_, code, stderr = cliResult(t, "", "import", "hearings", "--db", w.db, "--org", "County DA", "--file", docket(300, 5000))
	if code != 0 || !strings.Contains(stderr, "wrote 300 of 300 hearings") || !strings.Contains(stderr, "the service has worked through the import's events") {
		t.Fatalf("import beside a service: exit %d, stderr %q", code, stderr)
	}
}
