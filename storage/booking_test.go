package storage_test

import (
	"context"
	"courtside/storage"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"courtside"
)

// bookingFixture adds to fixture a hearing, the case shared with the coordinator's
// organisation (so the coordinator sees the hearing), a victim of the organisation linked to
// it, and more interpreters.
type bookingFixture struct {
	*fixture
	hearing *courtside.Hearing
	victim  *courtside.Victim
}

func newBookingFixture(t *testing.T) *bookingFixture {
	t.Helper()
	f := &bookingFixture{fixture: newFixture(t)}
	f.hearing = f.postHearing(t, "")
	f.victim = &courtside.Victim{Pseudonym: "V-3", LegalName: "Hidden Legal Name", PreferredLanguage: "es-MX",
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550123"}}}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), f.victim); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, f.victim.ID, true); err != nil {
		t.Fatal(err)
	}
	return f
}

// addInterpreter creates an interpreter with languages such as "es:CERTIFIED,pt:LANGUAGE_SKILLED".
func (f *bookingFixture) addInterpreter(t *testing.T, name, languages string) *courtside.User {
	t.Helper()
	ls, err := courtside.ParseInterpreterLanguages(languages)
	if err != nil {
		t.Fatal(err)
	}
	u, err := storage.NewUserService(f.db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: name,
		Role: courtside.RoleInterpreter, Languages: ls}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// writes returns the row counts of the tables a booking mutation writes.
func (f *bookingFixture) writes(t *testing.T) map[string]int {
	t.Helper()
	out := f.counts(t)
	out["interpreter_bookings"] = f.count(t, "interpreter_bookings")
	return out
}

// lastEvents returns the last n events, oldest first.
func (f *bookingFixture) lastEvents(t *testing.T, n int) []courtside.Event {
	t.Helper()
	rows, err := f.db.Writer.Query(`SELECT payload FROM (SELECT id, payload FROM events ORDER BY id DESC LIMIT ?) AS e ORDER BY id`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []courtside.Event
	for rows.Next() {
		var payload []byte
		var ev courtside.Event
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(payload), "Hidden Legal Name") || strings.Contains(string(payload), "V-3") {
			t.Errorf("event %s carries victim data: %s", ev.Type, payload)
		}
		out = append(out, ev)
	}
	return out
}

// lastAudits returns the actions of the last n audit rows, oldest first.
func (f *bookingFixture) lastAudits(t *testing.T, n int) []string {
	t.Helper()
	entries, err := storage.NewAuditService(f.db).FindAuditEntries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries[max(0, len(entries)-n):] {
		out = append(out, e.Action+" "+e.Object)
	}
	return out
}

func tierPtr(t courtside.Tier) *courtside.Tier { return &t }

func TestBooking_RequestAcceptAndVisibility(t *testing.T) {
	f := newBookingFixture(t)
	pq := f.addInterpreter(t, "es-pq", "es:PROFESSIONALLY_QUALIFIED")
	mx := f.addInterpreter(t, "es-mx", "es-MX:CERTIFIED")
	f.addInterpreter(t, "zh", "zh-Hans:CERTIFIED")

	// The coordinator sees candidates ranked: tier first, then the exact language before a close one.
	cands, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es-mx")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cands {
		got = append(got, c.Interpreter.Username+":"+string(c.Tier))
		if !c.Available {
			t.Errorf("%s unavailable: %s", c.Interpreter.Username, c.Reason)
		}
	}
	if strings.Join(got, " ") != "es-mx:CERTIFIED interp:CERTIFIED es-pq:PROFESSIONALLY_QUALIFIED" {
		t.Fatalf("candidates %v", got)
	}

	before := f.writes(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es-mx", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := f.db.Now()
	if b.ID == 0 || b.InterpreterID != mx.ID || b.Status != courtside.BookingOffered || b.Language != "es-MX" ||
		b.FallbackReason != "" || b.RespondBy == nil || !b.RespondBy.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("booking %+v", b)
	}
	after := f.writes(t)
	for table, delta := range map[string]int{"interpreter_bookings": 1, "audit_log": 1, "events": 1, "hearings": 0} {
		if after[table]-before[table] != delta {
			t.Errorf("%s grew by %d, want %d", table, after[table]-before[table], delta)
		}
	}
	if evs := f.lastEvents(t, 1); evs[0].Type != courtside.EventBookingOffered || evs[0].BookingID != b.ID ||
		evs[0].HearingID != f.hearing.ID || evs[0].UserID != mx.ID || evs[0].VictimID != 0 || evs[0].ActorID != f.coordinator.ID {
		t.Fatalf("event %+v", evs[0])
	}
	if a := f.lastAudits(t, 1); a[0] != "booking.request booking:1" {
		t.Fatalf("audit %v", a)
	}
	// A second request for the same hearing and language is refused while the first holds.
	if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es-MX", nil); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("second request: %v", err)
	}

	// The offered interpreter sees the hearing and its case (for the docket), never a victim.
	asMX := f.as(mx)
	if h, err := storage.NewHearingService(f.db).FindHearingByID(asMX, f.hearing.ID); err != nil || h.Courtroom != "4B" {
		t.Fatalf("offered interpreter reads hearing: %v %+v", err, h)
	}
	if c, err := storage.NewCaseService(f.db).FindCaseByID(asMX, f.kase.ID); err != nil || c.Docket != "26-CR-1" {
		t.Fatalf("offered interpreter reads case: %v %+v", err, c)
	}
	if _, err := storage.NewVictimService(f.db).FindVictimByID(asMX, f.victim.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("interpreter reads victim: %v", err)
	}
	if vs, err := storage.NewVictimService(f.db).FindVictims(asMX, f.victim.ID); err != nil || len(vs) != 0 {
		t.Fatalf("interpreter finds victims: %v %+v", err, vs)
	}
	if cvs, err := storage.NewCaseService(f.db).FindCaseVictims(asMX, f.kase.ID); err != nil || len(cvs) != 0 {
		t.Fatalf("interpreter finds case victims: %v %+v", err, cvs)
	}
	if as, err := storage.NewAccompanimentService(f.db).FindAccompaniments(asMX, courtside.AccompanimentFilter{HearingIDs: []int64{f.hearing.ID}}); err != nil || len(as) != 0 {
		t.Fatalf("interpreter finds accompaniments: %v %+v", err, as)
	}
	if bs, err := storage.NewBookingService(f.db).FindBookings(asMX, courtside.BookingFilter{}); err != nil || len(bs) != 1 || bs[0].ID != b.ID {
		t.Fatalf("interpreter's bookings: %v %+v", err, bs)
	}
	// Other interpreters see neither the hearing nor the booking.
	for _, u := range []*courtside.User{f.interpreter, pq} {
		if _, err := storage.NewHearingService(f.db).FindHearingByID(f.as(u), f.hearing.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s reads the hearing: %v", u.Username, err)
		}
		if _, err := storage.NewCaseService(f.db).FindCaseByID(f.as(u), f.kase.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s reads the case: %v", u.Username, err)
		}
		if bs, err := storage.NewBookingService(f.db).FindBookings(f.as(u), courtside.BookingFilter{}); err != nil || len(bs) != 0 {
			t.Errorf("%s finds bookings: %v %+v", u.Username, err, bs)
		}
	}
	// The coordinator and the prosecutor see the booking of their hearing; another office does not.
	for _, tt := range []struct {
		u    *courtside.User
		want int
	}{{f.coordinator, 1}, {f.prosecutor, 1}, {f.admin, 1}, {f.otherProsecutor, 0}, {f.otherCoordin, 0}, {f.advocate, 0}} {
		bs, err := storage.NewBookingService(f.db).FindBookings(f.as(tt.u), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
		if err != nil || len(bs) != tt.want {
			t.Errorf("%s finds %d bookings (%v), want %d", tt.u.Username, len(bs), err, tt.want)
		}
	}
	// An offer is in the interpreter's calendar, with their booking to answer (PARTSTAT).
	if chs, err := storage.NewCalendarService(f.db).FindCalendarHearings(context.Background(), mx.ID); err != nil || len(chs) != 1 || chs[0].Attendee == nil ||
		chs[0].Attendee.BookingID != b.ID || chs[0].Attendee.Status != courtside.BookingOffered {
		t.Fatalf("calendar before accepting: %v %+v", err, chs)
	}

	// Only the offered interpreter answers.
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("another interpreter answers: %v", err)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.coordinator), b.ID, true, ""); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("a coordinator answers: %v", err)
	}
	accepted, err := storage.NewBookingService(f.db).RespondToBooking(asMX, b.ID, true, "")
	if err != nil || accepted.Status != courtside.BookingAccepted {
		t.Fatalf("accept: %v %+v", err, accepted)
	}
	if evs := f.lastEvents(t, 1); evs[0].Type != courtside.EventBookingAccepted || evs[0].UserID != mx.ID || evs[0].HearingID != f.hearing.ID {
		t.Fatalf("event %+v", evs[0])
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(asMX, b.ID, false, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("answer twice: %v", err)
	}

	// Accepted, the hearing is in the interpreter's calendar, without pseudonyms, and the
	// projection bumps the interpreter's change token.
	chs, err := storage.NewCalendarService(f.db).FindCalendarHearings(context.Background(), mx.ID)
	if err != nil || len(chs) != 1 || chs[0].Docket != "26-CR-1" || chs[0].Pseudonyms != nil {
		t.Fatalf("calendar after accepting: %v %+v", err, chs)
	}
	tx, err := f.db.Writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ev := courtside.Event{Type: courtside.EventBookingAccepted, HearingID: f.hearing.ID, UserID: mx.ID, At: time.Now()}
	if err := storage.NewCalendarService(f.db).ProjectCalendar(context.Background(), tx, ev); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, _, err := storage.NewCalendarService(f.db).CalendarVersion(context.Background(), mx.ID); err != nil || v != 1 {
		t.Fatalf("interpreter's calendar version %d, %v", v, err)
	}
	if v, _, _ := storage.NewCalendarService(f.db).CalendarVersion(context.Background(), f.interpreter.ID); v != 0 {
		t.Fatalf("another interpreter's calendar version %d", v)
	}
}

