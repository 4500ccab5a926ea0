package graph_test

import (
	"context"
	"courtside/storage"
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
)

// addInterpreter creates an interpreter with languages such as "es:CERTIFIED" and an API token
// for it, known to e by name.
func (e *env) addInterpreter(name, languages string) {
	e.t.Helper()
	ls, err := courtside.ParseInterpreterLanguages(languages)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := context.Background()
	u, err := storage.NewUserService(e.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: name, Role: courtside.RoleInterpreter, Languages: ls}})
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := storage.NewTokenService(e.db).CreateToken(ctx, u.ID, courtside.TokenAPI, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[name], e.tokens[name] = u, secret
}

// bookingView is what the tests read of a booking.
type bookingView struct {
	ID             string
	Status         string
	Language       string
	RespondBy      *string
	FallbackReason *string
	DeclineReason  *string
	Interpreter    *struct {
		Name      string
		Languages []struct{ Language, Tier string }
	}
	Hearing *struct{ ID string }
}

const bookingFields = `id status language respondBy fallbackReason declineReason interpreter { name languages { language tier } } hearing { id }`

const candidatesQuery = `query($h: ID!, $l: String!) { interpreterCandidates(hearingId: $h, language: $l) {
  interpreter { id name languages { language tier } } tier language available reason weekBookings } }`

type candidateView struct {
	Interpreter  struct{ ID, Name string }
	Tier         string
	Language     string
	Available    bool
	Reason       *string
	WeekBookings int
}

func (e *env) candidates(user, hearingID, language string) []candidateView {
	e.t.Helper()
	var out struct{ InterpreterCandidates []candidateView }
	e.gql(user, candidatesQuery, map[string]any{"h": hearingID, "l": language}).ok(&out)
	return out.InterpreterCandidates
}

func (e *env) requestInterpreter(user, hearingID, language string, minimumTier any) *response {
	e.t.Helper()
	return e.gql(user, `mutation($h: ID!, $l: String!, $t: Tier) { requestInterpreter(hearingId: $h, language: $l, minimumTier: $t) { `+bookingFields+` } }`,
		map[string]any{"h": hearingID, "l": language, "t": minimumTier})
}

func (e *env) respond(user, bookingID string, accept bool, reason any) *response {
	e.t.Helper()
	return e.gql(user, `mutation($b: ID!, $a: Boolean!, $r: String) { respondToBooking(bookingId: $b, accept: $a, reason: $r) { `+bookingFields+` } }`,
		map[string]any{"b": bookingID, "a": accept, "r": reason})
}

