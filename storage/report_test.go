package storage_test

import (
	"courtside/storage"
	"fmt"
	"testing"
	"time"

	"courtside"
)

// TestCaseloadReport_Counts checks the report's SQL: hearings of the coordinator's organisation
// in the period, not cancelled; accepted interpreter bookings only; other organisations and
// roles see nothing of it.
func TestCaseloadReport_Counts(t *testing.T) {
	f := newFixture(t)
	v := &courtside.Victim{Pseudonym: "V-R1", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < 13; i++ {
		at := start.AddDate(0, 0, i)
		h := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindMotion, StartsAt: at, EndsAt: at.Add(time.Hour), ExternalID: fmt.Sprintf("R-%d", i)}
		if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), ids[12], "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	// Eleven accepted bookings, one merely offered.
	for i, id := range ids[:12] {
		status := "ACCEPTED"
		if i == 11 {
			status = "OFFERED"
		}
		if _, err := f.db.Writer.Exec(`INSERT INTO interpreter_bookings (hearing_id, language, interpreter_id, status, created_at, updated_at)
			VALUES (?, 'es', ?, ?, '2026-11-20T12:00:00.000Z', '2026-11-20T12:00:00.000Z')`, id, f.interpreter.ID, status); err != nil {
			t.Fatal(err)
		}
	}
	from, to := start.AddDate(0, 0, -1), start.AddDate(0, 1, 0)
	rep, err := storage.NewReportService(f.db).CaseloadReport(f.as(f.coordinator), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.OrganizationID != f.coordinator.OrganizationID {
		t.Fatalf("report: %+v", rep)
	}
	r := rep.Rows[0]
	if r.CourtName != "Main Courthouse" || r.Kind != courtside.KindMotion || r.Hearings.Published() != 12 ||
		r.WithInterpreter.Published() != 11 || r.VictimsAccompanied.Published() != 0 {
		t.Fatalf("row: %s/%s hearings %d, interpreter %d, accompanied %d", r.CourtName, r.Kind,
			r.Hearings.Published(), r.WithInterpreter.Published(), r.VictimsAccompanied.Published())
	}
	// A period that starts after the first two hearings: 10 hearings, suppressed.
	rep, err = storage.NewReportService(f.db).CaseloadReport(f.as(f.coordinator), start.AddDate(0, 0, 2), to)
	if err != nil || len(rep.Rows) != 1 || !rep.Rows[0].Hearings.Suppressed {
		t.Fatalf("shorter period: %+v, %v", rep, err)
	}
	if rep, err := storage.NewReportService(f.db).CaseloadReport(f.as(f.otherCoordin), from, to); err != nil || len(rep.Rows) != 0 {
		t.Fatalf("other organisation's coordinator: %+v, %v", rep, err)
	}
	for _, u := range []*courtside.User{f.admin, f.prosecutor, f.advocate, f.interpreter} {
		if _, err := storage.NewReportService(f.db).CaseloadReport(f.as(u), from, to); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			t.Fatalf("%s: %v", u.Username, err)
		}
	}
	if _, err := storage.NewReportService(f.db).CaseloadReport(f.as(f.coordinator), to, from); courtside.ErrorField(err) != "to" {
		t.Fatalf("reversed period: %v", err)
	}
}

// TestDiskFull_PingReportsNoRoom checks that Ping fails while the database cannot grow (the
// writer's page limit at the file's size, as the disk-full test sets it) and passes again
// when the limit is raised.
func TestDiskFull_PingReportsNoRoom(t *testing.T) {
	sqliteOnly(t)
	db := MustOpenDB(t)
	ctx := t.Context()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var pages int64
	if err := db.Writer.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping passed with no room to grow")
	}
	if _, err := db.Writer.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after room returned: %v", err)
	}
}