func TestBooking_DeclineOffersTheNext(t *testing.T) {
	f := newBookingFixture(t)
	second := f.addInterpreter(t, "es-c2", "es:CERTIFIED")
	skilled := f.addInterpreter(t, "es-ls", "es:LANGUAGE_SKILLED")
	first := f.interpreter // es CERTIFIED, lowest ID

	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.prosecutor), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != first.ID {
		t.Fatalf("request as the prosecutor: %v %+v", err, b)
	}
	before := f.writes(t)
	declined, err := storage.NewBookingService(f.db).RespondToBooking(f.as(first), b.ID, false, "  another trial that day  ")
	if err != nil || declined.ID != b.ID || declined.Status != courtside.BookingDeclined || declined.DeclineReason != "another trial that day" {
		t.Fatalf("decline: %v %+v", err, declined)
	}
	after := f.writes(t)
	for table, delta := range map[string]int{"interpreter_bookings": 1, "audit_log": 2, "events": 2} {
		if after[table]-before[table] != delta {
			t.Errorf("%s grew by %d, want %d", table, after[table]-before[table], delta)
		}
	}
	evs := f.lastEvents(t, 2)
	if evs[0].Type != courtside.EventBookingDeclined || evs[0].UserID != first.ID || evs[0].BookingID != b.ID ||
		evs[1].Type != courtside.EventBookingOffered || evs[1].UserID != second.ID {
		t.Fatalf("events %+v", evs)
	}
	if a := f.lastAudits(t, 2); a[0] != "booking.decline booking:1" || a[1] != "booking.offer booking:2" {
		t.Fatalf("audits %v", a)
	}
	// Having declined, the first interpreter no longer sees the hearing.
	if _, err := storage.NewHearingService(f.db).FindHearingByID(f.as(first), f.hearing.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("decliner reads the hearing: %v", err)
	}
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil || len(bs) != 2 {
		t.Fatalf("bookings: %v %+v", err, bs)
	}
	next := bs[1]
	if next.InterpreterID != second.ID || next.Status != courtside.BookingOffered || next.PreviousBookingID != b.ID || next.FallbackReason != "" {
		t.Fatalf("next offer %+v", next)
	}
	// The decliner is listed, unavailable, and never asked again.
	cands, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es")
	if err != nil || len(cands) != 3 || cands[0].Interpreter.ID != first.ID || cands[0].Available || cands[1].Available ||
		cands[1].Interpreter.ID != second.ID || !cands[2].Available {
		t.Fatalf("candidates after a decline: %v %+v", err, cands)
	}

	// The second declines too: the language-skilled one is offered, with the fallback reason.
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(second), next.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	bs, _ = storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{f.hearing.ID}})
	last := bs[len(bs)-1]
	if len(bs) != 3 || last.InterpreterID != skilled.ID || last.FallbackReason != "no certified interpreter available for es" {
		t.Fatalf("third offer %+v", last)
	}

	// The last declines: nobody is left, the need is reported, nothing more is offered.
	before = f.writes(t)
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(skilled), last.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	after = f.writes(t)
	if after["interpreter_bookings"] != before["interpreter_bookings"] {
		t.Fatal("a booking was offered with nobody left")
	}
	evs = f.lastEvents(t, 2)
	if evs[0].Type != courtside.EventBookingDeclined || evs[1].Type != courtside.EventBookingUnfilled ||
		evs[1].BookingID != last.ID || evs[1].HearingID != f.hearing.ID || evs[1].UserID != 0 {
		t.Fatalf("events %+v", evs)
	}
	// A new request finds nobody, and writes nothing.
	before = f.writes(t)
	if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("request with everyone declined: %v", err)
	}
	if after := f.writes(t); after["interpreter_bookings"] != before["interpreter_bookings"] || after["events"] != before["events"] {
		t.Fatal("a refused request wrote something")
	}
}

