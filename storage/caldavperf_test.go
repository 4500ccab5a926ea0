package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// names returns the objects' names.
func names(objs []*courtside.AvailabilityObject) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

// TestAvailability_ExtentRangeHeadsAndNamed checks the reads that spare the CalDAV edge from
// decoding every object: the extent prefilter (inclusive at both ends, open extents always
// in), the named read and the read without data.
func TestAvailability_ExtentRangeHeadsAndNamed(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	hour := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	put := func(name string, from, to time.Time, exact bool) {
		t.Helper()
		o := busyObject(name, name, courtside.Interval{Start: hour(0), End: hour(1)})
		o.ExtentStart, o.ExtentEnd, o.ExtentExact = from, to, exact
		if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
			t.Fatal(err)
		}
	}
	put("a.ics", hour(0), hour(1), true)
	put("b.ics", hour(10), hour(11), true)
	put("c.ics", hour(20), time.Time{}, true) // open end: never exact
	put("d.ics", time.Time{}, time.Time{}, false)
	put("e.ics", hour(5), hour(5), true) // zero length

	for _, tt := range []struct {
		from, to time.Time
		want     []string
	}{
		{hour(1), hour(5), []string{"a.ics", "d.ics", "e.ics"}}, // both edges count
		{hour(2), hour(4), []string{"d.ics"}},
		{hour(12), hour(30), []string{"c.ics", "d.ics"}},
		{time.Time{}, hour(0), []string{"a.ics", "d.ics"}},
		{hour(11), time.Time{}, []string{"b.ics", "c.ics", "d.ics"}},
	} {
		got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, tt.from, tt.to)
		if err != nil || !slices.Equal(names(got), tt.want) {
			t.Errorf("range %v to %v: %v, %v; want %v", tt.from, tt.to, names(got), err, tt.want)
		}
	}
	if _, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, hour(2), hour(1)); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("a range ending before it starts: %v, want EINVALID", err)
	}
	got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "c.ics")
	if err != nil || got.ExtentExact || !got.ExtentEnd.IsZero() || !got.ExtentStart.Equal(hour(20)) {
		t.Errorf("c.ics: %+v, %v; want an open end, not exact", got, err)
	}
	if got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "a.ics"); err != nil || !got.ExtentExact ||
		!got.ExtentStart.Equal(hour(0)) || !got.ExtentEnd.Equal(hour(1)) || got.Size != int64(len(got.Data)) {
		t.Errorf("a.ics: %+v, %v", got, err)
	}

	named, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsNamed(ctx, courtside.AvailabilityCalendar, []string{"e.ics", "missing.ics", "b.ics"})
	if err != nil || !slices.Equal(names(named), []string{"b.ics", "e.ics"}) || named[0].Data == nil {
		t.Errorf("named: %v, %v", names(named), err)
	}
	heads, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectHeads(ctx, courtside.AvailabilityCalendar)
	if err != nil || len(heads) != 5 {
		t.Fatalf("heads: %v, %v", names(heads), err)
	}
	for _, h := range heads {
		if h.Data != nil || h.Size == 0 || h.ETag == "" {
			t.Errorf("head %s: data %v, size %d, ETag %q", h.Name, h.Data != nil, h.Size, h.ETag)
		}
	}
	// Another user reads none of it, and an unknown calendar is not found.
	if objs, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(f.as(f.advocate), courtside.AvailabilityCalendar, time.Time{}, time.Time{}); err != nil || len(objs) != 0 {
		t.Errorf("another user's range read: %v, %v", names(objs), err)
	}
	if _, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectHeads(ctx, "nope"); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("unknown calendar: %v", err)
	}
	// An extent that ends before it starts is refused, nothing written.
	bad := busyObject("f.ics", "f")
	bad.ExtentStart, bad.ExtentEnd = hour(2), hour(1)
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, bad, courtside.PutCondition{}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("backwards extent: %v", err)
	}
}

// TestAvailability_RowsBeforeExtentsAreCandidates checks the migration's defaults: a row
// written without an extent (as before 00009) is found by every range.
func TestAvailability_RowsBeforeExtentsAreCandidates(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	fresh := busyObject("new.ics", "new")
	fresh.ExtentStart, fresh.ExtentEnd = start, start.Add(time.Hour)
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, fresh, courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	// A row as the code before the migration wrote it: without the extent columns.
	if _, err := f.db.Writer.Exec(`INSERT INTO availability_objects (user_id, calendar, name, uid, component, etag, data, created_at, updated_at)
		SELECT user_id, calendar, 'old.ics', 'old', component, etag, data, created_at, updated_at FROM availability_objects WHERE name = 'new.ics'`); err != nil {
		t.Fatal(err)
	}
	var s, e string
	if err := f.db.Reader.QueryRow(`SELECT extent_start, extent_end FROM availability_objects WHERE name = 'old.ics'`).Scan(&s, &e); err != nil || s != "" || e != "~" {
		t.Fatalf("stored open extent: %q %q, %v", s, e, err)
	}
	got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, start.AddDate(5, 0, 0), start.AddDate(5, 0, 1))
	if err != nil || !slices.Equal(names(got), []string{"old.ics"}) {
		t.Errorf("an open extent in a range years away: %v, %v", names(got), err)
	}
}

