package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// objectWorld is the booking fixture with the calendar projection keeping objects (rendered by
// the CalDAV edge's renderer, as serve wires it), run over the event log after each step.
type objectWorld struct {
	*bookingFixture
	last     int64                      // the last event projected
	versions map[int64]int64            // each user's calendar version at the last check
	seen     map[int64]map[int64]string // each user's stored ETags, by hearing, at the last check
}

func newObjectWorld(t *testing.T) *objectWorld {
	t.Helper()
	w := &objectWorld{bookingFixture: newBookingFixture(t), versions: map[int64]int64{}, seen: map[int64]map[int64]string{}}
	w.db.RenderCalendar = calendar.RenderStored
	w.project(t)
	return w
}

// project runs the calendar projection over the events written since the last call.
func (w *objectWorld) project(t *testing.T) {
	t.Helper()
	storagetest.Drain(t, w.db, &w.last, storage.NewCalendarService(w.db).ProjectCalendar)
}

// stored returns the user's stored objects with their data, by hearing.
func (w *objectWorld) stored(t *testing.T, u *courtside.User) map[int64]*courtside.CalendarObject {
	t.Helper()
	objs, err := storage.NewCalendarService(w.db).FindCalendarObjects(context.Background(), u.ID, time.Time{}, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]*courtside.CalendarObject{}
	for _, o := range objs {
		out[o.HearingID] = o
	}
	return out
}

