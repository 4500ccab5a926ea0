package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// invitationFixture is the booking fixture with two Portuguese interpreters who have e-mail
// addresses (interpA ranks first) and an offer of the hearing to interpA.
type invitationFixture struct {
	*bookingFixture
	interpA, interpB *courtside.User
	offer            *courtside.InterpreterBooking
}

const interpAAddress = "InterpA.Interpreter@Mail.Example"

func newInvitationFixture(t *testing.T) *invitationFixture {
	t.Helper()
	f := &invitationFixture{bookingFixture: newBookingFixture(t)}
	mk := func(name, email string) *courtside.User {
		ls, _ := courtside.ParseInterpreterLanguages("pt:CERTIFIED")
		u, err := storage.NewUserService(f.db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: name, Role: courtside.RoleInterpreter,
			Languages: ls, Email: email}})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.interpA, f.interpB = mk("interp-a", interpAAddress), mk("interp-b", "interp-b@mail.example")
	var err error
	if f.offer, err = storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "pt", nil); err != nil || f.offer.InterpreterID != f.interpA.ID {
		t.Fatalf("request: %v %+v", err, f.offer)
	}
	return f
}

// reply is interpA's answer to her invitation, as her calendar app sends it.
func (f *invitationFixture) reply(partstat string) courtside.InvitationReply {
	return courtside.InvitationReply{UID: storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpA.ID, "courtside.example.org"), Sequence: f.hearing.Sequence,
		Attendee: strings.ToLower(interpAAddress), From: interpAAddress, PartStat: partstat}
}

// writesAll returns the row counts of every table an answer may write.
func (f *invitationFixture) writesAll(t *testing.T) map[string]int {
	t.Helper()
	out := f.writes(t)
	out["deliveries"] = f.count(t, "deliveries")
	return out
}

func TestInvitation_UIDSignedForTheBooking(t *testing.T) {
	f := newInvitationFixture(t)
	uid := storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpA.ID, "courtside.example.org")
	if !regexp.MustCompile(`^booking-[1-9][0-9]*-[0-9a-f]{32}@courtside\.example\.org$`).MatchString(uid) {
		t.Fatalf("UID %q", uid)
	}
	if again := storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpA.ID, "courtside.example.org"); again != uid {
		t.Fatal("the UID is not deterministic")
	}
	mac := uid[strings.LastIndexByte(uid[:strings.IndexByte(uid, '@')], '-')+1 : strings.IndexByte(uid, '@')]
	for what, other := range map[string]string{
		"another booking":     storage.NewInvitationService(f.db).InvitationUID(f.offer.ID+1, f.interpA.ID, "courtside.example.org"),
		"another interpreter": storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpB.ID, "courtside.example.org"),
	} {
		if strings.Contains(other, mac) {
			t.Errorf("%s has the same MAC: %s", what, other)
		}
	}
	otherKey, _ := storage.NewSealer([]byte(strings.Repeat("k", 32)))
	foreign := storage.NewDB(filepath.Join(t.TempDir(), "other.db"))
	foreign.Sealer = otherKey
	if strings.Contains(storage.NewInvitationService(foreign).InvitationUID(f.offer.ID, f.interpA.ID, "courtside.example.org"), mac) {
		t.Error("another database's key makes the same UID")
	}
	// Another domain (the reply address changed) names the same invitation.
	if got := storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpA.ID, "mail.example"); !strings.HasPrefix(got, uid[:strings.IndexByte(uid, '@')]+"@") {
		t.Errorf("the domain changes the signature: %s", got)
	}
}

