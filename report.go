package courtside

import (
	"context"
	"sort"
	"time"
)

// The caseload report: the one report that may leave an advocacy organisation. It holds counts
// only, per court and hearing kind, never a row about a victim, and every count small enough
// to point at a person is suppressed (statistical disclosure control, small-cell suppression).

// SuppressBelow is the smallest count a report publishes other than zero: counts from 1 to
// SuppressBelow-1 are suppressed.
const SuppressBelow = 11

// NoticeStatuses lists the delivery statuses a caseload report counts notices by, in column
// order.
var NoticeStatuses = []DeliveryStatus{DeliveryPending, DeliverySent, DeliveryDelivered, DeliveryFailed, DeliverySuppressed}

// CaseloadCounts are the raw counts of one court and hearing kind, before suppression. They
// never leave storage and the report builder.
type CaseloadCounts struct {
	CourtID   int64
	CourtName string
	Kind      HearingKind
	// Hearings counts the hearings that start in the period and were not cancelled.
	Hearings int
	// VictimsAccompanied counts the distinct victims of the organisation with a live
	// accompaniment to one of those hearings.
	VictimsAccompanied int
	// WithInterpreter counts those hearings with an accepted interpreter booking.
	WithInterpreter int
	// Notices counts the notices about those hearings to the organisation's victims and
	// staff, in the order of NoticeStatuses.
	Notices [5]int
}

// ReportCell is one published count: Value is nil when the count is suppressed.
type ReportCell struct {
	Value      *int `json:"value"`
	Suppressed bool `json:"suppressed"`
}

// Published returns the cell's value, or -1 when it is suppressed.
func (c ReportCell) Published() int {
	if c.Suppressed || c.Value == nil {
		return -1
	}
	return *c.Value
}

// CaseloadRow is one court and hearing kind of a caseload report.
type CaseloadRow struct {
	CourtID            int64       `json:"courtId"`
	CourtName          string      `json:"courtName"`
	Kind               HearingKind `json:"kind"`
	Hearings           ReportCell  `json:"hearings"`
	VictimsAccompanied ReportCell  `json:"victimsAccompanied"`
	WithInterpreter    ReportCell  `json:"withInterpreter"`
	// Notices are in the order of NoticeStatuses.
	Notices [5]ReportCell `json:"notices"`
}

// CaseloadReport is an organisation's caseload over a period, aggregated and suppressed. It
// has no totals: a total beside a suppressed cell would give the cell away.
type CaseloadReport struct {
	OrganizationID int64         `json:"organizationId"`
	From           time.Time     `json:"from"`
	To             time.Time     `json:"to"`
	Rows           []CaseloadRow `json:"rows"`
}

// ReportService builds reports.
type ReportService interface {
	// CaseloadReport returns the caseload of the caller's organisation for hearings starting
	// in [from, to). Only coordinators may ask; the read is audited.
	CaseloadReport(ctx context.Context, from, to time.Time) (*CaseloadReport, error)
}

// MaxReportPeriod is the longest period one report may cover.
const MaxReportPeriod = 366 * 24 * time.Hour

// ValidateReportPeriod checks a report's period: from before to, at most MaxReportPeriod.
func ValidateReportPeriod(from, to time.Time) error {
	if from.IsZero() {
		return Invalidf("from", "from is required.")
	}
	if to.IsZero() {
		return Invalidf("to", "to is required.")
	}
	if !from.Before(to) {
		return Invalidf("to", "to must be after from.")
	}
	if to.Sub(from) > MaxReportPeriod {
		return Invalidf("to", "A report covers at most 366 days.")
	}
	return nil
}

