package main

import (
	"context"
	"courtside/storage"
	"path/filepath"
	"testing"
	"time"

	"courtside"
)

// TestCaseDocketImportsIntoOneCase checks the write-path section's docket: every line valid,
// every hearing in the one case, at distinct times within the four weeks the reads look at.
func TestCaseDocketImportsIntoOneCase(t *testing.T) {
	b := testBench(t)
	ctx := context.Background()
	csvPath := filepath.Join(b.Dir, "writepath.csv")
	if err := writeCaseDocket(csvPath, 200); err != nil {
		t.Fatal(err)
	}
	db, err := b.openStore(filepath.Join(b.Dir, "courtside.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pros, _, err := seedOffice(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := storage.NewImportService(db).ImportHearings(courtside.NewContextWithUser(ctx, pros), openFile(t, csvPath), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 200 {
		t.Errorf("import created %d hearings, want 200", res.Created)
	}
	var cases, times int
	var first, last string
	if err := db.Reader.QueryRow(`SELECT count(DISTINCT case_id), count(DISTINCT starts_at), min(starts_at), max(starts_at) FROM hearings`).Scan(
		&cases, &times, &first, &last); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339), time.Date(2031, 3, 29, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	if cases != 1 || times != 200 || first < from || last >= to {
		t.Errorf("%d cases, %d distinct times from %s to %s; want 1 case, 200 times within [%s, %s)", cases, times, first, last, from, to)
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 112: "112th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}
