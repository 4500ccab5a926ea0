package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"courtside"
)

// CaseService is the database's service for cases, their victims and their shares between
// organisations.
type CaseService struct {
	db *DB
}

// NewCaseService returns the case service of db.
func NewCaseService(db *DB) *CaseService { return &CaseService{db: db} }

var _ courtside.CaseService = (*CaseService)(nil)

// OpenCase opens a case for the caller's prosecutor's office.
func (s *CaseService) OpenCase(ctx context.Context, c *courtside.Case) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !courtside.CanOpenCase(u) {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only a prosecutor's office may open cases.")
	}
	c.Docket = strings.TrimSpace(c.Docket)
	if err := c.Validate(); err != nil {
		return err
	}
	c.OrganizationID = u.OrganizationID
	return s.db.update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM courts WHERE id = ?`, c.CourtID).Scan(&n); err != nil {
			return fmt.Errorf("storage: find court: %w", err)
		} else if n == 0 {
			return courtside.Invalidf("courtId", "Court %d does not exist.", c.CourtID)
		}
		c.CreatedAt = tx.now
		err := tx.QueryRowContext(ctx, `INSERT INTO cases (docket, court_id, organization_id, created_at) VALUES (?,?,?,?) RETURNING id`,
			c.Docket, c.CourtID, c.OrganizationID, FormatTime(c.CreatedAt)).Scan(&c.ID)
		if err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "Docket %s is already open in that court.", c.Docket)
			}
			return fmt.Errorf("storage: insert case: %w", err)
		}
		tx.Audit("case.open", "case:"+strconv.FormatInt(c.ID, 10), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventCaseOpened, CaseID: c.ID})
		return nil
	})
}

// caseScope returns the SQL condition, on alias c, that limits cases to those the caller may see.
func caseScope(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleAdmin:
		return "1 = 1", nil
	case courtside.RoleProsecutor:
		return "c.organization_id = ?", []any{u.OrganizationID}
	case courtside.RoleCoordinator:
		// The cases the office shares with the organisation (share.go).
		return sharedWith("c.id", u.OrganizationID)
	case courtside.RoleAdvocate:
		shared, args := sharedWith("c.id", u.OrganizationID)
		return `EXISTS (SELECT 1 FROM hearings h JOIN accompaniments a ON a.hearing_id = h.id
			WHERE h.case_id = c.id AND a.advocate_id = ?) AND ` + shared, append([]any{u.ID}, args...)
	case courtside.RoleInterpreter:
		// The cases of the hearings offered to or booked with the interpreter, for the docket
		// number; their victims stay hidden (FindCaseVictims, victimScope).
		return `EXISTS (SELECT 1 FROM hearings h JOIN interpreter_bookings ib ON ib.hearing_id = h.id
			WHERE h.case_id = c.id AND ib.interpreter_id = ? AND ib.status IN ` + heldStatuses + `)`, []any{u.ID}
	}
	return "0 = 1", nil
}

// FindCaseByID returns a case the caller may see.
func (s *CaseService) FindCaseByID(ctx context.Context, id int64) (*courtside.Case, error) {
	cases, err := s.FindCases(ctx, id)
	if err != nil {
		return nil, err
	} else if len(cases) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	}
	return cases[0], nil
}

// FindCases returns the cases among ids that the caller may see.
func (s *CaseService) FindCases(ctx context.Context, ids ...int64) ([]*courtside.Case, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	scope, args := caseScope(u)
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT c.id, c.docket, c.court_id, c.organization_id, c.created_at FROM cases c
		WHERE c.id IN (`+placeholders(len(ids))+`) AND `+scope+` ORDER BY c.id`, append(int64Args(ids), args...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: find cases: %w", err)
	}
	defer rows.Close()
	var cases []*courtside.Case
	for rows.Next() {
		var c courtside.Case
		if err := rows.Scan(&c.ID, &c.Docket, &c.CourtID, &c.OrganizationID, scanTime{&c.CreatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan case: %w", err)
		}
		cases = append(cases, &c)
	}
	return cases, rows.Err()
}

