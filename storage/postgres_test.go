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

// TestPostgres_EventsAreNumberedInCommitOrder: while two handles append events at once, a
// reader never sees a later event before an earlier-numbered one has committed: every
// snapshot of the log is a prefix of its final numbering. That is what lets a consumer group
// keep one offset (the last id it handled) without ever missing an event.
func TestPostgres_EventsAreNumberedInCommitOrder(t *testing.T) {
	if !storagetest.Postgres() {
		t.Skip("PostgreSQL's: run with COURTSIDE_TEST_ENGINE=postgres (make test-postgres)")
	}
	a := MustOpenDB(t)
	b := openHandle(t, a.Path)
	ctx := context.Background()
	type snapshot struct{ count, max int64 }
	var snaps []snapshot
	stop := make(chan struct{})
	started := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		for {
			var s snapshot
			if err := a.Reader.QueryRow(`SELECT count(*), COALESCE(max(id), 0) FROM events`).Scan(&s.count, &s.max); err != nil {
				read <- err
				return
			}
			snaps = append(snaps, s)
			if len(snaps) == 1 {
				close(started)
			}
			select {
			case <-stop:
				read <- nil
				return
			default:
			}
		}
	}()
	<-started
	const perHandle = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*perHandle)
	for h, db := range []*storage.DB{a, b} {
		for i := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := db.Writer.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				ev := courtside.Event{ID: fmt.Sprintf("ev-%d-%d", h, i), Type: courtside.EventHearingScheduled, HearingID: int64(i + 1)}
				if err := events.PublishTx(ctx, tx, ev); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				errs <- tx.Commit()
			}()
		}
	}
	wg.Wait()
	close(stop)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	if err := a.Reader.QueryRow(`SELECT count(*) FROM events`).Scan(&total); err != nil || total != 2*perHandle {
		t.Fatalf("%d events, %v; want %d", total, err, 2*perHandle)
	}
	between := 0
	for _, s := range snaps {
		if s.count > 0 && s.count < total {
			between++
		}
	}
	t.Logf("%d snapshots taken while the writers wrote", between)
	for _, s := range snaps {
		var below int64
		if err := a.Reader.QueryRow(`SELECT count(*) FROM events WHERE id <= ?`, s.max).Scan(&below); err != nil {
			t.Fatal(err)
		}
		if below != s.count {
			t.Fatalf("a reader saw %d events up to id %d, but %d are numbered up to it: an earlier number committed later", s.count, s.max, below)
		}
	}
}
