package storage_test

import (
	"courtside/storage"
	"fmt"
	"testing"
	"time"

	"courtside"
)

// TestHearing_FindPerCase shows HearingFilter.PerCase: at most that many hearings of each
// case, the earliest of each, in the usual order, within the caller's scope.
func TestHearing_FindPerCase(t *testing.T) {
	f := newFixture(t)
	pros := f.as(f.prosecutor)
	other := &courtside.Case{Docket: "26-CR-2", CourtID: f.court.ID}
	if err := storage.NewCaseService(f.db).OpenCase(pros, other); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		for _, c := range []*courtside.Case{f.kase, other} {
			at := start.Add(time.Duration(5-i) * 24 * time.Hour) // posted latest first
			h := &courtside.Hearing{CaseID: c.ID, Kind: courtside.KindSentencing, StartsAt: at, EndsAt: at.Add(time.Hour),
				ExternalID: fmt.Sprintf("%s-%d", c.Docket, i)}
			if _, err := storage.NewHearingService(f.db).PostHearing(pros, h); err != nil {
				t.Fatal(err)
			}
		}
	}
	hs, err := storage.NewHearingService(f.db).FindHearings(pros, courtside.HearingFilter{CaseIDs: []int64{f.kase.ID, other.ID}, PerCase: 2})
	if err != nil {
		t.Fatal(err)
	}
	perCase := map[int64]int{}
	for i, h := range hs {
		perCase[h.CaseID]++
		if h.StartsAt.After(start.Add(2 * 24 * time.Hour)) {
			t.Errorf("hearing %d at %s is not among its case's two earliest", h.ID, h.StartsAt)
		}
		if i > 0 && h.StartsAt.Before(hs[i-1].StartsAt) {
			t.Errorf("out of order: %s after %s", h.StartsAt, hs[i-1].StartsAt)
		}
	}
	if len(hs) != 4 || perCase[f.kase.ID] != 2 || perCase[other.ID] != 2 {
		t.Fatalf("PerCase 2 over two cases of 5: %d hearings, %v", len(hs), perCase)
	}
	if hs, err := storage.NewHearingService(f.db).FindHearings(f.as(f.otherProsecutor), courtside.HearingFilter{CaseIDs: []int64{f.kase.ID}, PerCase: 2}); err != nil || len(hs) != 0 {
		t.Fatalf("another office: %d, %v", len(hs), err)
	}
}
