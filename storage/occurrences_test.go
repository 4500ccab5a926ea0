package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// TestAvailability_RangeDecidedByStoredOccurrences checks that a time-range read decides a
// VEVENT that is not exact by the occurrences stored with it (RFC 4791 section 9.9: overlap, or
// a zero-length occurrence that starts in the range), that an object whose occurrences are
// known only up to a time stays a candidate of the ranges reaching past it, that rewriting an
// object replaces its occurrences and deleting it removes them.
func TestAvailability_RangeDecidedByStoredOccurrences(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	hour := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	put := func(name string, until time.Time, occ ...courtside.Interval) {
		t.Helper()
		o := busyObject(name, name)
		o.ExtentStart, o.ExtentEnd = hour(0), hour(100)
		o.Occurrences, o.OccurrencesUntil, o.OccurrencesKnown = occ, until, true
		if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
			t.Fatal(err)
		}
	}
	// Daily at hours 0, 24, 48 for an hour; a zero-length one at 10; one known to hour 30 only;
	// one whose occurrences were never worked out.
	put("daily.ics", time.Time{}, courtside.Interval{Start: hour(0), End: hour(1)},
		courtside.Interval{Start: hour(24), End: hour(25)}, courtside.Interval{Start: hour(48), End: hour(49)})
	put("point.ics", time.Time{}, courtside.Interval{Start: hour(10), End: hour(10)})
	put("partial.ics", hour(30), courtside.Interval{Start: hour(5), End: hour(6)})
	unknown := busyObject("unknown.ics", "unknown")
	unknown.ExtentStart, unknown.ExtentEnd = hour(0), hour(100)
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, unknown, courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		from, to time.Time
		want     []string
	}{
		{hour(2), hour(4), []string{"unknown.ics"}},                                 // between occurrences
		{hour(1), hour(2), []string{"unknown.ics"}},                                 // an occurrence ends where the range starts
		{hour(23), hour(24), []string{"unknown.ics"}},                               // an occurrence starts where the range ends
		{hour(24), hour(24).Add(time.Minute), []string{"daily.ics", "unknown.ics"}}, // inside one
		{hour(10), hour(11), []string{"point.ics", "unknown.ics"}},                  // a zero-length one at the start
		{hour(9), hour(10), []string{"unknown.ics"}},                                // ... at the end: out
		{hour(5), hour(6), []string{"partial.ics", "unknown.ics"}},                  // known
		{hour(20), hour(29), []string{"daily.ics", "unknown.ics"}},                  // partial is known to be free there
		{hour(20), hour(31), []string{"daily.ics", "partial.ics", "unknown.ics"}},   // reaches past what partial knows
		{time.Time{}, hour(3), []string{"daily.ics", "unknown.ics"}},                // open start
		{hour(49), time.Time{}, []string{"partial.ics", "unknown.ics"}},             // open end
		{hour(200), hour(300), nil},                                                 // past every extent
	} {
		got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, tt.from, tt.to)
		if err != nil || !slices.Equal(names(got), tt.want) {
			t.Errorf("range %v to %v: %v, %v; want %v", tt.from.Sub(start), tt.to.Sub(start), names(got), err, tt.want)
		}
	}

	// Rewritten: its old occurrences are gone.
	put("daily.ics", time.Time{}, courtside.Interval{Start: hour(3), End: hour(4)})
	if got, _ := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar, hour(24), hour(25)); slices.Contains(names(got), "daily.ics") {
		t.Errorf("a rewritten object matches by its old occurrences")
	}
	if err := storage.NewAvailabilityService(f.db).DeleteAvailabilityObject(ctx, courtside.AvailabilityCalendar, "daily.ics", ""); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "availability_occurrences WHERE name = 'daily.ics'"); n != 0 {
		t.Errorf("%d occurrences left after the object was deleted", n)
	}
	// More than the cap is refused, nothing written.
	o := busyObject("many.ics", "many")
	o.OccurrencesKnown = true
	for i := range courtside.MaxBusyInstances + 1 {
		o.Occurrences = append(o.Occurrences, courtside.Interval{Start: hour(i), End: hour(i)})
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("%d occurrences: %v, want EINVALID", len(o.Occurrences), err)
	}
}

