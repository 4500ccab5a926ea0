package main_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// openStore opens the database at path through storage with the key in keyFile.
func openStore(t *testing.T, path, keyFile string) *storage.DB {
	t.Helper()
	key, err := storage.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	if db.Sealer, err = storage.NewSealer(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	return db
}

// seedVictims creates a coordinator with the CLI and registers n victims with PII through
// storage, with the database's key file. It returns the coordinator and the victim ids.
func seedVictims(t *testing.T, path string, n int) (*courtside.User, []int64) {
	t.Helper()
	cli(t, "", "init", "--db", path)
	cli(t, "", "user", "add", "--db", path, "--username", "coord", "--role", "coordinator", "--org", "Harbor Advocacy")
	db := openStore(t, path, path+".key")
	defer db.Close()
	ctx := context.Background()
	coord, err := storage.NewUserService(db).FindUserByUsername(ctx, "coord")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		v := &courtside.Victim{Pseudonym: fmt.Sprintf("V-%d", i), LegalName: fmt.Sprintf("Opsname %03d", i), PreferredLanguage: "es",
			Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: fmt.Sprintf("+1202555%04d", i)}}}
		if err := storage.NewVictimService(db).RegisterVictim(courtside.NewContextWithUser(ctx, coord), v); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	return coord, ids
}

// readVictims opens every victim's PII with the key in keyFile and checks the values.
func readVictims(t *testing.T, path, keyFile string, coord *courtside.User, ids []int64) {
	t.Helper()
	db := openStore(t, path, keyFile)
	defer db.Close()
	vs, err := storage.NewVictimService(db).OpenVictimPII(courtside.NewContextWithUser(context.Background(), coord), ids...)
	if err != nil {
		t.Fatalf("open victims with %s: %v", filepath.Base(keyFile), err)
	}
	if len(vs) != len(ids) {
		t.Fatalf("opened %d victims, want %d", len(vs), len(ids))
	}
	for i, v := range vs {
		if v.LegalName != fmt.Sprintf("Opsname %03d", i) || len(v.Contacts) != 1 || v.Contacts[0].Address != fmt.Sprintf("+1202555%04d", i) {
			t.Fatalf("victim %d reads %+v", v.ID, *v)
		}
	}
}

// TestOps_BackupWhileServingThenRestore backs up a database the server is using, restores
// the backup by copying the one file, and checks the restored copy's audit chain and PII.
func TestOps_BackupWhileServingThenRestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "courtside.db")
	coord, ids := seedVictims(t, path, 3)
	startServer(t, path)

	out := filepath.Join(dir, "backups", "courtside-backup.db")
	if err := os.Mkdir(filepath.Dir(out), 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, code, stderr := cliResult(t, "", "backup", "--db", path, "--out", out)
	if code != 0 || !strings.Contains(stdout, out) || !strings.Contains(stderr, "key") {
		t.Fatalf("backup: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("backup directory holds %d files, want the backup only", len(entries))
	}
	// Never overwrite: a second backup to the same file is refused, the first one untouched.
	_, code, stderr = cliResult(t, "", "backup", "--db", path, "--out", out)
	if code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("backup over an existing file: exit %d %q", code, stderr)
	}

	// Restore by copying the backup file (and the key, kept apart) into place.
	restored := filepath.Join(t.TempDir(), "restored.db")
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout = cli(t, "", "audit", "verify", "--db", restored)
	var n int
	if _, err := fmt.Sscanf(stdout, "audit log intact: %d rows", &n); err != nil || n < 3 {
		t.Fatalf("audit verify on the restored copy: %q", stdout)
	}
	readVictims(t, restored, path+".key", coord, ids)
}

// TestOps_AuditVerifyFindsTamperedRow edits an audit row behind the triggers' back.
func TestOps_AuditVerifyFindsTamperedRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "courtside.db")
	seedVictims(t, path, 2)
	stdout := cli(t, "", "audit", "verify", "--db", path)
	if !strings.HasPrefix(stdout, "audit log intact: ") {
		t.Fatalf("audit verify: %q", stdout)
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_log SET outcome = 'denied' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	stdout, code, stderr := cliResult(t, "", "audit", "verify", "--db", path)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "audit row 2 ") {
		t.Fatalf("tampered audit log: exit %d, stdout %q, stderr %q; want exit 1 naming row 2", code, stdout, stderr)
	}
}