func TestInvitation_AcceptFromTheInterpretersOwnAddress(t *testing.T) {
	f := newInvitationFixture(t)
	bg := context.Background() // the signed UID and the address are the credential: no user
	audits := f.count(t, "audit_log")
	got, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, f.reply(courtside.PartStatAccepted))
	if err != nil || got.Status != courtside.BookingAccepted || got.ID != f.offer.ID {
		t.Fatalf("accept: %v %+v", err, got)
	}
	if got := f.lastAudits(t, f.count(t, "audit_log")-audits); strings.Join(got, ",") !=
		fmt.Sprintf("booking.invitation booking:%[1]d %[2]d ok,booking.accept booking:%[1]d %[2]d ok", f.offer.ID, f.interpA.ID) {
		t.Errorf("audit rows = %v", got)
	}
	if ev := f.lastEvents(t, 1)[0]; ev.Type != courtside.EventBookingAccepted || ev.UserID != f.interpA.ID {
		t.Errorf("event %+v", ev)
	}

	// The same answer again (Gmail sends the object twice; apps resend): nothing is written.
	before := f.writesAll(t)
	if again, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, f.reply(courtside.PartStatAccepted)); err != nil || again.Status != courtside.BookingAccepted {
		t.Fatalf("accept again: %v %+v", err, again)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("a repeated accept wrote: %v -> %v", before, after)
	}
	// Declining once accepted is not an answer to an offer: refused, as in the calendar app.
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, f.reply(courtside.PartStatDeclined)); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("decline after accepting: %v", err)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("a refused decline wrote: %v -> %v", before, after)
	}
}

func TestInvitation_DeclineOffersTheNextCandidate(t *testing.T) {
	f := newInvitationFixture(t)
	r := f.reply(courtside.PartStatDeclined)
	r.Comment = "  I am in\r\nanother court\tthat morning. " + strings.Repeat("é", 400)
	got, err := storage.NewInvitationService(f.db).AnswerInvitation(context.Background(), r)
	if err != nil || got.Status != courtside.BookingDeclined {
		t.Fatalf("decline: %v %+v", err, got)
	}
	if !strings.HasPrefix(got.DeclineReason, "I am in another court that morning. éé") || len(got.DeclineReason) > courtside.MaxDeclineReason ||
		!strings.HasSuffix(got.DeclineReason, "é") {
		t.Errorf("decline reason %q (%d bytes)", got.DeclineReason, len(got.DeclineReason))
	}
	evs := f.lastEvents(t, 2)
	if evs[0].Type != courtside.EventBookingDeclined || evs[1].Type != courtside.EventBookingOffered || evs[1].UserID != f.interpB.ID {
		t.Fatalf("events %+v", evs)
	}
	next, err := storage.NewBookingService(f.db).FindBookings(f.as(f.interpB), courtside.BookingFilter{})
	if err != nil || len(next) != 1 || next[0].PreviousBookingID != f.offer.ID || next[0].Status != courtside.BookingOffered {
		t.Fatalf("interpB's bookings: %v %+v", err, next)
	}
}

