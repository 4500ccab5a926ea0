package storage

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"courtside"
)

// TestSession_AttemptsGroupCommitted shows that sign-in attempts do not each take a write
// transaction: 30 attempts that arrive while the writer is busy are all audited, by at most two
// transactions (the one that was waiting, and one for the rest).
func TestSession_AttemptsGroupCommitted(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "courtside.db"))
	db.Publish = func(context.Context, *sql.Tx, ...courtside.Event) error { return nil }
	db.LoginLimits = LoginLimits{AddressBurst: 1000, AccountBurst: 1000}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	// Hold the single writer, as a long import would.
	busy, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := NewSessionService(db).Login(ctx, fmt.Sprintf("nobody-%d", i), "not a password at all"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
				t.Errorf("attempt %d: %v", i, err)
			}
		})
	}
	// Wait until every attempt has handed its audit row over: queued, or in the batch that
	// waits for the writer.
	queued := func() int {
		db.batch.mu.Lock()
		defer db.batch.mu.Unlock()
		return len(db.batch.pending) + db.batch.taken
	}
	for queued() < n {
		time.Sleep(time.Millisecond)
	}
	if err := busy.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var rows int
	if err := db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'login'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	transactions := db.batch.transactions.Load()
	if rows != n || transactions > 2 {
		t.Fatalf("%d attempts audited in %d rows by %d transactions; want %d rows in at most 2", n, rows, transactions, n)
	}
}