// check projects, then compares every user's stored calendar with the membership rule read
// live from the domain tables and rendered now: the same hearings, each with the same bytes,
// its ETag the hash of those bytes. Every hearing whose stored object appeared, changed or left
// since the last check is among the user's changes since then, a departure as a deletion (a
// calendar checked for the first time is read whole, as by an initial sync).
func (w *objectWorld) check(t *testing.T, step string, users ...*courtside.User) {
	t.Helper()
	w.project(t)
	ctx := context.Background()
	for _, u := range users {
		live, err := storage.NewCalendarService(w.db).FindCalendarHearings(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := w.stored(t, u)
		if len(stored) != len(live) {
			t.Errorf("%s: %s's calendar stores %d objects, the rule gives %d hearings", step, u.Username, len(stored), len(live))
		}
		now := map[int64]string{}
		for _, ch := range live {
			want, err := calendar.RenderStored(ch)
			if err != nil {
				t.Fatal(err)
			}
			o := stored[ch.Hearing.ID]
			switch {
			case o == nil:
				t.Errorf("%s: %s's calendar lacks hearing %d", step, u.Username, ch.Hearing.ID)
				continue
			case !bytes.Equal(o.Data, want.Data) || o.ETag != want.ETag:
				t.Errorf("%s: %s's object of hearing %d differs from the hearing rendered now:\n%s\nwant\n%s", step, u.Username,
					ch.Hearing.ID, o.Data, want.Data)
			case o.ETag != calendar.ETag(o.Data) || o.Size != int64(len(o.Data)):
				t.Errorf("%s: %s's object of hearing %d: ETag %s, size %d for %d bytes", step, u.Username, ch.Hearing.ID, o.ETag, o.Size, len(o.Data))
			case !o.StartsAt.Equal(ch.Hearing.StartsAt) || !o.EndsAt.Equal(ch.Hearing.EndsAt):
				t.Errorf("%s: %s's object of hearing %d spans %s to %s", step, u.Username, ch.Hearing.ID, o.StartsAt, o.EndsAt)
			}
			now[ch.Hearing.ID] = o.ETag
		}
		changes, version, err := storage.NewCalendarService(w.db).CalendarObjectChanges(ctx, u.ID, w.versions[u.ID], false)
		if err != nil {
			t.Fatal(err)
		}
		reported := map[int64]courtside.CalendarObjectChange{}
		for _, c := range changes {
			reported[c.HearingID] = c
		}
		if _, known := w.seen[u.ID]; !known {
			// A calendar seen for the first time is read whole (an initial sync), not by changes.
			w.seen[u.ID], w.versions[u.ID] = now, version
			continue
		}
		for id, etag := range now {
			if w.seen[u.ID][id] == etag {
				continue
			}
			if c, ok := reported[id]; !ok || c.Deleted || c.Object == nil || c.Object.ETag != etag {
				t.Errorf("%s: hearing %d changed in %s's calendar, sync reports %+v", step, id, u.Username, c)
			}
		}
		for id := range w.seen[u.ID] {
			if _, ok := now[id]; ok {
				continue
			}
			if c, ok := reported[id]; !ok || !c.Deleted || c.Object != nil {
				t.Errorf("%s: hearing %d left %s's calendar, sync reports %+v", step, id, u.Username, c)
			}
		}
		w.seen[u.ID], w.versions[u.ID] = now, version
	}
}

// TestCalendarObjects_FollowTheRule walks a hearing through its life, with two advocates, three
// interpreters and a prosecutor who joins the office late, and checks after each step that
// every stored calendar is the membership rule rendered now, and that sync reports each change
// and each departure.
func TestCalendarObjects_FollowTheRule(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	second := w.addInterpreter(t, "es-2", "es:CERTIFIED")
	third := w.addInterpreter(t, "es-3", "es:CERTIFIED")
	users := []*courtside.User{w.prosecutor, w.otherProsecutor, w.advocate, w.otherAdvocate, w.interpreter, second, third, w.coordinator}
	w.check(t, "posted", users...)
	if got := w.stored(t, w.prosecutor); len(got) != 1 || got[w.hearing.ID] == nil {
		t.Fatalf("the office's calendar: %+v", got)
	}

	// Two victims accompanied by one advocate: both pseudonyms, in order; the other advocate,
	// accompanying one of them, sees that one only; the prosecutor none.
	other := &courtside.Victim{Pseudonym: "V-2", LegalName: "Other Hidden Name", PreferredLanguage: "es"}
	w.must(t, storage.NewVictimService(w.db).RegisterVictim(w.as(w.coordinator), other))
	w.must(t, storage.NewCaseService(w.db).LinkVictim(w.as(w.coordinator), w.kase.ID, other.ID, false))
	for _, a := range []struct {
		victim   *courtside.Victim
		advocate *courtside.User
	}{{w.victim, w.advocate}, {other, w.advocate}, {other, w.otherAdvocate}} {
		if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, a.victim.ID, a.advocate.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.check(t, "assigned", users...)
	for _, tc := range []struct {
		u    *courtside.User
		want string
	}{{w.advocate, `Accompanying: V-2\, V-3`}, {w.otherAdvocate, "Accompanying: V-2\r\n"}} {
		if o := w.stored(t, tc.u)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), tc.want) {
			t.Errorf("%s's object lacks %q", tc.u.Username, tc.want)
		}
	}
	if o := w.stored(t, w.prosecutor)[w.hearing.ID]; strings.Contains(string(o.Data), "V-") || strings.Contains(string(o.Data), "Hidden") {
		t.Errorf("the office's object names a victim:\n%s", o.Data)
	}

	// An offer: the offered interpreter's calendar holds the hearing with NEEDS-ACTION; nobody
	// else's object changes.
	prosETag := w.stored(t, w.prosecutor)[w.hearing.ID].ETag
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), w.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	offered := map[int64]*courtside.User{w.interpreter.ID: w.interpreter, second.ID: second, third.ID: third}[b.InterpreterID]
	w.check(t, "offered", users...)
	if o := w.stored(t, offered)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), "PARTSTAT=NEEDS-ACTION") {
		t.Fatalf("the offered interpreter's object: %+v", o)
	}
	if w.stored(t, w.prosecutor)[w.hearing.ID].ETag != prosETag {
		t.Error("an offer changed the office's object")
	}

	// A decline takes the hearing out of that interpreter's calendar and offers it to the next.
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(offered), b.ID, false, "away"); err != nil {
		t.Fatal(err)
	}
	w.check(t, "declined", users...)
	if got := w.stored(t, offered); len(got) != 0 {
		t.Fatalf("the hearing stayed in the declining interpreter's calendar: %+v", got)
	}

	// The next offer expires unanswered: it leaves that calendar too.
	bs, err := storage.NewBookingService(w.db).FindBookings(w.as(w.prosecutor), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	if err != nil {
		t.Fatal(err)
	}
	var next *courtside.InterpreterBooking
	for _, x := range bs {
		if x.Status == courtside.BookingOffered {
			next = x
		}
	}
	if next == nil || next.RespondBy == nil {
		t.Fatalf("no next offer: %+v", bs)
	}
	w.db.Now = func() time.Time { return next.RespondBy.Add(time.Minute) }
	if n, err := storage.NewBookingService(w.db).ExpireOffers(ctx); err != nil || n != 1 {
		t.Fatalf("expire offers: %d, %v", n, err)
	}
	w.check(t, "expired", users...)

	// The last candidate accepts: PARTSTAT=ACCEPTED.
	bs, _ = storage.NewBookingService(w.db).FindBookings(w.as(w.prosecutor), courtside.BookingFilter{HearingIDs: []int64{w.hearing.ID}})
	var last *courtside.InterpreterBooking
	for _, x := range bs {
		if x.Status == courtside.BookingOffered {
			last = x
		}
	}
	if last == nil {
		t.Fatalf("no third offer: %+v", bs)
	}
	taker := map[int64]*courtside.User{w.interpreter.ID: w.interpreter, second.ID: second, third.ID: third}[last.InterpreterID]
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(taker), last.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	w.check(t, "accepted", users...)
	if o := w.stored(t, taker)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), "PARTSTAT=ACCEPTED") {
		t.Fatalf("the accepting interpreter's object: %+v", o)
	}

	// A move: everyone's object changes; the interpreter must reconfirm (NEEDS-ACTION again).
	moved := w.hearing.StartsAt.Add(48 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved,
		EndsAt: moved.Add(time.Hour), Reason: "court closed"}); err != nil {
		t.Fatal(err)
	}
	w.check(t, "moved", users...)
	if o := w.stored(t, taker)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), "PARTSTAT=NEEDS-ACTION") {
		t.Fatalf("the interpreter's object after the move: %+v", o)
	}

	// Declining at reconfirmation takes it out of their calendar.
	if _, err := storage.NewBookingService(w.db).RespondToBooking(w.as(taker), last.ID, false, "no longer free"); err != nil {
		t.Fatal(err)
	}
	w.check(t, "declined at reconfirmation", users...)

	// A prosecutor who joins the office sees its calendar whole, with no event.
	late, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "pros-late", Role: courtside.RoleProsecutor},
		OrganizationName: "DA Office"})
	if err != nil {
		t.Fatal(err)
	}
	users = append(users, late)
	w.check(t, "joined", users...)
	if got := w.stored(t, late); len(got) != 1 {
		t.Fatalf("the new prosecutor's calendar: %+v", got)
	}

	// A cancellation: the advocates keep the hearing, cancelled, without pseudonyms (the
	// accompaniments are cancelled with it).
	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	w.check(t, "cancelled", users...)
	if o := w.stored(t, w.advocate)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), "STATUS:CANCELLED") {
		t.Fatalf("the advocate's object after the cancellation: %+v", o)
	}
}

