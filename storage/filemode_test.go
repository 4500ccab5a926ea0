package storage_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// TestDB_FileMode0600 shows that the database file and its -wal and -shm files are created
// with mode 0600 whatever the umask, and that Open narrows the mode of existing files.
func TestDB_FileMode0600(t *testing.T) {
	sqliteOnly(t)
	old := syscall.Umask(0) // the widest umask: files would be 0644 or 0666 if left to it
	t.Cleanup(func() { syscall.Umask(old) })

	f := newFixture(t)
	v := &courtside.Victim{Pseudonym: "V-1", LegalName: "Some Name", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550100"}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, p := range []string{f.db.Path, f.db.Path + "-wal", f.db.Path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
	check("created")

	// A database file left with a wide mode (an older version, a copy) is narrowed on Open.
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.db.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	db := storage.NewDB(f.db.Path)
	db.Publish = events.PublishTx
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("reopened")
}
