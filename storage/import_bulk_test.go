package storage_test

import (
	"context"
	"courtside/storage"
	"fmt"
	"strings"
	"testing"

	"courtside"
)

// TestImport_BulkWritesEveryRowAndAChainThatVerifies imports more lines than one multi-row
// audit INSERT carries, so that the chain crosses chunks: every hearing still has its history
// row, audit row and event, and the audit chain verifies row by row.
func TestImport_BulkWritesEveryRowAndAChainThatVerifies(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.prosecutor)
	const n = 450
	var b strings.Builder
	b.WriteString("external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "BULK-%d,26-CR-%d,Main Courthouse,MOTION,2026-12-%02dT15:00:00Z,2026-12-%02dT16:00:00Z,4B,Judge of Part 4,\n",
			i, 100+i/3, 1+i%28, 1+i%28)
	}
	before := map[string]int{}
	for _, table := range []string{"hearings", "hearing_changes", "audit_log", "events"} {
		before[table] = f.count(t, table)
	}
	res, err := storage.NewImportService(f.db).ImportHearings(ctx, strings.NewReader(b.String()), nil)
	if err != nil || *res != (courtside.ImportResult{Created: n}) {
		t.Fatalf("import: %v %+v", err, res)
	}
	cases := n / 3
	for table, want := range map[string]int{
		"hearings":        n,
		"hearing_changes": n,
		"audit_log":       n + cases + 1, // each hearing, each new case, the import itself
		"events":          n + cases,     // each hearing scheduled, each case opened
	} {
		if got := f.count(t, table) - before[table]; got != want {
			t.Errorf("%s: %d new rows, want %d", table, got, want)
		}
	}
	rows, err := storage.NewAuditService(f.db).VerifyAudit(context.Background())
	if err != nil || rows != f.count(t, "audit_log") {
		t.Fatalf("audit verify: %d rows, %v", rows, err)
	}
}
