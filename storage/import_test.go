package storage_test

import (
	"context"
	"courtside/storage"
	"strings"
	"testing"
	"time"

	"courtside"
)

const docket = `external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status
DA-1,26-CR-1,Main Courthouse,ARRAIGNMENT,2026-12-01 09:30,2026-12-01 10:30,4B,Judge of Part 4,
DA-2,26-CR-9,Main Courthouse,plea,2026-12-02T15:00:00Z,2026-12-02T16:00:00Z,,,SCHEDULED
`

func TestImport_IdempotentUpsert(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.prosecutor)
	var progress []courtside.ImportProgress
	res, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(docket), func(p courtside.ImportProgress) { progress = append(progress, p) })
	if err != nil || *res != (courtside.ImportResult{Created: 2}) {
		t.Fatalf("first import: %v %+v", err, res)
	}
	// Parsing first, then writing, each ending with every line.
	if len(progress) != 2 || progress[0] != (courtside.ImportProgress{Phase: courtside.ImportParsing, Done: 2}) ||
		progress[1] != (courtside.ImportProgress{Phase: courtside.ImportWriting, Done: 2, Total: 2}) {
		t.Fatalf("progress %+v", progress)
	}
	// The first line's local time is the court's zone (New York, UTC-5 in December).
	from, to := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	hs, err := storage.NewHearingService(f.db).FindHearings(ctx, courtside.HearingFilter{From: &from, To: &to})
	if err != nil || len(hs) != 2 || !hs[0].StartsAt.Equal(time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)) || hs[0].CaseID != f.kase.ID {
		t.Fatalf("imported %v %+v", err, hs)
	}
	if _, err := storage.NewCaseService(f.db).FindCaseByDocket(ctx, f.prosecutor.OrganizationID, f.court.ID, "26-CR-9"); err != nil {
		t.Fatalf("new docket not opened: %v", err)
	}
	// One import is one transaction with many audit rows: the chain holds across them.
	if n, err := storage.NewAuditService(f.db).VerifyAudit(context.Background()); err != nil || n < 4 {
		t.Fatalf("audit chain after an import: %d rows, %v", n, err)
	}
	events := f.count(t, "events")
	res, err = storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(docket), nil)
	if err != nil || *res != (courtside.ImportResult{Unchanged: 2}) || f.count(t, "events") != events {
		t.Fatalf("re-import: %v %+v, %d new events", err, res, f.count(t, "events")-events)
	}
	// A changed time is a continuance with reason "import"; CANCELLED cancels.
	changed := strings.Replace(docket, "2026-12-01 09:30,2026-12-01 10:30", "2026-12-08 09:30,2026-12-08 10:30", 1)
	changed = strings.Replace(changed, ",,,SCHEDULED", ",,,CANCELLED", 1)
	res, err = storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(changed), nil)
	if err != nil || *res != (courtside.ImportResult{Updated: 2}) {
		t.Fatalf("changed import: %v %+v", err, res)
	}
	hs, _ = storage.NewHearingService(f.db).FindHearings(ctx, courtside.HearingFilter{From: &from, To: &to})
	byExt := map[string]*courtside.Hearing{}
	for _, h := range hs {
		byExt[h.ExternalID] = h
	}
	if byExt["DA-1"].Status != courtside.HearingContinued || byExt["DA-2"].Status != courtside.HearingCancelled {
		t.Fatalf("after changes: %+v %+v", byExt["DA-1"], byExt["DA-2"])
	}
	changes, _ := storage.NewHearingService(f.db).FindHearingChanges(ctx, byExt["DA-1"].ID)
	if last := changes[len(changes)-1]; last.Reason != "import" || !last.FromStartsAt.Equal(time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)) {
		t.Fatalf("continuance %+v", last)
	}
}

func TestImport_ErrorsNameLineAndColumnAndImportNothing(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.prosecutor)
	header := "external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n"
	good := "DA-1,26-CR-1,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 10:30,,,\n"
	for _, tt := range []struct {
		name, csv, want string
	}{
		{"empty", "", "line 1"},
		{"missing column", "external_id,docket,court,kind,starts_at\n", "line 1, column ends_at"},
		{"unknown court", header + good + "DA-2,26-CR-1,Nowhere Court,PLEA,2026-12-01 09:30,2026-12-01 10:30,,,\n", "line 3, column court"},
		{"bad kind", header + good + "DA-2,26-CR-1,Main Courthouse,PICNIC,2026-12-01 09:30,2026-12-01 10:30,,,\n", "line 3, column kind"},
		{"bad time", header + good + "DA-2,26-CR-1,Main Courthouse,PLEA,tomorrow,2026-12-01 10:30,,,\n", "line 3, column starts_at"},
		{"end first", header + good + "DA-2,26-CR-1,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 08:30,,,\n", "line 3, column ends_at"},
		{"bad status", header + good + "DA-2,26-CR-1,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 10:30,,,POSTPONED\n", "line 3, column status"},
		{"duplicate id", header + good + good, "line 3, column external_id"},
		{"empty docket", header + good + "DA-2,,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 10:30,,,\n", "line 3, column docket"},
		{"short line", header + good + "DA-2,26-CR-1\n", "line 3"},
		{"bad quoting", header + good + "DA-2,\"26-CR-1,Main\n", "line 3"},
	} {
		before := f.counts(t)
		_, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(tt.csv), nil)
		if courtside.ErrorCode(err) != courtside.EINVALID || !strings.Contains(courtside.ErrorMessage(err), tt.want) {
			t.Errorf("%s: %v, want EINVALID naming %q", tt.name, err, tt.want)
		}
		sameCounts(t, tt.name, before, f.counts(t))
	}
	// Another office's docket in the same court is refused, naming the line.
	other := header + "X-1,26-CR-1,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 10:30,,,\n"
	if _, err := storage.NewImportService(f.db).ImportHearings(f.as(f.otherProsecutor), strings.NewReader(other), nil); !strings.Contains(courtside.ErrorMessage(err), "line 2, column docket") {
		t.Errorf("other office: %v", err)
	}
	if _, err := storage.NewImportService(f.db).ImportHearings(f.as(f.coordinator), strings.NewReader(header+good), nil); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Errorf("coordinator: %v", err)
	}
}
