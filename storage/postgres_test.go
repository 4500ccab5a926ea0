package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
	admin, err := storage.NewUserService(a).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "admin", Role: courtside.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	as := courtside.NewContextWithUser(ctx, admin)
	before, err := storage.NewAuditService(a).VerifyAudit(ctx)
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
				errs <- storage.NewCourtService(db).CreateCourt(as, c)
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
	n, err := storage.NewAuditService(b).VerifyAudit(ctx)
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

// TestPostgres_CommitsWithEventsAreAnnounced: a handle listening on the database (another
// instance) hears of every transaction that appended events, through LISTEN/NOTIFY, and of the
// payloads other notifications carry; a transaction rolled back announces nothing. On SQLite
// Listen returns at once and Notify does nothing.
func TestPostgres_CommitsWithEventsAreAnnounced(t *testing.T) {
	a := MustOpenDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !storagetest.Postgres() {
		a.Listen(ctx, []string{storage.ChannelEvents}, func(string, string) { t.Error("a notification on SQLite") }, nil)
		return
	}
	b := openHandle(t, a.Path)
	heard := make(chan [2]string, 16)
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		b.Listen(ctx, []string{storage.ChannelEvents, storage.ChannelLive}, func(ch, payload string) { heard <- [2]string{ch, payload} },
			func(err error) { t.Errorf("listen: %v", err) })
	}()
	bg := context.Background()
	admin, err := storage.NewUserService(a).CreateUser(bg, courtside.NewUser{User: courtside.User{Username: "admin", Role: courtside.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	pros, err := storage.NewUserService(a).CreateUser(bg, courtside.NewUser{User: courtside.User{Username: "pros", Role: courtside.RoleProsecutor}, OrganizationName: "DA Office"})
	if err != nil {
		t.Fatal(err)
	}
	court := &courtside.Court{Name: "Main Courthouse", TimeZone: "America/New_York"}
	if err := storage.NewCourtService(a).CreateCourt(courtside.NewContextWithUser(bg, admin), court); err != nil {
		t.Fatal(err)
	}

	// The listener connects in its own time: open a case (an event) until it hears one.
	var got [2]string
	for i := 0; got[0] == ""; i++ {
		if i == 600 {
			t.Fatal("no notification heard after 600 commits with events")
		}
		if err := storage.NewCaseService(a).OpenCase(courtside.NewContextWithUser(bg, pros), &courtside.Case{Docket: fmt.Sprintf("26-CR-%d", i), CourtID: court.ID}); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-heard:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got != [2]string{storage.ChannelEvents, ""} {
		t.Fatalf("heard %q", got)
	}
	for len(heard) > 0 {
		<-heard
	}

	// A payload on the live channel arrives as sent; one sent in a transaction rolled back
	// never does.
	send := func(payload string, commit bool) {
		tx, err := a.Writer.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Notify(context.Background(), tx, storage.ChannelLive, payload); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	send("rolled back", false)
	send("i1 e1", true)
	for got = <-heard; got[0] == storage.ChannelEvents; got = <-heard {
	}
	if got != [2]string{storage.ChannelLive, "i1 e1"} {
		t.Fatalf("heard %q, want the committed payload", got)
	}
	cancel()
	<-listened
}