func TestInterpreterBooking(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim() // victim "V-17-R", es-MX, linked to the case; adv accompanies
	e.addInterpreter("interp2", "es:CERTIFIED")
	e.addInterpreter("interp-pq", "es:PROFESSIONALLY_QUALIFIED")
	e.addInterpreter("interp-mx", "es-MX:LANGUAGE_SKILLED")
	e.addInterpreter("interp-zh", "zh-Hans:CERTIFIED")

	t.Run("candidates are ranked", func(t *testing.T) {
		e := e.with(t)
		var got []string
		for _, c := range e.candidates("coord", f.hearingID, "es") {
			got = append(got, c.Interpreter.Name+":"+c.Tier)
			if !c.Available {
				t.Errorf("%s is unavailable: %v", c.Interpreter.Name, c.Reason)
			}
		}
		if want := "interp:CERTIFIED interp2:CERTIFIED interp-pq:PROFESSIONALLY_QUALIFIED interp-mx:LANGUAGE_SKILLED"; strings.Join(got, " ") != want {
			t.Fatalf("candidates for es: %s, want %s", strings.Join(got, " "), want)
		}
		// For es-MX an "es" interpreter serves too; tier comes before the closeness of the
		// language, so the certified "es" interpreters rank before the language-skilled "es-MX" one.
		cs := e.candidates("pros", f.hearingID, "es-MX")
		if len(cs) != 4 || cs[0].Interpreter.Name != "interp" || cs[0].Language != "es" || cs[0].Reason == nil ||
			*cs[0].Reason != "Interprets es." || cs[3].Interpreter.Name != "interp-mx" || cs[3].Language != "es-MX" || cs[3].Reason != nil {
			t.Fatalf("candidates for es-MX: %+v", cs)
		}
		if cs := e.candidates("coord", f.hearingID, "zh"); len(cs) != 1 || cs[0].Interpreter.Name != "interp-zh" {
			t.Fatalf("candidates for zh: %+v", cs)
		}
	})

	t.Run("role and scope checks", func(t *testing.T) {
		e := e.with(t)
		for _, user := range []string{"adv", "interp", "admin"} {
			e.gql(user, candidatesQuery, map[string]any{"h": f.hearingID, "l": "es"}).fails("FORBIDDEN")
			e.requestInterpreter(user, f.hearingID, "es", nil).fails("FORBIDDEN")
		}
		e.gql("pros2", candidatesQuery, map[string]any{"h": f.hearingID, "l": "es"}).fails("NOT_FOUND")
		e.requestInterpreter("pros2", f.hearingID, "es", nil).fails("NOT_FOUND")
		e.gql("", candidatesQuery, map[string]any{"h": f.hearingID, "l": "es"}).fails("UNAUTHENTICATED")
		e.requestInterpreter("coord", f.hearingID, "Spanish please", nil).fails("INVALID", "language")
		e.requestInterpreter("coord", f.hearingID, "es", "EXCELLENT").fails("INVALID")
		e.requestInterpreter("coord", "x", "es", nil).fails("INVALID", "hearingId")
		e.requestInterpreter("coord", f.hearingID, "vi", nil).fails("CONFLICT")
		e.requestInterpreter("coord", f.hearingID, "zh", "CERTIFIED").ok(nil) // another language, another booking
	})

	// The coordinator requests an interpreter: the best candidate is offered the hearing.
	var req struct{ RequestInterpreter bookingView }
	e.requestInterpreter("coord", f.hearingID, "es", nil).ok(&req)
	offer := req.RequestInterpreter
	if offer.Status != "OFFERED" || offer.Language != "es" || offer.Interpreter == nil || offer.Interpreter.Name != "interp" ||
		offer.RespondBy == nil || offer.FallbackReason != nil || offer.Hearing == nil || offer.Hearing.ID != f.hearingID {
		t.Fatalf("offer: %+v", offer)
	}
	e.requestInterpreter("coord", f.hearingID, "es", nil).fails("CONFLICT")

	t.Run("the offered interpreter sees the hearing but no victim", func(t *testing.T) {
		e := e.with(t)
		var out struct {
			Hearing struct {
				ID, Kind, StartsAt, Status string
				Courtroom                  *string
				Court                      struct{ Name, TimeZone string }
				Case                       struct {
					Docket   string
					Victims  []struct{ Victim struct{ Pseudonym string } }
					Hearings []struct{ ID string }
				}
				Accompaniments []struct{ ID string }
				Bookings       []bookingView
			}
		}
		e.gql("interp", `query($id: ID!) { hearing(id: $id) { id kind startsAt status courtroom court { name timeZone }
  case { docket victims { victim { pseudonym } } hearings { id } } accompaniments { id } bookings { `+bookingFields+` } } }`,
			map[string]any{"id": f.hearingID}).ok(&out)
		h := out.Hearing
		if h.ID != f.hearingID || h.Kind != "ARRAIGNMENT" || h.StartsAt != "2030-03-04T14:30:00Z" || h.Courtroom == nil || *h.Courtroom != "4B" ||
			h.Court.Name != "County Courthouse" || h.Case.Docket != "CR-2030-0042" {
			t.Fatalf("the interpreter's hearing: %+v", h)
		}
		if len(h.Case.Victims) != 0 || len(h.Accompaniments) != 0 {
			t.Fatalf("the interpreter sees victims: %+v %+v", h.Case.Victims, h.Accompaniments)
		}
		if len(h.Case.Hearings) != 1 || len(h.Bookings) != 1 || h.Bookings[0].ID != offer.ID {
			t.Fatalf("the interpreter's case hearings %+v, bookings %+v", h.Case.Hearings, h.Bookings)
		}
		r := e.gql("interp", readVictim, map[string]any{"id": f.victimID}).fails("NOT_FOUND")
		if string(r.Data) != `{"victim":null}` {
			t.Fatalf("victim for the interpreter: %s", r.Data)
		}
		body := e.gql("interp", `query($id: ID!) { hearing(id: $id) { case { victims { victim { pseudonym legalName } } } } bookings { hearing { case { victims { attends } } } } }`,
			map[string]any{"id": f.hearingID}).ok(nil).Data
		for _, secret := range []string{"V-17-R", "Demo Person A", "+12025550100"} {
			if strings.Contains(string(body), secret) {
				t.Fatalf("the interpreter's answer holds %q: %s", secret, body)
			}
		}
		var mine struct{ Bookings []bookingView }
		e.gql("interp", `{ bookings { `+bookingFields+` } }`, nil).ok(&mine)
		if len(mine.Bookings) != 1 || mine.Bookings[0].ID != offer.ID {
			t.Fatalf("the interpreter's bookings: %+v", mine.Bookings)
		}
		// Another interpreter sees neither the hearing nor the booking.
		e.gql("interp2", readHearing, map[string]any{"id": f.hearingID}).fails("NOT_FOUND")
		e.gql("interp2", `{ bookings { id } }`, nil).ok(&mine)
		if len(mine.Bookings) != 0 {
			t.Fatalf("interp2's bookings: %+v", mine.Bookings)
		}
	})

	t.Run("only the offered interpreter answers", func(t *testing.T) {
		e := e.with(t)
		e.respond("interp2", offer.ID, true, nil).fails("NOT_FOUND")
		e.respond("coord", offer.ID, true, nil).fails("FORBIDDEN")
		e.respond("adv", offer.ID, false, nil).fails("FORBIDDEN")
		e.respond("interp", offer.ID, false, strings.Repeat("x", 501)).fails("INVALID", "reason")
		e.respond("interp", "999", true, nil).fails("NOT_FOUND")
	})

	// interp declines: the booking ends, and interp2, next in rank, is offered the hearing.
	var declined struct{ RespondToBooking bookingView }
	e.respond("interp", offer.ID, false, "in another trial that week").ok(&declined)
	if d := declined.RespondToBooking; d.ID != offer.ID || d.Status != "DECLINED" || d.DeclineReason == nil ||
		*d.DeclineReason != "in another trial that week" || d.Hearing == nil || d.Hearing.ID != f.hearingID {
		t.Fatalf("declined: %+v", d)
	}
	e.gql("interp", readHearing, map[string]any{"id": f.hearingID}).fails("NOT_FOUND")
	e.respond("interp", offer.ID, true, nil).fails("CONFLICT")

	var seen struct {
		Hearing struct{ Bookings []bookingView }
	}
	e.gql("coord", `query($id: ID!) { hearing(id: $id) { bookings { `+bookingFields+` } } }`, map[string]any{"id": f.hearingID}).ok(&seen)
	var es []bookingView
	for _, b := range seen.Hearing.Bookings {
		if b.Language == "es" {
			es = append(es, b)
		}
	}
	if len(es) != 2 || es[0].Status != "DECLINED" || es[0].Interpreter.Name != "interp" || es[1].Status != "OFFERED" ||
		es[1].Interpreter == nil || es[1].Interpreter.Name != "interp2" || es[1].FallbackReason != nil {
		t.Fatalf("bookings after the decline: %+v", seen.Hearing.Bookings)
	}
	reoffer := es[1]

	// interp2 finds the offer among its bookings and accepts.
	var mine struct{ Bookings []bookingView }
	e.gql("interp2", `{ bookings(status: OFFERED) { `+bookingFields+` } }`, nil).ok(&mine)
	if len(mine.Bookings) != 1 || mine.Bookings[0].ID != reoffer.ID {
		t.Fatalf("interp2's offers: %+v", mine.Bookings)
	}
	var accepted struct{ RespondToBooking bookingView }
	e.respond("interp2", reoffer.ID, true, nil).ok(&accepted)
	if a := accepted.RespondToBooking; a.Status != "ACCEPTED" || a.Interpreter.Name != "interp2" || a.DeclineReason != nil {
		t.Fatalf("accepted: %+v", a)
	}
	if h := e.hearing("interp2", f.hearingID); h.Case.Docket != "CR-2030-0042" {
		t.Fatalf("interp2's hearing: %+v", h)
	}
	var org struct{ Bookings []bookingView }
	e.gql("coord", `{ bookings(status: ACCEPTED) { `+bookingFields+` } }`, nil).ok(&org)
	if len(org.Bookings) != 1 || org.Bookings[0].ID != reoffer.ID || org.Bookings[0].Interpreter.Name != "interp2" {
		t.Fatalf("the organisation's accepted bookings: %+v", org.Bookings)
	}
	e.gql("pros", `{ bookings { id } }`, nil).ok(&org)
	if len(org.Bookings) != 3 { // es declined, es accepted, zh offered
		t.Fatalf("the office's bookings: %+v", org.Bookings)
	}
	e.gql("pros2", `{ bookings { id } }`, nil).ok(&org)
	if len(org.Bookings) != 0 {
		t.Fatalf("another office's bookings: %+v", org.Bookings)
	}
	// Booked, the interpreter is listed as such for a new request of the language.
	e.requestInterpreter("coord", f.hearingID, "es", nil).fails("CONFLICT")
}