// FindCaseByDocket returns the organisation's case with the docket number in the court.
func (s *CaseService) FindCaseByDocket(ctx context.Context, orgID, courtID int64, docket string) (*courtside.Case, error) {
	var c courtside.Case
	err := s.db.Reader.QueryRowContext(ctx, `SELECT id, docket, court_id, organization_id, created_at FROM cases
		WHERE organization_id = ? AND court_id = ? AND docket = ?`, orgID, courtID, docket).
		Scan(&c.ID, &c.Docket, &c.CourtID, &c.OrganizationID, scanTime{&c.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find case: %w", err)
	}
	return &c, nil
}

// LinkVictim links a victim of the caller's organisation to a case shared with it.
func (s *CaseService) LinkVictim(ctx context.Context, caseID, victimID int64, attends bool) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if u.Role != courtside.RoleCoordinator {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may link victims to cases.")
	}
	return s.db.update(ctx, func(tx *Tx) error {
		if err := coordinatedLink(ctx, tx, u, caseID, victimID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_victims (case_id, victim_id, attends) VALUES (?,?,?)
			ON CONFLICT (case_id, victim_id) DO UPDATE SET attends = excluded.attends`, caseID, victimID, attends); err != nil {
			return fmt.Errorf("storage: link victim: %w", err)
		}
		tx.Audit("case.link_victim", fmt.Sprintf("case:%d victim:%d", caseID, victimID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventVictimLinked, CaseID: caseID, VictimID: victimID})
		return nil
	})
}

// coordinatedLink checks, in tx, that the coordinator u may link or unlink the victim and the
// case: the victim is of u's organisation and the case is shared with it. Anything else is
// ENOTFOUND, whether the object does not exist or is not the caller's to see.
func coordinatedLink(ctx context.Context, tx *Tx, u *courtside.User, caseID, victimID int64) error {
	var victimOrg int64
	err := tx.QueryRowContext(ctx, `SELECT organization_id FROM victims WHERE id = ?`, victimID).Scan(&victimOrg)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanManageVictimsOf(u, victimOrg)) {
		return courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	} else if err != nil {
		return fmt.Errorf("storage: find victim: %w", err)
	}
	shared, args := sharedWith("c.id", u.OrganizationID)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases c WHERE c.id = ? AND `+shared,
		append([]any{caseID}, args...)...).Scan(&n); err != nil {
		return fmt.Errorf("storage: find case: %w", err)
	} else if n == 0 {
		return courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	}
	return nil
}

// UnlinkVictim removes a victim of the caller's organisation from a case shared with it, and
// cancels the victim's live accompaniments to the case's hearings.
func (s *CaseService) UnlinkVictim(ctx context.Context, caseID, victimID int64) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if u.Role != courtside.RoleCoordinator {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may unlink victims from cases.")
	}
	return s.db.update(ctx, func(tx *Tx) error {
		if err := coordinatedLink(ctx, tx, u, caseID, victimID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_victims WHERE case_id = ? AND victim_id = ?`, caseID, victimID).Scan(&n); err != nil {
			return fmt.Errorf("storage: case victims: %w", err)
		} else if n == 0 {
			return courtside.Errorf(courtside.ENOTFOUND, "The victim is not linked to the case.")
		}
		return detachOrganization(ctx, tx, caseID, u.OrganizationID, victimID)
	})
}

// FindCaseVictims returns the victims linked to the cases, with whether each has a live
// accompaniment to a hearing of the case.
func (svc *CaseService) FindCaseVictims(ctx context.Context, caseIDs ...int64) ([]*courtside.CaseVictim, error) {
	if u := courtside.UserFromContext(ctx); len(caseIDs) == 0 || (u != nil && !courtside.CanSeeVictimPseudonym(u)) {
		return nil, nil // interpreters never learn which victims a case has
	}
	rows, err := svc.db.Reader.QueryContext(ctx, `SELECT cv.case_id, cv.victim_id, cv.attends,
		EXISTS (SELECT 1 FROM accompaniments a JOIN hearings h ON h.id = a.hearing_id
			WHERE h.case_id = cv.case_id AND a.victim_id = cv.victim_id AND a.status <> 'CANCELLED')
		FROM case_victims cv WHERE cv.case_id IN (`+placeholders(len(caseIDs))+`) ORDER BY cv.case_id, cv.victim_id`, int64Args(caseIDs)...)
	if err != nil {
		return nil, fmt.Errorf("storage: case victims: %w", err)
	}
	return collect(rows, "case victim", func(s scanner) (*courtside.CaseVictim, error) {
		var cv courtside.CaseVictim
		return &cv, s.Scan(&cv.CaseID, &cv.VictimID, &cv.Attends, &cv.Accompanied)
	})
}
