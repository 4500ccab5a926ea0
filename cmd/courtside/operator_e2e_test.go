package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestInit_CreatesDatabaseAndKey: `courtside init` creates the database and its key file
// (mode 0600), refuses a database that exists, and the next commands work on it.
func TestInit_CreatesDatabaseAndKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "courtside.db")
	out, code, stderr := cliResult(t, "", "init", "--db", db)
	if code != 0 || !strings.Contains(out, "created "+db) || !strings.Contains(stderr, db+".key") || !strings.Contains(stderr, "user add") {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for _, p := range []string{db, db + ".key"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s after init: %v %v", p, fi, err)
		}
	}
	key, _ := os.ReadFile(db + ".key")
	_, code, stderr = cliResult(t, "", "init", "--db", db)
	if code != 2 || !strings.Contains(lastLine(stderr), "--db") || !strings.Contains(lastLine(stderr), "already exists") {
		t.Fatalf("init over an existing database: exit %d %q", code, stderr)
	}
	if again, _ := os.ReadFile(db + ".key"); string(again) != string(key) {
		t.Fatal("a refused init changed the key file")
	}
	cli(t, "", "user", "add", "--db", db, "--username", "admin", "--role", "admin")
	cli(t, "", "audit", "verify", "--db", db)

	// With COURTSIDE_KEY, no key file is written.
	envDB := filepath.Join(dir, "env.db")
	cmd := cliCommand("init", "--db", envDB)
	cmd.Env = append(os.Environ(), "COURTSIDE_KEY="+strings.Repeat("ab", 32))
	if outb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init with COURTSIDE_KEY: %v %s", err, outb)
	}
	if _, err := os.Stat(envDB + ".key"); err == nil {
		t.Fatal("init wrote a key file although COURTSIDE_KEY holds the key")
	}
}

// TestInit_CommandsRefuseMissingDatabase: every command but init and serve refuses a
// database that does not exist, names --db and init, and creates nothing: no database, no
// key file, no lock. A database whose key file is missing is refused without a new key.
func TestInit_CommandsRefuseMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	csvFile := filepath.Join(t.TempDir(), "docket.csv")
	os.WriteFile(csvFile, []byte("external_id,docket,court,kind,starts_at,ends_at\n"), 0o600)
	for _, args := range [][]string{
		{"user", "add", "--db", missing, "--username", "admin", "--role", "admin"},
		{"user", "list", "--db", missing},
		{"court", "add", "--db", missing, "--name", "Main Courthouse", "--time-zone", "America/New_York"},
		{"token", "create", "--db", missing, "--username", "admin"},
		{"import", "hearings", "--db", missing, "--org", "County DA", "--file", csvFile},
		{"webhook", "set", "--db", missing, "--org", "Harbor Advocacy", "--url", "https://cms.example.org/hook"},
		{"report", "--db", missing, "--org", "Harbor Advocacy", "--from", "2026-01-01", "--to", "2026-02-01"},
		{"backup", "--db", missing, "--out", filepath.Join(t.TempDir(), "b.db")},
		{"audit", "verify", "--db", missing},
		{"keys", "rotate", "--db", missing, "--new-key-file", filepath.Join(t.TempDir(), "new.key")},
	} {
		out, code, stderr := cliResult(t, "", args...)
		last := lastLine(stderr)
		if code != 2 || out != "" || !strings.HasPrefix(last, "courtside: --db: ") || !strings.Contains(last, "courtside init") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 naming --db and init", args, code, out, stderr)
		}
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("refused commands left %v", names)
	}

	// A database without its key file: refused, and no key is made up for it.
	db := filepath.Join(dir, "courtside.db")
	cli(t, "", "init", "--db", db)
	if err := os.Rename(db+".key", filepath.Join(t.TempDir(), "kept.key")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"user", "add", "--db", db, "--username", "admin", "--role", "admin"},
		{"serve", "--db", db, "--addr", "127.0.0.1:0"},
	} {
		_, code, stderr := cliResult(t, "", args...)
		if code != 2 || !strings.Contains(lastLine(stderr), "--key-file") {
			t.Errorf("%v without the key file: exit %d %q", args, code, stderr)
		}
		if _, err := os.Stat(db + ".key"); err == nil {
			t.Fatalf("%v created a new key for an existing database", args)
		}
	}
}