func TestInvitation_RefusalsChangeNothing(t *testing.T) {
	f := newInvitationFixture(t)
	bg := context.Background()
	good := f.reply(courtside.PartStatAccepted)
	at := strings.IndexByte(good.UID, '@')
	flipped := []byte(good.UID)
	if flipped[at-1] == '0' {
		flipped[at-1] = '1'
	} else {
		flipped[at-1] = '0'
	}
	otherKey, _ := storage.NewSealer([]byte(strings.Repeat("k", 32)))
	foreign := storage.NewDB(filepath.Join(t.TempDir(), "other.db"))
	foreign.Sealer = otherKey

	for name, c := range map[string]struct {
		edit  func(r *courtside.InvitationReply)
		code  string
		audit int // audit rows written (a reply from another address is recorded)
	}{
		"forged MAC": {func(r *courtside.InvitationReply) { r.UID = string(flipped) }, courtside.ENOTFOUND, 0},
		"another key": {func(r *courtside.InvitationReply) {
			r.UID = storage.NewInvitationService(foreign).InvitationUID(f.offer.ID, f.interpA.ID, "x.example")
		}, courtside.ENOTFOUND, 0},
		"another booking": {func(r *courtside.InvitationReply) {
			r.UID = storage.NewInvitationService(f.db).InvitationUID(f.offer.ID+7, f.interpA.ID, "x.example")
		}, courtside.ENOTFOUND, 0},
		"interpB's signature": {func(r *courtside.InvitationReply) {
			r.UID = storage.NewInvitationService(f.db).InvitationUID(f.offer.ID, f.interpB.ID, "x.example")
		}, courtside.ENOTFOUND, 0},
		"upper-case MAC":    {func(r *courtside.InvitationReply) { r.UID = strings.ToUpper(r.UID[:at]) + r.UID[at:] }, courtside.ENOTFOUND, 0},
		"no domain":         {func(r *courtside.InvitationReply) { r.UID = r.UID[:at] }, courtside.ENOTFOUND, 0},
		"leading zero":      {func(r *courtside.InvitationReply) { r.UID = strings.Replace(r.UID, "booking-", "booking-0", 1) }, courtside.ENOTFOUND, 0},
		"a hearing's UID":   {func(r *courtside.InvitationReply) { r.UID = "hearing-1@courtside" }, courtside.ENOTFOUND, 0},
		"garbage":           {func(r *courtside.InvitationReply) { r.UID = strings.Repeat("booking-1-", 40) + "@x" }, courtside.ENOTFOUND, 0},
		"From another":      {func(r *courtside.InvitationReply) { r.From = "attacker@mail.example" }, courtside.EFORBIDDEN, 1},
		"attendee another":  {func(r *courtside.InvitationReply) { r.Attendee = "attacker@mail.example" }, courtside.EFORBIDDEN, 1},
		"no From":           {func(r *courtside.InvitationReply) { r.From = "" }, courtside.EFORBIDDEN, 1},
		"TENTATIVE":         {func(r *courtside.InvitationReply) { r.PartStat = "TENTATIVE" }, courtside.EINVALID, 0},
		"NEEDS-ACTION":      {func(r *courtside.InvitationReply) { r.PartStat = "NEEDS-ACTION" }, courtside.EINVALID, 0},
		"DELEGATED":         {func(r *courtside.InvitationReply) { r.PartStat = "DELEGATED" }, courtside.EINVALID, 0},
		"similar-looking @": {func(r *courtside.InvitationReply) { r.From = strings.Replace(interpAAddress, "@", "＠", 1) }, courtside.EFORBIDDEN, 1},
	} {
		t.Run(name, func(t *testing.T) {
			r := good
			c.edit(&r)
			before := f.writesAll(t)
			if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, r); courtside.ErrorCode(err) != c.code {
				t.Fatalf("%v, want %s", err, c.code)
			}
			after := f.writesAll(t)
			before["audit_log"] += c.audit
			if !equalCounts(before, after) {
				t.Errorf("wrote: %v -> %v", before, after)
			}
			if c.audit == 1 {
				if got := f.lastAudits(t, 1)[0]; got != fmt.Sprintf("booking.invitation booking:%d %d denied", f.offer.ID, f.interpA.ID) {
					t.Errorf("audit row %q", got)
				}
			}
			if b := f.status(t); b != courtside.BookingOffered {
				t.Errorf("the booking is %s", b)
			}
		})
	}

	// After the deadline: the offer expired, even before the sweep.
	now := f.db.Now
	f.db.Now = func() time.Time { return f.offer.RespondBy.Add(time.Second) }
	before := f.writesAll(t)
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, good); courtside.ErrorCode(err) != courtside.ECONFLICT || !strings.Contains(courtside.ErrorMessage(err), "expired") {
		t.Fatalf("after the deadline: %v", err)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("a late answer wrote: %v -> %v", before, after)
	}
	f.db.Now = now

	// Withdrawn: the hearing is cancelled; an answer to the cancelled booking changes nothing.
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	before = f.writesAll(t)
	r := good
	r.Sequence = 99 // whatever its SEQUENCE
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, r); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("an answer to a withdrawn offer: %v", err)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("an answer to a withdrawn offer wrote: %v -> %v", before, after)
	}
}

