package storage_test

import (
	"courtside/storage"
	"strings"
	"testing"

	"courtside"
)

// TestImport_HeaderRefusedByName: a header the import does not understand is refused on line
// 1, naming the column and, for a slip, the column meant; a file without a header says so;
// an unknown hearing kind lists the kinds. Nothing is written.
func TestImport_HeaderRefusedByName(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.prosecutor)
	row := "DA-1,26-CR-1,Main Courthouse,PLEA,2026-12-01 09:30,2026-12-01 10:30,4B,,\n"
	for _, tt := range []struct {
		name, csv string
		want      []string
		not       string
	}{
		{"misspelt optional column", "external_id,docket,court,kind,starts_at,ends_at,courtrom,judge,status\n" + row,
			[]string{"line 1, column courtrom: unknown column; did you mean courtroom?", "external_id, docket"}, ""},
		{"misspelt required column", "external_id,dockett,court,kind,starts_at,ends_at\n" + row,
			[]string{"line 1, column dockett: unknown column; did you mean docket?"}, ""},
		{"unrelated column", "external_id,docket,court,kind,starts_at,ends_at,colour\n" + row,
			[]string{"line 1, column colour: unknown column; the columns are "}, "did you mean"},
		{"no header row", row + row,
			[]string{"line 1: the first line must be the header", "external_id,docket,court,kind,starts_at,ends_at", "header missing"}, "appears twice"},
		{"column without a name", "external_id,docket,,court,kind,starts_at,ends_at\n",
			[]string{"line 1, column 3: the header leaves this column without a name"}, ""},
		{"unknown kind", "external_id,docket,court,kind,starts_at,ends_at\nDA-1,26-CR-1,Main Courthouse,TRIAL_DAY,2026-12-01 09:30,2026-12-01 10:30\n",
			[]string{`line 2, column kind: unknown hearing kind "TRIAL_DAY"; the kinds are ARRAIGNMENT, DETENTION, PRELIMINARY, MOTION, PLEA, TRIAL, SENTENCING, RESTITUTION, STATUS, OTHER`}, ""},
	} {
		before := f.counts(t)
		_, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(tt.csv), nil)
		msg := courtside.ErrorMessage(err)
		if courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%s: %v, want EINVALID", tt.name, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tt.name, msg, w)
			}
		}
		if tt.not != "" && strings.Contains(msg, tt.not) {
			t.Errorf("%s: %q says %q", tt.name, msg, tt.not)
		}
		sameCounts(t, tt.name, before, f.counts(t))
	}
	// Columns in any order, in any letter case, with a byte-order mark, are fine.
	res, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader("\ufeffDocket,External_ID,court,KIND,starts_at,ends_at,Courtroom\n26-CR-1,DA-9,Main Courthouse,plea,2026-12-01 09:30,2026-12-01 10:30,4B\n"), nil)
	if err != nil || res.Created != 1 {
		t.Fatalf("reordered header: %v %+v", err, res)
	}
}