// TestCourtAdd_ThenImport: a court made with the CLI under createCourt's rules is the court a
// docket import names, on a database that never saw GraphQL.
func TestCourtAdd_ThenImport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "courtside.db")
	cli(t, "", "init", "--db", db)
	_, code, stderr := cliResult(t, "", "court", "add", "--db", db, "--name", "Main Courthouse", "--time-zone", "America/New_York")
	if code != 2 || !strings.Contains(lastLine(stderr), "--as") || !strings.Contains(lastLine(stderr), "--role admin") {
		t.Fatalf("court add without an administrator: exit %d %q", code, stderr)
	}
	cli(t, "", "user", "add", "--db", db, "--username", "admin", "--role", "admin")
	cli(t, "", "user", "add", "--db", db, "--username", "pros", "--role", "prosecutor", "--org", "County DA")
	out := cli(t, "", "court", "add", "--db", db, "--name", "Main Courthouse", "--time-zone", "America/New_York",
		"--opens-at", "08:00", "--closes-at", "17:30", "--address", "100 Center Street")
	if !regexp.MustCompile(`^created court \d+: Main Courthouse \(America/New_York, 08:00 to 17:30\)\n$`).MatchString(out) {
		t.Fatalf("court add printed %q", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "Annex", "--time-zone", "Mars/Olympus"}, "--time-zone"},
		{[]string{"--name", "Annex", "--time-zone", "Local"}, "--time-zone"},
		{[]string{"--name", "Annex"}, "--time-zone"},
		{[]string{"--time-zone", "America/New_York"}, "--name"},
		{[]string{"--name", "Annex", "--time-zone", "America/New_York", "--opens-at", "8am"}, "--opens-at"},
		{[]string{"--name", "Annex", "--time-zone", "America/New_York", "--closes-at", "25:00"}, "--closes-at"},
		{[]string{"--name", "Annex", "--time-zone", "America/New_York", "--opens-at", "18:00", "--closes-at", "09:00"}, "--closes-at"},
		{[]string{"--name", "Annex", "--time-zone", "America/New_York", "--as", "pros"}, "--as"},
		{[]string{"--name", "Main Courthouse", "--time-zone", "America/Chicago"}, "exists"},
	} {
		out, code, stderr := cliResult(t, "", append([]string{"court", "add", "--db", db}, tt.args...)...)
		if code != 2 || out != "" || !strings.Contains(lastLine(stderr), tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("court add %v: exit %d, stdout %q, stderr %q; want one line naming %s", tt.args, code, out, stderr, tt.want)
		}
	}
	docket := filepath.Join(t.TempDir(), "docket.csv")
	os.WriteFile(docket, []byte("external_id,docket,court,kind,starts_at,ends_at\nDA-1,26-CR-1,Main Courthouse,PLEA,2027-03-01 09:30,2027-03-01 10:00\n"), 0o600)
	if out := cli(t, "", "import", "hearings", "--db", db, "--org", "County DA", "--file", docket); strings.TrimSpace(out) != "created 1, updated 0, unchanged 0" {
		t.Fatalf("import into the CLI's court: %q", out)
	}
}

