package storage_test

import (
	"courtside/storage"
	"strings"
	"testing"
	"time"

	"courtside"
)

// busyObject is an availability object of uid busy over the intervals; its ETag names them.
func busyObject(name, uid string, busy ...courtside.Interval) *courtside.AvailabilityObject {
	etag := "etag-" + uid
	for _, b := range busy {
		etag += "-" + b.Start.Format("0102T1504")
	}
	return &courtside.AvailabilityObject{Calendar: courtside.AvailabilityCalendar, Name: name, UID: uid,
		Component: "VEVENT", ETag: etag, Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), Busy: busy}
}

func TestAvailability_PutFindDeleteAndChanges(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.interpreter)
	cals, err := storage.NewAvailabilityService(f.db).FindPersonalCalendars(ctx)
	if err != nil || len(cals) != 1 || cals[0].Name != courtside.AvailabilityCalendar || cals[0].Version != 0 {
		t.Fatalf("calendars before any write: %+v, %v", cals, err)
	}
	auditsBefore := f.count(t, "audit_log")
	block := courtside.Interval{Start: start, End: start.Add(time.Hour)}
	created, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("a.ics", "a", block), courtside.PutCondition{IfNoneMatch: true})
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	if f.count(t, "audit_log") != auditsBefore+1 {
		t.Fatal("a write without its audit row")
	}
	o, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(ctx, courtside.AvailabilityCalendar, "a.ics")
	if err != nil || o.UID != "a" {
		t.Fatalf("find: %+v, %v", o, err)
	}
	// Preconditions: nothing is written when they fail.
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("a.ics", "a"), courtside.PutCondition{IfNoneMatch: true}); courtside.ErrorField(err) != courtside.FieldPrecondition {
		t.Fatalf("If-None-Match on an existing object: %v", err)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("a.ics", "a"), courtside.PutCondition{IfMatch: "stale"}); courtside.ErrorField(err) != courtside.FieldPrecondition {
		t.Fatalf("stale If-Match: %v", err)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("b.ics", "a"), courtside.PutCondition{}); courtside.ErrorField(err) != courtside.FieldUID {
		t.Fatalf("UID clash: %v", err)
	}
	if f.count(t, "audit_log") != auditsBefore+1 || f.count(t, "availability_objects") != 1 {
		t.Fatal("a refused write wrote something")
	}
	// Overwrite under the right ETag replaces the busy blocks.
	moved := courtside.Interval{Start: start.Add(2 * time.Hour), End: start.Add(3 * time.Hour)}
	created, err = storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("a.ics", "a", moved), courtside.PutCondition{IfMatch: o.ETag})
	if err != nil || created {
		t.Fatalf("overwrite: %v, %v", created, err)
	}
	blocks, err := storage.NewAvailabilityService(f.db).FindBusyBlocks(ctx, start, start.Add(24*time.Hour))
	if err != nil || len(blocks) != 1 || !blocks[0].Start.Equal(moved.Start) {
		t.Fatalf("busy blocks after the overwrite: %+v, %v", blocks, err)
	}
	// Another user sees none of it.
	if _, err := storage.NewAvailabilityService(f.db).FindAvailabilityObject(f.as(f.advocate), courtside.AvailabilityCalendar, "a.ics"); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("another user's object: %v", err)
	}
	if b, _ := storage.NewAvailabilityService(f.db).FindBusyBlocks(f.as(f.advocate), start, start.Add(24*time.Hour)); len(b) != 0 {
		t.Fatalf("another user's busy blocks: %+v", b)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, busyObject("c.ics", "c"), courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewAvailabilityService(f.db).DeleteAvailabilityObject(ctx, courtside.AvailabilityCalendar, "a.ics", "stale"); courtside.ErrorField(err) != courtside.FieldPrecondition {
		t.Fatalf("DELETE with a stale If-Match: %v", err)
	}
	if err := storage.NewAvailabilityService(f.db).DeleteAvailabilityObject(ctx, courtside.AvailabilityCalendar, "a.ics", ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := storage.NewAvailabilityService(f.db).FindBusyBlocks(ctx, start, start.Add(24*time.Hour)); len(b) != 0 {
		t.Fatalf("busy blocks of a deleted object: %+v", b)
	}
	changes, version, err := storage.NewAvailabilityService(f.db).AvailabilityChanges(ctx, courtside.AvailabilityCalendar, 1)
	if err != nil || version != 4 || len(changes) != 2 || changes[0].Name != "c.ics" || changes[0].Deleted ||
		changes[1].Name != "a.ics" || !changes[1].Deleted {
		t.Fatalf("changes since 1: %+v, version %d, %v", changes, version, err)
	}
}

func TestAvailability_CalendarsAndLimits(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(f.advocate)
	if _, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: "travel", DisplayName: "Travel"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"travel", courtside.AvailabilityCalendar} {
		if _, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: name, DisplayName: ""}); courtside.ErrorCode(err) != courtside.ECONFLICT {
			t.Errorf("create %s again: %v", name, err)
		}
	}
	for _, name := range []string{"", "hearings", "a/b", strings.Repeat("x", 65)} {
		if _, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: name, DisplayName: ""}); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("create %q: %v", name, err)
		}
	}
	// availability and travel exist: 18 more reach the limit of 20.
	for i := 0; i < courtside.MaxPersonalCalendars-2; i++ {
		if _, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: "c" + string(rune('a'+i)), DisplayName: ""}); err != nil {
			t.Fatalf("calendar %d: %v", i, err)
		}
	}
	if _, err := storage.NewAvailabilityService(f.db).CreatePersonalCalendar(ctx, courtside.NewPersonalCalendar{Name: "onemore", DisplayName: ""}); courtside.ErrorField(err) != courtside.FieldLimit {
		t.Fatalf("calendar over the limit: %v", err)
	}
	cals, err := storage.NewAvailabilityService(f.db).FindPersonalCalendars(ctx)
	if err != nil || len(cals) != courtside.MaxPersonalCalendars || cals[0].Name != courtside.AvailabilityCalendar {
		t.Fatalf("calendars: %d, %v", len(cals), err)
	}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, &courtside.AvailabilityObject{Calendar: "nope", Name: "a.ics", UID: "a",
		Component: "VEVENT", ETag: "x", Data: []byte("x")}, courtside.PutCondition{}); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("PUT into a missing calendar: %v", err)
	}
	big := &courtside.AvailabilityObject{Calendar: "travel", Name: "a.ics", UID: "a", Component: "VEVENT", ETag: "x",
		Data: make([]byte, courtside.MaxCalendarObjectBytes+1)}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(ctx, big, courtside.PutCondition{}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Fatalf("object over the size limit: %v", err)
	}
}

