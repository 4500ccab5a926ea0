package storage

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"courtside"
)

// ReportService is the database's service for the caseload report.
type ReportService struct {
	db *DB
}

// NewReportService returns the report service of db.
func NewReportService(db *DB) *ReportService { return &ReportService{db: db} }

var _ courtside.ReportService = (*ReportService)(nil)

// reportKey names one cell row of a report: a court and a hearing kind.
type reportKey struct {
	court int64
	kind  courtside.HearingKind
}

// CaseloadReport returns the caseload of the caller's organisation for hearings starting in
// [from, to): per court and hearing kind, counts only, suppressed by
// courtside.BuildCaseloadReport. Only coordinators may ask, for their own organisation (the
// hearings of the cases shared with it); every other role gets EFORBIDDEN. Both outcomes are
// audited as report.caseload on the organisation.
func (s *ReportService) CaseloadReport(ctx context.Context, from, to time.Time) (*courtside.CaseloadReport, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := courtside.ValidateReportPeriod(from, to); err != nil {
		return nil, err
	}
	object := "organization:" + strconv.FormatInt(u.OrganizationID, 10)
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		if err := s.db.Audit(ctx, "report.caseload", object, courtside.OutcomeDenied); err != nil {
			return nil, err
		}
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may read the caseload report of their organisation.")
	}
	counts, err := s.db.caseloadCounts(ctx, u, from, to)
	if err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, "report.caseload", object, courtside.OutcomeOK); err != nil {
		return nil, err
	}
	return courtside.BuildCaseloadReport(u.OrganizationID, from, to, counts), nil
}

// caseloadCounts runs the report's three counting queries over the caller's hearings (the
// coordinator's hearing scope) that start in [from, to) and were not cancelled.
func (db *DB) caseloadCounts(ctx context.Context, u *courtside.User, from, to time.Time) ([]courtside.CaseloadCounts, error) {
	scope, scopeArgs := hearingScope(u)
	period := scope + ` AND h.starts_at >= ? AND h.starts_at < ? AND h.status <> 'CANCELLED'`
	args := append(append([]any(nil), scopeArgs...), FormatTime(from), FormatTime(to))

	byKey := map[reportKey]*courtside.CaseloadCounts{}
	var out []*courtside.CaseloadCounts
	rows, err := db.Reader.QueryContext(ctx, `SELECT h.court_id, c.name, h.kind, COUNT(*),
		COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM interpreter_bookings ib WHERE ib.hearing_id = h.id AND ib.status = 'ACCEPTED'))
		FROM hearings h JOIN courts c ON c.id = h.court_id
		WHERE `+period+` GROUP BY h.court_id, c.name, h.kind`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: caseload hearings: %w", err)
	}
	if _, err := collect(rows, "caseload hearings", func(s scanner) (struct{}, error) {
		var c courtside.CaseloadCounts
		if err := s.Scan(&c.CourtID, &c.CourtName, &c.Kind, &c.Hearings, &c.WithInterpreter); err != nil {
			return struct{}{}, err
		}
		byKey[reportKey{c.CourtID, c.Kind}] = &c
		out = append(out, &c)
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}

	// Victims of the organisation with a live accompaniment, counted once per cell.
	rows, err = db.Reader.QueryContext(ctx, `SELECT h.court_id, h.kind, COUNT(DISTINCT a.victim_id)
		FROM hearings h JOIN accompaniments a ON a.hearing_id = h.id AND a.status <> 'CANCELLED'
		JOIN victims v ON v.id = a.victim_id AND v.organization_id = ?
		WHERE `+period+` GROUP BY h.court_id, h.kind`, append([]any{u.OrganizationID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: caseload accompaniments: %w", err)
	}
	if _, err := collect(rows, "caseload accompaniments", func(s scanner) (struct{}, error) {
		var k reportKey
		var n int
		if err := s.Scan(&k.court, &k.kind, &n); err != nil {
			return struct{}{}, err
		}
		if c := byKey[k]; c != nil {
			c.VictimsAccompanied = n
		}
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}

	// Notices about those hearings that the coordinator may see (to the organisation's
	// victims and staff), by status.
	dscope, dargs := deliveryScope(u, db.Now())
	rows, err = db.Reader.QueryContext(ctx, `SELECT h.court_id, h.kind, d.status, COUNT(*)
		FROM hearings h JOIN deliveries d ON d.hearing_id = h.id
		WHERE `+period+` AND `+dscope+` GROUP BY h.court_id, h.kind, d.status`, append(args, dargs...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: caseload notices: %w", err)
	}
	if _, err := collect(rows, "caseload notices", func(s scanner) (struct{}, error) {
		var k reportKey
		var status courtside.DeliveryStatus
		var n int
		if err := s.Scan(&k.court, &k.kind, &status, &n); err != nil {
			return struct{}{}, err
		}
		c := byKey[k]
		for i, st := range courtside.NoticeStatuses {
			if c != nil && st == status {
				c.Notices[i] = n
			}
		}
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}

	counts := make([]courtside.CaseloadCounts, len(out))
	for i, c := range out {
		counts[i] = *c
	}
	return counts, nil
}
