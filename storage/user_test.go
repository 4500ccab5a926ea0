package storage_test

import (
	"context"
	"courtside/storage"
	"strings"
	"testing"

	"courtside"
)

// TestCreateUser_OrganisationKindAndNames: a new organisation takes the kind of its first
// member's role and is announced as created; later members must fit that kind (a coordinator
// is refused in a prosecutor's office, naming --org's field and the kind); a name that is a
// near-duplicate of an existing organisation's is refused, naming the existing one, and
// nothing is written.
func TestCreateUser_OrganisationKindAndNames(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	mk := func(name string, role courtside.Role, org string) (*courtside.User, error) {
		return storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: name, Role: role}, OrganizationName: org})
	}
	pros, err := mk("pros", courtside.RoleProsecutor, "County DA")
	if err != nil || pros.Organization.Kind != courtside.KindProsecution || !pros.Organization.Created {
		t.Fatalf("first member: %v %+v", err, pros.Organization)
	}
	pros2, err := mk("pros2", courtside.RoleProsecutor, "County DA")
	if err != nil || pros2.OrganizationID != pros.OrganizationID || pros2.Organization.Created {
		t.Fatalf("second member: %v %+v", err, pros2.Organization)
	}
	coord, err := mk("coord", courtside.RoleCoordinator, "Harbor Advocacy")
	if err != nil || coord.Organization.Kind != courtside.KindAdvocacy {
		t.Fatalf("advocacy: %v %+v", err, coord.Organization)
	}
	interp, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "interp", Role: courtside.RoleInterpreter,
		Languages: []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}}, OrganizationName: "Language Bridge Agency"})
	if err != nil || interp.Organization.Kind != courtside.KindInterpreting {
		t.Fatalf("agency: %v %+v", err, interp.Organization)
	}
	if got, err := storage.NewUserService(db).FindUserByUsername(ctx, "coord"); err != nil || got.Organization.Kind != courtside.KindAdvocacy {
		t.Fatalf("kind read back: %v %+v", err, got)
	}

	counts := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"users", "organizations", "audit_log"} {
			var n int
			db.Writer.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
			out[table] = n
		}
		return out
	}
	before := counts()
	for _, tt := range []struct {
		name, username string
		role           courtside.Role
		org            string
		mention        []string
	}{
		{"a coordinator in a prosecutor's office", "c2", courtside.RoleCoordinator, "County DA", []string{"County DA", "PROSECUTION", "ADVOCACY"}},
		{"an advocate in a prosecutor's office", "a2", courtside.RoleAdvocate, "County DA", []string{"PROSECUTION"}},
		{"a prosecutor in an advocacy organisation", "p3", courtside.RoleProsecutor, "Harbor Advocacy", []string{"ADVOCACY"}},
		{"an interpreter in an advocacy organisation", "i2", courtside.RoleInterpreter, "Harbor Advocacy", []string{"ADVOCACY"}},
		{"an administrator in any", "admin2", courtside.RoleAdmin, "Harbor Advocacy", []string{"administrator"}},
		{"letter case", "p4", courtside.RoleProsecutor, "county da", []string{`"County DA"`}},
		{"punctuation", "p5", courtside.RoleProsecutor, "County D.A.", []string{`"County DA"`}},
		{"spacing", "p6", courtside.RoleProsecutor, "County  DA ", []string{`"County DA"`}},
		{"a typo", "p7", courtside.RoleProsecutor, "Couny DA", []string{`"County DA"`}},
		{"a typo of another kind's name", "c3", courtside.RoleCoordinator, "Harbour Advocacy", []string{`"Harbor Advocacy"`}},
		{"a control character", "c4", courtside.RoleCoordinator, "Harbor\x00Advocacy", []string{"control"}},
	} {
		_, err := mk(tt.username, tt.role, tt.org)
		if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "org" {
			t.Errorf("%s: %v, want INVALID org", tt.name, err)
			continue
		}
		for _, m := range tt.mention {
			if !strings.Contains(courtside.ErrorMessage(err), m) {
				t.Errorf("%s: %q does not mention %s", tt.name, courtside.ErrorMessage(err), m)
			}
		}
	}
	if after := counts(); after["users"] != before["users"] || after["organizations"] != before["organizations"] || after["audit_log"] != before["audit_log"] {
		t.Fatalf("refused users wrote: %v -> %v", before, after)
	}
	// Clearly different names are new organisations.
	for _, org := range []string{"Other County DA", "District 2 DA", "County DA West"} {
		u, err := mk("p-"+strings.ReplaceAll(org, " ", ""), courtside.RoleProsecutor, org)
		if err != nil || !u.Organization.Created {
			t.Errorf("%s: %v", org, err)
		}
	}
	// Contact addresses are checked as the user is created.
	for _, tt := range []struct{ email, phone, field string }{{"snark@@whistle", "", "email"}, {"", "Snarkwhistle-555-PHONE", "phone"}} {
		_, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "x", Role: courtside.RoleInterpreter, Email: tt.email, Phone: tt.phone}})
		if courtside.ErrorField(err) != tt.field {
			t.Errorf("%+v: %v", tt, err)
		}
	}
	u, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "interp2", Role: courtside.RoleInterpreter, Phone: "+1 (202) 555-0150"}})
	if err != nil || u.Phone != "+12025550150" {
		t.Fatalf("phone stored as %q: %v", u.Phone, err)
	}
}

// TestVictim_ContactAddressesValidated: a victim's SMS number must be a valid E.164 number
// and an e-mail address a plain RFC 5322 address; refused registrations write nothing, and an
// accepted number is stored in E.164 form.
func TestVictim_ContactAddressesValidated(t *testing.T) {
	f := newFixture(t)
	before := f.counts(t)
	for _, c := range []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "Snarkwhistle-555-PHONE"},
		{Channel: courtside.ChannelEmail, Address: "snark@@whistle"}, {Channel: courtside.ChannelSMS, Address: "+15555550123"}} {
		v := &courtside.Victim{Pseudonym: "V", PreferredLanguage: "es", Contacts: []courtside.ContactPoint{c}}
		if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); courtside.ErrorField(err) != "contacts" {
			t.Errorf("%s %q: %v", c.Channel, c.Address, err)
		}
	}
	sameCounts(t, "refused contacts", before, f.counts(t))
	v := &courtside.Victim{Pseudonym: "V", PreferredLanguage: "es", Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+1 202-555-0143"}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	opened, err := storage.NewVictimService(f.db).OpenVictimPII(f.as(f.coordinator), v.ID)
	if err != nil || len(opened) != 1 || opened[0].Contacts[0].Address != "+12025550143" {
		t.Fatalf("stored: %v %+v", err, opened)
	}
}