func TestBooking_MinimumTierAndAvailability(t *testing.T) {
	f := newBookingFixture(t)
	pq := f.addInterpreter(t, "es-pq", "es:PROFESSIONALLY_QUALIFIED")
	// The only certified interpreter accepts another hearing that overlaps ours.
	overlapping := &courtside.Hearing{CaseID: f.kase.ID, Kind: courtside.KindPlea, StartsAt: start.Add(30 * time.Minute),
		EndsAt: start.Add(90 * time.Minute)}
	if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), overlapping); err != nil {
		t.Fatal(err)
	}
	other, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), overlapping.ID, "es", tierPtr(courtside.TierCertified))
	if err != nil || other.InterpreterID != f.interpreter.ID {
		t.Fatalf("request for the other hearing: %v %+v", err, other)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), other.ID, true, ""); err != nil {
		t.Fatal(err)
	}

	cands, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), f.hearing.ID, "es")
	if err != nil || len(cands) != 2 {
		t.Fatalf("candidates: %v %+v", err, cands)
	}
	if c := cands[0]; c.Interpreter.ID != f.interpreter.ID || c.Available || c.Reason != courtside.UnavailableReason ||
		c.WeekBookings != 1 {
		t.Errorf("busy certified candidate %+v", c)
	}
	if c := cands[1]; c.Interpreter.ID != pq.ID || !c.Available || c.WeekBookings != 0 {
		t.Errorf("free candidate %+v", c)
	}

	before := f.writes(t)
	if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", tierPtr(courtside.TierCertified)); courtside.ErrorCode(err) != courtside.ECONFLICT ||
		!strings.Contains(courtside.ErrorMessage(err), "CERTIFIED") {
		t.Fatalf("certified only: %v", err)
	}
	if after := f.writes(t); after["interpreter_bookings"] != before["interpreter_bookings"] || after["audit_log"] != before["audit_log"] {
		t.Fatal("a refused request wrote something")
	}
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", tierPtr(courtside.TierProfessionallyQualified))
	if err != nil || b.InterpreterID != pq.ID || b.FallbackReason != "no certified interpreter available for es" ||
		b.MinimumTier != courtside.TierProfessionallyQualified {
		t.Fatalf("fallback: %v %+v", err, b)
	}
	// Declining re-offers within the request's minimum tier only: nobody is left.
	f.addInterpreter(t, "es-ls", "es:LANGUAGE_SKILLED")
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(pq), b.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	if evs := f.lastEvents(t, 1); evs[0].Type != courtside.EventBookingUnfilled {
		t.Fatalf("event %+v", evs[0])
	}
}

