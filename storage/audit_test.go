package storage_test

import (
	"context"
	"strings"
	"testing"

	"courtside/storage"
	"courtside/storage/storagetest"
)

func TestAudit_HashChain(t *testing.T) {
	f := newFixture(t)
	f.postHearing(t, "")
	ctx := context.Background()
	n, err := storage.NewAuditService(f.db).VerifyAudit(ctx)
	if err != nil || n < 5 {
		t.Fatalf("verify: %d rows, %v", n, err)
	}
	if _, err := f.db.Writer.Exec(`UPDATE audit_log SET outcome = 'denied' WHERE id = 2`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of an audit row: %v", err)
	}
	if _, err := f.db.Writer.Exec(`DELETE FROM audit_log WHERE id = 2`); err == nil {
		t.Fatal("delete of an audit row succeeded")
	}
	// Someone with raw file access drops the guard and edits a row: the chain shows it.
	if _, err := f.db.Writer.Exec(dropTrigger("audit_log_no_update", "audit_log")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Writer.Exec(`UPDATE audit_log SET action = 'court.delete' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAuditService(f.db).VerifyAudit(ctx); err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Fatalf("tampered row not detected: %v", err)
	}
}

func TestAudit_DeletedRowDetected(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.Writer.Exec(dropTrigger("audit_log_no_delete", "audit_log")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Writer.Exec(`DELETE FROM audit_log WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAuditService(f.db).VerifyAudit(context.Background()); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Fatalf("deleted row not detected: %v", err)
	}
}

// dropTrigger returns the statement that drops a trigger of table, in the engine's words.
func dropTrigger(name, table string) string {
	if storagetest.Postgres() {
		return `DROP TRIGGER ` + name + ` ON ` + table
	}
	return `DROP TRIGGER ` + name
}
