package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// newKey is the key the rotation tests rotate to.
var newKey = bytes.Repeat([]byte{0x42}, 32)

// registerVictims registers n victims with a legal name and two contact points each.
func registerVictims(t *testing.T, f *fixture, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		v := &courtside.Victim{Pseudonym: fmt.Sprintf("V-%d", i), LegalName: fmt.Sprintf("Sentinelname %03d", i), PreferredLanguage: "es",
			Contacts: []courtside.ContactPoint{
				{Channel: courtside.ChannelSMS, Address: fmt.Sprintf("+1202555%04d", i)},
				{Channel: courtside.ChannelEmail, Address: fmt.Sprintf("sentinel%03d@example.org", i)},
			}}
		if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// checkVictims opens every victim's PII with the database's current Sealer.
func checkVictims(t *testing.T, f *fixture, ids []int64) error {
	t.Helper()
	vs, err := storage.NewVictimService(f.db).OpenVictimPII(f.as(f.coordinator), ids...)
	if err != nil {
		return err
	}
	if len(vs) != len(ids) {
		t.Fatalf("opened %d victims, want %d", len(vs), len(ids))
	}
	for i, v := range vs {
		if v.LegalName != fmt.Sprintf("Sentinelname %03d", i) || len(v.Contacts) != 2 ||
			v.Contacts[0].Address != fmt.Sprintf("+1202555%04d", i) || v.Contacts[1].Address != fmt.Sprintf("sentinel%03d@example.org", i) {
			t.Fatalf("victim %d reads %+v", v.ID, *v)
		}
	}
	return nil
}

// rawFiles returns the database file and its WAL as they are on disk.
func rawFiles(t *testing.T, path string) []byte {
	t.Helper()
	var out []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestKeys_Rotate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := registerVictims(t, f, 12)
	oldID := storage.KeyID(testKey)
	// The file's bytes are SQLite's to check; PostgreSQL keeps old row versions until vacuumed
	// (docs/operations.md).
	onDisk := !storagetest.Postgres()
	if onDisk && !bytes.Contains(rawFiles(t, f.db.Path), oldID[:]) {
		t.Fatal("the old key id is not in the file before rotation: the check below would prove nothing")
	}
	next, err := storage.NewSealer(newKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.db.RotateKeys(ctx, next, 5, nil)
	if err != nil || n != 12*3 {
		t.Fatalf("rotated %d values, %v; want 36", n, err)
	}
	// Only the new key from now on.
	f.db.Sealer = next
	if err := checkVictims(t, f, ids); err != nil {
		t.Fatal(err)
	}
	// A second run finds nothing left.
	if n, err := f.db.RotateKeys(ctx, next, 5, nil); err != nil || n != 0 {
		t.Fatalf("second rotation: %d values, %v", n, err)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if onDisk {
		raw = rawFiles(t, f.db.Path)
	}
	if bytes.Contains(raw, oldID[:]) {
		t.Error("the database file still holds a value sealed under the old key id")
	}
	newID := next.KeyID()
	if onDisk && !bytes.Contains(raw, newID[:]) {
		t.Error("no value under the new key id in the file")
	}
	for _, secret := range []string{"Sentinelname", "sentinel0", "+12025550"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file holds %q in plaintext", secret)
		}
	}
	var zero [8]byte
	if storage.KeyID(newKey) == zero || storage.KeyID(newKey) == oldID {
		t.Fatal("bad key ids")
	}
}

func TestKeys_RotationInterruptedAndResumed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := registerVictims(t, f, 10)
	old := f.db.Sealer
	next, err := storage.NewSealer(newKey)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stopped")
	n, err := f.db.RotateKeys(ctx, next, 4, func(int) error { return stop })
	if !errors.Is(err, stop) || n != 4 {
		t.Fatalf("interrupted rotation: %d values, %v; want 4, stopped", n, err)
	}
	// Half done: the old key alone fails on the rotated victims, the new alone on the rest,
	// both together read everything.
	f.db.Sealer = old
	if err := checkVictims(t, f, ids); err == nil {
		t.Error("the old key alone opened rotated values")
	}
	f.db.Sealer = next
	if err := checkVictims(t, f, ids); err == nil {
		t.Error("the new key alone opened every value before the rotation finished")
	}
	f.db.Sealer = next.WithOlder(old)
	if err := checkVictims(t, f, ids); err != nil {
		t.Fatalf("combined sealer: %v", err)
	}
	// The second run (from the old key, as the operator reruns the command) does the rest.
	f.db.Sealer = old
	n, err = f.db.RotateKeys(ctx, next, 4, nil)
	if err != nil || n != 10*3-4 {
		t.Fatalf("resumed rotation: %d values, %v; want %d", n, err, 10*3-4)
	}
	f.db.Sealer = next
	if err := checkVictims(t, f, ids); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAuditService(f.db).VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSealer_WithOlder(t *testing.T) {
	old, _ := storage.NewSealer(testKey)
	next, _ := storage.NewSealer(newKey)
	other, _ := storage.NewSealer(bytes.Repeat([]byte{7}, 32))
	sealedOld, _ := old.Seal("x", "victims", "legal_name", 1)
	both := next.WithOlder(old)
	if got, err := both.Open(sealedOld, "victims", "legal_name", 1); err != nil || got != "x" {
		t.Fatalf("combined open of an old value: %q, %v", got, err)
	}
	sealedNew, _ := both.Seal("y", "victims", "legal_name", 1)
	if id, _ := storage.SealedWith(sealedNew); id != next.KeyID() {
		t.Fatal("the combined sealer does not seal with the new key")
	}
	if _, err := other.Open(sealedNew, "victims", "legal_name", 1); err == nil {
		t.Fatal("another key opened the value")
	}
	if _, err := both.Open(sealedOld, "victims", "legal_name", 2); err == nil {
		t.Fatal("an old value opened in another row")
	}
}
