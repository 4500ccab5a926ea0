package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"courtside"
	"courtside/storage"
)

// demoPassword is the password of every demo login. Demo data is for trying Courtside out,
// never for real cases.
const demoPassword = "courtside-demo-2026"

// demoUser is one demo login.
type demoUser struct {
	username, org string
	role          courtside.Role
	langs         string
}

var demoUsers = []demoUser{
	{"admin", "", courtside.RoleAdmin, ""},
	{"prosecutor", "District Attorney's Office (demo)", courtside.RoleProsecutor, ""},
	{"coordinator", "Harbor Advocacy Center (demo)", courtside.RoleCoordinator, ""},
	{"advocate", "Harbor Advocacy Center (demo)", courtside.RoleAdvocate, ""},
	{"advocate2", "Harbor Advocacy Center (demo)", courtside.RoleAdvocate, ""},
	{"interpreter-es", "", courtside.RoleInterpreter, "es:CERTIFIED,pt:PROFESSIONALLY_QUALIFIED"},
	{"interpreter-zh", "", courtside.RoleInterpreter, "zh-Hans:CERTIFIED"},
	{"interpreter-vi", "", courtside.RoleInterpreter, "vi:LANGUAGE_SKILLED"},
}

// seedDemo fills an empty database with a small, realistic data set and prints the logins.
// On a database that already has the demo users it only prints how to log in.
func seedDemo(ctx context.Context, db *storage.DB, baseURL string, out io.Writer) error {
	if _, err := db.FindUserByUsername(ctx, "admin"); err == nil {
		fmt.Fprintf(out, "Demo data already present. Logins: %s with password %q; issue tokens with `courtside token create`.\n",
			"admin, prosecutor, coordinator, advocate, advocate2, interpreter-es, interpreter-zh, interpreter-vi", demoPassword)
		return nil
	}
	users := map[string]*courtside.User{}
	for _, du := range demoUsers {
		nu := courtside.NewUser{User: courtside.User{Username: du.username, Role: du.role}, OrganizationName: du.org, Password: demoPassword}
		if du.langs != "" {
			langs, err := courtside.ParseInterpreterLanguages(du.langs)
			if err != nil {
				return err
			}
			nu.User.Languages = langs
		}
		u, err := db.CreateUser(ctx, nu)
		if err != nil {
			return fmt.Errorf("user %s: %w", du.username, err)
		}
		users[du.username] = u
	}
	as := func(name string) context.Context { return courtside.NewContextWithUser(ctx, users[name]) }

	courts := []*courtside.Court{
		{Name: "Superior Court, Main Courthouse (demo)", TimeZone: "America/New_York", Address: "100 Center Street"},
		{Name: "Federal District Court, West Division (demo)", TimeZone: "America/Chicago", Address: "219 Dearborn Street"},
	}
	for _, c := range courts {
		if err := db.CreateCourt(as("admin"), c); err != nil {
			return err
		}
	}
	cases := []*courtside.Case{
		{Docket: "26-CR-01042", CourtID: courts[0].ID},
		{Docket: "1:26-cr-00317", CourtID: courts[1].ID},
	}
	for _, c := range cases {
		if err := db.OpenCase(as("prosecutor"), c); err != nil {
			return err
		}
	}
	victims := []*courtside.Victim{
		{Pseudonym: "V-1042-A", LegalName: "Demo Person A", PreferredLanguage: "es",
			Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550143"}}},
		{Pseudonym: "V-0317-B", LegalName: "Demo Person B", PreferredLanguage: "zh-Hans",
			Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelEmail, Address: "person-b@example.org"}}},
	}
	// The office shares both cases with the advocacy organisation, whose coordinator links a
	// victim to each; each victim has signed a release that lets the office see, for these
	// cases, the pseudonym, attendance and accompaniment.
	office, advocacy := users["prosecutor"].Organization.Name, users["coordinator"].Organization.Name
	for i, v := range victims {
		if _, err := db.ShareCase(as("prosecutor"), cases[i].ID, advocacy); err != nil {
			return err
		}
		if err := db.RegisterVictim(as("coordinator"), v); err != nil {
			return err
		}
		if err := db.LinkVictim(as("coordinator"), cases[i].ID, v.ID, true); err != nil {
			return err
		}
		release := &courtside.Release{VictimID: v.ID, Purpose: courtside.PurposeCaseCoordination,
			Reference: "Release form (demo) in the victim's file", ExpiresAt: time.Now().UTC().AddDate(0, 6, 0)}
		if err := db.RecordRelease(as("coordinator"), release, office); err != nil {
			return err
		}
	}
	// Hearings over the next weeks, at 09:30 and 14:00 in each court's zone.
	kinds := []courtside.HearingKind{courtside.KindArraignment, courtside.KindStatus, courtside.KindMotion, courtside.KindPlea, courtside.KindSentencing}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for i, kind := range kinds {
		for ci, c := range cases {
			loc := courts[ci].Location()
			d := day.AddDate(0, 0, 3+i*6+ci)
			for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				d = d.AddDate(0, 0, 1)
			}
			hour, minute := 9, 30
			if i%2 == 1 {
				hour, minute = 14, 0
			}
			start := time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, loc)
			h := &courtside.Hearing{CaseID: c.ID, Kind: kind, StartsAt: start, EndsAt: start.Add(time.Hour),
				Courtroom: fmt.Sprintf("%d%c", 3+ci, 'A'+i), Judge: "Presiding judge (demo)", ExternalID: fmt.Sprintf("%s-%d", c.Docket, i+1)}
			if _, err := db.PostHearing(as("prosecutor"), h); err != nil {
				return err
			}
			advocate := "advocate"
			if ci == 1 {
				advocate = "advocate2"
			}
			if _, err := db.AssignAdvocate(as("coordinator"), h.ID, victims[ci].ID, users[advocate].ID); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(out, "\nDemo data seeded. Every demo login uses the password %q.\n\n", demoPassword)
	fmt.Fprintf(out, "%-16s %-12s %-48s %s\n", "username", "role", "API token (GraphQL bearer)", "app password (CalDAV)")
	for _, du := range demoUsers {
		u := users[du.username]
		_, api, err := db.CreateToken(ctx, u.ID, courtside.TokenAPI, "demo")
		if err != nil {
			return err
		}
		_, app, err := db.CreateToken(ctx, u.ID, courtside.TokenApp, "demo")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-16s %-12s %-48s %s\n", u.Username, u.Role, api, app)
	}
	fmt.Fprintf(out, "\nGraphQL: %s/graphql   CalDAV: %s/.well-known/caldav (username + app password)\n\n", baseURL, baseURL)
	return nil
}