func (w *objectWorld) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCalendarObjects_UnchangedObjectsAreNotRewritten checks that an event that changes nothing
// in a calendar leaves its objects and its version alone (the advocate's, when an interpreter
// is offered the hearing), while the calendars it does change get a new version.
func TestCalendarObjects_UnchangedObjectsAreNotRewritten(t *testing.T) {
	w := newObjectWorld(t)
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	users := []*courtside.User{w.prosecutor, w.advocate, w.interpreter}
	w.check(t, "assigned", users...)
	before := w.versions[w.advocate.ID]
	if _, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), w.hearing.ID, "es", nil); err != nil {
		t.Fatal(err)
	}
	w.check(t, "offered", users...)
	if w.versions[w.advocate.ID] != before {
		t.Errorf("an offer moved the advocate's calendar from version %d to %d", before, w.versions[w.advocate.ID])
	}
	if w.versions[w.interpreter.ID] == 0 {
		t.Error("the offered interpreter's calendar did not move")
	}
}

// TestCalendarObjects_Backfill rebuilds the objects of a database written before they were
// stored (what migration 00019 leaves: no objects, every hearing on the backfill queue): the
// backfill renders the same objects the projection kept, moves no change token and empties the
// queue; without a renderer it refuses.
func TestCalendarObjects_Backfill(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	h2 := w.postHearing(t, "second")
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), h2.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	interp := w.interpreter
	if b.InterpreterID != interp.ID {
		t.Fatalf("offered to %d", b.InterpreterID)
	}
	w.project(t)
	snapshot := func() string {
		t.Helper()
		rows, err := w.db.Writer.QueryContext(ctx, `SELECT view, owner_id, o.hearing_id, etag, size, starts_at, ends_at, modified_at,
			data, in_feed, cancelled_at FROM calendar_objects o ORDER BY view, owner_id, o.hearing_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out strings.Builder
		for rows.Next() {
			var cols [11]any
			ptrs := make([]any, len(cols))
			for i := range cols {
				ptrs[i] = &cols[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&out, cols[:]...)
		}
		var versions, events string
		if err := w.db.Writer.QueryRowContext(ctx, `SELECT string_agg(user_id || ':' || version, ' ') FROM calendar_versions`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		feed, err := w.db.Writer.QueryContext(ctx, `SELECT hearing_id, event FROM calendar_feed_events ORDER BY hearing_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer feed.Close()
		for feed.Next() {
			var id int64
			var event []byte
			if err := feed.Scan(&id, &event); err != nil {
				t.Fatal(err)
			}
			events += fmt.Sprintf("%d:%X ", id, event)
		}
		return out.String() + versions + "\n" + events
	}
	want := snapshot()
	if n := strings.Count(want, "\n"); n != 5 { // the office's two, the advocate's one, the interpreter's one; the versions
		t.Fatalf("stored objects:\n%s", want)
	}
	for _, table := range []string{"calendar_objects", "calendar_feed_events"} {
		if _, err := w.db.Writer.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.db.Writer.ExecContext(ctx, `INSERT INTO calendar_backfill (hearing_id) SELECT id FROM hearings`); err != nil {
		t.Fatal(err)
	}

	render := w.db.RenderCalendar
	w.db.RenderCalendar = nil
	if _, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx); err == nil {
		t.Fatal("a backfill without a renderer")
	}
	w.db.RenderCalendar = render
	n, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx)
	if err != nil || n != 2 {
		t.Fatalf("backfill: %d, %v", n, err)
	}
	if got := snapshot(); got != want {
		t.Errorf("after the backfill:\n%s\nwant\n%s", got, want)
	}
	if w.count(t, "calendar_backfill") != 0 {
		t.Error("the backfill queue is not empty")
	}
	if n, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx); err != nil || n != 0 {
		t.Errorf("a second backfill: %d, %v", n, err)
	}

	// The projection takes the hearing it renders off the queue.
	if _, err := w.db.Writer.ExecContext(ctx, `INSERT INTO calendar_backfill (hearing_id) VALUES (?)`, h2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), h2.ID, courtside.HearingUpdate{StartsAt: h2.StartsAt.Add(time.Hour),
		EndsAt: h2.EndsAt.Add(time.Hour), Reason: "judge ill"}); err != nil {
		t.Fatal(err)
	}
	w.project(t)
	if w.count(t, "calendar_backfill") != 0 {
		t.Error("the projected hearing stayed on the backfill queue")
	}
}