// BuildCaseloadReport turns raw counts into the publishable report. Rows are sorted by court
// name and kind. Suppression has two steps:
//
//  1. primary: every count from 1 to SuppressBelow-1 is suppressed (zero is published: it
//     points at nobody);
//  2. complementary: in every group of cells that add up to something a reader may know or
//     learn (each column across the rows, and each row's notices by status), a group with
//     exactly one suppressed cell also suppresses its smallest published non-zero cell, so
//     that the suppressed value cannot be recovered by subtraction. This repeats until no
//     group has a single suppressed cell that could be paired.
func BuildCaseloadReport(orgID int64, from, to time.Time, counts []CaseloadCounts) *CaseloadReport {
	counts = append([]CaseloadCounts(nil), counts...)
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].CourtName != counts[j].CourtName {
			return counts[i].CourtName < counts[j].CourtName
		}
		if counts[i].CourtID != counts[j].CourtID {
			return counts[i].CourtID < counts[j].CourtID
		}
		return kindOrder(counts[i].Kind) < kindOrder(counts[j].Kind)
	})
	grid := make([][]int, len(counts))
	for i, c := range counts {
		grid[i] = make([]int, 3+len(NoticeStatuses))
		grid[i][0], grid[i][1], grid[i][2] = c.Hearings, c.VictimsAccompanied, c.WithInterpreter
		for k, n := range c.Notices {
			grid[i][3+k] = n
		}
	}
	hidden := SuppressGrid(grid, func(col int) int {
		if col >= 3 {
			return 1 // the notices of a row form one group
		}
		return 0
	})
	cell := func(i, j int) ReportCell {
		if hidden[i][j] {
			return ReportCell{Suppressed: true}
		}
		v := grid[i][j]
		return ReportCell{Value: &v}
	}
	rep := &CaseloadReport{OrganizationID: orgID, From: from.UTC(), To: to.UTC(), Rows: make([]CaseloadRow, len(counts))}
	for i, c := range counts {
		r := CaseloadRow{CourtID: c.CourtID, CourtName: c.CourtName, Kind: c.Kind,
			Hearings: cell(i, 0), VictimsAccompanied: cell(i, 1), WithInterpreter: cell(i, 2)}
		for k := range NoticeStatuses {
			r.Notices[k] = cell(i, 3+k)
		}
		rep.Rows[i] = r
	}
	return rep
}

// kindOrder is a kind's position in HearingKinds, for sorting.
func kindOrder(k HearingKind) int {
	for i, known := range HearingKinds {
		if known == k {
			return i
		}
	}
	return len(HearingKinds)
}

// SuppressGrid decides which cells of a table of counts to suppress, with the two steps of
// BuildCaseloadReport. Every column is a group across the rows; rowGroup(col) > 0 also puts
// the cells of one row whose columns share that number in a group. It returns a mask of the
// same shape, true where the cell must not be published. Rows must have the same length.
func SuppressGrid(grid [][]int, rowGroup func(col int) int) [][]bool {
	hidden := make([][]bool, len(grid))
	width := 0
	for i := range grid {
		width = max(width, len(grid[i]))
		hidden[i] = make([]bool, len(grid[i]))
		for j, v := range grid[i] {
			hidden[i][j] = v > 0 && v < SuppressBelow
		}
	}
	type pos struct{ i, j int }
	var groups [][]pos
	for j := 0; j < width; j++ {
		var col []pos
		for i := range grid {
			if j < len(grid[i]) {
				col = append(col, pos{i, j})
			}
		}
		groups = append(groups, col)
	}
	byNumber := map[int][]int{}
	var numbers []int
	for j := 0; j < width; j++ {
		if g := rowGroup(j); g > 0 {
			if _, ok := byNumber[g]; !ok {
				numbers = append(numbers, g)
			}
			byNumber[g] = append(byNumber[g], j)
		}
	}
	for i := range grid {
		for _, g := range numbers {
			var row []pos
			for _, j := range byNumber[g] {
				if j < len(grid[i]) {
					row = append(row, pos{i, j})
				}
			}
			groups = append(groups, row)
		}
	}
	// pair suppresses the smallest published non-zero cell of a group that has exactly one
	// suppressed cell, and reports whether it changed anything.
	pair := func(group []pos) bool {
		n, best := 0, -1
		for k, p := range group {
			if hidden[p.i][p.j] {
				n++
				continue
			}
			if v := grid[p.i][p.j]; v > 0 && (best < 0 || v < grid[group[best].i][group[best].j]) {
				best = k
			}
		}
		if n != 1 || best < 0 {
			return false
		}
		hidden[group[best].i][group[best].j] = true
		return true
	}
	for changed := true; changed; {
		changed = false
		for _, g := range groups {
			if pair(g) {
				changed = true
			}
		}
	}
	return hidden
}
