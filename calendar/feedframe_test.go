package calendar

import (
	"bytes"
	"testing"
	"time"

	"courtside"

	ics "github.com/arran4/golang-ical"
)

// TestFeedAssembly_SameBytesAsOneCalendar checks that a feed assembled from stored VEVENTs
// (feedFrame's head, each hearing's renderFeedEvent, the tail) is byte for byte the feed that
// golang-ical writes when given every event in one calendar, whatever the events hold: a
// cancelled hearing, pseudonyms (which feeds drop), an accepted booking (no attendee in a
// feed), long text that golang-ical folds, characters it escapes.
func TestFeedAssembly_SameBytesAsOneCalendar(t *testing.T) {
	at := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	court := courtside.Court{ID: 1, Name: "U.S. District Court, E.D.N.Y.", TimeZone: "America/New_York",
		Address: "225 Cadman Plaza East; Brooklyn, NY 11201 \\ Room ,; " + string(bytes.Repeat([]byte("long address "), 12))}
	hearing := func(id int64, kind courtside.HearingKind, status courtside.HearingStatus, start time.Time) courtside.Hearing {
		return courtside.Hearing{ID: id, CaseID: 1, CourtID: 1, Kind: kind, StartsAt: start, EndsAt: start.Add(90 * time.Minute),
			Courtroom: "4B", Judge: "Judge of Part 4, Kings", Status: status, Sequence: int(id), CreatedAt: at, UpdatedAt: at.Add(time.Duration(id) * time.Minute)}
	}
	chs := []*courtside.CalendarHearing{
		{Hearing: hearing(1, courtside.KindSentencing, courtside.HearingScheduled, at.AddDate(0, 1, 0)), Docket: "1:26-cr-00042", Court: court},
		{Hearing: hearing(2, courtside.KindRestitution, courtside.HearingCancelled, at.AddDate(0, 1, 9)), Docket: "1:26-cr-00042", Court: court,
			Pseudonyms: []string{"V-12-R", "V-13-S"}},
		{Hearing: hearing(3, courtside.KindStatus, courtside.HearingContinued, at.AddDate(0, 2, 10)), Docket: "Ünïcode — docket", Court: court,
			Attendee: &courtside.CalendarAttendee{Username: "interp", BookingID: 7, Status: courtside.BookingAccepted}},
	}
	for _, refresh := range []time.Duration{time.Hour, 90 * time.Minute, 45 * time.Second} {
		ttl := isoDuration(refresh)
		cal := newCalendar(DefaultProdID)
		cal.SetMethod(ics.MethodPublish)
		cal.SetXWRCalName(FeedName)
		cal.SetRefreshInterval(ttl)
		cal.SetXPublishedTTL(ttl)
		for _, ch := range chs {
			c := *ch
			c.Pseudonyms = nil
			if err := addHearingEvent(cal, &c); err != nil {
				t.Fatal(err)
			}
		}
		var want bytes.Buffer
		if err := cal.SerializeTo(&want, ics.WithNewLineWindows); err != nil {
			t.Fatal(err)
		}

		head, tail := feedFrame(refresh)
		got := append([]byte(nil), head...)
		for _, ch := range chs {
			r, err := RenderStored(ch)
			if err != nil {
				t.Fatal(err)
			}
			if r.FeedEvent == nil {
				t.Fatalf("hearing %d has no feed event", ch.Hearing.ID)
			}
			got = append(got, r.FeedEvent...)
		}
		got = append(got, tail...)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("refresh %s: assembled feed\n%s\nwant\n%s", refresh, got, want.Bytes())
		}
	}

	// An open offer has no feed event: a feed, which cannot answer it, leaves it out.
	offer := *chs[0]
	offer.Attendee = &courtside.CalendarAttendee{Username: "interp", BookingID: 8, Status: courtside.BookingOffered}
	if r, err := RenderStored(&offer); err != nil || r.FeedEvent != nil || r.Data == nil {
		t.Errorf("an open offer: %v %+v", err, r)
	}
}
