package courtside_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"courtside"
)

func TestInterpreterBooking_Transitions(t *testing.T) {
	deadline := t0.Add(24 * time.Hour)
	for _, tt := range []struct {
		name   string
		from   courtside.BookingStatus
		act    func(b *courtside.InterpreterBooking) error
		want   courtside.BookingStatus
		wantOK bool
	}{
		{"accept offer", courtside.BookingOffered, func(b *courtside.InterpreterBooking) error { return b.Respond(true, t0) }, courtside.BookingAccepted, true},
		{"decline offer", courtside.BookingOffered, func(b *courtside.InterpreterBooking) error { return b.Respond(false, t0) }, courtside.BookingDeclined, true},
		{"late answer", courtside.BookingOffered, func(b *courtside.InterpreterBooking) error { return b.Respond(true, deadline.Add(time.Second)) }, courtside.BookingOffered, false},
		{"answer twice", courtside.BookingAccepted, func(b *courtside.InterpreterBooking) error { return b.Respond(false, t0) }, courtside.BookingAccepted, false},
		{"reconfirm", courtside.BookingNeedsReconfirmation, func(b *courtside.InterpreterBooking) error { return b.Respond(true, t0) }, courtside.BookingAccepted, true},
		{"expire", courtside.BookingOffered, boolAct(func(b *courtside.InterpreterBooking) bool { return b.Expire(deadline.Add(time.Minute)) }), courtside.BookingExpired, true},
		{"not yet expired", courtside.BookingOffered, boolAct(func(b *courtside.InterpreterBooking) bool { return b.Expire(t0) }), courtside.BookingOffered, false},
		{"move accepted", courtside.BookingAccepted, boolAct(func(b *courtside.InterpreterBooking) bool { return b.HearingMoved(t0) }), courtside.BookingNeedsReconfirmation, true},
		{"move declined", courtside.BookingDeclined, boolAct(func(b *courtside.InterpreterBooking) bool { return b.HearingMoved(t0) }), courtside.BookingDeclined, false},
		{"cancel offered", courtside.BookingOffered, boolAct(func(b *courtside.InterpreterBooking) bool { return b.HearingCancelled(t0) }), courtside.BookingCancelled, true},
		{"cancel expired", courtside.BookingExpired, boolAct(func(b *courtside.InterpreterBooking) bool { return b.HearingCancelled(t0) }), courtside.BookingExpired, false},
	} {
		b := &courtside.InterpreterBooking{Status: tt.from, RespondBy: &deadline}
		err := tt.act(b)
		if (err == nil) != tt.wantOK || b.Status != tt.want {
			t.Errorf("%s: err %v status %s, want ok=%v %s", tt.name, err, b.Status, tt.wantOK, tt.want)
		}
	}
}

func boolAct(f func(b *courtside.InterpreterBooking) bool) func(b *courtside.InterpreterBooking) error {
	return func(b *courtside.InterpreterBooking) error {
		if !f(b) {
			return errors.New("no change")
		}
		return nil
	}
}

func TestAccompaniment_Transitions(t *testing.T) {
	a := &courtside.Accompaniment{Status: courtside.AccompanimentAssigned}
	if a.HearingMoved(t0) {
		t.Fatal("an unconfirmed accompaniment needs no reconfirmation")
	}
	if err := a.Confirm(t0); err != nil || a.Status != courtside.AccompanimentConfirmed {
		t.Fatalf("confirm: %v %s", err, a.Status)
	}
	if !a.HearingMoved(t0) || a.Status != courtside.AccompanimentNeedsReconfirmation {
		t.Fatalf("moved: %s", a.Status)
	}
	if err := a.Confirm(t0); err != nil || a.Status != courtside.AccompanimentConfirmed {
		t.Fatalf("reconfirm: %v %s", err, a.Status)
	}
	if !a.HearingCancelled(t0) || a.Live() {
		t.Fatalf("cancel: %s", a.Status)
	}
	if a.HearingCancelled(t0) {
		t.Fatal("cancelling twice changed status")
	}
	if err := a.Confirm(t0); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("confirm cancelled: %v", err)
	}
}

