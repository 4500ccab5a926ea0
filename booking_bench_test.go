package courtside_test

import (
	"fmt"
	"testing"
	"time"

	"courtside"
)

// BenchmarkRankCandidates ranks 50 interpreters, five languages among them, each with ten
// commitments in the hearing's week, for one hearing: the work of every interpreter request.
func BenchmarkRankCandidates(b *testing.B) {
	start := time.Date(2031, 3, 4, 14, 0, 0, 0, time.UTC)
	h := &courtside.Hearing{ID: 1, CaseID: 1, CourtID: 1, Kind: courtside.KindMotion, StartsAt: start, EndsAt: start.Add(time.Hour),
		Status: courtside.HearingScheduled}
	tiers := []courtside.Tier{courtside.TierCertified, courtside.TierProfessionallyQualified, courtside.TierLanguageSkilled}
	langs := []string{"es", "pt", "zh-Hans", "vi", "ru"}
	var interpreters []*courtside.User
	var commitments []courtside.Commitment
	for i := 0; i < 50; i++ {
		u := &courtside.User{ID: int64(100 + i), Username: fmt.Sprintf("interp-%d", i), Role: courtside.RoleInterpreter,
			Languages: []courtside.InterpreterLanguage{{Language: langs[i%len(langs)], Tier: tiers[i%len(tiers)]}, {Language: "es", Tier: tiers[(i+1)%len(tiers)]}}}
		interpreters = append(interpreters, u)
		for j := 0; j < 10; j++ {
			hs := start.Add(time.Duration(j-5) * 5 * time.Hour)
			ch := &courtside.Hearing{ID: int64(1000 + i*10 + j), CourtID: int64(1 + j%3), StartsAt: hs, EndsAt: hs.Add(time.Hour), Status: courtside.HearingScheduled}
			commitments = append(commitments, courtside.Commitment{Hearing: ch,
				Booking: &courtside.InterpreterBooking{ID: ch.ID, HearingID: ch.ID, Language: "es", InterpreterID: u.ID, Status: courtside.BookingAccepted}})
		}
	}
	req := courtside.RankRequest{Hearing: h, Language: "es", Now: start.Add(-72 * time.Hour), Interpreters: interpreters, Commitments: commitments}
	b.ReportAllocs()
	for b.Loop() {
		if got := courtside.RankCandidates(req); len(got) == 0 {
			b.Fatal("no candidates ranked")
		}
	}
}