// TestUserList lists every user with role, organisation and creation time, and never a
// secret: no password hash, token or contact address.
func TestUserList(t *testing.T) {
	w := newWorld(t)
	cli(t, "", "user", "add", "--db", w.db, "--username", "mailer", "--role", "advocate", "--org", "Harbor Advocacy",
		"--email", "mailer@advocacy.test", "--phone", "+12025550143")
	out, code, stderr := cliResult(t, "", "user", "list", "--db", w.db)
	if code != 0 || !strings.Contains(stderr, "6 users") {
		t.Fatalf("user list: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 || strings.Join(strings.Fields(lines[0]), " ") != "ID USERNAME ROLE ORGANISATION CREATED" {
		t.Fatalf("user list printed:\n%s", out)
	}
	row := regexp.MustCompile(`^\d+\s+(\S+)\s+(admin|prosecutor|coordinator|advocate|interpreter)\s+(.+?)\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	want := map[string]string{"admin": "-", "pros": "County DA", "coord": "Harbor Advocacy", "adv": "Harbor Advocacy", "interp": "-", "mailer": "Harbor Advocacy"}
	for _, l := range lines[1:] {
		m := row.FindStringSubmatch(l)
		if m == nil || want[m[1]] != m[3] {
			t.Errorf("user list row %q", l)
		}
	}
	for _, secret := range []string{w.admin, w.advocateApp, "argon2", "mailer@advocacy.test", "+12025550143", "cs_"} {
		if strings.Contains(out+stderr, secret) {
			t.Errorf("user list shows %q", secret)
		}
	}
}

// TestWebhookSet_SenderRule: a receiver the webhook sender would refuse is refused when set,
// by the same rule, naming --url; one it accepts is stored.
func TestWebhookSet_SenderRule(t *testing.T) {
	w := newWorld(t)
	for _, u := range []string{"http://10.0.0.1/hook", "http://cms.example.org/hook", "ftp://cms.example.org/hook",
		"https://user:secret-pw@cms.example.org/hook", "cms.example.org/hook", "https:///hook"} {
		out, code, stderr := cliResult(t, "", "webhook", "set", "--db", w.db, "--org", "Harbor Advocacy", "--url", u)
		if code != 2 || out != "" || !strings.HasPrefix(lastLine(stderr), "courtside: --url: ") || strings.Contains(stderr, "secret-pw") {
			t.Errorf("webhook set --url %s: exit %d, stdout %q, stderr %q", u, code, out, stderr)
		}
	}
	for _, u := range []string{"https://cms.example.org/hooks/courtside", "http://127.0.0.1:9999/hook"} {
		if out := cli(t, "", "webhook", "set", "--db", w.db, "--org", "Harbor Advocacy", "--url", u); !strings.HasPrefix(out, "whsec_") {
			t.Errorf("webhook set --url %s printed %q", u, out)
		}
	}
}

// TestKeysRotate_RefusedWhileServing: keys rotate refuses a database a service holds and
// writes nothing (not even the new key file); a second service is refused too; once the
// service stops, the rotation runs.
func TestKeysRotate_RefusedWhileServing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "courtside.db")
	coord, ids := seedVictims(t, path, 2)
	s := startServer(t, path)
	newKey := filepath.Join(dir, "new.key")
	out, code, stderr := cliResult(t, "", "keys", "rotate", "--db", path, "--new-key-file", newKey)
	last := lastLine(stderr)
	if code != 2 || out != "" || !strings.Contains(last, "--db") || !strings.Contains(last, "courtside serve (pid ") || !strings.Contains(last, "stop the service") {
		t.Fatalf("keys rotate while serving: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if _, err := os.Stat(newKey); err == nil {
		t.Fatal("a refused rotation created the new key file")
	}
	_, code, stderr = cliResult(t, "", "serve", "--db", path, "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(lastLine(stderr), "in use") {
		t.Fatalf("a second service on the database: exit %d %q", code, stderr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if out := cli(t, "", "keys", "rotate", "--db", path, "--new-key-file", newKey); !strings.Contains(out, "re-encrypted 4 values") {
		t.Fatalf("keys rotate after the service stopped: %q", out)
	}
	readVictims(t, path, newKey, coord, ids)
}

// TestCLI_VersionAndHelp: version from the build information; --help exits 0 with the
// flags; an unknown flag is one error line.
func TestCLI_VersionAndHelp(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, code, stderr := cliResult(t, "", args...)
		if code != 0 || !regexp.MustCompile(`^courtside \S+.*, go1\.\d+`).MatchString(out) || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"user", "add", "--help"}, {"init", "--help"}, {"court", "add", "-help"}} {
		out, code, stderr := cliResult(t, "", args...)
		if code != 0 || out != "" || !strings.Contains(stderr, "-db") || strings.Contains(stderr, "help requested") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	if _, _, stderr := cliResult(t, "", "serve", "--help"); !strings.Contains(stderr, "-demo") || !strings.Contains(stderr, "-introspection") {
		t.Errorf("serve --help lacks its flags: %q", stderr)
	}
	for _, args := range [][]string{{"serve", "--bogus"}, {"user", "list", "--db", "x.db", "--frobnicate"}, {"keys", "rotate", "--batch", "many"}} {
		out, code, stderr := cliResult(t, "", args...)
		if code != 2 || out != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "courtside: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one error line", args, code, out, stderr)
		}
	}
}
