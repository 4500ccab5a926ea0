package pgtest_test

import (
	"context"
	"database/sql"
	"testing"

	"courtside/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Each test gets its own empty database on the one server.
func TestURL_ADatabaseOfItsOwn(t *testing.T) {
	a, b := pgtest.URL(t), pgtest.URL(t)
	if a == b {
		t.Fatalf("two tests share %s", a)
	}
	db, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("pgx", b)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the second database sees the first's table")
	}
	var user string
	if err := db.QueryRow(`SELECT current_user`).Scan(&user); err != nil || user != "postgres" {
		t.Fatalf("current_user = %q, %v", user, err)
	}
}

// The tests' server runs without durability; StartDurable's keeps PostgreSQL's defaults, so that
// a measurement's commits cost what they cost in production.
func TestStartDurable_KeepsFsync(t *testing.T) {
	for _, c := range []struct {
		start func() (*pgtest.Cluster, error)
		want  string
	}{{pgtest.Start, "off"}, {pgtest.StartDurable, "on"}} {
		cl, err := c.start()
		if err != nil {
			t.Fatal(err)
		}
		url, _, err := cl.CreateDatabase(context.Background(), "")
		if err != nil {
			cl.Stop()
			t.Fatal(err)
		}
		db, err := sql.Open("pgx", url)
		if err != nil {
			cl.Stop()
			t.Fatal(err)
		}
		var fsync, commit string
		err = db.QueryRow(`SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &commit)
		db.Close()
		if stopErr := cl.Stop(); stopErr != nil {
			t.Error(stopErr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if fsync != c.want || commit != c.want {
			t.Errorf("fsync = %s, synchronous_commit = %s; want both %s", fsync, commit, c.want)
		}
	}
}
