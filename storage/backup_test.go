package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// TestBackup_RestoreDrill takes a backup while a writer keeps posting hearings, opens the copy
// as a database and checks that it is whole and consistent: integrity_check ok, every posted
// hearing with its history, audit row and event (one transaction each), the audit chain
// intact, the victims' PII readable with the key, the file private.
func TestBackup_RestoreDrill(t *testing.T) {
	sqliteOnly(t)
	f := newFixture(t)
	ctx := context.Background()
	for i := range 5 {
		v := &courtside.Victim{Pseudonym: fmt.Sprintf("V-%d", i), LegalName: fmt.Sprintf("Legal Name %d", i), PreferredLanguage: "es",
			Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: fmt.Sprintf("+1202555%04d", i)}}}
		if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
			t.Fatal(err)
		}
	}
	f.postHearing(t, "BASE-1")
	base := f.counts(t)

	// The writer: one hearing per transaction until told to stop.
	var posted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error // read after wg.Wait
	var failed atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			h := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindSentencing, StartsAt: start.Add(time.Duration(i) * time.Hour),
				EndsAt: start.Add(time.Duration(i)*time.Hour + 30*time.Minute), Courtroom: "4B", ExternalID: fmt.Sprintf("W-%d", i)}
			if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err != nil {
				writeErr = err
				failed.Store(true)
				return
			}
			posted.Add(1)
		}
	}()
	for posted.Load() < 20 && !failed.Load() {
		time.Sleep(time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := f.db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	atBackup := posted.Load()
	for posted.Load() < atBackup+20 && !failed.Load() { // the writer went on during and after the backup
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	after := f.counts(t)

	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	if err := f.db.Backup(ctx, out); !errors.Is(err, storage.ErrBackupExists) {
		t.Errorf("second backup to the same file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("backup directory holds %d files, want only the backup", len(entries))
	}

	// Restore: open the copy as a database.
	restored := storage.NewDB(out)
	restored.Publish = events.PublishTx
	if restored.Sealer, err = storage.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	if err := restored.Open(); err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	var check string
	if err := restored.Reader.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	r := &fixture{db: restored}
	got := r.counts(t)
	n := got["hearings"] - base["hearings"]
	if n <= 0 || got["hearings"] > after["hearings"] {
		t.Fatalf("backup holds %d hearings; %d before the writer, %d after", got["hearings"], base["hearings"], after["hearings"])
	}
	// Each post is one transaction: a hearing, its history row, its audit row and its event.
	for _, table := range []string{"hearing_changes", "audit_log", "events"} {
		if got[table]-base[table] != n {
			t.Errorf("backup: %d new hearings but %d new %s rows: not one commit's state", n, got[table]-base[table], table)
		}
	}
	for _, table := range []string{"victims", "victim_contacts", "users", "cases", "courts"} {
		if got[table] != base[table] {
			t.Errorf("backup: %s has %d rows, want %d", table, got[table], base[table])
		}
	}
	var orphans int
	if err := restored.Reader.QueryRow(`SELECT COUNT(*) FROM hearings h WHERE NOT EXISTS (SELECT 1 FROM hearing_changes c WHERE c.hearing_id = h.id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d hearings without their history, %v", orphans, err)
	}
	if rows, err := storage.NewAuditService(restored).VerifyAudit(ctx); err != nil || rows != got["audit_log"] {
		t.Errorf("restored audit chain: %d rows, %v", rows, err)
	}
	vs, err := storage.NewVictimService(restored).OpenVictimPII(r.as(f.coordinator), 1, 2, 3, 4, 5)
	if err != nil || len(vs) != 5 || vs[2].LegalName != "Legal Name 2" || vs[2].Contacts[0].Address != "+12025550002" {
		t.Fatalf("restored victims: %d, %v", len(vs), err)
	}
}

func TestBackup_RefusesExistingTarget(t *testing.T) {
	sqliteOnly(t)
	db := MustOpenDB(t)
	out := filepath.Join(t.TempDir(), "exists.db")
	if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(context.Background(), out); !errors.Is(err, storage.ErrBackupExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatalf("existing file changed to %q", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Fatalf("left %d files behind", len(entries))
	}
}
