package storage_test

import (
	"courtside/storage"
	"strings"
	"testing"

	"courtside"
)

// TestPreviewDocket_EveryWrongLineAndNothingWritten: a good file previews every line as the
// import would read it; a file with wrong lines names each by line and column, and a duplicate
// external_id as the file's problem; nothing is ever written; only a prosecutor may preview.
func TestPreviewDocket_EveryWrongLineAndNothingWritten(t *testing.T) {
	f := newFixture(t)
	court := f.court.Name
	before := f.counts(t)
	good := "external_id,docket,court,kind,starts_at,ends_at,status\n" +
		"A-1,26-CR-1,\"" + court + "\",PLEA,2026-12-21 09:30,2026-12-21 10:30,\n" +
		"A-2,26-CR-2,\"" + court + "\",trial,2026-12-22T14:00:00Z,2026-12-22T15:00:00Z,CANCELLED\n"
	lines, problems, more, err := storage.NewImportService(f.db).PreviewDocket(f.as(f.prosecutor), strings.NewReader(good))
	if err != nil || len(problems) != 0 || more || len(lines) != 2 {
		t.Fatalf("good file: %d lines, problems %+v, %v", len(lines), problems, err)
	}
	if l := lines[1]; l.Line != 3 || l.Docket != "26-CR-2" || l.Hearing.Kind != courtside.KindTrial || l.Status != courtside.HearingCancelled ||
		l.Court.ID != f.court.ID || !l.Hearing.StartsAt.Equal(l.Hearing.StartsAt.UTC()) {
		t.Fatalf("second line: %+v", l)
	}
	bad := "external_id,docket,court,kind,starts_at,ends_at\n" +
		"B-1,26-CR-1,\"" + court + "\",PLEA,2026-12-21 09:30,2026-12-21 10:30\n" +
		"B-2,26-CR-1,\"" + court + "\",BRUNCH,2026-12-21 09:30,2026-12-21 10:30\n" +
		"B-3,26-CR-1,Nowhere,PLEA,2026-12-21 09:30,2026-12-21 10:30\n" +
		"B-4,26-CR-1,\"" + court + "\",PLEA,2026-12-21 11:30,2026-12-21 10:30\n"
	lines, problems, _, err = storage.NewImportService(f.db).PreviewDocket(f.as(f.prosecutor), strings.NewReader(bad))
	if err != nil || len(lines) != 1 || len(problems) != 3 {
		t.Fatalf("bad file: %d lines, %+v, %v", len(lines), problems, err)
	}
	for i, want := range []struct {
		line   int
		column string
	}{{3, "column kind"}, {4, "column court"}, {5, "column ends_at"}} {
		if problems[i].Line != want.line || !strings.HasPrefix(problems[i].Message, want.column) {
			t.Errorf("problem %d: %+v, want line %d %s", i, problems[i], want.line, want.column)
		}
	}
	dup := "external_id,docket,court,kind,starts_at,ends_at\n" +
		"C-1,26-CR-1,\"" + court + "\",PLEA,2026-12-21 09:30,2026-12-21 10:30\n" +
		"C-1,26-CR-1,\"" + court + "\",PLEA,2026-12-22 09:30,2026-12-22 10:30\n"
	if _, problems, _, err = storage.NewImportService(f.db).PreviewDocket(f.as(f.prosecutor), strings.NewReader(dup)); err != nil || len(problems) != 1 ||
		problems[0].Line != 3 || !strings.Contains(problems[0].Message, "already appears on line 2") {
		t.Fatalf("duplicate: %+v %v", problems, err)
	}
	if _, _, _, err := storage.NewImportService(f.db).PreviewDocket(f.as(f.prosecutor), strings.NewReader("docket,when\n")); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Fatalf("bad header: %v", err)
	}
	for _, u := range []*courtside.User{f.coordinator, f.admin, f.interpreter} {
		if _, _, _, err := storage.NewImportService(f.db).PreviewDocket(f.as(u), strings.NewReader(good)); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			t.Errorf("%s: %v", u.Username, err)
		}
	}
	after := f.counts(t)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("preview wrote to %s: %d → %d", table, n, after[table])
		}
	}
}
