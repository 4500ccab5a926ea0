package storage_test

import (
	"context"
	"courtside/storage"
	"testing"

	"courtside"
)

// BenchmarkCalendarChanges reads the sync-collection diff of a hearings calendar of 5,000
// hearings: after one change (the common case of a client that syncs often) and from the
// start (a new client).
func BenchmarkCalendarChanges(b *testing.B) {
	db := MustOpenDB(b)
	ctx := context.Background()
	u, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "pros", Role: courtside.RoleProsecutor}, OrganizationName: "DA Office"})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "admin", Role: courtside.RoleAdmin}})
	if err != nil {
		b.Fatal(err)
	}
	court := &courtside.Court{Name: "Main Courthouse", TimeZone: "America/New_York"}
	if err := storage.NewCourtService(db).CreateCourt(courtside.NewContextWithUser(ctx, admin), court); err != nil {
		b.Fatal(err)
	}
	kase := &courtside.Case{Docket: "26-CR-1", CourtID: court.ID}
	if err := storage.NewCaseService(db).OpenCase(courtside.NewContextWithUser(ctx, u), kase); err != nil {
		b.Fatal(err)
	}
	const n = 5000
	for _, q := range []string{
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < 5000)
		 INSERT INTO hearings (case_id, court_id, organization_id, kind, starts_at, ends_at, status, created_at, updated_at)
		 SELECT ?1, ?2, ?3, 'MOTION', '2031-01-06T14:00:00.000Z', '2031-01-06T15:00:00.000Z', 'SCHEDULED',
		        '2026-11-20T12:00:00.000Z', '2026-11-20T12:00:00.000Z' FROM s`,
		`INSERT INTO calendar_changes (user_id, calendar, hearing_id, version, deleted)
		 SELECT ?4, 'hearings', id, id, 0 FROM hearings WHERE case_id = ?1`,
		`INSERT INTO calendar_versions (user_id, calendar, version, updated_at)
		 SELECT ?4, 'hearings', max(version), '2026-11-20T12:00:00.000Z' FROM calendar_changes WHERE user_id = ?4`,
	} {
		if _, err := db.Writer.ExecContext(ctx, q, kase.ID, court.ID, u.OrganizationID, u.ID); err != nil {
			b.Fatal(err)
		}
	}
	version, _, err := storage.NewCalendarService(db).CalendarVersion(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		since int64
		want  int
	}{{"after one change", version - 1, 1}, {"from the start", 0, n}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				changes, v, err := storage.NewCalendarService(db).CalendarChanges(ctx, u.ID, bc.since)
				if err != nil || len(changes) != bc.want || v != version {
					b.Fatalf("%d changes at version %d, want %d at %d: %v", len(changes), v, bc.want, version, err)
				}
			}
		})
	}
}
