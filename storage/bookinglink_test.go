package storage_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
)

// linkFor returns the one-click token of booking b.
func linkFor(db *storage.DB, b *courtside.InterpreterBooking) string {
	return storage.NewBookingLinkService(db).BookingLinkToken(b.ID, b.InterpreterID, *b.RespondBy)
}

// laterExpiry returns token with its expiry moved a day later and its MAC kept.
func laterExpiry(t *testing.T, token string) string {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 25 {
		t.Fatalf("token %q: %v", token, err)
	}
	binary.BigEndian.PutUint64(raw[1:9], binary.BigEndian.Uint64(raw[1:9])+86400)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// respell returns the last character of a token with its unused low bits set: the same bytes
// to a lenient decoder.
func respell(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|3])
}

func TestBookingLink_FindAndAccept(t *testing.T) {
	f := newBookingFixture(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.prosecutor), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != f.interpreter.ID {
		t.Fatalf("request: %v %+v", err, b)
	}
	token := linkFor(f.db, b)
	// 1 version byte, 8 bytes of expiry and 16 of MAC: 34 characters, short enough for a text.
	if strings.ContainsAny(token, "+/=") || len(token) != 34 {
		t.Fatalf("token %q is not 34 characters of URL-safe base64", token)
	}
	if again := linkFor(f.db, b); again != token {
		t.Fatal("the token is not deterministic")
	}
	bg := context.Background() // the token is the credential: no user

	before := f.writes(t)
	offer, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, b.ID, token)
	if err != nil {
		t.Fatal(err)
	}
	if offer.Booking.ID != b.ID || offer.Booking.Status != courtside.BookingOffered || offer.Court.Name != "Main Courthouse" ||
		offer.Hearing.Courtroom != "4B" || offer.Hearing.Kind != courtside.KindSentencing || !offer.Hearing.StartsAt.Equal(start) ||
		offer.Interpreter != "interp" {
		t.Fatalf("offer %+v %+v %+v", offer.Booking, offer.Hearing, offer.Court)
	}
	if offer.Hearing.CaseID != 0 || offer.Hearing.Judge != "" || offer.Hearing.ExternalID != "" {
		t.Fatalf("the offer carries more than the page shows: %+v", offer.Hearing)
	}
	if after := f.writes(t); after["audit_log"] != before["audit_log"] || after["interpreter_bookings"] != before["interpreter_bookings"] {
		t.Fatal("reading a link wrote something")
	}

	// Bad tokens: ENOTFOUND, whatever is wrong.
	otherKey, _ := storage.NewSealer([]byte(strings.Repeat("k", 32)))
	foreign := storage.NewDB(filepath.Join(t.TempDir(), "other.db"))
	foreign.Sealer = otherKey
	flipped := []byte(token)
	if flipped[len(flipped)-3] == 'A' {
		flipped[len(flipped)-3] = 'B'
	} else {
		flipped[len(flipped)-3] = 'A'
	}
	for name, tt := range map[string]struct {
		id    int64
		token string
	}{
		"empty":                      {b.ID, ""},
		"garbage":                    {b.ID, "not a token"},
		"a flipped MAC":              {b.ID, string(flipped)},
		"another booking's ID":       {b.ID + 1, token},
		"an unknown booking":         {999, token},
		"another interpreter":        {b.ID, storage.NewBookingLinkService(f.db).BookingLinkToken(b.ID, f.interpreter.ID+1, *b.RespondBy)},
		"a later expiry, same MAC":   {b.ID, laterExpiry(t, token)},
		"another database's key":     {b.ID, storage.NewBookingLinkService(foreign).BookingLinkToken(b.ID, b.InterpreterID, *b.RespondBy)},
		"a very long token":          {b.ID, strings.Repeat("A", 5000)},
		"standard base64 of a token": {b.ID, strings.ReplaceAll(token, "-", "+") + "="},
		"another spelling":           {b.ID, token[:len(token)-1] + respell(token[len(token)-1])},
	} {
		if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, tt.id, tt.token); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s: find answered %v, want NOT_FOUND", name, err)
		}
		if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, tt.id, tt.token, true, ""); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s: respond answered %v, want NOT_FOUND", name, err)
		}
	}
	if after := f.writes(t); after["audit_log"] != before["audit_log"] || f.count(t, "booking_link_uses") != 0 {
		t.Fatal("a bad link wrote something")
	}

	// Accept: the same path as respondToBooking, audited as the interpreter.
	accepted, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, true, "")
	if err != nil || accepted.Status != courtside.BookingAccepted || accepted.ID != b.ID {
		t.Fatalf("accept: %v %+v", err, accepted)
	}
	if a := f.lastAudits(t, 2); a[0] != "booking.link booking:1" || a[1] != "booking.accept booking:1" {
		t.Fatalf("audits %v", a)
	}
	entries, err := storage.NewAuditService(f.db).FindAuditEntries(bg)
	if err != nil || entries[len(entries)-1].ActorID != f.interpreter.ID {
		t.Fatalf("the acceptance's actor: %v %+v", err, entries[len(entries)-1])
	}
	if evs := f.lastEvents(t, 1); evs[0].Type != courtside.EventBookingAccepted || evs[0].UserID != f.interpreter.ID || evs[0].ActorID != f.interpreter.ID {
		t.Fatalf("events %+v", evs)
	}
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.interpreter), courtside.BookingFilter{IDs: []int64{b.ID}})
	if err != nil || len(bs) != 1 || bs[0].Status != courtside.BookingAccepted {
		t.Fatalf("stored: %v %+v", err, bs)
	}

	// Single use: a second use, either way, is refused cleanly and writes nothing.
	before = f.writes(t)
	for _, accept := range []bool{true, false} {
		if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, accept, ""); courtside.ErrorCode(err) != courtside.ECONFLICT ||
			!strings.Contains(courtside.ErrorMessage(err), "already used") {
			t.Errorf("second use (accept %v): %v", accept, err)
		}
	}
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, b.ID, token); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Errorf("reading a used link: %v", err)
	}
	if after := f.writes(t); after["audit_log"] != before["audit_log"] || after["events"] != before["events"] || f.count(t, "booking_link_uses") != 1 {
		t.Fatal("a second use wrote something")
	}
}

