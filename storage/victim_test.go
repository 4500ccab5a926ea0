package storage_test

import (
	"bytes"
	"courtside/storage"
	"os"
	"testing"

	"courtside"
)

func TestVictim_PIISealedAtRest(t *testing.T) {
	f := newFixture(t)
	const name, phone = "Legalname Sentinel-7731", "+12025550199"
	v := &courtside.Victim{Pseudonym: "V-77", LegalName: name, PreferredLanguage: "es-MX",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: phone}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Close(); err != nil { // checkpoints nothing away: read the file and the WAL as they are
		t.Fatal(err)
	}
	for _, path := range []string{f.db.Path, f.db.Path + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, secret := range []string{name, phone, "Sentinel-7731", "5550199"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", path, secret)
			}
		}
	}
}

func TestVictim_Redaction(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-1", LegalName: "Legal Name One", PreferredLanguage: "es",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelEmail, Address: "one@example.org"}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	// The victim releases to the office what case coordination needs (the pseudonym).
	f.release(t, v, f.coordinator, f.prosecutor)
	for _, tt := range []struct {
		u         *courtside.User
		wantFound bool
		wantPII   bool
	}{
		{f.coordinator, true, true},
		{f.advocate, true, true},
		{f.prosecutor, true, false},
		{f.otherAdvocate, false, false},
		{f.otherCoordin, false, false},
		{f.otherProsecutor, false, false},
		{f.interpreter, false, false},
		{f.admin, false, false},
	} {
		auditBefore := f.count(t, "audit_log")
		got, err := storage.NewVictimService(f.db).FindVictimByID(f.as(tt.u), v.ID)
		if !tt.wantFound {
			if courtside.ErrorCode(err) != courtside.ENOTFOUND {
				t.Errorf("%s: %v, want not found", tt.u.Username, err)
			}
			if opened, err := storage.NewVictimService(f.db).OpenVictimPII(f.as(tt.u), v.ID); err != nil || len(opened) != 0 {
				t.Errorf("%s: OpenVictimPII gave %d victims, %v", tt.u.Username, len(opened), err)
			}
			continue
		}
		// Finding a victim opens nothing and so audits nothing.
		if err != nil || got.Pseudonym != "V-1" || got.LegalName != "" || got.Contacts != nil || got.Policy != nil || got.PIIVisible != tt.wantPII {
			t.Fatalf("%s: %v %+v", tt.u.Username, err, got)
		}
		if n := f.count(t, "audit_log") - auditBefore; n != 0 {
			t.Errorf("%s: finding a victim wrote %d audit rows", tt.u.Username, n)
		}
		opened, err := storage.NewVictimService(f.db).OpenVictimPII(f.as(tt.u), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		hasPII := len(opened) == 1 && opened[0].LegalName == "Legal Name One" && len(opened[0].Contacts) == 1 &&
			opened[0].Contacts[0].Address == "one@example.org" && opened[0].Policy != nil
		if hasPII != tt.wantPII || (!tt.wantPII && len(opened) != 0) {
			t.Errorf("%s: opened PII %v (%+v), want %v", tt.u.Username, hasPII, opened, tt.wantPII)
		}
		if audited := f.count(t, "audit_log") - auditBefore; (audited == 1) != tt.wantPII || audited > 1 {
			t.Errorf("%s: %d audit rows for opening PII, want one exactly when PII was opened", tt.u.Username, audited)
		}
	}
	var action, object string
	f.db.Writer.QueryRow(`SELECT action, object FROM audit_log WHERE action = 'victim.read_pii' ORDER BY id DESC LIMIT 1`).Scan(&action, &object)
	if object != "victim:1" {
		t.Fatalf("audit object %q", object)
	}
}

func TestVictim_Validation(t *testing.T) {
	f := newFixture(t)
	before := f.counts(t)
	for _, tt := range []struct {
		v     courtside.Victim
		u     *courtside.User
		code  string
		field string
	}{
		{courtside.Victim{Pseudonym: "", PreferredLanguage: "es"}, f.coordinator, courtside.EINVALID, "pseudonym"},
		{courtside.Victim{Pseudonym: "V", PreferredLanguage: "not a tag!"}, f.coordinator, courtside.EINVALID, "preferredLanguage"},
		{courtside.Victim{Pseudonym: "V", PreferredLanguage: "es", Contacts: []courtside.ContactPoint{{Channel: "FAX", Address: "1"}}}, f.coordinator, courtside.EINVALID, "contacts"},
		{courtside.Victim{Pseudonym: "V", PreferredLanguage: "es"}, f.prosecutor, courtside.EFORBIDDEN, ""},
		{courtside.Victim{Pseudonym: "V", PreferredLanguage: "es"}, f.advocate, courtside.EFORBIDDEN, ""},
	} {
		v := tt.v
		err := storage.NewVictimService(f.db).RegisterVictim(f.as(tt.u), &v)
		if courtside.ErrorCode(err) != tt.code || courtside.ErrorField(err) != tt.field {
			t.Errorf("%+v as %s: %v, want %s %s", tt.v, tt.u.Username, err, tt.code, tt.field)
		}
	}
	sameCounts(t, "refused write", before, f.counts(t))
}

func TestAccompaniment_Assign(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-1", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); courtside.ErrorField(err) != "victimId" {
		t.Fatalf("unlinked victim: %v", err)
	}
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.coordinator.ID); courtside.ErrorField(err) != "advocateId" {
		t.Fatalf("coordinator as advocate: %v", err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.otherCoordin), h.ID, v.ID, f.advocate.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("other organisation: %v", err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.advocate), h.ID, v.ID, f.advocate.ID); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("advocate assigns: %v", err)
	}
	a, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID)
	if err != nil || a.Status != courtside.AccompanimentAssigned {
		t.Fatalf("assign: %v %+v", err, a)
	}
	again, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID)
	if err != nil || again.ID != a.ID {
		t.Fatalf("assign again: %v %+v", err, again)
	}
	mine, err := storage.NewAccompanimentService(f.db).FindAccompaniments(f.as(f.advocate), courtside.AccompanimentFilter{HearingIDs: []int64{h.ID}})
	if err != nil || len(mine) != 1 {
		t.Fatalf("advocate's accompaniments: %v %d", err, len(mine))
	}
	if theirs, _ := storage.NewAccompanimentService(f.db).FindAccompaniments(f.as(f.otherAdvocate), courtside.AccompanimentFilter{}); len(theirs) != 0 {
		t.Fatalf("another advocate sees %d accompaniments", len(theirs))
	}
}
