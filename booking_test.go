package courtside_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"courtside"
)

func TestMatchLanguage(t *testing.T) {
	for _, tt := range []struct {
		have, want string
		match      courtside.LanguageMatch
	}{
		{"es", "es", courtside.MatchExact},
		{"es", "es-MX", courtside.MatchClose},    // an interpreter's "es" serves a request for "es-MX"
		{"es-MX", "es", courtside.MatchClose},    // and the other way round
		{"es-ES", "es-MX", courtside.MatchClose}, // another region of the same language
		{"es-MX", "es-MX", courtside.MatchExact},
		{"zh-Hans", "zh", courtside.MatchExact}, // zh is written in Han Simplified by default
		{"zh", "zh-Hans", courtside.MatchExact},
		{"zh-Hant", "zh", courtside.MatchNone}, // another script does not serve
		{"zh", "zh-Hant", courtside.MatchNone},
		{"zh-Hant", "zh-TW", courtside.MatchExact},
		{"pt", "pt-BR", courtside.MatchExact},
		{"iw", "he", courtside.MatchExact}, // deprecated codes are aliases
		{"yue", "zh", courtside.MatchNone},
		{"en", "es", courtside.MatchNone},
		{"not a tag!", "es", courtside.MatchNone},
	} {
		if got := courtside.MatchLanguage(tt.have, tt.want); got != tt.match {
			t.Errorf("MatchLanguage(%q, %q) = %d, want %d", tt.have, tt.want, got, tt.match)
		}
	}
}

