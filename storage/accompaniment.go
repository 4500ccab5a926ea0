package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"courtside"
)

// AccompanimentService is the database's service for advocates' accompaniments of victims to
// hearings.
type AccompanimentService struct {
	db *DB
}

// NewAccompanimentService returns the accompaniment service of db.
func NewAccompanimentService(db *DB) *AccompanimentService { return &AccompanimentService{db: db} }

var _ courtside.AccompanimentService = (*AccompanimentService)(nil)

const accompanimentColumns = `a.id, a.hearing_id, a.victim_id, a.advocate_id, a.status, a.meeting_point, a.created_at, a.updated_at`

func scanAccompaniment(s scanner) (*courtside.Accompaniment, error) {
	var a courtside.Accompaniment
	if err := s.Scan(&a.ID, &a.HearingID, &a.VictimID, &a.AdvocateID, &a.Status, &a.MeetingPoint, scanTime{&a.CreatedAt}, scanTime{&a.UpdatedAt}); err != nil {
		return nil, err
	}
	return &a, nil
}

// AssignAdvocate assigns an advocate to accompany a victim to a hearing.
func (s *AccompanimentService) AssignAdvocate(ctx context.Context, hearingID, victimID, advocateID int64) (*courtside.Accompaniment, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may assign advocates.")
	}
	var a *courtside.Accompaniment
	err = s.db.update(ctx, func(tx *Tx) error {
		var victimOrg int64
		err := tx.QueryRowContext(ctx, `SELECT organization_id FROM victims WHERE id = ?`, victimID).Scan(&victimOrg)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanManageVictimsOf(u, victimOrg)) {
			return courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
		} else if err != nil {
			return fmt.Errorf("storage: find victim: %w", err)
		}
		scope, scopeArgs := hearingScope(u)
		h, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ? AND `+scope,
			append([]any{hearingID}, scopeArgs...)...))
		if errors.Is(err, sql.ErrNoRows) {
			return courtside.Errorf(courtside.ENOTFOUND, "Hearing not found.")
		} else if err != nil {
			return fmt.Errorf("storage: find hearing: %w", err)
		}
		var linked int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_victims WHERE case_id = ? AND victim_id = ?`, h.CaseID, victimID).Scan(&linked); err != nil {
			return fmt.Errorf("storage: case victims: %w", err)
		} else if linked == 0 {
			return courtside.Invalidf("victimId", "The victim is not linked to this hearing's case; link the victim first.")
		}
		if !h.Open() {
			return courtside.Errorf(courtside.ECONFLICT, "Hearing is %s.", h.Status)
		}
		var advRole string
		var advOrg sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT role, organization_id FROM users WHERE id = ?`, advocateID).Scan(&advRole, &advOrg)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (advRole != string(courtside.RoleAdvocate) || advOrg.Int64 != u.OrganizationID)) {
			return courtside.Invalidf("advocateId", "No advocate of your organisation has that ID.")
		} else if err != nil {
			return fmt.Errorf("storage: find advocate: %w", err)
		}
		a, err = scanAccompaniment(tx.QueryRowContext(ctx, `SELECT `+accompanimentColumns+` FROM accompaniments a
			WHERE a.hearing_id = ? AND a.victim_id = ? AND a.advocate_id = ? AND a.status <> 'CANCELLED'`, hearingID, victimID, advocateID))
		if err == nil {
			return nil // already assigned: idempotent
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: find accompaniment: %w", err)
		}
		a = &courtside.Accompaniment{HearingID: hearingID, VictimID: victimID, AdvocateID: advocateID,
			Status: courtside.AccompanimentAssigned, CreatedAt: tx.now, UpdatedAt: tx.now}
		err = tx.QueryRowContext(ctx, `INSERT INTO accompaniments (hearing_id, victim_id, advocate_id, status, created_at, updated_at) VALUES (?,?,?,?,?,?) RETURNING id`,
			a.HearingID, a.VictimID, a.AdvocateID, a.Status, FormatTime(a.CreatedAt), FormatTime(a.UpdatedAt)).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("storage: insert accompaniment: %w", err)
		}
		tx.Audit("accompaniment.assign", "accompaniment:"+strconv.FormatInt(a.ID, 10), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventAccompanimentAssigned, AccompanimentID: a.ID, HearingID: hearingID,
			CaseID: h.CaseID, VictimID: victimID, UserID: advocateID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// accompanimentScope returns the SQL condition, on alias a, limiting accompaniments to those
// the caller may see at time now: a coordinator's and an advocate's while the hearing's case is
// shared with their organisation, a prosecutor's office's on its hearings while the victim has
// an active release to it (whether a victim is accompanied is the victim's to release).
func accompanimentScope(u *courtside.User, now time.Time) (string, []any) {
	shared, sharedArgs := sharedWith("(SELECT h.case_id FROM hearings h WHERE h.id = a.hearing_id)", u.OrganizationID)
	switch u.Role {
	case courtside.RoleAdmin:
		return "1 = 1", nil
	case courtside.RoleCoordinator:
		return "EXISTS (SELECT 1 FROM victims v WHERE v.id = a.victim_id AND v.organization_id = ?) AND " + shared,
			append([]any{u.OrganizationID}, sharedArgs...)
	case courtside.RoleAdvocate:
		return "a.advocate_id = ? AND " + shared, append([]any{u.ID}, sharedArgs...)
	case courtside.RoleProsecutor:
		released, args := releasedTo("a.victim_id", u.OrganizationID, now)
		return "EXISTS (SELECT 1 FROM hearings h WHERE h.id = a.hearing_id AND h.organization_id = ?) AND " + released,
			append([]any{u.OrganizationID}, args...)
	}
	return "0 = 1", nil
}

// FindAccompaniments returns the accompaniments the caller may see that match filter.
func (s *AccompanimentService) FindAccompaniments(ctx context.Context, f courtside.AccompanimentFilter) ([]*courtside.Accompaniment, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	w := where(accompanimentScope(u, s.db.Now()))
	w.in("a.hearing_id", f.HearingIDs)
	if w.none {
		return nil, nil
	}
	if f.AdvocateID != nil {
		w.add("a.advocate_id = ?", *f.AdvocateID)
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+accompanimentColumns+` FROM accompaniments a WHERE `+w.sql()+` ORDER BY a.id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find accompaniments: %w", err)
	}
	return collect(rows, "accompaniment", scanAccompaniment)
}
