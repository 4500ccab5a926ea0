package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// HearingService is the database's service for hearings: posting, moving and cancelling them,
// and reading them in the caller's scope.
type HearingService struct {
	db *DB
}

// NewHearingService returns the hearing service of db.
func NewHearingService(db *DB) *HearingService { return &HearingService{db: db} }

var _ courtside.HearingService = (*HearingService)(nil)

// updateReason is the change reason recorded when a prosecutor's system re-posts a hearing
// with other details.
const updateReason = "updated by the prosecutor's system"

const hearingColumns = `h.id, h.case_id, h.court_id, h.kind, h.starts_at, h.ends_at, h.courtroom, h.judge,
	h.status, h.sequence, COALESCE(h.external_id, ''), h.created_at, h.updated_at`

func scanHearing(s scanner) (*courtside.Hearing, error) {
	var h courtside.Hearing
	err := s.Scan(&h.ID, &h.CaseID, &h.CourtID, &h.Kind, scanTime{&h.StartsAt}, scanTime{&h.EndsAt}, &h.Courtroom,
		&h.Judge, &h.Status, &h.Sequence, &h.ExternalID, scanTime{&h.CreatedAt}, scanTime{&h.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// hearingScope returns the SQL condition, on alias h, limiting hearings to those the caller
// may see (docs/architecture.md, "Who sees what").
func hearingScope(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleAdmin:
		return "1 = 1", nil
	case courtside.RoleProsecutor:
		return "h.organization_id = ?", []any{u.OrganizationID}
	case courtside.RoleCoordinator:
		// The hearings of the cases the office shares with the organisation (share.go).
		return sharedWith("h.case_id", u.OrganizationID)
	case courtside.RoleAdvocate:
		// The hearings it accompanies, while their case is shared with its organisation.
		shared, args := sharedWith("h.case_id", u.OrganizationID)
		return `EXISTS (SELECT 1 FROM accompaniments a WHERE a.hearing_id = h.id AND a.advocate_id = ?) AND ` + shared,
			append([]any{u.ID}, args...)
	case courtside.RoleInterpreter:
		// The hearings offered to or booked with the interpreter (storage/booking.go).
		return `EXISTS (SELECT 1 FROM interpreter_bookings ib WHERE ib.hearing_id = h.id AND ib.interpreter_id = ?
			AND ib.status IN ` + heldStatuses + `)`, []any{u.ID}
	}
	return "0 = 1", nil
}

// PostHearing creates a hearing, or updates the one with the same external ID.
func (s *HearingService) PostHearing(ctx context.Context, h *courtside.Hearing) (bool, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return false, err
	}
	if u.Role != courtside.RoleProsecutor {
		return false, courtside.Errorf(courtside.EFORBIDDEN, "Only a prosecutor's office may post hearings.")
	}
	h.Courtroom, h.Judge, h.ExternalID = strings.TrimSpace(h.Courtroom), strings.TrimSpace(h.Judge), strings.TrimSpace(h.ExternalID)
	h.StartsAt, h.EndsAt = h.StartsAt.UTC().Truncate(time.Second), h.EndsAt.UTC().Truncate(time.Second)
	if err := h.Validate(); err != nil {
		return false, err
	}
	var created bool
	err = s.db.update(ctx, func(tx *Tx) error {
		outcome, err := s.db.upsertHearing(ctx, tx, u, h, updateReason)
		created = outcome == upsertCreated
		return err
	})
	return created, err
}

// upsertOutcome says what upsertHearing did.
type upsertOutcome int

const (
	upsertUnchanged upsertOutcome = iota
	upsertCreated
	upsertUpdated
)

// upsertHearing writes h in tx: an insert, or for a known external ID an update that records
// what changed, with reason. It is shared by PostHearing and the docket import.
func (db *DB) upsertHearing(ctx context.Context, tx *Tx, u *courtside.User, h *courtside.Hearing, reason string) (upsertOutcome, error) {
	var caseOrg int64
	err := tx.QueryRowContext(ctx, `SELECT organization_id, court_id FROM cases WHERE id = ?`, h.CaseID).Scan(&caseOrg, &h.CourtID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanChangeHearingsOf(u, caseOrg)) {
		return upsertUnchanged, courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	} else if err != nil {
		return upsertUnchanged, fmt.Errorf("storage: find case: %w", err)
	}
	if h.ExternalID != "" {
		existing, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h
			WHERE h.organization_id = ? AND h.external_id = ?`, caseOrg, h.ExternalID))
		if err == nil {
			if existing.CaseID != h.CaseID {
				return upsertUnchanged, courtside.Invalidf("externalId", "External ID %s belongs to a hearing of another case.", h.ExternalID)
			}
			changed, err := db.updatePostedHearing(ctx, tx, existing, h, reason)
			*h = *existing
			if err != nil || !changed {
				return upsertUnchanged, err
			}
			return upsertUpdated, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return upsertUnchanged, fmt.Errorf("storage: find hearing: %w", err)
		}
	}
	h.Status, h.Sequence, h.CreatedAt, h.UpdatedAt = courtside.HearingScheduled, 0, tx.now, tx.now
	var ext any
	if h.ExternalID != "" {
		ext = h.ExternalID
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO hearings (case_id, court_id, organization_id, kind, starts_at, ends_at,
		courtroom, judge, status, sequence, external_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		h.CaseID, h.CourtID, caseOrg, h.Kind, FormatTime(h.StartsAt), FormatTime(h.EndsAt), h.Courtroom, h.Judge,
		h.Status, h.Sequence, ext, FormatTime(h.CreatedAt), FormatTime(h.UpdatedAt)).Scan(&h.ID)
	if err != nil {
		return upsertUnchanged, fmt.Errorf("storage: insert hearing: %w", err)
	}
	start, end := h.StartsAt, h.EndsAt
	change := &courtside.HearingChange{HearingID: h.ID, At: tx.now, Reason: "scheduled", Status: h.Status,
		Sequence: h.Sequence, ToStartsAt: &start, ToEndsAt: &end, ToCourtroom: h.Courtroom}
	if err := insertHearingChange(ctx, tx, change); err != nil {
		return upsertUnchanged, err
	}
	tx.Audit("hearing.post", hearingObject(h.ID), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: courtside.EventHearingScheduled, HearingID: h.ID, CaseID: h.CaseID, Sequence: h.Sequence, Change: change})
	return upsertCreated, nil
}

// updatePostedHearing applies a re-posted hearing's details to existing: a changed time or
// courtroom is a continuance; a changed kind or judge is a change of its own. Unchanged input
// writes nothing.
func (db *DB) updatePostedHearing(ctx context.Context, tx *Tx, existing, posted *courtside.Hearing, reason string) (bool, error) {
	if existing.Kind == posted.Kind && existing.Judge == posted.Judge && existing.StartsAt.Equal(posted.StartsAt) &&
		existing.EndsAt.Equal(posted.EndsAt) && existing.Courtroom == posted.Courtroom {
		return false, nil
	}
	room := posted.Courtroom
	change, changed, err := existing.Reschedule(posted.StartsAt, posted.EndsAt, &room, reason, tx.now)
	if err != nil {
		return false, err
	}
	if existing.Kind != posted.Kind || existing.Judge != posted.Judge {
		if !existing.Open() {
			return false, courtside.Errorf(courtside.ECONFLICT, "Hearing is %s and can no longer change.", existing.Status)
		}
		existing.Kind, existing.Judge = posted.Kind, posted.Judge
		if !changed {
			existing.Sequence++
			existing.UpdatedAt = tx.now
			change = &courtside.HearingChange{HearingID: existing.ID, At: tx.now, Reason: reason,
				Status: existing.Status, Sequence: existing.Sequence, FromCourtroom: existing.Courtroom, ToCourtroom: existing.Courtroom}
		}
	}
	return true, db.saveHearingChange(ctx, tx, existing, change, "hearing.update", courtside.EventHearingChanged)
}

// saveHearingChange writes the hearing's new state, its history entry, audit row and event,
// and makes the hearing's bookings and accompaniments follow a move or a cancellation.
func (db *DB) saveHearingChange(ctx context.Context, tx *Tx, h *courtside.Hearing, change *courtside.HearingChange, action string, evType courtside.EventType) error {
	if _, err := tx.ExecContext(ctx, `UPDATE hearings SET kind = ?, starts_at = ?, ends_at = ?, courtroom = ?, judge = ?,
		status = ?, sequence = ?, updated_at = ? WHERE id = ?`, h.Kind, FormatTime(h.StartsAt), FormatTime(h.EndsAt),
		h.Courtroom, h.Judge, h.Status, h.Sequence, FormatTime(h.UpdatedAt), h.ID); err != nil {
		return fmt.Errorf("storage: update hearing: %w", err)
	}
	if err := insertHearingChange(ctx, tx, change); err != nil {
		return err
	}
	tx.Audit(action, hearingObject(h.ID), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: evType, HearingID: h.ID, CaseID: h.CaseID, Sequence: h.Sequence, Change: change})
	// Bookings and accompaniments follow in the same transaction (storage/reconfirm.go).
	return db.followHearingChange(ctx, tx, h, change)
}

func insertHearingChange(ctx context.Context, tx *Tx, c *courtside.HearingChange) error {
	c.ByUserID = tx.actor
	var by any
	if tx.actor != 0 {
		by = tx.actor
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO hearing_changes (hearing_id, at, by_user_id, reason, status, sequence,
		from_starts_at, to_starts_at, from_ends_at, to_ends_at, from_courtroom, to_courtroom) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		c.HearingID, FormatTime(c.At), by, c.Reason, c.Status, c.Sequence, nullTime(c.FromStartsAt), nullTime(c.ToStartsAt),
		nullTime(c.FromEndsAt), nullTime(c.ToEndsAt), c.FromCourtroom, c.ToCourtroom).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("storage: insert hearing change: %w", err)
	}
	return nil
}

func hearingObject(id int64) string { return "hearing:" + strconv.FormatInt(id, 10) }

// changeableHearing loads a hearing in tx for a prosecutor of its office to change.
func changeableHearing(ctx context.Context, tx *Tx, id int64) (*courtside.Hearing, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleProsecutor {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a prosecutor's office may change hearings.")
	}
	h, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ? AND h.organization_id = ?`, id, u.OrganizationID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Hearing not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find hearing: %w", err)
	}
	return h, nil
}

// RescheduleHearing moves a hearing.
func (s *HearingService) RescheduleHearing(ctx context.Context, id int64, upd courtside.HearingUpdate) (*courtside.Hearing, error) {
	var h *courtside.Hearing
	err := s.db.update(ctx, func(tx *Tx) error {
		var err error
		if h, err = changeableHearing(ctx, tx, id); err != nil {
			return err
		}
		if err := h.CheckSequence(upd.ExpectedSequence); err != nil {
			return err
		}
		change, changed, err := h.Reschedule(upd.StartsAt.Truncate(time.Second), upd.EndsAt.Truncate(time.Second), upd.Courtroom, upd.Reason, tx.now)
		if err != nil || !changed {
			return err
		}
		return s.db.saveHearingChange(ctx, tx, h, change, "hearing.reschedule", courtside.EventHearingChanged)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// CancelHearing cancels a hearing.
func (s *HearingService) CancelHearing(ctx context.Context, id int64, reason string, expectedSequence *int) (*courtside.Hearing, error) {
	var h *courtside.Hearing
	err := s.db.update(ctx, func(tx *Tx) error {
		var err error
		if h, err = changeableHearing(ctx, tx, id); err != nil {
			return err
		}
		if err := h.CheckSequence(expectedSequence); err != nil {
			return err
		}
		change, err := h.Cancel(reason, tx.now)
		if err != nil {
			return err
		}
		return s.db.saveHearingChange(ctx, tx, h, change, "hearing.cancel", courtside.EventHearingCancelled)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// FindHearingByID returns a hearing the caller may see.
func (s *HearingService) FindHearingByID(ctx context.Context, id int64) (*courtside.Hearing, error) {
	hs, err := s.FindHearings(ctx, courtside.HearingFilter{IDs: []int64{id}})
	if err != nil {
		return nil, err
	} else if len(hs) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Hearing not found.")
	}
	return hs[0], nil
}

// FindHearings returns the hearings the caller may see that match filter.
func (s *HearingService) FindHearings(ctx context.Context, f courtside.HearingFilter) ([]*courtside.Hearing, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	w := where(hearingScope(u))
	w.in("h.id", f.IDs)
	w.in("h.case_id", f.CaseIDs)
	if w.none {
		return nil, nil
	}
	if f.CourtID != nil {
		w.add("h.court_id = ?", *f.CourtID)
	}
	if f.Status != nil {
		w.add("h.status = ?", *f.Status)
	}
	if f.From != nil {
		w.add("h.ends_at > ?", FormatTime(*f.From))
	}
	if f.To != nil {
		w.add("h.starts_at < ?", FormatTime(*f.To))
	}
	if f.After != nil {
		w.add("(h.starts_at > ? OR (h.starts_at = ? AND h.id > ?))", FormatTime(f.After.StartsAt), FormatTime(f.After.StartsAt), f.After.ID)
	}
	query := `SELECT ` + hearingColumns + ` FROM hearings h WHERE ` + w.sql() + ` ORDER BY h.starts_at, h.id`
	if f.PerCase > 0 {
		// Numbered within each case in SQL, so that a case of thousands of hearings is not
		// read whole for the first few of it.
		query = `SELECT ` + hearingColumns + ` FROM (SELECT h.*, ROW_NUMBER() OVER (PARTITION BY h.case_id ORDER BY h.starts_at, h.id) AS case_rank
			FROM hearings h WHERE ` + w.sql() + `) h WHERE h.case_rank <= ` + strconv.Itoa(f.PerCase) + ` ORDER BY h.starts_at, h.id`
	}
	if f.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := s.db.Reader.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find hearings: %w", err)
	}
	return collect(rows, "hearing", scanHearing)
}

// FindHearingChanges returns the history of the hearings the caller may see, oldest first.
func (s *HearingService) FindHearingChanges(ctx context.Context, hearingIDs ...int64) ([]*courtside.HearingChange, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if len(hearingIDs) == 0 {
		return nil, nil
	}
	scope, scopeArgs := hearingScope(u)
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT c.id, c.hearing_id, c.at, COALESCE(c.by_user_id, 0), COALESCE(u.username, 'system'),
		c.reason, c.status, c.sequence, c.from_starts_at, c.to_starts_at, c.from_ends_at, c.to_ends_at, c.from_courtroom, c.to_courtroom
		FROM hearing_changes c JOIN hearings h ON h.id = c.hearing_id LEFT JOIN users u ON u.id = c.by_user_id
		WHERE c.hearing_id IN (`+placeholders(len(hearingIDs))+`) AND `+scope+` ORDER BY c.hearing_id, c.id`,
		append(int64Args(hearingIDs), scopeArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: hearing changes: %w", err)
	}
	defer rows.Close()
	var out []*courtside.HearingChange
	for rows.Next() {
		var c courtside.HearingChange
		if err := rows.Scan(&c.ID, &c.HearingID, scanTime{&c.At}, &c.ByUserID, &c.By, &c.Reason, &c.Status, &c.Sequence,
			scanOptTime{&c.FromStartsAt}, scanOptTime{&c.ToStartsAt}, scanOptTime{&c.FromEndsAt}, scanOptTime{&c.ToEndsAt},
			&c.FromCourtroom, &c.ToCourtroom); err != nil {
			return nil, fmt.Errorf("storage: scan hearing change: %w", err)
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}