// TestCalendarObjects_Reads checks the stored reads: the time range by the overlap rule, the
// listing without data, the objects by hearing, users without a calendar and unknown users.
func TestCalendarObjects_Reads(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	var hs []*courtside.Hearing
	for i := range 4 {
		h := &courtside.Hearing{CaseID: w.kase.ID, Kind: courtside.KindMotion, StartsAt: start.AddDate(0, 0, 7*i), EndsAt: start.AddDate(0, 0, 7*i).Add(time.Hour)}
		if _, err := storage.NewHearingService(w.db).PostHearing(w.as(w.prosecutor), h); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	w.project(t)
	ids := func(objs []*courtside.CalendarObject) []int64 {
		var out []int64
		for _, o := range objs {
			out = append(out, o.HearingID)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []int64
	}{
		{"all", time.Time{}, time.Time{}, []int64{w.hearing.ID, hs[0].ID, hs[1].ID, hs[2].ID, hs[3].ID}},
		{"exactly the second week's hearing", hs[1].StartsAt, hs[1].EndsAt, []int64{hs[1].ID}},
		{"ending at its start", hs[1].StartsAt.Add(-time.Hour), hs[1].StartsAt, nil},
		{"starting at its end", hs[1].EndsAt, hs[1].EndsAt.Add(time.Hour), nil},
		{"open start", time.Time{}, hs[1].StartsAt, []int64{w.hearing.ID, hs[0].ID}},
		{"open end", hs[2].EndsAt.Add(-time.Minute), time.Time{}, []int64{hs[2].ID, hs[3].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, withData := range []bool{false, true} {
				objs, err := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, w.prosecutor.ID, tc.from, tc.to, withData)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(objs); !slices.Equal(got, tc.want) {
					t.Errorf("data %v: %v, want %v", withData, got, tc.want)
				}
				for _, o := range objs {
					if (o.Data != nil) != withData || o.ETag == "" || o.Size == 0 {
						t.Errorf("data %v: object %+v", withData, o)
					}
				}
			}
		})
	}
	// The heads are the listing's, without data or times.
	heads, err := storage.NewCalendarService(w.db).FindCalendarObjectHeads(ctx, w.prosecutor.ID)
	all, err2 := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, w.prosecutor.ID, time.Time{}, time.Time{}, false)
	if err != nil || err2 != nil || len(heads) != len(all) {
		t.Fatalf("heads: %v %v, %d against %d", err, err2, len(heads), len(all))
	}
	for i, h := range heads {
		o := all[i]
		if h.HearingID != o.HearingID || h.ETag != o.ETag || h.Size != o.Size || !h.ModifiedAt.Equal(o.ModifiedAt) ||
			h.Data != nil || !h.StartsAt.IsZero() {
			t.Errorf("head %+v, object %+v", h, o)
		}
	}
	if _, err := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, w.prosecutor.ID, hs[1].EndsAt, hs[1].StartsAt, false); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("a reversed range: %v", err)
	}
	got, err := storage.NewCalendarService(w.db).FindCalendarObjectsByID(ctx, w.prosecutor.ID, []int64{hs[3].ID, hs[0].ID, 99999}, true)
	if err != nil || len(got) != 2 {
		t.Fatalf("by ID: %v %+v", err, got)
	}
	if got, err := storage.NewCalendarService(w.db).FindCalendarObjectsByID(ctx, w.otherProsecutor.ID, []int64{hs[0].ID}, true); err != nil || len(got) != 0 {
		t.Errorf("another office reads an object: %v %+v", err, got)
	}
	for _, u := range []*courtside.User{w.coordinator, w.admin, w.advocate} {
		if got, err := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, u.ID, time.Time{}, time.Time{}, true); err != nil || len(got) != 0 {
			t.Errorf("%s's calendar: %v %+v", u.Username, err, got)
		}
	}
	if _, err := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, 99999, time.Time{}, time.Time{}, true); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Errorf("an unknown user: %v", err)
	}
}

