package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"courtside"
	"courtside/storage"
)

// holdWriteLock takes the write lock of db's file on a connection of its own, as another
// process would; the returned function lets it go.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	other, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := other.Begin()
	if err != nil {
		other.Close()
		t.Fatal(err)
	}
	done := false
	release := func() {
		if !done {
			done = true
			tx.Rollback()
			other.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// TestBeginTx_WaitsItsTurnAndSaysSo holds the write lock on another connection for far longer
// than SQLite's own busy timeout on the writer: BeginTx tells DB.Waiting that it waits and
// goes on waiting, other processes see a writer waiting (WritersWaiting, here through a second
// DB on the file), and once the lock is free the mutation commits and nobody waits any more.
func TestBeginTx_WaitsItsTurnAndSaysSo(t *testing.T) {
	sqliteOnly(t)
	db := MustOpenDB(t)
	other := storage.NewDB(db.Path)
	if err := other.Open(); err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.WritersWaiting() {
		t.Fatal("WritersWaiting before anyone waits")
	}
	waiting := make(chan time.Duration, 100)
	db.Waiting = func(d time.Duration) { waiting <- d }
	release := holdWriteLock(t, db.Path)

	done := make(chan error, 1)
	go func() {
		_, err := storage.NewUserService(db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: "coord", Role: courtside.RoleAdmin}})
		done <- err
	}()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("CreateUser returned %v while another connection held the write lock", err)
	case <-time.After(60 * time.Second):
		t.Fatal("DB.Waiting was not called")
	}
	if !other.WritersWaiting() {
		t.Error("WritersWaiting does not see the waiting writer")
	}
	// Many of SQLite's own busy timeouts (20 ms on the writer) pass: the writer still waits.
	select {
	case err := <-done:
		t.Fatalf("CreateUser returned %v before the lock was free", err)
	case <-time.After(500 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("CreateUser after the wait: %v", err)
	}
	if _, err := storage.NewUserService(db).FindUserByUsername(context.Background(), "coord"); err != nil {
		t.Errorf("the user created after the wait: %v", err)
	}
	if other.WritersWaiting() {
		t.Error("WritersWaiting after the writer began")
	}
}

// TestBeginTx_WaitEndsWithItsContext shows that a writer waiting for the lock stops when its
// context is cancelled (Ctrl-C in the CLI), with an error that says so and nothing written.
func TestBeginTx_WaitEndsWithItsContext(t *testing.T) {
	sqliteOnly(t)
	db := MustOpenDB(t)
	waiting := make(chan time.Duration, 100)
	db.Waiting = func(d time.Duration) { waiting <- d }
	holdWriteLock(t, db.Path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		tx, err := db.BeginTx(ctx)
		if err == nil {
			tx.Rollback()
		}
		done <- err
	}()
	<-waiting
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("BeginTx after cancel = %v, want context.Canceled", err)
	}
}