func TestTier_Order(t *testing.T) {
	if !courtside.TierCertified.AtLeast(courtside.TierProfessionallyQualified) ||
		courtside.TierLanguageSkilled.AtLeast(courtside.TierCertified) ||
		!courtside.TierLanguageSkilled.AtLeast(courtside.TierLanguageSkilled) ||
		courtside.Tier("GOOD").AtLeast(courtside.TierLanguageSkilled) {
		t.Fatal("tier order wrong")
	}
	langs, err := courtside.ParseInterpreterLanguages("es:certified, ru:LANGUAGE_SKILLED")
	if err != nil || len(langs) != 2 || langs[0].Tier != courtside.TierCertified || langs[1].Language != "ru" {
		t.Fatalf("parse: %v %+v", err, langs)
	}
	for _, bad := range []string{"es", "es:GREAT", "!!:CERTIFIED"} {
		if _, err := courtside.ParseInterpreterLanguages(bad); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	if courtside.ErrorCode(nil) != "" {
		t.Fatal("nil error has a code")
	}
	wrapped := fmt.Errorf("storage: x: %w", courtside.Invalidf("startsAt", "bad"))
	if courtside.ErrorCode(wrapped) != courtside.EINVALID || courtside.ErrorField(wrapped) != "startsAt" || courtside.ErrorMessage(wrapped) != "bad" {
		t.Fatalf("wrapped: %v", wrapped)
	}
	internal := errors.New("disk I/O error at /secret/path")
	if courtside.ErrorCode(internal) != courtside.EINTERNAL || courtside.ErrorMessage(internal) != "Internal error." {
		t.Fatal("internal error leaks")
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]courtside.Role{"admin": courtside.RoleAdmin, "Prosecutor": courtside.RoleProsecutor, " INTERPRETER ": courtside.RoleInterpreter} {
		if got, err := courtside.ParseRole(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := courtside.ParseRole("judge"); courtside.ErrorField(err) != "role" {
		t.Errorf("judge: %v", err)
	}
}

func TestValidatePassword(t *testing.T) {
	long := ""
	for len(long) < 64 {
		long += "río-ñandú-7 "
	}
	for _, tt := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"passwordpassword", false},
		{"aaaaaaaaaaaaaaaaaaaa", false},
		{"clerk.seven-secret-plus", false}, // contains the username
		{"tidal basin lantern 42", true},
		{long, true},
	} {
		err := courtside.ValidatePassword("clerk.seven", tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.pw, err)
		}
	}
}

func TestAccessRules(t *testing.T) {
	v := &courtside.Victim{ID: 1, OrganizationID: 10}
	coord := &courtside.User{Role: courtside.RoleCoordinator, OrganizationID: 10}
	otherCoord := &courtside.User{Role: courtside.RoleCoordinator, OrganizationID: 11}
	adv := &courtside.User{Role: courtside.RoleAdvocate, OrganizationID: 10}
	pros := &courtside.User{Role: courtside.RoleProsecutor, OrganizationID: 10}
	interp := &courtside.User{Role: courtside.RoleInterpreter}
	for _, tt := range []struct {
		u           *courtside.User
		accompanies bool
		want        bool
	}{
		{coord, false, true}, {otherCoord, false, false}, {adv, true, true}, {adv, false, false},
		{pros, true, false}, {interp, true, false}, {nil, true, false},
	} {
		if got := courtside.CanSeeVictimPII(tt.u, v, tt.accompanies); got != tt.want {
			t.Errorf("%+v accompanies=%v: %v", tt.u, tt.accompanies, got)
		}
	}
	if courtside.CanSeeVictimPseudonym(interp) || !courtside.CanSeeVictimPseudonym(pros) {
		t.Error("pseudonym rule")
	}
	if !courtside.CanChangeHearingsOf(pros, 10) || courtside.CanChangeHearingsOf(pros, 11) || courtside.CanChangeHearingsOf(coord, 10) {
		t.Error("hearing change rule")
	}
}