func TestInvitation_AReplyToAMovedInvitationIsOutOfDate(t *testing.T) {
	f := newInvitationFixture(t)
	bg := context.Background()
	old := f.reply(courtside.PartStatAccepted)
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, old); err != nil {
		t.Fatal(err)
	}
	// The hearing moves: the invitation is updated with the move's SEQUENCE.
	moved, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.hearing.ID, courtside.HearingUpdate{
		StartsAt: start.Add(24 * time.Hour), EndsAt: start.Add(25 * time.Hour), Reason: "continuance"})
	if err != nil {
		t.Fatal(err)
	}
	if f.status(t) != courtside.BookingNeedsReconfirmation {
		t.Fatalf("after the move: %s", f.status(t))
	}
	before := f.writesAll(t)
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, old); courtside.ErrorCode(err) != courtside.ECONFLICT || !strings.Contains(courtside.ErrorMessage(err), "updated since") {
		t.Fatalf("the answer to the invitation before the move: %v", err)
	}
	if after := f.writesAll(t); !equalCounts(before, after) {
		t.Errorf("an out-of-date answer wrote: %v -> %v", before, after)
	}
	// The answer to the update reconfirms.
	current := old
	current.Sequence = moved.Sequence
	if got, err := storage.NewInvitationService(f.db).AnswerInvitation(bg, current); err != nil || got.Status != courtside.BookingAccepted {
		t.Fatalf("the answer to the update: %v %+v", err, got)
	}
}

func TestInvitation_AnInterpreterWithoutAnAddressCannotAnswerByMail(t *testing.T) {
	f := newBookingFixture(t)
	b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), f.hearing.ID, "es", nil)
	if err != nil || b.InterpreterID != f.interpreter.ID || f.interpreter.Email != "" {
		t.Fatalf("request: %v %+v", err, b)
	}
	r := courtside.InvitationReply{UID: storage.NewInvitationService(f.db).InvitationUID(b.ID, b.InterpreterID, "x.example"), PartStat: courtside.PartStatAccepted}
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(context.Background(), r); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("no address: %v", err)
	}
}

// TestNoticePlanner_InterpretersChangesNameTheirBooking: the messages to interpreters about a
// move and a cancellation carry the booking their invitation is for, so that the update and
// the CANCEL keep its UID.
func TestNoticePlanner_InterpretersChangesNameTheirBooking(t *testing.T) {
	f := newInvitationFixture(t)
	if _, err := storage.NewInvitationService(f.db).AnswerInvitation(context.Background(), f.reply(courtside.PartStatAccepted)); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.hearing.ID, courtside.HearingUpdate{
		StartsAt: start.Add(24 * time.Hour), EndsAt: start.Add(25 * time.Hour), Reason: "continuance"}); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.hearing.ID, "dismissed", nil); err != nil {
		t.Fatal(err)
	}
	var last int64
	storagetest.Drain(t, f.db, &last, (&storage.NoticePlanner{DB: f.db}).Handle)
	rows, err := f.db.Writer.Query(`SELECT kind, sequence, notice FROM deliveries WHERE user_id = ? ORDER BY id`, f.interpA.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[courtside.NotificationKind]courtside.NoticeFacts{}
	for rows.Next() {
		var kind courtside.NotificationKind
		var seq int
		var notice string
		if err := rows.Scan(&kind, &seq, &notice); err != nil {
			t.Fatal(err)
		}
		var n courtside.NoticeFacts
		if err := json.Unmarshal([]byte(notice), &n); err != nil {
			t.Fatal(err)
		}
		got[kind] = n
	}
	for _, kind := range []courtside.NotificationKind{courtside.NotifyBookingOffer, courtside.NotifyHearingChanged, courtside.NotifyHearingCancelled} {
		if n, ok := got[kind]; !ok || n.BookingID != f.offer.ID || n.InterpreterID != f.interpA.ID || n.Language != "pt" {
			t.Errorf("%s to interpA: %+v (planned: %v)", kind, n, ok)
		}
	}
}

// lastAudits returns the last n audit rows, oldest first, as "action object actor outcome".
func (f *invitationFixture) lastAudits(t *testing.T, n int) []string {
	t.Helper()
	rows, err := f.db.Writer.Query(`SELECT action, object, COALESCE(actor_id, 0), outcome FROM
		(SELECT * FROM audit_log ORDER BY id DESC LIMIT ?) AS a ORDER BY id`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var action, object, outcome string
		var actor int64
		if err := rows.Scan(&action, &object, &actor, &outcome); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %d %s", action, object, actor, outcome))
	}
	return out
}

// status returns the offer's status now.
func (f *invitationFixture) status(t *testing.T) courtside.BookingStatus {
	t.Helper()
	var s courtside.BookingStatus
	if err := f.db.Writer.QueryRow(`SELECT status FROM interpreter_bookings WHERE id = ?`, f.offer.ID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
