package storage_test

import (
	"context"
	"courtside/storage"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"courtside"
)

// TestScenario_NoDoubleBookings books a fortnight of two courts in different time zones, across
// the start of daylight saving time, through the storage services: 200 hearings, 30 interpreters
// and 15 advocates. Interpreters are requested by the coordinator and the offers answered (some
// declined, so the automatic re-offers are exercised too); advocates are assigned by the
// coordinator to one free at the time, travel included. The resulting schedule has nobody
// double-booked: ranking never offers an interpreter a hearing that clashes, travel buffer
// included, with one they hold.
func TestScenario_NoDoubleBookings(t *testing.T) {
	if testing.Short() {
		t.Skip("scenario")
	}
	f := newFixture(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(6, 1827))
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	harbor := &courtside.Court{Name: "Harbor Courthouse", TimeZone: "America/Los_Angeles"}
	if err := storage.NewCourtService(f.db).CreateCourt(f.as(f.admin), harbor); err != nil {
		t.Fatal(err)
	}

	// 30 interpreters: Spanish at every tier, a few regional Spanish, Chinese and Vietnamese.
	tiers := []courtside.Tier{courtside.TierCertified, courtside.TierProfessionallyQualified, courtside.TierLanguageSkilled}
	users := map[int64]*courtside.User{f.interpreter.ID: f.interpreter}
	for i := range 29 {
		lang := "es"
		switch {
		case i >= 25:
			lang = "vi"
		case i >= 21:
			lang = "zh-Hans"
		case i >= 18:
			lang = "es-MX"
		}
		u, err := storage.NewUserService(f.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: fmt.Sprintf("interp%02d", i), Role: courtside.RoleInterpreter,
			Languages: []courtside.InterpreterLanguage{{Language: lang, Tier: tiers[i%3]}}}})
		if err != nil {
			t.Fatal(err)
		}
		users[u.ID] = u
	}
	// 15 advocates of the coordinator's organisation (the fixture has two).
	advocates := []*courtside.User{f.advocate, f.otherAdvocate}
	for i := range 13 {
		u, err := storage.NewUserService(f.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: fmt.Sprintf("adv%02d", i), Role: courtside.RoleAdvocate},
			OrganizationName: "Advocacy Org"})
		if err != nil {
			t.Fatal(err)
		}
		advocates = append(advocates, u)
	}
	// 20 cases in each court, each with an attending victim of the coordinator's organisation.
	type kase struct {
		id, victim int64
		loc        *time.Location
	}
	var cases [2][]kase
	for c, court := range []*courtside.Court{f.court, harbor} {
		for i := range 20 {
			k := &courtside.Case{Docket: fmt.Sprintf("27-CR-%d%02d", c, i), CourtID: court.ID}
			if err := storage.NewCaseService(f.db).OpenCase(f.as(f.prosecutor), k); err != nil {
				t.Fatal(err)
			}
			v := &courtside.Victim{Pseudonym: fmt.Sprintf("V-%d%02d", c, i), LegalName: "Hidden", PreferredLanguage: "es"}
			if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
				t.Fatal(err)
			}
			f.share(t, k, f.prosecutor, f.coordinator)
			if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), k.ID, v.ID, true); err != nil {
				t.Fatal(err)
			}
			cases[c] = append(cases[c], kase{k.ID, v.ID, []*time.Location{ny, la}[c]})
		}
	}

	// 200 hearings: 10 weekdays from Monday 8 March 2027 (daylight saving time starts on Sunday
	// 14 March), 10 a day in each court, between 08:30 and 18:00 local time.
	languages := []string{"es", "es", "es", "es", "es", "es", "es-MX", "zh-Hans", "vi", "es"}
	var from, to time.Time
	var accepted, declined, unfilled, advocatesMissing int
	held := map[int64][]*courtside.Hearing{} // an advocate's hearings
	day := time.Date(2027, 3, 8, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 14; d++ {
		date := day.AddDate(0, 0, d)
		if date.Weekday() == time.Saturday || date.Weekday() == time.Sunday {
			continue
		}
		for c := range 2 {
			for range 10 {
				k := cases[c][rng.IntN(len(cases[c]))]
				minutes := 30 * (1 + rng.IntN(3))
				startMin := 8*60 + 30 + 15*rng.IntN((18*60-(8*60+30)-minutes)/15+1)
				start := time.Date(date.Year(), date.Month(), date.Day(), 0, startMin, 0, 0, k.loc)
				h := &courtside.Hearing{CaseID: k.id, Kind: courtside.KindMotion, StartsAt: start, EndsAt: start.Add(time.Duration(minutes) * time.Minute),
					Courtroom: fmt.Sprintf("%d", 1+rng.IntN(4))}
				if _, err := storage.NewHearingService(f.db).PostHearing(f.as(f.prosecutor), h); err != nil {
					t.Fatal(err)
				}
				if from.IsZero() || h.StartsAt.Before(from) {
					from = h.StartsAt
				}
				if h.EndsAt.After(to) {
					to = h.EndsAt
				}

				// An interpreter: the best available is offered the hearing; about one offer in
				// six is declined, and the re-offer answered in turn.
				lang := languages[rng.IntN(len(languages))]
				b, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h.ID, lang, nil)
				for err == nil && b != nil {
					interpreter := users[b.InterpreterID]
					if rng.IntN(6) == 0 {
						if _, err = storage.NewBookingService(f.db).RespondToBooking(f.as(interpreter), b.ID, false, "not available"); err != nil {
							break
						}
						declined++
						b, err = offerAfter(f, h.ID, b.ID)
						continue
					}
					if _, err = storage.NewBookingService(f.db).RespondToBooking(f.as(interpreter), b.ID, true, ""); err == nil {
						accepted++
					}
					break
				}
				if courtside.ErrorCode(err) == courtside.ECONFLICT {
					unfilled++
				} else if err != nil {
					t.Fatal(err)
				}

				// An advocate: the first free one, travel included.
				assigned := false
				for _, a := range advocates {
					if !freeFor(held[a.ID], h) {
						continue
					}
					if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, k.victim, a.ID); err != nil {
						t.Fatal(err)
					}
					held[a.ID] = append(held[a.ID], h)
					assigned = true
					break
				}
				if !assigned {
					advocatesMissing++
				}
			}
		}
	}
	t.Logf("%d interpreters accepted, %d declines, %d requests unfilled, %d hearings without an advocate",
		accepted, declined, unfilled, advocatesMissing)
	if accepted < 150 || declined == 0 {
		t.Errorf("%d accepted, %d declined: the scenario exercises too little", accepted, declined)
	}

	cs, err := storage.NewCoordinationService(f.db).FindConflicts(f.as(f.coordinator), from, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Kind == courtside.ConflictAdvocateDoubleBooked || c.Kind == courtside.ConflictInterpreterDoubleBooked {
			t.Errorf("%s %s: hearings %d and %d", c.Kind, c.Who, c.Hearings[0].ID, c.Hearings[1].ID)
		}
		if c.Kind == courtside.ConflictOutsideCourtHours {
			t.Errorf("%s %s: hearing %d", c.Kind, c.Who, c.Hearings[0].ID)
		}
	}
}

// offerAfter returns the booking offered after declined, or ECONFLICT when nobody was left.
func offerAfter(f *fixture, hearingID, declined int64) (*courtside.InterpreterBooking, error) {
	bs, err := storage.NewBookingService(f.db).FindBookings(f.as(f.coordinator), courtside.BookingFilter{HearingIDs: []int64{hearingID}})
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if b.PreviousBookingID == declined {
			return b, nil
		}
	}
	return nil, courtside.Errorf(courtside.ECONFLICT, "nobody left")
}

// freeFor reports whether someone holding hs can also be at h: no overlap, and the default
// travel time between different courts.
func freeFor(hs []*courtside.Hearing, h *courtside.Hearing) bool {
	for _, o := range hs {
		first, second := o, h
		if h.StartsAt.Before(o.StartsAt) {
			first, second = h, o
		}
		if second.StartsAt.Before(first.EndsAt.Add(courtside.DefaultTravelBuffer(first.CourtID, second.CourtID))) {
			return false
		}
	}
	return true
}
