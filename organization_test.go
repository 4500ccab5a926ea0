package courtside_test

import (
	"strings"
	"testing"

	"courtside"
)

func TestSimilarOrganizationNames(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"County DA", "County DA", true},
		{"County DA", "county da", true},
		{"County DA", "County D.A.", true},
		{"County DA", "  County   DA ", true},
		{"County DA", "Couny DA", true},   // one letter dropped
		{"County DA", "Cuonty DA", false}, // two edits in a short name
		{"Harbor Advocacy", "Harbour Advocacy", true},
		{"Harbor Advocacy", "Harbor Advokacy Centre", false},
		{"Harbor Advocacy & Legal", "Harbor Advocacy and Legal", true},
		{"Défense des Victimes", "Defense des victimes", true},
		{"District 1 DA", "District 2 DA", false}, // digits tell offices apart
		{"DA", "DB", false},                       // too short to call a typo
		{"County DA", "Other County DA", false},
		{"Safe Harbor", "Safe Harbor Advocates", false},
		{"Advocacy Org", "Other Advocacy Org", false},
	} {
		if got := courtside.SimilarOrganizationNames(tt.a, tt.b); got != tt.want {
			t.Errorf("SimilarOrganizationNames(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := courtside.SimilarOrganizationNames(tt.b, tt.a); got != tt.want {
			t.Errorf("SimilarOrganizationNames(%q, %q) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestCheckMembership(t *testing.T) {
	da := &courtside.Organization{Name: "County DA", Kind: courtside.KindProsecution}
	harbor := &courtside.Organization{Name: "Harbor Advocacy", Kind: courtside.KindAdvocacy}
	agency := &courtside.Organization{Name: "Language Line", Kind: courtside.KindInterpreting}
	fresh := &courtside.Organization{Name: "New"}
	for _, tt := range []struct {
		role courtside.Role
		org  *courtside.Organization
		ok   bool
	}{
		{courtside.RoleProsecutor, da, true},
		{courtside.RoleCoordinator, da, false},
		{courtside.RoleAdvocate, da, false},
		{courtside.RoleInterpreter, da, false},
		{courtside.RoleCoordinator, harbor, true},
		{courtside.RoleAdvocate, harbor, true},
		{courtside.RoleProsecutor, harbor, false},
		{courtside.RoleInterpreter, agency, true},
		{courtside.RoleCoordinator, agency, false},
		{courtside.RoleCoordinator, fresh, true},
		{courtside.RoleAdmin, fresh, false}, // an administrator belongs to no organisation
		{courtside.RoleAdmin, nil, false},
	} {
		err := courtside.CheckMembership(tt.role, tt.org)
		if (err == nil) != tt.ok || (err != nil && (courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "org")) {
			t.Errorf("CheckMembership(%s, %+v) = %v, want ok=%v", tt.role, tt.org, err, tt.ok)
		}
	}
	err := courtside.CheckMembership(courtside.RoleCoordinator, da)
	if msg := courtside.ErrorMessage(err); !strings.Contains(msg, "County DA") || !strings.Contains(msg, "prosecutor's office (PROSECUTION)") ||
		!strings.Contains(msg, "advocacy organisation (ADVOCACY)") {
		t.Errorf("message %q names neither the organisation nor the kinds", msg)
	}
	if courtside.KindForRole(courtside.RoleAdvocate) != courtside.KindAdvocacy || courtside.KindForRole(courtside.RoleAdmin) != "" {
		t.Error("KindForRole")
	}
	for _, bad := range []string{"", "  ", strings.Repeat("x", 201), "County\nDA"} {
		if courtside.ErrorField(courtside.ValidateOrganizationName(bad)) != "org" {
			t.Errorf("name %q accepted", bad)
		}
	}
}
