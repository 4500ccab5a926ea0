package storage_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// TestVictim_FindByContactBlindIndex shows that contacts are found through the HMAC blind
// index (normalised: e-mail case, phone punctuation), that neither the address nor its
// normalised form is in the raw database or WAL file, that only the organisation's coordinators
// may look up, and that key rotation recomputes the index.
func TestVictim_FindByContactBlindIndex(t *testing.T) {
	f := newFixture(t)
	const email, phone = "Blind.Sentinel@Example.ORG", "+1 (202) 555-0177"
	v := &courtside.Victim{Pseudonym: "V-BI", LegalName: "Indexname Sentinel", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelEmail, Address: email}, {Channel: courtside.ChannelSMS, Address: phone}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	other := &courtside.Victim{Pseudonym: "V-OTHER", LegalName: "Other Person", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelEmail, Address: "someone.else@example.org"}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), other); err != nil {
		t.Fatal(err)
	}

	find := func(u *courtside.User, ch courtside.Channel, address string) ([]*courtside.Victim, error) {
		t.Helper()
		return storage.NewVictimService(f.db).FindVictimsByContact(f.as(u), ch, address)
	}
	wantFound := func(ch courtside.Channel, address string) {
		t.Helper()
		vs, err := find(f.coordinator, ch, address)
		if err != nil {
			t.Fatalf("find %s %q: %v", ch, address, err)
		}
		if len(vs) != 1 || vs[0].ID != v.ID {
			t.Fatalf("find %s %q = %d victims, want victim %d", ch, address, len(vs), v.ID)
		}
		if vs[0].LegalName != "" || len(vs[0].Contacts) != 0 {
			t.Fatal("lookup by contact returned PII")
		}
	}
	wantFound(courtside.ChannelEmail, "blind.sentinel@example.org")
	wantFound(courtside.ChannelEmail, "  BLIND.SENTINEL@EXAMPLE.ORG ")
	wantFound(courtside.ChannelSMS, "+12025550177")
	wantFound(courtside.ChannelSMS, "1-202-555-0177")

	// Another channel, another address: nothing.
	for _, q := range []struct {
		ch   courtside.Channel
		addr string
	}{{courtside.ChannelSMS, email}, {courtside.ChannelEmail, "blind.sentinel@example.com"}, {courtside.ChannelSMS, "+12025550178"}} {
		if vs, err := find(f.coordinator, q.ch, q.addr); err != nil || len(vs) != 0 {
			t.Errorf("find %s %q = %d victims, %v; want none", q.ch, q.addr, len(vs), err)
		}
	}
	// Another organisation's coordinator finds nothing; other roles may not look up at all.
	if vs, err := find(f.otherCoordin, courtside.ChannelEmail, email); err != nil || len(vs) != 0 {
		t.Errorf("other organisation's coordinator found %d victims, %v", len(vs), err)
	}
	for _, u := range []*courtside.User{f.advocate, f.prosecutor, f.interpreter, f.admin} {
		if _, err := find(u, courtside.ChannelEmail, email); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			t.Errorf("%s: err = %v, want FORBIDDEN", u.Role, err)
		}
	}
	// The lookups are audited by victim, never by address.
	entries, err := storage.NewAuditService(f.db).FindAuditEntries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	for _, e := range entries {
		if e.Action == "victim.find_by_contact" {
			lookups++
			if bytes.Contains([]byte(e.Object), []byte("@")) || bytes.Contains([]byte(e.Object), []byte("555")) {
				t.Errorf("audit row names the address: %+v", e)
			}
		}
	}
	if lookups == 0 {
		t.Error("no audit row for lookups by contact")
	}

	// Neither the address nor its normalised form is on disk.
	secrets := []string{email, "blind.sentinel@example.org", "Blind.Sentinel", "blind.sentinel", "5550177", "2025550177"}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if storagetest.Postgres() {
		return // the file's bytes are SQLite's to check
	}
	raw := rawFiles(t, f.db.Path)
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database file holds %q in plaintext", s)
		}
	}
	f.db = reopen(t, f.db.Path, f.db.Sealer)

	// Key rotation recomputes the index: after it, only the new key finds the contact.
	next, err := storage.NewSealer(newKey)
	if err != nil {
		t.Fatal(err)
	}
	oldSealer := f.db.Sealer
	if _, err := f.db.RotateKeys(context.Background(), next, 1, nil); err != nil {
		t.Fatal(err)
	}
	f.db.Sealer = next
	wantFound(courtside.ChannelEmail, "blind.sentinel@example.org")
	wantFound(courtside.ChannelSMS, "+12025550177")
	var stale int
	if err := f.db.Writer.QueryRow(`SELECT COUNT(*) FROM victim_contacts WHERE address_index = ?`,
		oldSealer.BlindIndex(courtside.ChannelEmail, email)).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d contacts still indexed under the old key, %v", stale, err)
	}
}

// reopen opens the database file at path again, with the given Sealer, as MustOpenDB does.
func reopen(t *testing.T, path string, s *storage.Sealer) *storage.DB {
	t.Helper()
	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	db.Sealer = s
	db.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