func TestInterpreterBookingFallback(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	e.addInterpreter("interp-pq", "es:PROFESSIONALLY_QUALIFIED")
	var req struct{ RequestInterpreter bookingView }
	e.requestInterpreter("coord", f.hearingID, "es", "CERTIFIED").ok(&req)
	// interp, the only certified one, declines: with a certified minimum nobody is left.
	e.respond("interp", req.RequestInterpreter.ID, false, nil).ok(nil)
	e.requestInterpreter("coord", f.hearingID, "es", "CERTIFIED").fails("CONFLICT")
	// Without a minimum the professionally qualified interpreter is offered, with the reason.
	e.requestInterpreter("coord", f.hearingID, "es", nil).ok(&req)
	if b := req.RequestInterpreter; b.Interpreter.Name != "interp-pq" || b.FallbackReason == nil ||
		*b.FallbackReason != "no certified interpreter available for es" {
		t.Fatalf("fallback offer: %+v", b)
	}
}

// TestBookingStatementsDoNotGrow counts the SQL statements of hearings with their bookings over
// 3 and over 12 hearings: Hearing.bookings is batched.
func TestBookingStatementsDoNotGrow(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim()
	e.addInterpreter("interp2", "es:CERTIFIED")
	base := time.Date(2031, 1, 6, 15, 0, 0, 0, time.UTC)
	post := func(from, to int) {
		for i := from; i < to; i++ {
			starts := base.Add(time.Duration(i) * 24 * time.Hour)
			var h struct{ PostHearing struct{ ID string } }
			e.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, fmt.Sprintf("B-%d", i),
				starts.Format(time.RFC3339), starts.Add(time.Hour).Format(time.RFC3339))}).ok(&h)
			e.requestInterpreter("coord", h.PostHearing.ID, "es", nil).ok(nil)
		}
	}
	const nested = `query($f: DateTime!, $t: DateTime!) { hearings(from: $f, to: $t, first: 200) { edges {
		id bookings(first: 5) { status respondBy interpreter { name languages { tier } } hearing { id court { name } } } } } }`
	vars := map[string]any{"f": base.Add(-time.Hour).Format(time.RFC3339), "t": base.Add(200 * 24 * time.Hour).Format(time.RFC3339)}
	statements := func(want int) int64 {
		var out struct {
			Hearings struct {
				Edges []struct{ Bookings []bookingView }
			}
		}
		before := e.db.Statements()
		e.gql("coord", nested, vars).ok(&out)
		if got := len(out.Hearings.Edges); got != want {
			t.Fatalf("coord sees %d hearings, want %d", got, want)
		}
		for _, h := range out.Hearings.Edges {
			if len(h.Bookings) != 1 {
				t.Fatalf("bookings %+v", h.Bookings)
			}
		}
		return e.db.Statements() - before
	}
	post(0, 3)
	few := statements(3)
	post(3, 12)
	if many := statements(12); many > few {
		t.Errorf("%d statements over 12 hearings, %d over 3: the count grows with the hearings", many, few)
	}
}