func TestAvailability_BusyInterpreterIsNotACandidate(t *testing.T) {
	f := newBookingFixture(t)
	other := f.addInterpreter(t, "es-2", "es:CERTIFIED")
	cands, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es")
	if err != nil || len(cands) != 2 || !cands[0].Available || cands[0].Interpreter.ID != f.interpreter.ID {
		t.Fatalf("candidates before: %+v, %v", cands, err)
	}
	// The first interpreter blocks the half hour before the hearing ends in their own calendar.
	block := courtside.Interval{Start: f.hearing.EndsAt.Add(-30 * time.Minute), End: f.hearing.EndsAt.Add(time.Hour)}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(f.as(f.interpreter), busyObject("dentist.ics", "dentist", block), courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	cands, err = storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es")
	if err != nil || len(cands) != 2 {
		t.Fatalf("candidates: %+v, %v", cands, err)
	}
	if c := cands[0]; c.Interpreter.ID != other.ID || !c.Available {
		t.Errorf("first candidate %+v, want the free one", c)
	}
	if c := cands[1]; c.Interpreter.ID != f.interpreter.ID || c.Available || !strings.HasPrefix(c.Reason, "Busy in their own calendar") {
		t.Errorf("busy candidate %+v", c)
	}
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != other.ID {
		t.Fatalf("request offered %+v, %v; want the free interpreter", b, err)
	}
	// A block that ends when the hearing starts does not count.
	if err := storage.NewAvailabilityService(f.db).DeleteAvailabilityObject(f.as(f.interpreter), courtside.AvailabilityCalendar, "dentist.ics", ""); err != nil {
		t.Fatal(err)
	}
	edge := courtside.Interval{Start: f.hearing.StartsAt.Add(-time.Hour), End: f.hearing.StartsAt}
	if _, err := storage.NewAvailabilityService(f.db).PutAvailabilityObject(f.as(f.interpreter), busyObject("edge.ics", "edge", edge), courtside.PutCondition{}); err != nil {
		t.Fatal(err)
	}
	cands, err = storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if c.Interpreter.ID == f.interpreter.ID && strings.HasPrefix(c.Reason, "Busy in their own calendar") {
			t.Errorf("a block ending at the start made the interpreter busy: %+v", c)
		}
	}
}