func TestParseBookingLanguage(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"es", "es", true},
		{" es-mx ", "es-MX", true},
		{"zh-hans", "zh-Hans", true},
		{"", "", false},
		{"und", "", false},
		{"spanish please", "", false},
	} {
		got, err := courtside.ParseBookingLanguage(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBookingLanguage(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && courtside.ErrorField(err) != "language" {
			t.Errorf("ParseBookingLanguage(%q): field %q, want language", tt.in, courtside.ErrorField(err))
		}
	}
}

func TestRespondBy(t *testing.T) {
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		start time.Time
		want  time.Time
	}{
		{"weeks ahead: 24 hours", now.Add(14 * 24 * time.Hour), now.Add(24 * time.Hour)},
		{"exactly two days ahead: 24 hours", now.Add(48 * time.Hour), now.Add(24 * time.Hour)},
		{"30 hours ahead: halfway", now.Add(30 * time.Hour), now.Add(15 * time.Hour)},
		{"3 hours ahead: halfway", now.Add(3 * time.Hour), now.Add(90 * time.Minute)},
		{"90 minutes ahead: at least an hour", now.Add(90 * time.Minute), now.Add(time.Hour)},
		{"already started: at least an hour", now.Add(-time.Hour), now.Add(time.Hour)},
	} {
		if got := courtside.RespondBy(now, tt.start); !got.Equal(tt.want) {
			t.Errorf("%s: RespondBy = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestBookingWeek(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		at         time.Time
		loc        *time.Location
		start, end string
	}{
		{"Wednesday, UTC", time.Date(2030, 3, 6, 10, 0, 0, 0, time.UTC), nil, "2030-03-04T00:00:00Z", "2030-03-11T00:00:00Z"},
		{"Monday midnight, UTC", time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC), nil, "2030-03-04T00:00:00Z", "2030-03-11T00:00:00Z"},
		{"Sunday late, UTC", time.Date(2030, 3, 10, 23, 59, 0, 0, time.UTC), nil, "2030-03-04T00:00:00Z", "2030-03-11T00:00:00Z"},
		// Monday 02:00 UTC is still Sunday evening in New York; the week spans the DST change.
		{"Sunday evening in New York", time.Date(2030, 3, 11, 2, 0, 0, 0, time.UTC), ny, "2030-03-04T05:00:00Z", "2030-03-11T04:00:00Z"},
	} {
		start, end := courtside.BookingWeek(tt.at, tt.loc)
		if start.Format(time.RFC3339) != tt.start || end.Format(time.RFC3339) != tt.end {
			t.Errorf("%s: week %s to %s, want %s to %s", tt.name, start.Format(time.RFC3339), end.Format(time.RFC3339), tt.start, tt.end)
		}
	}
}

// rankWorld builds rank requests around one hearing on Wednesday 6 March 2030, 14:00-15:00 UTC.
var (
	rankNow     = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	rankHearing = &courtside.Hearing{ID: 100, StartsAt: time.Date(2030, 3, 6, 14, 0, 0, 0, time.UTC),
		EndsAt: time.Date(2030, 3, 6, 15, 0, 0, 0, time.UTC), Status: courtside.HearingScheduled}
)

func interp(id int64, langs ...string) *courtside.User {
	u := &courtside.User{ID: id, Username: fmt.Sprintf("i%d", id), Role: courtside.RoleInterpreter}
	for _, l := range langs {
		lang, tier, _ := strings.Cut(l, ":")
		u.Languages = append(u.Languages, courtside.InterpreterLanguage{Language: lang, Tier: courtside.Tier(tier)})
	}
	return u
}

// otherHearing returns an open hearing starting at start, lasting an hour.
func otherHearing(id int64, start time.Time) *courtside.Hearing {
	return &courtside.Hearing{ID: id, StartsAt: start, EndsAt: start.Add(time.Hour), Status: courtside.HearingScheduled}
}

func commit(interpreterID int64, h *courtside.Hearing, status courtside.BookingStatus, lang string, respondBy *time.Time) courtside.Commitment {
	return courtside.Commitment{Hearing: h, Booking: &courtside.InterpreterBooking{HearingID: h.ID, InterpreterID: interpreterID,
		Status: status, Language: lang, RespondBy: respondBy}}
}

func TestRankCandidates(t *testing.T) {
	const (
		C = "CERTIFIED"
		P = "PROFESSIONALLY_QUALIFIED"
		L = "LANGUAGE_SKILLED"
	)
	overlapping := otherHearing(200, rankHearing.StartsAt.Add(30*time.Minute))
	adjacent := otherHearing(201, rankHearing.EndsAt) // starts when ours ends: no overlap
	sameWeek := otherHearing(202, time.Date(2030, 3, 8, 9, 0, 0, 0, time.UTC))
	nextWeek := otherHearing(203, time.Date(2030, 3, 12, 9, 0, 0, 0, time.UTC))
	cancelled := otherHearing(204, rankHearing.StartsAt)
	cancelled.Status = courtside.HearingCancelled
	future, past := rankNow.Add(time.Hour), rankNow.Add(-time.Hour)

	for _, tt := range []struct {
		name         string
		language     string
		interpreters []*courtside.User
		commitments  []courtside.Commitment
		// want lists the ranked candidates as "ID" or "ID!" (not available).
		want string
	}{
		{"tier order", "es", []*courtside.User{interp(1, "es:"+L), interp(2, "es:"+C), interp(3, "es:"+P)}, nil, "2 3 1"},
		{"languages that do not serve are left out", "es", []*courtside.User{interp(1, "en:"+C), interp(2, "es:"+L), interp(3, "zh-Hant:"+C)}, nil, "2"},
		{"tier before the closeness of the language", "es-MX", []*courtside.User{interp(1, "es:"+C), interp(2, "es-MX:"+L), interp(3, "es-ES:"+C)}, nil, "1 3 2"},
		{"exact language before close within a tier", "es-MX", []*courtside.User{interp(1, "es:"+C), interp(2, "es-MX:"+C)}, nil, "2 1"},
		{"best of an interpreter's languages", "es-MX", []*courtside.User{interp(1, "es:"+L, "es-MX:"+P), interp(2, "es-MX:"+C)}, nil, "2 1"},
		{"zh-Hans request, zh interpreter", "zh-Hans", []*courtside.User{interp(1, "zh:"+P), interp(2, "zh-Hant:"+C)}, nil, "1"},
		{"ties break by ID", "es", []*courtside.User{interp(3, "es:"+C), interp(1, "es:"+C), interp(2, "es:"+C)}, nil, "1 2 3"},
		{"availability after tier", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C), interp(3, "es:"+P)},
			[]courtside.Commitment{commit(1, overlapping, courtside.BookingAccepted, "es", nil)}, "2 1! 3"},
		{"a live offer makes busy", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, overlapping, courtside.BookingOffered, "es", &future)}, "2 1!"},
		{"an expired offer does not", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, overlapping, courtside.BookingOffered, "es", &past)}, "1 2"},
		{"a booking awaiting reconfirmation makes busy", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, overlapping, courtside.BookingNeedsReconfirmation, "es", nil)}, "2 1!"},
		{"declined and cancelled bookings elsewhere do not", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, overlapping, courtside.BookingDeclined, "es", nil), commit(1, overlapping, courtside.BookingCancelled, "es", nil)}, "1 2"},
		{"nor does a booking of a cancelled hearing", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, cancelled, courtside.BookingAccepted, "es", nil)}, "1 2"},
		{"back to back is available", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, adjacent, courtside.BookingAccepted, "es", nil)}, "2 1"},
		{"fewest bookings that week", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C), interp(3, "es:"+C)},
			[]courtside.Commitment{commit(1, sameWeek, courtside.BookingAccepted, "es", nil), commit(1, adjacent, courtside.BookingAccepted, "es", nil),
				commit(2, sameWeek, courtside.BookingAccepted, "es", nil), commit(3, nextWeek, courtside.BookingAccepted, "es", nil)}, "3 2 1"},
		{"never asked twice for the hearing and language", "es", []*courtside.User{interp(1, "es:"+C), interp(2, "es:"+C), interp(3, "es:"+C)},
			[]courtside.Commitment{commit(1, rankHearing, courtside.BookingDeclined, "es", nil), commit(2, rankHearing, courtside.BookingExpired, "es", nil)}, "3 1! 2!"},
		{"a decline in another language does not block", "es", []*courtside.User{interp(1, "es:"+C, "pt:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, rankHearing, courtside.BookingDeclined, "pt", nil)}, "1 2"},
		{"a live booking of the hearing in another language blocks", "es", []*courtside.User{interp(1, "es:"+C, "pt:"+C), interp(2, "es:"+C)},
			[]courtside.Commitment{commit(1, rankHearing, courtside.BookingAccepted, "pt", nil)}, "2 1!"},
		{"non-interpreters are ignored", "es", []*courtside.User{{ID: 9, Role: courtside.RoleAdvocate,
			Languages: []courtside.InterpreterLanguage{{Language: "es", Tier: C}}}, interp(1, "es:"+C)}, nil, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ranked := courtside.RankCandidates(courtside.RankRequest{Hearing: rankHearing, Language: tt.language, Now: rankNow,
				Interpreters: tt.interpreters, Commitments: tt.commitments})
			var got []string
			for _, c := range ranked {
				s := fmt.Sprint(c.Interpreter.ID)
				if !c.Available {
					s += "!"
					if c.Reason == "" {
						t.Errorf("candidate %d is unavailable without a reason", c.Interpreter.ID)
					}
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("ranked %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestRankCandidates_Details(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	overlapping := otherHearing(200, rankHearing.StartsAt.Add(-30*time.Minute))
	sameWeek := otherHearing(202, time.Date(2030, 3, 8, 9, 0, 0, 0, time.UTC))
	ranked := courtside.RankCandidates(courtside.RankRequest{Hearing: rankHearing, Language: "es-MX", Now: rankNow, Location: ny,
		Interpreters: []*courtside.User{interp(1, "es:CERTIFIED"), interp(2, "es-MX:PROFESSIONALLY_QUALIFIED")},
		Commitments: []courtside.Commitment{commit(1, overlapping, courtside.BookingAccepted, "es", nil),
			commit(1, sameWeek, courtside.BookingAccepted, "es", nil)}})
	if len(ranked) != 2 {
		t.Fatalf("ranked %d", len(ranked))
	}
	// The certified close match ranks first (tier before closeness) though busy; the offer goes
	// to the first available candidate.
	near, exact := ranked[0], ranked[1]
	if exact.Interpreter.ID != 2 || !exact.Available || exact.Reason != "" || exact.Match != courtside.MatchExact ||
		exact.Tier != courtside.TierProfessionallyQualified || exact.Language != "es-MX" || exact.WeekBookings != 0 {
		t.Errorf("exact candidate %+v", exact)
	}
	// The clashing hearing may be another organisation's: the reason gives neither its time nor
	// whether the interpreter accepted it or was offered it.
	if near.Interpreter.ID != 1 || near.Available || near.Match != courtside.MatchClose || near.WeekBookings != 2 ||
		near.Reason != courtside.UnavailableReason || strings.ContainsAny(near.Reason, "0123456789") {
		t.Errorf("close candidate %+v", near)
	}
	respondBy := rankNow.Add(time.Hour)
	offered := courtside.RankCandidates(courtside.RankRequest{Hearing: rankHearing, Language: "es", Now: rankNow, Location: ny,
		Interpreters: []*courtside.User{interp(1, "es:CERTIFIED")},
		Commitments:  []courtside.Commitment{commit(1, overlapping, courtside.BookingOffered, "es", &respondBy)}})
	if len(offered) != 1 || offered[0].Available || offered[0].Reason != courtside.UnavailableReason {
		t.Errorf("offered elsewhere: %+v", offered[0])
	}
	// An available close match says which language serves.
	ranked = courtside.RankCandidates(courtside.RankRequest{Hearing: rankHearing, Language: "es-MX", Now: rankNow,
		Interpreters: []*courtside.User{interp(1, "es:CERTIFIED")}})
	if len(ranked) != 1 || !ranked[0].Available || ranked[0].Reason != "Interprets es." {
		t.Errorf("close match %+v", ranked[0])
	}
}

func TestChooseCandidate(t *testing.T) {
	c := func(id int64, tier courtside.Tier, available bool) *courtside.Candidate {
		return &courtside.Candidate{Interpreter: &courtside.User{ID: id}, Tier: tier, Available: available}
	}
	ranked := []*courtside.Candidate{c(1, courtside.TierCertified, false), c(2, courtside.TierProfessionallyQualified, true),
		c(3, courtside.TierLanguageSkilled, true)}
	for _, tt := range []struct {
		name    string
		minimum courtside.Tier
		want    int64
		reason  string
	}{
		{"any tier", "", 2, "no certified interpreter available for es"},
		{"at least professionally qualified", courtside.TierProfessionallyQualified, 2, "no certified interpreter available for es"},
		{"at least language skilled", courtside.TierLanguageSkilled, 2, "no certified interpreter available for es"},
		{"certified only", courtside.TierCertified, 0, ""},
	} {
		got := courtside.ChooseCandidate(ranked, tt.minimum)
		var id int64
		if got != nil {
			id = got.Interpreter.ID
		}
		if id != tt.want || courtside.FallbackReason(got, "es") != tt.reason {
			t.Errorf("%s: chose %d (%q), want %d (%q)", tt.name, id, courtside.FallbackReason(got, "es"), tt.want, tt.reason)
		}
	}
	if r := courtside.FallbackReason(c(1, courtside.TierCertified, true), "es"); r != "" {
		t.Errorf("certified fallback reason %q", r)
	}
	if courtside.ChooseCandidate(nil, "") != nil {
		t.Error("chose from nobody")
	}
}

func TestInterpreterBooking_Live(t *testing.T) {
	deadline := t0
	for _, tt := range []struct {
		status    courtside.BookingStatus
		respondBy *time.Time
		at        time.Time
		want      bool
	}{
		{courtside.BookingOffered, &deadline, t0, true},
		{courtside.BookingOffered, &deadline, t0.Add(time.Second), false},
		{courtside.BookingOffered, nil, t0, true},
		{courtside.BookingAccepted, &deadline, t0.Add(time.Hour), true},
		{courtside.BookingNeedsReconfirmation, nil, t0, true},
		{courtside.BookingDeclined, nil, t0, false},
		{courtside.BookingExpired, nil, t0, false},
		{courtside.BookingCancelled, nil, t0, false},
	} {
		b := &courtside.InterpreterBooking{Status: tt.status, RespondBy: tt.respondBy}
		if got := b.Live(tt.at); got != tt.want {
			t.Errorf("%s at %s: live %v, want %v", tt.status, tt.at, got, tt.want)
		}
	}
}

func TestNewOffer(t *testing.T) {
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	h := &courtside.Hearing{ID: 5, StartsAt: now.Add(6 * time.Hour), EndsAt: now.Add(7 * time.Hour)}
	pq := &courtside.Candidate{Interpreter: &courtside.User{ID: 9}, Tier: courtside.TierProfessionallyQualified, Available: true}
	b := courtside.NewOffer(h, "es-MX", pq, courtside.TierProfessionallyQualified, now)
	if b.HearingID != 5 || b.InterpreterID != 9 || b.Status != courtside.BookingOffered || b.Language != "es-MX" ||
		b.RespondBy == nil || !b.RespondBy.Equal(now.Add(3*time.Hour)) || b.MinimumTier != courtside.TierProfessionallyQualified ||
		b.FallbackReason != "no certified interpreter available for es-MX" || !b.CreatedAt.Equal(now) {
		t.Fatalf("offer %+v", b)
	}
}

func TestCanBookInterpreters(t *testing.T) {
	for _, tt := range []struct {
		u    *courtside.User
		want bool
	}{
		{&courtside.User{Role: courtside.RoleCoordinator, OrganizationID: 1}, true},
		{&courtside.User{Role: courtside.RoleProsecutor, OrganizationID: 1}, true},
		{&courtside.User{Role: courtside.RoleCoordinator}, false},
		{&courtside.User{Role: courtside.RoleAdvocate, OrganizationID: 1}, false},
		{&courtside.User{Role: courtside.RoleInterpreter, OrganizationID: 1}, false},
		{&courtside.User{Role: courtside.RoleAdmin}, false},
		{nil, false},
	} {
		if got := courtside.CanBookInterpreters(tt.u); got != tt.want {
			t.Errorf("CanBookInterpreters(%+v) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

func TestRankCandidates_TravelBuffer(t *testing.T) {
	// rankHearing is at court 0; these are at court 7, an hour's travel away by default. An
	// available interpreter 1 ranks after 2 for the booking that week ("2 1").
	at := func(id int64, start time.Time, court int64) *courtside.Hearing {
		h := otherHearing(id, start)
		h.CourtID = court
		return h
	}
	before30 := at(300, rankHearing.StartsAt.Add(-90*time.Minute), 7) // ends 30 minutes before ours starts
	before60 := at(301, rankHearing.StartsAt.Add(-2*time.Hour), 7)    // ends 60 minutes before
	after45 := at(302, rankHearing.EndsAt.Add(45*time.Minute), 7)     // starts 45 minutes after ours ends
	sameCourt := at(303, rankHearing.EndsAt, 0)                       // back to back in the same court
	for _, tt := range []struct {
		name   string
		h      *courtside.Hearing
		travel func(a, b int64) time.Duration
		want   string
	}{
		{"too close before, at another court", before30, nil, "2 1!"},
		{"exactly the buffer before", before60, nil, "2 1"},
		{"too close after, at another court", after45, nil, "2 1!"},
		{"back to back in one court", sameCourt, nil, "2 1"},
		{"a shorter buffer for the pair", before30, func(a, b int64) time.Duration { return 20 * time.Minute }, "2 1"},
		{"a longer buffer for the pair", before60, func(a, b int64) time.Duration { return 90 * time.Minute }, "2 1!"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ranked := courtside.RankCandidates(courtside.RankRequest{Hearing: rankHearing, Language: "es", Now: rankNow,
				Interpreters: []*courtside.User{interp(1, "es:CERTIFIED"), interp(2, "es:CERTIFIED")},
				Commitments:  []courtside.Commitment{commit(1, tt.h, courtside.BookingAccepted, "es", nil)}, TravelBuffer: tt.travel})
			var got []string
			for _, c := range ranked {
				s := fmt.Sprint(c.Interpreter.ID)
				if !c.Available {
					s += "!"
					// Neither the other hearing's court nor its time: it may be another
					// organisation's.
					if c.Reason != courtside.UnavailableReason {
						t.Errorf("reason %q", c.Reason)
					}
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("ranked %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}
