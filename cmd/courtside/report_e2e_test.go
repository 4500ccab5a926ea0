package main_test

import (
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReport_CLIExportsSuppressedAggregates runs `courtside report` against a served database:
// the CSV holds counts per court and kind only, with the one-hearing cells suppressed, names
// no victim, and the read is audited as the organisation's coordinator. Bad command lines exit
// 2 naming the flag.
func TestReport_CLIExportsSuppressedAggregates(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(20 * 24 * time.Hour).Truncate(time.Hour)
	setUpHearing(t, s.url, w, starts)
	from := starts.Add(-48 * time.Hour).Format(time.DateOnly)
	to := starts.Add(48 * time.Hour).Format(time.DateOnly)

	// Stopped, so that the notices the notification work plans cannot change under the test.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	out := cli(t, "", "report", "--db", w.db, "--org", "Harbor Advocacy", "--from", from, "--to", to)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, out)
	}
	header := "court_id,court,kind,hearings,victims_accompanied,with_interpreter,notices_pending,notices_sent,notices_delivered,notices_failed,notices_suppressed"
	// One hearing and one victim: both suppressed; no interpreter.
	if len(recs) != 2 || strings.Join(recs[0], ",") != header || strings.Join(recs[1][:6], ",") != "1,Main Courthouse,SENTENCING,suppressed,suppressed,0" {
		t.Fatalf("report:\n%s", out)
	}
	// Notices to Harbor Advocacy's victim and staff, whatever the notification work planned:
	// zero published, 1..10 suppressed.
	for i, status := range []string{"PENDING", "SENT", "DELIVERED", "FAILED", "SUPPRESSED"} {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries d WHERE d.status = ? AND (d.victim_id IS NOT NULL
			OR d.user_id IN (SELECT u.id FROM users u JOIN organizations o ON o.id = u.organization_id WHERE o.name = 'Harbor Advocacy'))`, status).Scan(&n); err != nil {
			t.Fatal(err)
		}
		got := recs[1][6+i]
		if (n == 0 && got != "0") || (n > 0 && n < 11 && got != "suppressed") || (n >= 11 && got != "suppressed" && got != strconv.Itoa(n)) {
			t.Fatalf("notices %s: %d stored, report says %q", status, n, got)
		}
	}
	for _, secret := range []string{"Sentinel", "V-1042-A", "26-CR-01042", "DA-77"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the report carries %q:\n%s", secret, out)
		}
	}
	// Another organisation's name finds no coordinator; the prosecutor's office has none either.
	if _, code, stderr := cliResult(t, "", "report", "--db", w.db, "--org", "County DA", "--from", from, "--to", to); code != 2 || !strings.Contains(stderr, "--org") {
		t.Fatalf("report for a prosecutor's office: exit %d %q", code, stderr)
	}
	var audited int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.actor_id
		WHERE a.action = 'report.caseload' AND a.outcome = 'ok' AND u.username = 'coord'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1 {
		t.Fatalf("report.caseload audit rows by coord: %d", audited)
	}

	missing := filepath.Join(t.TempDir(), "none.db")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--db", w.db, "--from", from, "--to", to}, "--org"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--to", to}, "--from"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", from}, "--to"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", "last tuesday", "--to", to}, "--from"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", to, "--to", from}, "--to"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", "2020-01-01", "--to", "2026-01-01"}, "--to"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", from, "--to", to, "--as", "adv"}, "--as"},
		{[]string{"report", "--db", missing, "--org", "Harbor Advocacy", "--from", from, "--to", to}, "--db"},
		{[]string{"report", "--db", w.db, "--org", "Harbor Advocacy", "--from", from, "--to", to, "--format", "xlsx"}, "format"},
	} {
		out, code, stderr := cliResult(t, "", tt.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != 2 || out != "" || !strings.Contains(last, tt.want) || !strings.HasPrefix(last, "courtside: ") {
			t.Errorf("%v: exit %d, stdout %q, last stderr line %q; want exit 2 naming %s", tt.args[3:], code, out, last, tt.want)
		}
	}
}