func TestBookingLink_DeclineOffersTheNextAndTheOldLinkDies(t *testing.T) {
	f := newBookingFixture(t)
	second := f.addInterpreter(t, "es-c2", "es:CERTIFIED")
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	token := linkFor(f.db, b)
	bg := context.Background()
	if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, false, strings.Repeat("x", courtside.MaxDeclineReason+1)); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Fatalf("a long reason: %v", err)
	}
	declined, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, false, " another trial ")
	if err != nil || declined.Status != courtside.BookingDeclined || declined.DeclineReason != "another trial" {
		t.Fatalf("decline: %v %+v", err, declined)
	}
	if a := f.lastAudits(t, 3); a[0] != "booking.link booking:1" || a[1] != "booking.decline booking:1" || a[2] != "booking.offer booking:2" {
		t.Fatalf("audits %v", a)
	}
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil || len(bs) != 2 || bs[1].InterpreterID != second.ID || bs[1].Status != courtside.BookingOffered || bs[1].PreviousBookingID != b.ID {
		t.Fatalf("bookings after the decline: %v %+v", err, bs)
	}
	next := bs[1]
	// The old link answers nothing: its booking is over, and it is no key to the re-offer.
	if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, true, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("old link on its own booking: %v", err)
	}
	if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, next.ID, token, true, ""); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("old link on the re-offer: %v", err)
	}
	// A token for the re-offer made out to the first interpreter is no key either.
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, next.ID, storage.NewBookingLinkService(f.db).BookingLinkToken(next.ID, f.interpreter.ID, *next.RespondBy)); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("a re-offer's link for the decliner: %v", err)
	}
	// The re-offer's own link works.
	if got, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, next.ID, linkFor(f.db, next), true, ""); err != nil || got.Status != courtside.BookingAccepted {
		t.Fatalf("accepting the re-offer: %v %+v", err, got)
	}
}

func TestBookingLink_ExpiredOrAnsweredElsewhere(t *testing.T) {
	f := newBookingFixture(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	token := linkFor(f.db, b)
	bg := context.Background()
	now := f.db.Now
	f.db.Now = func() time.Time { return b.RespondBy.Add(time.Second) }
	before := f.writes(t)
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, b.ID, token); courtside.ErrorCode(err) != courtside.ECONFLICT ||
		!strings.Contains(courtside.ErrorMessage(err), "expired") {
		t.Fatalf("find after the deadline: %v", err)
	}
	if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, true, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("accept after the deadline: %v", err)
	}
	if after := f.writes(t); after["audit_log"] != before["audit_log"] || f.count(t, "booking_link_uses") != 0 {
		t.Fatal("an expired link wrote something")
	}
	// At the deadline itself the link still works for reading.
	f.db.Now = func() time.Time { return *b.RespondBy }
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(bg, b.ID, token); err != nil {
		t.Fatalf("find at the deadline: %v", err)
	}

	// Answered through GraphQL's path: the link is spent.
	f.db.Now = now
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewBookingLinkService(f.db).RespondByLink(bg, b.ID, token, false, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("decline by link after an acceptance: %v", err)
	}
	bs, _ := storage.NewBookingService(f.db).FindBookings(f.as(f.interpreter), courtside.BookingFilter{IDs: []int64{b.ID}})
	if len(bs) != 1 || bs[0].Status != courtside.BookingAccepted {
		t.Fatalf("booking %+v", bs)
	}
}

func TestBookingLink_KeyRotation(t *testing.T) {
	f := newBookingFixture(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	token := linkFor(f.db, b)
	newKey, err := storage.NewSealer([]byte(strings.Repeat("n", 32)))
	if err != nil {
		t.Fatal(err)
	}
	old := f.db.Sealer
	// During a rotation a link made under the old key still opens; a link made now uses the new key.
	f.db.Sealer = newKey.WithOlder(old)
	if linkFor(f.db, b) == token {
		t.Fatal("the new key makes the same token")
	}
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(context.Background(), b.ID, token); err != nil {
		t.Fatalf("old-key link during a rotation: %v", err)
	}
	// Once the old key is gone, so are its links.
	f.db.Sealer = newKey
	if _, err := storage.NewBookingLinkService(f.db).FindBookingByLink(context.Background(), b.ID, token); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("old-key link after the rotation: %v", err)
	}
}
