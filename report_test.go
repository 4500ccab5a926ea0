package courtside_test

import (
	"fmt"
	"testing"
	"time"

	"courtside"
)

// TestSuppressGrid holds the suppression rules: counts 1..10 are hidden, zero and 11+ are
// published, and a group with a single hidden cell hides its smallest non-zero published cell
// too, repeatedly, so that no hidden value can be recovered by subtraction from a group sum.
func TestSuppressGrid(t *testing.T) {
	none := func(int) int { return 0 }
	pairs := func(col int) int { // columns 1 and 2 of a row form one group
		if col >= 1 {
			return 1
		}
		return 0
	}
	for _, tt := range []struct {
		name  string
		grid  [][]int
		group func(int) int
		want  []string // one string per row, "x" hidden, "." published
	}{
		{"empty", nil, none, nil},
		{"zero and large are published", [][]int{{0, 11}, {500, 0}}, none, []string{"..", ".."}},
		{"1 and 10 are hidden, 11 is not", [][]int{{1}, {10}, {11}, {12}}, none, []string{"x", "x", ".", "."}},
		{"a single small cell in a column pairs with the smallest non-zero", [][]int{{5}, {40}, {12}, {0}}, none, []string{"x", ".", "x", "."}},
		{"two small cells need no complement", [][]int{{5}, {3}, {40}}, none, []string{"x", "x", "."}},
		{"a lone small cell with only zeros beside it stays alone", [][]int{{5}, {0}, {0}}, none, []string{"x", ".", "."}},
		{"a single row of one column", [][]int{{7}}, none, []string{"x"}},
		{"row groups pair too", [][]int{{20, 3, 30, 15}}, func(c int) int {
			if c >= 1 {
				return 1
			}
			return 0
		}, []string{".x.x"}},
		{"complements cascade across rows and columns", [][]int{{20, 4, 50}, {30, 60, 70}}, pairs,
			// (0,1)=4 hidden; its column pairs (1,1)=60 and its row group pairs (0,2)=50;
			// then row 1's group has one hidden cell, (1,2)=70, and column 2 is already paired.
			[]string{".xx", ".xx"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hidden := courtside.SuppressGrid(tt.grid, tt.group)
			var got []string
			for _, row := range hidden {
				s := ""
				for _, h := range row {
					if h {
						s += "x"
					} else {
						s += "."
					}
				}
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("SuppressGrid(%v) = %v, want %v", tt.grid, got, tt.want)
			}
			// Whatever the grid, no group has exactly one hidden cell beside a published
			// non-zero one, and no count 1..10 is published.
			for i, row := range tt.grid {
				for j, v := range row {
					if v > 0 && v < courtside.SuppressBelow && !hidden[i][j] {
						t.Fatalf("cell (%d,%d) = %d published", i, j, v)
					}
				}
			}
		})
	}
}

// TestBuildCaseloadReport checks that the report publishes nulls for suppressed cells, sorts
// its rows, and carries no totals.
func TestBuildCaseloadReport(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 3, 0)
	rep := courtside.BuildCaseloadReport(7, from, to, []courtside.CaseloadCounts{
		{CourtID: 2, CourtName: "North Court", Kind: courtside.KindTrial, Hearings: 40, VictimsAccompanied: 25, WithInterpreter: 12,
			Notices: [5]int{0, 30, 20, 0, 0}},
		{CourtID: 1, CourtName: "Main Courthouse", Kind: courtside.KindSentencing, Hearings: 3, VictimsAccompanied: 2, WithInterpreter: 0,
			Notices: [5]int{0, 0, 0, 0, 4}},
		{CourtID: 1, CourtName: "Main Courthouse", Kind: courtside.KindArraignment, Hearings: 15, VictimsAccompanied: 14, WithInterpreter: 13,
			Notices: [5]int{0, 40, 31, 0, 0}},
	})
	if rep.OrganizationID != 7 || !rep.From.Equal(from) || !rep.To.Equal(to) || len(rep.Rows) != 3 {
		t.Fatalf("report: %+v", rep)
	}
	var order []string
	for _, r := range rep.Rows {
		order = append(order, r.CourtName+"/"+string(r.Kind))
	}
	if fmt.Sprint(order) != "[Main Courthouse/ARRAIGNMENT Main Courthouse/SENTENCING North Court/TRIAL]" {
		t.Fatalf("row order %v", order)
	}
	sent := rep.Rows[1]
	if !sent.Hearings.Suppressed || sent.Hearings.Value != nil || !sent.VictimsAccompanied.Suppressed ||
		sent.WithInterpreter.Suppressed || sent.WithInterpreter.Published() != 0 || !sent.Notices[4].Suppressed {
		t.Fatalf("small row: %+v", sent)
	}
	// Hearings column: 3 is hidden, so the next smallest (15) is hidden with it.
	if !rep.Rows[0].Hearings.Suppressed || rep.Rows[2].Hearings.Published() != 40 {
		t.Fatalf("hearings column: %+v / %+v", rep.Rows[0].Hearings, rep.Rows[2].Hearings)
	}
	// The SUPPRESSED-notices column has one small cell and nothing non-zero to pair with
	// (zeros give nothing away); the small row's notices group likewise.
	for _, r := range rep.Rows {
		for k, c := range r.Notices {
			if !c.Suppressed && (c.Value == nil || (*c.Value > 0 && *c.Value < courtside.SuppressBelow)) {
				t.Fatalf("%s/%s notice %d: %+v", r.CourtName, r.Kind, k, c)
			}
		}
	}
}

// TestValidateReportPeriod checks the period rules.
func TestValidateReportPeriod(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		from, to time.Time
		field    string
	}{
		{time.Time{}, at, "from"},
		{at, time.Time{}, "to"},
		{at, at, "to"},
		{at, at.AddDate(2, 0, 0), "to"},
		{at, at.AddDate(0, 6, 0), ""},
	} {
		err := courtside.ValidateReportPeriod(tt.from, tt.to)
		if courtside.ErrorField(err) != tt.field || (tt.field != "") != (err != nil) {
			t.Errorf("ValidateReportPeriod(%v, %v) = %v, want field %q", tt.from, tt.to, err, tt.field)
		}
	}
}