// TestCalendarObjects_FeedEvents checks what feeds are assembled from: the window decided on
// the stored times to the nanosecond (a start before its end, an end after its start, a
// cancellation after its bound), the bounds that say when it changes, the open offer left out,
// and the version.
func TestCalendarObjects_FeedEvents(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	later := &courtside.Hearing{CaseID: w.kase.ID, Kind: courtside.KindTrial, StartsAt: start.AddDate(0, 2, 0), EndsAt: start.AddDate(0, 2, 0).Add(time.Hour)}
	if _, err := storage.NewHearingService(w.db).PostHearing(w.as(w.prosecutor), later); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), later.ID, "es", nil); err != nil {
		t.Fatal(err)
	}
	c, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.hearing.ID, "dismissed", nil)
	if err != nil {
		t.Fatal(err)
	}
	cancelledAt := c.UpdatedAt
	w.project(t)
	h := w.hearing
	month := courtside.FeedWindow{From: start.AddDate(0, 0, -1), Until: start.AddDate(0, 1, 0), CancelledAfter: cancelledAt.Add(-time.Nanosecond)}
	version, _, _ := storage.NewCalendarService(w.db).CalendarVersion(ctx, w.prosecutor.ID)
	fe, err := storage.NewCalendarService(w.db).FindFeedEvents(ctx, w.prosecutor.ID, month)
	if err != nil || len(fe.Events) != 1 || !bytes.HasPrefix(fe.Events[0], []byte("BEGIN:VEVENT\r\n")) ||
		!bytes.HasSuffix(fe.Events[0], []byte("END:VEVENT\r\n")) || !bytes.Contains(fe.Events[0], []byte("STATUS:CANCELLED")) ||
		!fe.FirstEnd.Equal(h.EndsAt) || !fe.FirstCancelled.Equal(cancelledAt) || !fe.NextStart.Equal(later.StartsAt) ||
		fe.Version != version || version == 0 {
		t.Fatalf("the office's feed events: %v %+v (version %d)", err, fe, version)
	}
	for _, tc := range []struct {
		name string
		w    courtside.FeedWindow
		in   bool
	}{
		{"cancelled at the bound", courtside.FeedWindow{From: month.From, Until: month.Until, CancelledAfter: cancelledAt}, false},
		{"the window ending at its start", courtside.FeedWindow{From: month.From, Until: h.StartsAt, CancelledAfter: month.CancelledAfter}, false},
		{"the window ending a nanosecond later", courtside.FeedWindow{From: month.From, Until: h.StartsAt.Add(time.Nanosecond), CancelledAfter: month.CancelledAfter}, true},
		{"the window starting at its end", courtside.FeedWindow{From: h.EndsAt, Until: month.Until, CancelledAfter: month.CancelledAfter}, false},
		{"the window starting a nanosecond earlier", courtside.FeedWindow{From: h.EndsAt.Add(-time.Nanosecond), Until: month.Until, CancelledAfter: month.CancelledAfter}, true},
	} {
		fe, err := storage.NewCalendarService(w.db).FindFeedEvents(ctx, w.prosecutor.ID, tc.w)
		if err != nil || (len(fe.Events) == 1) != tc.in || (fe.FirstEnd.IsZero() == tc.in) {
			t.Errorf("%s: %v %+v, want it in: %v", tc.name, err, fe, tc.in)
		}
	}
	if _, err := storage.NewCalendarService(w.db).FindFeedEvents(ctx, w.prosecutor.ID, courtside.FeedWindow{From: month.Until, Until: month.From}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("a reversed window: %v", err)
	}
	// The interpreter's open offer is in their calendar, never in their feed.
	if objs, _ := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, w.interpreter.ID, time.Time{}, time.Time{}, false); len(objs) != 1 {
		t.Fatalf("the interpreter's calendar: %+v", objs)
	}
	fe, err = storage.NewCalendarService(w.db).FindFeedEvents(ctx, w.interpreter.ID, courtside.FeedWindow{Until: start.AddDate(1, 0, 0)})
	if err != nil || len(fe.Events) != 0 || !fe.NextStart.IsZero() {
		t.Fatalf("the interpreter's feed events: %v %+v", err, fe)
	}
}

