package courtside_test

import (
	"strings"
	"testing"

	"courtside"
)

func TestValidateEmail(t *testing.T) {
	for _, ok := range []string{"a@example.org", "person-a@example.org", "hidden.person@mail.test", "x+tag@sub.example.co.uk",
		"o'brien@example.org", "ñandú@correo.example"} {
		if err := courtside.ValidateEmail(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "snark@@whistle", "a@@b", "plain", "@example.org", "a@", "a@localhost", "a@b",
		"Name <a@example.org>", "<a@example.org>", "a@example.org (comment)", "a b@example.org", "a@exa mple.org",
		"a@-example.org", "a@example-.org", "a@example..org", "a@.example.org", "a@example.org.", "\"a\"@example.org",
		"a@[127.0.0.1]", "a@example.org\r\nBcc: x@example.org", strings.Repeat("a", 65) + "@example.org",
		"a@" + strings.Repeat("b", 250) + ".org"} {
		err := courtside.ValidateEmail(bad)
		if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "email" {
			t.Errorf("%q accepted: %v", bad, err)
		} else if strings.Contains(bad, "whistle") && strings.Contains(courtside.ErrorMessage(err), "whistle") {
			t.Errorf("message repeats the address: %q", courtside.ErrorMessage(err))
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+12025550143":      "+12025550143",
		"+1 202-555-0143":   "+12025550143",
		"+1 (202) 555-0143": "+12025550143",
		" +44 20 7946 0958": "+442079460958",
		"+4915123456789":    "+4915123456789",
	} {
		if got, err := courtside.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Snarkwhistle-555-PHONE", "2025550143", "+1555", "+15550100", "+15555550123", "+999123456",
		"+1 202 555 0143 ext 2", "+12025550143abc", "++12025550143", "+1-202-555-01434444"} {
		_, err := courtside.NormalizePhone(bad)
		if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "phone" {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

func TestVictim_ValidateContacts(t *testing.T) {
	v := &courtside.Victim{Pseudonym: "V-1", PreferredLanguage: "es", Contacts: []courtside.ContactPoint{
		{Channel: courtside.ChannelSMS, Address: "+1 (202) 555-0143"}, {Channel: courtside.ChannelEmail, Address: " a@example.org "}}}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	if v.Contacts[0].Address != "+12025550143" || v.Contacts[1].Address != "a@example.org" {
		t.Errorf("stored forms %+v", v.Contacts)
	}
	for i, c := range []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "Snarkwhistle-555-PHONE"},
		{Channel: courtside.ChannelEmail, Address: "snark@@whistle"}} {
		bad := &courtside.Victim{Pseudonym: "V-1", PreferredLanguage: "es", Contacts: []courtside.ContactPoint{c}}
		err := bad.Validate()
		if courtside.ErrorField(err) != "contacts" || !strings.HasPrefix(courtside.ErrorMessage(err), "Contact 1: ") ||
			strings.Contains(courtside.ErrorMessage(err), c.Address) {
			t.Errorf("%d: %v", i, err)
		}
	}
}

func TestUser_ValidateContacts(t *testing.T) {
	u := &courtside.User{Username: "interp", Role: courtside.RoleInterpreter, Phone: "+1 202 555 0143", Email: "i@example.org"}
	if err := u.Validate(); err != nil || u.Phone != "+12025550143" {
		t.Fatalf("%v %q", err, u.Phone)
	}
	for _, tt := range []struct{ email, phone, field string }{
		{"snark@@whistle", "", "email"},
		{"", "Snarkwhistle-555-PHONE", "phone"},
	} {
		u := &courtside.User{Username: "x", Role: courtside.RoleCoordinator, Email: tt.email, Phone: tt.phone}
		if err := u.Validate(); courtside.ErrorField(err) != tt.field {
			t.Errorf("%+v: %v, want field %s", tt, err, tt.field)
		}
	}
}
