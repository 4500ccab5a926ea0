package storage_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/migrations"

	"github.com/pressly/goose/v3"
)

// TestMigration_PersonalCalendarLifecycleKeepsObjects upgrades a database written before
// calendars had components and incarnations (migration 00034 makes availability_objects again
// to take VJOURNAL): the objects, their busy time and their occurrences are all kept, the
// calendar takes every component and keeps its sync tokens (no incarnation).
func TestMigration_PersonalCalendarLifecycleKeepsObjects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), 33); err != nil {
		t.Fatal(err)
	}
	const at = "2026-01-01T00:00:00.000Z"
	for _, q := range []string{
		`INSERT INTO users (id, username, role, created_at) VALUES (1, 'interp', 'INTERPRETER', '` + at + `')`,
		`INSERT INTO personal_calendars (user_id, name, display_name, version, created_at, updated_at) VALUES (1, 'availability', 'Availability', 1, '` + at + `', '` + at + `')`,
		`INSERT INTO availability_objects (user_id, calendar, name, uid, component, etag, data, created_at, updated_at, extent_start, extent_end,
			extent_exact, size, occurrences_until) VALUES (1, 'availability', 'a.ics', 'a', 'VEVENT', 'etag-a', X'00', '` + at + `', '` + at + `',
			'2026-12-01T09:00:00.000Z', '2026-12-15T10:00:00.000Z', 0, 1, '~')`,
		`INSERT INTO availability_busy (user_id, calendar, name, starts_at, ends_at) VALUES (1, 'availability', 'a.ics', '2026-12-01T09:00:00.000Z', '2026-12-01T10:00:00.000Z'),
			(1, 'availability', 'a.ics', '2026-12-15T09:00:00.000Z', '2026-12-15T10:00:00.000Z')`,
		`INSERT INTO availability_occurrences (user_id, calendar, name, starts_at, ends_at) VALUES (1, 'availability', 'a.ics', '2026-12-01T09:00:00.000Z', '2026-12-01T10:00:00.000Z'),
			(1, 'availability', 'a.ics', '2026-12-15T09:00:00.000Z', '2026-12-15T10:00:00.000Z')`,
		`INSERT INTO availability_changes (user_id, calendar, name, version, deleted) VALUES (1, 'availability', 'a.ics', 1, 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	if db.Sealer, err = storage.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := storage.NewUserService(db).FindUserByUsername(context.Background(), "interp")
	if err != nil {
		t.Fatal(err)
	}
	ctx := courtside.NewContextWithUser(context.Background(), u)
	c, err := storage.NewAvailabilityService(db).FindPersonalCalendar(ctx, courtside.AvailabilityCalendar)
	if err != nil || c.Version != 1 || c.Incarnation != "" || len(c.Components) != 3 {
		t.Fatalf("the calendar after the migration: %v %+v", err, c)
	}
	o, err := storage.NewAvailabilityService(db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "a.ics")
	if err != nil || o.ETag != "etag-a" || o.ScheduleTag != "" {
		t.Fatalf("the object after the migration: %v %+v", err, o)
	}
	blocks, err := storage.NewAvailabilityService(db).FindBusyBlocks(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(blocks) != 2 {
		t.Fatalf("busy blocks after the migration: %v %+v", err, blocks)
	}
	in, err := storage.NewAvailabilityService(db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, time.Date(2026, 12, 15, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 12, 15, 9, 45, 0, 0, time.UTC))
	if err != nil || len(in) != 1 {
		t.Fatalf("a range met by a stored occurrence after the migration: %v %d", err, len(in))
	}
	out, err := storage.NewAvailabilityService(db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC))
	if err != nil || len(out) != 0 {
		t.Fatalf("a range between the occurrences after the migration: %v %d", err, len(out))
	}
	changes, version, err := storage.NewAvailabilityService(db).AvailabilityChanges(ctx, courtside.AvailabilityCalendar, 0)
	if err != nil || version != 1 || len(changes) != 1 {
		t.Fatalf("changes after the migration: %v %d %+v", err, version, changes)
	}
}
