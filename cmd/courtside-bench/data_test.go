package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// testBench returns a Bench over a temporary directory, with a fixed key.
func testBench(t *testing.T) *Bench {
	t.Helper()
	return &Bench{Dir: t.TempDir(), Key: hex.EncodeToString(make([]byte, 32)), Log: t.Logf}
}

// TestRawImportInsertsEveryLine checks the raw SQLite reference against the docket it is given:
// every line a hearing, five hearings a case.
func TestRawImportInsertsEveryLine(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "docket.csv")
	if err := writeDocket(csvPath, 200); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "raw.db")
	if _, err := rawImport(context.Background(), dbPath, csvPath); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", rawDSN(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hearings, cases int
	var sync string
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM hearings), (SELECT count(*) FROM cases)`).Scan(&hearings, &cases); err != nil {
		t.Fatal(err)
	}
	if hearings != 200 || cases != 40 {
		t.Errorf("raw import wrote %d hearings in %d cases, want 200 in 40", hearings, cases)
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != "2" {
		t.Errorf("raw reference runs with synchronous=%s (%v), want 2 (FULL) like Courtside", sync, err)
	}
}

// TestDocketImportsIntoCourtside checks that the generated docket is one Courtside accepts:
// every line valid, every hearing created.
func TestDocketImportsIntoCourtside(t *testing.T) {
	b := testBench(t)
	ctx := context.Background()
	csvPath := filepath.Join(b.Dir, "docket.csv")
	if err := writeDocket(csvPath, 100); err != nil {
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
	if res.Created != 100 {
		t.Errorf("import created %d hearings, want 100", res.Created)
	}
}

// TestFillMemoryDBMatchesTheSchema fills a small database the way the memory section fills
// its large one: the SQL must fit the current schema and write exactly the rows asked for.
func TestFillMemoryDBMatchesTheSchema(t *testing.T) {
	b := testBench(t)
	path := filepath.Join(b.Dir, "memory.db")
	if err := b.fillMemoryDB(context.Background(), path, 500, 2000); err != nil {
		t.Fatal(err)
	}
	db, err := b.openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orphans int
	if err := db.Reader.QueryRow(`SELECT count(*) FROM deliveries d LEFT JOIN hearings h ON h.id = d.hearing_id WHERE h.id IS NULL`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d deliveries point at no hearing", orphans)
	}
}

// TestCalendarScaleWorld builds one size of the hearings-calendars section in-process, the
// way the section does through the CLI: the docket imports whole, every hearing gets the
// advocate's accompaniment, and the calendar projection then renders each hearing for both
// calendars, at the generated times.
func TestCalendarScaleWorld(t *testing.T) {
	b := testBench(t)
	ctx := context.Background()
	db, err := b.openStore(filepath.Join(b.Dir, "courtside.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.RenderCalendar = calendar.RenderStored
	pros, _, err := seedOffice(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	adv, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "adv-50", Role: courtside.RoleAdvocate},
		OrganizationName: calendarAdvocacy})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2030, 3, 4, 14, 0, 0, 0, time.UTC)
	csvPath := filepath.Join(b.Dir, "docket.csv")
	if err := writeCalendarDocket(csvPath, "C50", from, 50, 12); err != nil {
		t.Fatal(err)
	}
	if res, err := storage.NewImportService(db).ImportHearings(courtside.NewContextWithUser(ctx, pros), openFile(t, csvPath), nil); err != nil || res.Created != 50 {
		t.Fatalf("import: %v %+v", err, res)
	}
	if err := accompanyAll(ctx, db, benchOffice, "adv-50", 50); err != nil {
		t.Fatal(err)
	}
	var last int64
	storagetest.Drain(t, db, &last, storage.NewCalendarService(db).ProjectCalendar)
	for _, u := range []*courtside.User{pros, adv} {
		objs, err := storage.NewCalendarService(db).FindCalendarObjects(ctx, u.ID, time.Time{}, time.Time{}, true)
		if err != nil || len(objs) != 50 {
			t.Fatalf("%s's calendar: %v, %d objects", u.Username, err, len(objs))
		}
		for i, o := range objs {
			if want := eventStartFrom(from, i, 50, 12); !o.StartsAt.Equal(want) {
				t.Fatalf("%s's object %d starts at %s, want %s", u.Username, i, o.StartsAt, want)
			}
		}
		if u == adv && !strings.Contains(string(objs[0].Data), "Accompanying: V-") {
			t.Errorf("the advocate's object names no pseudonym:\n%s", objs[0].Data)
		}
	}
}

// TestFillAvailabilityAsPutStoresIt checks the availability objects the hearings section writes
// with SQL beyond a calendar's limit against those a PUT of the same events stores, through
// calendar's real handler: the same rows but for the times of writing, and every object served
// by GET with its ETag and listed by sync-collection.
func TestFillAvailabilityAsPutStoresIt(t *testing.T) {
	b := testBench(t)
	ctx := context.Background()
	path := filepath.Join(b.Dir, "courtside.db")
	db, err := b.openStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from := time.Date(2030, 3, 4, 14, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(calendar.NewHandler(calendar.Config{Users: storage.NewUserService(db), Tokens: storage.NewTokenService(db), Calendars: storage.NewCalendarService(db), Availability: storage.NewAvailabilityService(db)}))
	defer srv.Close()
	var users []*davTarget
	var ids []int64
	for _, name := range []string{"adv-put", "adv-sql"} {
		u, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: name, Role: courtside.RoleAdvocate}, OrganizationName: calendarAdvocacy})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := storage.NewTokenService(db).CreateToken(courtside.NewContextWithUser(ctx, u), u.ID, courtside.TokenApp, "bench")
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, &davTarget{name: name, base: srv.URL, coll: "/dav/calendars/" + name + "/availability/",
			auth: basicAuth(name, secret), client: newClient(), from: from})
		ids = append(ids, u.ID)
	}
	const n = 6
	for i := 0; i < n; i++ {
		if err := users[0].put(ctx, i, n, 12, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := users[1].put(ctx, 0, n, 12, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.fillAvailability(ctx, path, ids[1], from, 1, n, 12); err != nil {
		t.Fatal(err)
	}
	rows := func(id int64) string {
		var out string
		if err := db.Reader.QueryRow(`SELECT group_concat(r, '|') FROM (SELECT o.name || ' ' || uid || ' ' || component || ' ' || etag || ' ' || hex(data) || ' ' ||
			extent_start || ' ' || extent_end || ' ' || extent_exact || ' ' || size || ' ' || b.starts_at || ' ' || b.ends_at || ' ' || c.version AS r
			FROM availability_objects o JOIN availability_busy b ON b.user_id = o.user_id AND b.name = o.name
			JOIN availability_changes c ON c.user_id = o.user_id AND c.name = o.name WHERE o.user_id = ? ORDER BY o.name)`, id).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if put, sql := rows(ids[0]), rows(ids[1]); put != sql {
		t.Errorf("written with SQL:\n%s\nby PUT:\n%s", sql, put)
	}
	users[1].token = ""
	r, _, err := davOpsFrom(from, n, 12, 1)[3].send(ctx, users[1])
	if err != nil || strings.Count(string(r.body), "bench-0000") != n {
		t.Fatalf("sync-collection: %v %s", err, r.body)
	}
}

// openFile opens a file for the length of the test.
func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
