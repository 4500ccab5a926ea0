package storage_test

import (
	"context"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// testKey is the encryption key of test databases.
var testKey = make([]byte, 32)

// MustOpenDB opens a fresh database file in a temporary directory, with migrations run, the
// event publisher wired and a fixed clock.
func MustOpenDB(tb testing.TB) *storage.DB {
	tb.Helper()
	db := storage.NewDB(storagetest.Path(tb))
	db.Publish = events.PublishTx
	var err error
	if db.Sealer, err = storage.NewSealer(testKey); err != nil {
		tb.Fatal(err)
	}
	db.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// fixture is a small world: a court, a prosecutor's office with a case, an advocacy
// organisation with a coordinator and an advocate, an interpreter and an admin.
type fixture struct {
	db                                                 *storage.DB
	admin, prosecutor, otherProsecutor, coordinator    *courtside.User
	advocate, otherAdvocate, interpreter, otherCoordin *courtside.User
	court                                              *courtside.Court
	kase                                               *courtside.Case
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, MustOpenDB(t))
}

// newFixtureOn is newFixture on db.
func newFixtureOn(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	f := &fixture{db: db}
	ctx := context.Background()
	mk := func(name string, role courtside.Role, org string) *courtside.User {
		nu := courtside.NewUser{User: courtside.User{Username: name, Role: role}, OrganizationName: org}
		if role == courtside.RoleInterpreter {
			nu.User.Languages = []courtside.InterpreterLanguage{{Language: "es", Tier: courtside.TierCertified}}
		}
		u, err := storage.NewUserService(f.db).CreateUser(ctx, nu)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return u
	}
	f.admin = mk("admin", courtside.RoleAdmin, "")
	f.prosecutor = mk("pros", courtside.RoleProsecutor, "DA Office")
	f.otherProsecutor = mk("pros2", courtside.RoleProsecutor, "Other DA Office")
	f.coordinator = mk("coord", courtside.RoleCoordinator, "Advocacy Org")
	f.otherCoordin = mk("coord2", courtside.RoleCoordinator, "Other Advocacy Org")
	f.advocate = mk("adv", courtside.RoleAdvocate, "Advocacy Org")
	f.otherAdvocate = mk("adv2", courtside.RoleAdvocate, "Advocacy Org")
	f.interpreter = mk("interp", courtside.RoleInterpreter, "")
	f.court = &courtside.Court{Name: "Main Courthouse", TimeZone: "America/New_York"}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), f.court); err != nil {
		t.Fatal(err)
	}
	f.kase = &courtside.Case{Docket: "26-CR-1", CourtID: f.court.ID}
	if err := storage.NewCaseService(f.db).OpenCase(f.as(f.prosecutor), f.kase); err != nil {
		t.Fatal(err)
	}
	return f
}

// share shares a case of its office (as the office's prosecutor) with the coordinator's
// organisation, as an office does before the organisation may link victims to it.
func (f *fixture) share(t *testing.T, kase *courtside.Case, office, coordinator *courtside.User) {
	t.Helper()
	if _, err := storage.NewCaseService(f.db).ShareCase(f.as(office), kase.ID, coordinator.Organization.Name); err != nil {
		t.Fatalf("share case %d with %s: %v", kase.ID, coordinator.Organization.Name, err)
	}
}

// release records, as the coordinator, the victim's written release to the office's
// organisation for case coordination, signed now and good for 90 days.
func (f *fixture) release(t *testing.T, v *courtside.Victim, coordinator, office *courtside.User) *courtside.Release {
	t.Helper()
	now := f.db.Now()
	r := &courtside.Release{VictimID: v.ID, Purpose: courtside.PurposeCaseCoordination, Reference: "signed form in the victim's file",
		GrantedAt: now, ExpiresAt: now.Add(90 * 24 * time.Hour)}
	if err := storage.NewVictimService(f.db).RecordRelease(f.as(coordinator), r, office.Organization.Name); err != nil {
		t.Fatalf("record release of victim %d: %v", v.ID, err)
	}
	return r
}

func (f *fixture) as(u *courtside.User) context.Context {
	return courtside.NewContextWithUser(context.Background(), u)
}

// count returns the number of rows in a table.
func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.db.Writer.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// counts returns the row counts of every table a mutation may write.
func (f *fixture) counts(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"hearings", "hearing_changes", "cases", "courts", "victims", "victim_contacts",
		"case_victims", "accompaniments", "audit_log", "events", "users", "tokens"} {
		out[table] = f.count(t, table)
	}
	return out
}

var start = time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)

func (f *fixture) postHearing(t *testing.T, externalID string) *courtside.Hearing {
	t.Helper()
	h := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindSentencing, StartsAt: start, EndsAt: start.Add(time.Hour),
		Courtroom: "4B", Judge: "Judge of Part 4", ExternalID: externalID}
	if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDB_OpenTwice(t *testing.T) {
	db := MustOpenDB(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening runs the migrations again as a no-op.
	again := storage.NewDB(db.Path)
	again.Publish = events.PublishTx
	if err := again.Open(); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := again.Reader.Exec(`INSERT INTO organizations (name, created_at) VALUES ('x', 'y')`); err == nil {
		t.Fatal("the reader pool accepted a write")
	}
	if storagetest.Postgres() {
		return // the PRAGMAs below are SQLite's
	}
	var mode string
	if err := again.Writer.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	var fk, sync int
	again.Writer.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	again.Writer.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if fk != 1 || sync != 2 {
		t.Fatalf("foreign_keys=%d synchronous=%d, want 1 and 2 (FULL)", fk, sync)
	}
}

// runProjection runs the calendar projection over events in one transaction, as the event router
// would, stamping each with the current time.
func runProjection(t *testing.T, db *storage.DB, evs ...courtside.Event) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, ev := range evs {
		ev.At = time.Now()
		if err := storage.NewCalendarService(db).ProjectCalendar(ctx, tx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// sameCounts fails the test for every table whose row count changed: the check that a refused
// or failed write left nothing behind.
func sameCounts(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %s has %d rows, had %d", what, table, after[table], n)
		}
	}
}