func TestBooking_ExpiredOffer(t *testing.T) {
	f := newBookingFixture(t)
	second := f.addInterpreter(t, "es-c2", "es:CERTIFIED")
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != f.interpreter.ID {
		t.Fatal(err)
	}
	now := f.db.Now()
	f.db.Now = func() time.Time { return now.Add(25 * time.Hour) }
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("late answer: %v", err)
	}
	// A new request expires the stale offer and asks the next interpreter.
	next, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil || next.InterpreterID != second.ID {
		t.Fatalf("request after expiry: %v %+v", err, next)
	}
	evs := f.lastEvents(t, 2)
	if evs[0].Type != courtside.EventBookingExpired || evs[0].BookingID != b.ID || evs[1].Type != courtside.EventBookingOffered {
		t.Fatalf("events %+v", evs)
	}
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{Status: func() *courtside.BookingStatus {
		s := courtside.BookingExpired
		return &s
	}()})
	if err != nil || len(bs) != 1 || bs[0].ID != b.ID {
		t.Fatalf("expired bookings: %v %+v", err, bs)
	}
}

func TestBooking_RefusedWritesNothing(t *testing.T) {
	f := newBookingFixture(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := f.postHearing(t, "")
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), cancelled.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	before := f.writes(t)
	bad := courtside.Tier("EXCELLENT")
	for _, tt := range []struct {
		name  string
		code  string
		field string
		do    func() error
	}{
		{"anonymous requests", courtside.EUNAUTHORIZED, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(context.Background(), f.hearing.ID, "vi", nil)
			return err
		}},
		{"advocate requests", courtside.EFORBIDDEN, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.advocate), f.hearing.ID, "vi", nil)
			return err
		}},
		{"interpreter requests", courtside.EFORBIDDEN, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.interpreter), f.hearing.ID, "vi", nil)
			return err
		}},
		{"admin lists candidates", courtside.EFORBIDDEN, "", func() error {
			_, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.admin), f.hearing.ID, "es")
			return err
		}},
		{"advocate lists candidates", courtside.EFORBIDDEN, "", func() error {
			_, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.advocate), f.hearing.ID, "es")
			return err
		}},
		{"coordinator of another organisation", courtside.ENOTFOUND, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.otherCoordin), f.hearing.ID, "vi", nil)
			return err
		}},
		{"prosecutor of another office lists candidates", courtside.ENOTFOUND, "", func() error {
			_, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.otherProsecutor), f.hearing.ID, "es")
			return err
		}},
		{"unknown hearing", courtside.ENOTFOUND, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), 999, "vi", nil)
			return err
		}},
		{"bad language", courtside.EINVALID, "language", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "Spanish!", nil)
			return err
		}},
		{"bad tier", courtside.EINVALID, "minimumTier", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "vi", &bad)
			return err
		}},
		{"cancelled hearing", courtside.ECONFLICT, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.prosecutor), cancelled.ID, "es", nil)
			return err
		}},
		{"nobody speaks it", courtside.ECONFLICT, "", func() error {
			_, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "vi", nil)
			return err
		}},
		{"decline reason too long", courtside.EINVALID, "reason", func() error {
			_, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, false, strings.Repeat("x", 501))
			return err
		}},
		{"unknown booking", courtside.ENOTFOUND, "", func() error {
			_, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), 999, true, "")
			return err
		}},
		{"advocate answers", courtside.EFORBIDDEN, "", func() error {
			_, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.advocate), b.ID, true, "")
			return err
		}},
	} {
		err := tt.do()
		if courtside.ErrorCode(err) != tt.code || courtside.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want %s %q", tt.name, err, tt.code, tt.field)
		}
	}
	sameCounts(t, "refused write", before, f.writes(t))
}

func TestBooking_EventsCommitWithTheChange(t *testing.T) {
	f := newBookingFixture(t)
	f.addInterpreter(t, "es-c2", "es:CERTIFIED")
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := f.writes(t)
	publish := f.db.Publish
	f.db.Publish = func(ctx context.Context, tx *sql.Tx, evs ...courtside.Event) error {
		return errors.New("event log unavailable")
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, false, ""); err == nil {
		t.Fatal("a decline succeeded without its events")
	}
	f.db.Publish = publish
	sameCounts(t, "refused write", before, f.writes(t))
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.interpreter), courtside.BookingFilter{})
	if err != nil || len(bs) != 1 || bs[0].Status != courtside.BookingOffered {
		t.Fatalf("after the failed decline: %v %+v", err, bs)
	}
}
