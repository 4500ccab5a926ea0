package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// demoDefaults applies what --demo changes in serve's configuration, for what the command
// line and environment leave open: without --db (or COURTSIDE_DB) the demo's database and
// key go to a new temporary directory, never the working directory (a clone of the
// repository), and the returned function removes it when the demo stops; introspection is on
// unless --introspection=false. It prints where the database is.
func demoDefaults(cfg *Config, fs *flag.FlagSet, out io.Writer) (func(), error) {
	if !cfg.Demo {
		return func() {}, nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["introspection"] && os.Getenv("COURTSIDE_INTROSPECTION") == "" {
		cfg.Introspection = true
	}
	if set["db"] || os.Getenv("COURTSIDE_DB") != "" {
		fmt.Fprintf(out, "Demo database: %s (key %s); it stays when the demo stops.\n", cfg.DB, keyPath(*cfg))
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "courtside-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.DB = filepath.Join(dir, "demo.db")
	fmt.Fprintf(out, "Demo database: %s (key beside it), removed when the demo stops; give --db FILE to keep one.\n", cfg.DB)
	return func() { os.RemoveAll(dir) }, nil
}

// demoEmail is the e-mail address of a demo login: on example.org, a domain that never
// receives mail, and in demo mode messages go to the outbox anyway.
func demoEmail(username string) string { return username + "@example.org" }

// useOutbox routes every channel of the delivery worker to the demo's outbox, and says where
// to read it.
func (m *Main) useOutbox(out io.Writer) {
	m.outbox = &outbox{now: m.DB.Now}
	m.notify.worker.Senders = m.outbox.senders()
	fmt.Fprintf(out, "Demo outbox: %s/demo/outbox shows every message sent; none leaves this process.\n", m.Config.BaseURL)
}

// seedDemo fills an empty database with a small, realistic data set and prints the logins.
// On a database that already has the demo users it only prints how to log in.
func seedDemo(ctx context.Context, db *storage.DB, baseURL string, out io.Writer) error {
	users := map[string]*courtside.User{}
	if _, err := storage.NewUserService(db).FindUserByUsername(ctx, "admin"); err == nil {
		// Demo data from an earlier run: new tokens for the same logins.
		for _, du := range demoUsers {
			if users[du.username], err = storage.NewUserService(db).FindUserByUsername(ctx, du.username); err != nil {
				return fmt.Errorf("the database holds other data than the demo's (user %s: %w); give --db a new file", du.username, err)
			}
		}
		fmt.Fprintf(out, "\nDemo data already present; new tokens for its logins.\n")
		return printDemoLogins(ctx, db, users, baseURL, out)
	}
	for _, du := range demoUsers {
		nu := courtside.NewUser{User: courtside.User{Username: du.username, Role: du.role, Email: demoEmail(du.username)},
			OrganizationName: du.org, Password: demoPassword}
		if du.langs != "" {
			langs, err := courtside.ParseInterpreterLanguages(du.langs)
			if err != nil {
				return err
			}
			nu.User.Languages = langs
		}
		u, err := storage.NewUserService(db).CreateUser(ctx, nu)
		if err != nil {
			return fmt.Errorf("user %s: %w", du.username, err)
		}
		users[du.username] = u
	}
	as := func(name string) context.Context { return courtside.NewContextWithUser(ctx, users[name]) }

	courts := []*courtside.Court{
		{Name: "Superior Court (demo)", TimeZone: "America/New_York", Address: "100 Center Street"},
		{Name: "Federal District Court (demo)", TimeZone: "America/Chicago", Address: "219 Dearborn Street"},
	}
	for _, c := range courts {
		if err := storage.NewCourtService(db).CreateCourt(as("admin"), c); err != nil {
			return err
		}
	}
	cases := []*courtside.Case{
		{Docket: "26-CR-01042", CourtID: courts[0].ID},
		{Docket: "1:26-cr-00317", CourtID: courts[1].ID},
	}
	for _, c := range cases {
		if err := storage.NewCaseService(db).OpenCase(as("prosecutor"), c); err != nil {
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
	// Each victim's contact policy, as a coordinator sets it with the victim: V-1042-A by SMS
	// under a neutral sender name, the hearing's day and time but no court (MINIMAL); V-0317-B
	// by e-mail with every detail (FULL). The addresses are confirmed safe.
	policies := []courtside.ContactPolicy{
		{Channels: []courtside.ChannelRule{{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal}},
			NeutralSender: "Harbor Health", TimeZone: "America/New_York"},
		{Channels: []courtside.ChannelRule{{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailFull}},
			TimeZone: "America/Chicago"},
	}
	for i, v := range victims {
		if _, err := storage.NewCaseService(db).ShareCase(as("prosecutor"), cases[i].ID, advocacy); err != nil {
			return err
		}
		if err := storage.NewVictimService(db).RegisterVictim(as("coordinator"), v); err != nil {
			return err
		}
		if _, err := storage.NewVictimService(db).SetContactPolicy(as("coordinator"), v.ID, policies[i], []courtside.Channel{v.Contacts[0].Channel}); err != nil {
			return err
		}
		if err := storage.NewCaseService(db).LinkVictim(as("coordinator"), cases[i].ID, v.ID, true); err != nil {
			return err
		}
		release := &courtside.Release{VictimID: v.ID, Purpose: courtside.PurposeCaseCoordination,
			Reference: "Release form (demo) in the victim's file", ExpiresAt: time.Now().UTC().AddDate(0, 6, 0)}
		if err := storage.NewVictimService(db).RecordRelease(as("coordinator"), release, office); err != nil {
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
			if _, err := storage.NewHearingService(db).PostHearing(as("prosecutor"), h); err != nil {
				return err
			}
			advocate := "advocate"
			if ci == 1 {
				advocate = "advocate2"
			}
			if _, err := storage.NewAccompanimentService(db).AssignAdvocate(as("coordinator"), h.ID, victims[ci].ID, users[advocate].ID); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(out, "\nDemo data seeded.\n")
	return printDemoLogins(ctx, db, users, baseURL, out)
}

// printDemoLogins issues an API token and an app password for every demo login and prints
// them, one login a line.
func printDemoLogins(ctx context.Context, db *storage.DB, users map[string]*courtside.User, baseURL string, out io.Writer) error {
	fmt.Fprintf(out, "Every demo login uses the password %q.\n\n", demoPassword)
	fmt.Fprintf(out, "%-16s %-12s %-48s %s\n", "username", "role", "API token (GraphQL bearer)", "app password (CalDAV)")
	for _, du := range demoUsers {
		u := users[du.username]
		_, api, err := storage.NewTokenService(db).CreateToken(ctx, u.ID, courtside.TokenAPI, "demo")
		if err != nil {
			return err
		}
		_, app, err := storage.NewTokenService(db).CreateToken(ctx, u.ID, courtside.TokenApp, "demo")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-16s %-12s %-48s %s\n", u.Username, u.Role, api, app)
	}
	fmt.Fprintf(out, "\nGraphQL: %s/graphql   CalDAV: %s/.well-known/caldav (username + app password)\n\n", baseURL, baseURL)
	return nil
}