// TestCalendar_HearingsInRangeReadOnlyTheRange checks that the time range of a hearings
// calendar query is in the SQL: the hearings it returns are exactly those of the whole
// calendar that overlap it (start before its end, end after its start).
func TestCalendar_HearingsInRangeReadOnlyTheRange(t *testing.T) {
	f := newFixture(t)
	for i := range 10 {
		f.postHearingAt(t, f.kase.ID, start.AddDate(0, 0, i), time.Hour)
	}
	ctx := context.Background()
	all, err := storage.NewCalendarService(f.db).FindCalendarHearings(ctx, f.prosecutor.ID)
	if err != nil || len(all) != 10 {
		t.Fatalf("whole calendar: %d, %v", len(all), err)
	}
	for _, tt := range []struct{ from, to time.Time }{
		{start.AddDate(0, 0, 2), start.AddDate(0, 0, 5)},                // a start exactly at to is out
		{start.AddDate(0, 0, 2).Add(time.Hour), start.AddDate(0, 0, 3)}, // an end exactly at from is out
		{time.Time{}, start.AddDate(0, 0, 1)},                           // open start
		{start.AddDate(0, 0, 8).Add(30 * time.Minute), time.Time{}},     // open end
		{start.AddDate(1, 0, 0), start.AddDate(1, 1, 0)},                // nothing
	} {
		got, err := storage.NewCalendarService(f.db).FindCalendarHearingsInRange(ctx, f.prosecutor.ID, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		var want, have []int64
		for _, ch := range all {
			if (tt.to.IsZero() || ch.Hearing.StartsAt.Before(tt.to)) && (tt.from.IsZero() || ch.Hearing.EndsAt.After(tt.from)) {
				want = append(want, ch.Hearing.ID)
			}
		}
		for _, ch := range got {
			have = append(have, ch.Hearing.ID)
		}
		if !slices.Equal(have, want) {
			t.Errorf("range %v to %v: %v, want %v", tt.from, tt.to, have, want)
		}
	}
	if _, err := storage.NewCalendarService(f.db).FindCalendarHearingsInRange(ctx, f.prosecutor.ID, start.AddDate(0, 0, 2), start); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("a backwards range: %v, want EINVALID", err)
	}
}

// TestAvailability_BackfillExtents checks that serve's start-up backfill gives the rows
// stored before migration 00009 their extent, by the CalDAV edge's own reading, and leaves
// VTODOs and rows it cannot read open.
func TestAvailability_BackfillExtents(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	ev := func(uid, extra string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T130000Z\r\nDTEND:20261201T140000Z\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	legacy := func(name, component string, data []byte) {
		t.Helper()
		o := busyObject(name, name)
		o.Component, o.Data = component, data
		if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
			t.Fatal(err)
		}
	}
	legacy("single.ics", "VEVENT", ev("single", ""))
	legacy("weekly.ics", "VEVENT", ev("weekly", "RRULE:FREQ=WEEKLY;COUNT=3\r\n"))
	legacy("endless.ics", "VEVENT", ev("endless", "RRULE:FREQ=WEEKLY\r\n"))
	legacy("todo.ics", "VTODO", []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:todo\r\nDTSTAMP:20261101T000000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"))
	legacy("broken.ics", "VEVENT", []byte("not a calendar"))

	n, err := storage.NewAvailabilityService(f.db).BackfillAvailabilityExtents(context.Background(), calendar.ObjectExtent)
	if err != nil || n != 3 {
		t.Fatalf("backfill: %d, %v; want 3", n, err)
	}
	single, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "single.ics")
	if err != nil || !single.ExtentExact || !single.ExtentStart.Equal(time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)) ||
		!single.ExtentEnd.Equal(time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("single after the backfill: %+v, %v", single, err)
	}
	got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar,
		time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC))
	if want := []string{"broken.ics", "endless.ics", "todo.ics", "weekly.ics"}; err != nil || !slices.Equal(names(got), want) {
		t.Errorf("after the backfill, 10 December: %v, %v; want %v", names(got), err, want)
	}
	got, err = storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar,
		time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC))
	if want := []string{"broken.ics", "endless.ics", "todo.ics"}; err != nil || !slices.Equal(names(got), want) {
		t.Errorf("after the backfill, January: %v, %v; want %v", names(got), err, want)
	}
	if n, err := storage.NewAvailabilityService(f.db).BackfillAvailabilityExtents(context.Background(), calendar.ObjectExtent); err != nil || n != 0 {
		t.Errorf("a second backfill filled %d, %v; want 0", n, err)
	}
}