// TestAvailability_BackfillOccurrences checks that serve's start-up backfill gives the VEVENTs
// stored without occurrences (before migration 00017) theirs, by the CalDAV edge's own
// reading, after which a range between two of a weekly event's occurrences leaves it out.
func TestAvailability_BackfillOccurrences(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	legacy := func(name, extra string) {
		t.Helper()
		o := busyObject(name, name)
		o.Data = []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:" + name +
			"\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T130000Z\r\nDTEND:20261201T140000Z\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n")
		if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
			t.Fatal(err)
		}
	}
	legacy("weekly.ics", "RRULE:FREQ=WEEKLY;COUNT=3\r\n")
	legacy("endless.ics", "RRULE:FREQ=WEEKLY\r\n")
	legacy("broken.ics", "RRULE:FREQ=NEVER\r\n")
	between := func() []string {
		got, err := storage.NewAvailabilityService(f.db).FindAvailabilityObjectsInRange(ctx, courtside.AvailabilityCalendar,
			time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		return names(got)
	}
	if got, want := between(), []string{"broken.ics", "endless.ics", "weekly.ics"}; !slices.Equal(got, want) {
		t.Fatalf("before the backfill, 10 December: %v; want every object a candidate %v", got, want)
	}
	n, err := storage.NewAvailabilityService(f.db).BackfillAvailabilityOccurrences(context.Background(), calendar.ObjectOccurrences)
	if err != nil || n != 2 {
		t.Fatalf("backfill: %d, %v; want 2", n, err)
	}
	if got, want := between(), []string{"broken.ics"}; !slices.Equal(got, want) {
		t.Errorf("after the backfill, 10 December: %v; want %v", got, want)
	}
	if n := f.count(t, "availability_occurrences WHERE name = 'weekly.ics'"); n != 3 {
		t.Errorf("weekly.ics: %d occurrences stored, want 3", n)
	}
	if n, err := storage.NewAvailabilityService(f.db).BackfillAvailabilityOccurrences(context.Background(), calendar.ObjectOccurrences); err != nil || n != 0 {
		t.Errorf("a second backfill filled %d, %v; want 0", n, err)
	}
}

// TestAvailability_CalendarByteQuota fills a calendar up to MaxCalendarBytes: the object that
// would pass it is refused with a limit error, nothing written; replacing an object with one of
// the same size still works, and a deletion makes room.
func TestAvailability_CalendarByteQuota(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	data := make([]byte, courtside.MaxCalendarObjectBytes)
	n := courtside.MaxCalendarBytes / len(data)
	for i := range n {
		o := busyObject(fmt.Sprintf("o%03d.ics", i), fmt.Sprintf("o%03d", i))
		o.Data = data
		if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	o := busyObject("one-more.ics", "one-more")
	o.Data = data
	_, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{})
	if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != courtside.FieldLimit {
		t.Fatalf("past the quota: %v, want EINVALID on %q", err, courtside.FieldLimit)
	}
	if _, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "one-more.ics"); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("the refused object was stored: %v", err)
	}
	again := busyObject("o000.ics", "o000")
	again.Data, again.ETag = data, "etag-again"
	if created, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, again, courtside.PutCondition{}); err != nil || created {
		t.Errorf("replacing an object of the full calendar: %v, %v", created, err)
	}
	// A deletion makes room again.
	if err := storage.NewAvailabilityService(f.db).DeleteAvailabilityObject(ctx, courtside.AvailabilityCalendar, "o001.ics", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, o, courtside.PutCondition{}); err != nil {
		t.Errorf("after a deletion: %v", err)
	}
}