// projectUnderneath runs the projection over one event that the test wrote no change for, in
// its own transaction, as the router would.
func (w *objectWorld) projectUnderneath(t *testing.T, ev courtside.Event) {
	t.Helper()
	ctx := context.Background()
	tx, err := w.db.Writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ev.At = w.db.Now()
	if err := storage.NewCalendarService(w.db).ProjectCalendar(ctx, tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestCalendarObjects_EveryChangeIsReported changes hearings underneath, with events that on
// their own move no one's calendar version (booking.needs_reconfirmation, not an event of the
// whole audience), and removes a hearing from a calendar whose change log never recorded it:
// because the objects changed, sync reports both.
func TestCalendarObjects_EveryChangeIsReported(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	b, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.prosecutor), w.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != w.interpreter.ID {
		t.Fatalf("request interpreter: %v %+v", err, b)
	}
	users := []*courtside.User{w.prosecutor, w.advocate, w.interpreter}
	w.check(t, "set up", users...)

	if _, err := w.db.Writer.ExecContext(ctx, `UPDATE hearings SET courtroom = '9Z' WHERE id = ?`, w.hearing.ID); err != nil {
		t.Fatal(err)
	}
	w.projectUnderneath(t, courtside.Event{Type: courtside.EventBookingNeedsReconfirmation, HearingID: w.hearing.ID, UserID: w.interpreter.ID})
	w.check(t, "courtroom changed", users...)
	if o := w.stored(t, w.advocate)[w.hearing.ID]; o == nil || !strings.Contains(string(o.Data), "Courtroom 9Z") {
		t.Fatalf("the advocate's object: %+v", o)
	}

	// The interpreter's change log forgets the hearing (as a database whose objects were
	// backfilled may never have recorded it); the offer is then declined underneath.
	if _, err := w.db.Writer.ExecContext(ctx, `DELETE FROM calendar_changes WHERE user_id = ?`, w.interpreter.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Writer.ExecContext(ctx, `UPDATE interpreter_bookings SET status = 'DECLINED' WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	w.projectUnderneath(t, courtside.Event{Type: courtside.EventBookingDeclined, HearingID: w.hearing.ID, UserID: w.interpreter.ID})
	w.check(t, "declined", users...)
	if got := w.stored(t, w.interpreter); len(got) != 0 {
		t.Fatalf("the interpreter's calendar: %+v", got)
	}
}

// TestCalendarObjects_ReadsWaitForTheProjection checks read-your-writes: with the projection's
// consumer group set, a read of a hearings calendar waits until the projection has handled the
// events committed before it (here, until the test has run the projection and moved the group's
// offset), and then serves the change.
func TestCalendarObjects_ReadsWaitForTheProjection(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	const group = "calendar-test"
	var head int64
	if err := w.db.Writer.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Writer.ExecContext(ctx, `INSERT INTO event_offsets (consumer_group, topic, last_id) VALUES (?, ?, ?)`,
		group, courtside.EventTopic, head); err != nil {
		t.Fatal(err)
	}
	w.db.CalendarGroup, w.db.CalendarWait = group, time.Minute
	moved := w.hearing.StartsAt.Add(time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: moved,
		EndsAt: moved.Add(time.Hour), Reason: "court closed"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []*courtside.CalendarObject, 1)
	go func() {
		objs, err := storage.NewCalendarService(w.db).FindCalendarObjects(ctx, w.prosecutor.ID, time.Time{}, time.Time{}, false)
		if err != nil {
			t.Error(err)
		}
		got <- objs
	}()
	time.Sleep(20 * time.Millisecond) // time enough for a read that does not wait to answer
	select {
	case objs := <-got:
		t.Fatalf("the read answered before the projection had run: %+v", objs)
	default:
	}
	w.project(t)
	if _, err := w.db.Writer.ExecContext(ctx, `UPDATE event_offsets SET last_id = (SELECT MAX(id) FROM events) WHERE consumer_group = ?`, group); err != nil {
		t.Fatal(err)
	}
	if objs := <-got; len(objs) != 1 || !objs[0].StartsAt.Equal(moved) {
		t.Fatalf("the read after the projection: %+v", objs)
	}
}

// TestCalendarObjects_RenderedAgainByAnotherRenderer starts the backfill with another version of
// the renderer than the one that stored the objects: every hearing is rendered again, the
// objects whose bytes changed move their users' versions with a change that sync reports, and
// the next start finds nothing to do.
func TestCalendarObjects_RenderedAgainByAnotherRenderer(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	h2 := w.postHearing(t, "second")
	users := []*courtside.User{w.prosecutor, w.advocate}
	w.check(t, "set up", users...)
	w.db.RenderCalendarVersion = "1"
	if n, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx); err != nil || n != 0 {
		t.Fatalf("the first start records its renderer and renders nothing: %d, %v", n, err)
	}
	// Version 2 writes every summary differently.
	w.db.RenderCalendarVersion = "2"
	w.db.RenderCalendar = func(ch *courtside.CalendarHearing) (*courtside.RenderedHearing, error) {
		r, err := calendar.RenderStored(ch)
		if err != nil {
			return nil, err
		}
		r.Data = bytes.Replace(r.Data, []byte("SUMMARY:"), []byte("SUMMARY:Court date: "), 1)
		r.ETag = calendar.ETag(r.Data)
		return r, nil
	}
	if n, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx); err != nil || n != 2 {
		t.Fatalf("a start with another renderer: %d, %v", n, err)
	}
	for _, u := range users {
		changes, _, err := storage.NewCalendarService(w.db).CalendarObjectChanges(ctx, u.ID, w.versions[u.ID], true)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]bool{w.hearing.ID: true, h2.ID: u == w.prosecutor}
		for _, c := range changes {
			if c.Object == nil || !bytes.Contains(c.Object.Data, []byte("SUMMARY:Court date: ")) || c.Object.ETag != calendar.ETag(c.Object.Data) {
				t.Errorf("%s: change %+v", u.Username, c)
			}
			delete(want, c.HearingID)
		}
		for id, in := range want {
			if in {
				t.Errorf("%s: hearing %d rendered again is not among the changes %+v", u.Username, id, changes)
			}
		}
	}
	if n, err := storage.NewCalendarService(w.db).BackfillCalendarObjects(ctx); err != nil || n != 0 {
		t.Errorf("the next start: %d, %v", n, err)
	}
}

// TestCalendarObjects_AdvocateNeedsTheShare shows that an advocate's hearings calendar holds a
// hearing only while its case is shared with the advocate's organisation: withdrawing the share
// takes the hearing out of the calendar (a deletion in sync), and an accompaniment left live
// without a share (a database written before shares were kept) shows nothing.
func TestCalendarObjects_AdvocateNeedsTheShare(t *testing.T) {
	w := newObjectWorld(t)
	ctx := context.Background()
	users := []*courtside.User{w.prosecutor, w.advocate, w.otherAdvocate, w.coordinator}
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	w.check(t, "assigned", users...)
	if w.stored(t, w.advocate)[w.hearing.ID] == nil {
		t.Fatal("the assigned advocate's calendar lacks the hearing")
	}
	_, before, err := storage.NewCalendarService(w.db).CalendarObjectChanges(ctx, w.advocate.ID, 0, false)
	if err != nil {
		t.Fatal(err)
	}

	if err := storage.NewCaseService(w.db).UnshareCase(w.as(w.prosecutor), w.kase.ID, w.coordinator.Organization.Name); err != nil {
		t.Fatal(err)
	}
	w.check(t, "unshared", users...)
	if got := w.stored(t, w.advocate); len(got) != 0 {
		t.Fatalf("the advocate's calendar keeps %d hearings of a case no longer shared", len(got))
	}
	changes, _, err := storage.NewCalendarService(w.db).CalendarObjectChanges(ctx, w.advocate.ID, before, false)
	if err != nil || len(changes) != 1 || !changes[0].Deleted || changes[0].HearingID != w.hearing.ID {
		t.Fatalf("the advocate's changes after the withdrawal: %v %+v", err, changes)
	}
	if _, err := storage.NewCalendarService(w.db).FindCalendarHearing(ctx, w.advocate.ID, w.hearing.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("the advocate reads the hearing after the withdrawal: %v", err)
	}
	if w.stored(t, w.prosecutor)[w.hearing.ID] == nil {
		t.Fatal("the withdrawal took the hearing out of the office's calendar")
	}

	// Shared again and assigned again, then the share row alone removed (as in a database whose
	// accompaniments predate shares): the rule, not only the withdrawal, keeps the hearing out.
	w.share(t, w.kase, w.prosecutor, w.coordinator)
	w.must(t, storage.NewCaseService(w.db).LinkVictim(w.as(w.coordinator), w.kase.ID, w.victim.ID, true))
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), w.hearing.ID, w.victim.ID, w.advocate.ID); err != nil {
		t.Fatal(err)
	}
	w.check(t, "shared again", users...)
	if w.stored(t, w.advocate)[w.hearing.ID] == nil {
		t.Fatal("the advocate's calendar lacks the hearing once shared again")
	}
	if _, err := w.db.Writer.ExecContext(ctx, `DELETE FROM case_shares WHERE case_id = ?`, w.kase.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.hearing.ID, courtside.HearingUpdate{StartsAt: w.hearing.StartsAt.Add(time.Hour),
		EndsAt: w.hearing.EndsAt.Add(time.Hour), Reason: "moved"}); err != nil {
		t.Fatal(err)
	}
	w.check(t, "share row gone", users...)
	if got := w.stored(t, w.advocate); len(got) != 0 {
		t.Fatalf("an accompaniment without a share shows %d hearings", len(got))
	}
}
