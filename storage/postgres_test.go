package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// openHandle opens another storage.DB on the database at path, as a second process would.
func openHandle(t *testing.T, path string) *storage.DB {
	t.Helper()
	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	var err error
	if db.Sealer, err = storage.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPostgres_WritersOfTwoProcessesTakeTurns: two handles on one PostgreSQL database (two
// processes, as far as the database can tell) write at once. Each write transaction takes the
// write lock at BEGIN, so the audit hash chain stays one line: every row chained to the one
// committed before it (without the lock, two writers would chain to the same row).
func TestPostgres_WritersOfTwoProcessesTakeTurns(t *testing.T) {
	if !storagetest.Postgres() {
		t.Skip("PostgreSQL's: run with COURTSIDE_TEST_ENGINE=postgres (make test-postgres)")
	}
	a := MustOpenDB(t)
	b := openHandle(t, a.Path)
	ctx := context.Background()
	admin, err := a.CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "admin", Role: courtside.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	as := courtside.NewContextWithUser(ctx, admin)
	before, err := a.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const perHandle = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*perHandle)
	for h, db := range []*storage.DB{a, b} {
		for i := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &courtside.Court{Name: fmt.Sprintf("Court %d-%d", h, i), TimeZone: "America/New_York"}
				errs <- db.CreateCourt(as, c)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := b.VerifyAudit(ctx)
	if err != nil {
		t.Fatalf("the audit chain after concurrent writers: %v", err)
	}
	if n != before+2*perHandle {
		t.Fatalf("%d audit rows, want %d", n, before+2*perHandle)
	}
}