// TestOps_KeysRotate rotates to a new key file, then reads every victim with the new key
// only; the old key no longer opens them.
func TestOps_KeysRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "courtside.db")
	coord, ids := seedVictims(t, path, 7)
	newKey := filepath.Join(dir, "new.key")
	stdout, code, stderr := cliResult(t, "", "keys", "rotate", "--db", path, "--new-key-file", newKey, "--batch", "3")
	if code != 0 || !strings.Contains(stdout, "re-encrypted 14 values") || !strings.Contains(stderr, "COURTSIDE_KEY") {
		t.Fatalf("keys rotate: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if fi, err := os.Stat(newKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new key file: %v %v", fi, err)
	}
	readVictims(t, path, newKey, coord, ids)

	old := openStore(t, path, path+".key")
	defer old.Close()
	if _, err := storage.NewVictimService(old).OpenVictimPII(courtside.NewContextWithUser(context.Background(), coord), ids...); err == nil {
		t.Fatal("the old key still opens the victims after rotation")
	}
	old.Close()
	// The operator switches the key file; the service serves with it.
	if err := os.Rename(newKey, path+".key"); err != nil {
		t.Fatal(err)
	}
	startServer(t, path)
	readVictims(t, path, path+".key", coord, ids)
	cli(t, "", "audit", "verify", "--db", path)
}

// TestOps_BadFlags: bad input exits 2 with one line naming the flag, and writes nothing.
func TestOps_BadFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "courtside.db")
	cli(t, "", "init", "--db", path)
	cli(t, "", "user", "add", "--db", path, "--username", "admin", "--role", "admin")
	badKey := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(badKey, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.db")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--db", path}, "--out"},
		{[]string{"backup", "--db", missing, "--out", filepath.Join(dir, "b1.db")}, "--db"},
		{[]string{"backup", "--db", path, "--out", filepath.Join(dir, "no-such-dir", "b.db")}, "--out"},
		{[]string{"backup", "--db", path, "--out", path}, "--out"},
		{[]string{"backup", "--db", path, "--out", filepath.Join(dir, "b2.db"), "--bogus"}, "bogus"},
		{[]string{"audit", "verify", "--db", missing}, "--db"},
		{[]string{"audit", "verify", "--db", path, "extra"}, "extra"},
		{[]string{"keys", "rotate", "--db", path}, "--new-key-file"},
		{[]string{"keys", "rotate", "--db", path, "--new-key-file", badKey}, "--new-key-file"},
		{[]string{"keys", "rotate", "--db", path, "--new-key-file", path + ".key"}, "--new-key-file"},
		{[]string{"keys", "rotate", "--db", path, "--new-key-file", filepath.Join(dir, "n.key"), "--batch", "0"}, "--batch"},
		{[]string{"keys", "rotate", "--db", missing, "--new-key-file", filepath.Join(dir, "n.key")}, "--db"},
		{[]string{"keys", "rotate", "--db", path, "--key-file", filepath.Join(dir, "none.key"), "--new-key-file", filepath.Join(dir, "n.key")}, "--key-file"},
	} {
		out, code, stderr := cliResult(t, "", tt.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != 2 || out != "" || !strings.Contains(last, tt.want) || !strings.HasPrefix(last, "courtside: ") {
			t.Errorf("%v: exit %d, stdout %q, last stderr line %q; want exit 2 naming %s", tt.args, code, out, last, tt.want)
		}
		if !strings.Contains(strings.Join(tt.args, " "), "bogus") && len(lines) != 1 {
			t.Errorf("%v: %d lines on stderr, want one: %q", tt.args, len(lines), stderr)
		}
	}
	// Nothing was written: no backup, no database, no key file.
	for _, p := range []string{missing, missing + ".key", filepath.Join(dir, "b1.db"), filepath.Join(dir, "b2.db"), filepath.Join(dir, "n.key"), filepath.Join(dir, "none.key")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written by a refused command", p)
		}
	}
	cli(t, "", "audit", "verify", "--db", path)
}
