package storage_test

import (
	"context"
	"courtside/storage"
	"testing"
	"time"

	"courtside"
)

func TestExpireOffers(t *testing.T) {
	f := newBookingFixture(t)
	second := f.addInterpreter(t, "es-c2", "es:CERTIFIED")
	other := f.postHearing(t, "")
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != f.interpreter.ID {
		t.Fatalf("request: %v %+v", err, b)
	}
	// Nothing is overdue yet.
	ctx := context.Background()
	if n, err := storage.NewBookingService(f.db).ExpireOffers(ctx); err != nil || n != 0 {
		t.Fatalf("early sweep: %d %v", n, err)
	}
	// The other hearing starts at the same time, and its offer to the second interpreter is
	// answered: after the first offer expires nobody is left for it.
	ob, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), other.ID, "es", nil)
	if err != nil || ob.InterpreterID != second.ID {
		t.Fatalf("other request: %v %+v", err, ob)
	}
	third := f.addInterpreter(t, "es-pq", "es:PROFESSIONALLY_QUALIFIED")

	now := f.db.Now()
	f.db.Now = func() time.Time { return now.Add(b.RespondBy.Sub(now) + time.Second) }
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(second), ob.ID, true, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("late answer: %v", err)
	}
	n, err := storage.NewBookingService(f.db).ExpireOffers(ctx)
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	// Each expired offer went to the next ranked candidate (the one not asked before), by the
	// system: no actor.
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID, other.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]string{}
	for _, x := range bs {
		got[x.HearingID] = append(got[x.HearingID], string(x.Status)+":"+idName(x.InterpreterID, f.interpreter, second, third))
	}
	if g := got[f.hearing.ID]; len(g) != 2 || g[0] != "EXPIRED:interp" || g[1] != "OFFERED:es-c2" {
		t.Errorf("first hearing's bookings %v", g)
	}
	if g := got[other.ID]; len(g) != 2 || g[0] != "EXPIRED:es-c2" || g[1] != "OFFERED:interp" {
		t.Errorf("other hearing's bookings %v", g)
	}
	for _, ev := range f.lastEvents(t, 4) {
		if ev.ActorID != 0 || (ev.Type != courtside.EventBookingExpired && ev.Type != courtside.EventBookingOffered) {
			t.Errorf("event %+v", ev)
		}
	}
	for _, x := range bs {
		if x.Status == courtside.BookingOffered && (x.PreviousBookingID == 0 || x.RespondBy == nil || !x.RespondBy.After(f.db.Now())) {
			t.Errorf("re-offer %+v", x)
		}
	}
	// Sweeping again changes nothing.
	if n, err := storage.NewBookingService(f.db).ExpireOffers(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}

	// When the re-offers expire too, the third (lower-tier) interpreter takes one hearing, and the
	// other is reported unfilled.
	later := f.db.Now().Add(25 * time.Hour)
	f.db.Now = func() time.Time { return later }
	if n, err := storage.NewBookingService(f.db).ExpireOffers(ctx); err != nil || n != 2 {
		t.Fatalf("third sweep: %d %v", n, err)
	}
	var offered, unfilled int
	for _, ev := range f.lastEvents(t, 4) {
		switch ev.Type {
		case courtside.EventBookingOffered:
			offered++
			if ev.UserID != third.ID {
				t.Errorf("offered to %d", ev.UserID)
			}
		case courtside.EventBookingUnfilled:
			unfilled++
		}
	}
	if offered != 1 || unfilled != 1 {
		t.Errorf("%d offers, %d unfilled", offered, unfilled)
	}
}

func idName(id int64, us ...*courtside.User) string {
	for _, u := range us {
		if u.ID == id {
			return u.Username
		}
	}
	return "?"
}
