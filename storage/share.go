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

// Case sharing (migrations/00012_case_shares.sql). An advocacy organisation sees a case, its
// hearings and the people on them only while the case's office shares it with the
// organisation: the coordinator and advocate scopes (caseScope, hearingScope,
// accompanimentScope) all require sharedWith. Withdrawing a share removes the organisation's
// links to the case and cancels its live accompaniments in the same transaction, so nothing of
// the organisation stays attached to a docket it may no longer see.

// sharedWith returns the SQL condition that the case whose ID is the SQL expression caseID is
// shared with the organisation orgID.
func sharedWith(caseID string, orgID int64) (string, []any) {
	return `EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = ` + caseID + ` AND s.organization_id = ?)`, []any{orgID}
}

func shareObject(caseID, orgID int64) string {
	return "case:" + strconv.FormatInt(caseID, 10) + " " + organizationObject(orgID)
}

func accessRequestObject(id int64) string { return "access_request:" + strconv.FormatInt(id, 10) }

// officeCase loads, through q, the organisation of a case the caller's office may share: ENOTFOUND
// for a case that does not exist or belongs to another office, as for a case nobody has.
func officeCase(ctx context.Context, q queryer, u *courtside.User, caseID int64) (*courtside.Case, error) {
	var c courtside.Case
	err := q.QueryRowContext(ctx, `SELECT id, docket, court_id, organization_id, created_at FROM cases WHERE id = ?`, caseID).
		Scan(&c.ID, &c.Docket, &c.CourtID, &c.OrganizationID, scanTime{&c.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanShareCasesOf(u, c.OrganizationID)) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find case: %w", err)
	}
	return &c, nil
}

// requireProsecutor returns the caller if it is a prosecutor of an office, else EFORBIDDEN.
func requireProsecutor(ctx context.Context, what string) (*courtside.User, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleProsecutor || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only the case's prosecutor's office may %s.", what)
	}
	return u, nil
}

// ShareCase shares a case of the caller's office with an advocacy organisation.
func (s *CaseService) ShareCase(ctx context.Context, caseID int64, orgName string) (*courtside.CaseShare, error) {
	u, err := requireProsecutor(ctx, "share it")
	if err != nil {
		return nil, err
	}
	var share *courtside.CaseShare
	err = s.db.update(ctx, func(tx *Tx) error {
		c, err := officeCase(ctx, tx, u, caseID)
		if err != nil {
			return err
		}
		org, err := findOrganizationOfKind(ctx, tx, orgName, courtside.KindAdvocacy, "organisation")
		if err != nil {
			return err
		}
		share, err = s.db.share(ctx, tx, c, org)
		return err
	})
	if err != nil {
		return nil, err
	}
	share.SharedBy = u.Username
	return share, nil
}

// share shares c with org in tx, unless it is shared already, and grants org's pending
// requests for the case.
func (db *DB) share(ctx context.Context, tx *Tx, c *courtside.Case, org *courtside.Organization) (*courtside.CaseShare, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO case_shares (case_id, organization_id, shared_at, shared_by) VALUES (?,?,?,?)
		ON CONFLICT (case_id, organization_id) DO NOTHING`, c.ID, org.ID, FormatTime(tx.now), nullID(tx.actor))
	if err != nil {
		return nil, fmt.Errorf("storage: share case: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("storage: share case: %w", err)
	} else if n > 0 {
		tx.Audit("case.share", shareObject(c.ID, org.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventCaseShared, CaseID: c.ID, OrganizationID: org.ID})
	}
	if _, err := tx.ExecContext(ctx, `UPDATE case_access_requests SET status = 'GRANTED', decided_by = ?, decided_at = ?
		WHERE organization_id = ? AND court_id = ? AND `+db.eqNoCase("docket", "?")+` AND status = 'PENDING'`,
		nullID(tx.actor), FormatTime(tx.now), org.ID, c.CourtID, c.Docket); err != nil {
		return nil, fmt.Errorf("storage: grant requests: %w", err)
	}
	share := &courtside.CaseShare{CaseID: c.ID, OrganizationID: org.ID, Organization: org}
	err = tx.QueryRowContext(ctx, `SELECT s.shared_at, COALESCE(u.username, '') FROM case_shares s LEFT JOIN users u ON u.id = s.shared_by
		WHERE s.case_id = ? AND s.organization_id = ?`, c.ID, org.ID).Scan(scanTime{&share.SharedAt}, &share.SharedBy)
	if err != nil {
		return nil, fmt.Errorf("storage: read share: %w", err)
	}
	return share, nil
}

// UnshareCase withdraws a share of a case of the caller's office.
func (s *CaseService) UnshareCase(ctx context.Context, caseID int64, orgName string) error {
	u, err := requireProsecutor(ctx, "withdraw a share")
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		c, err := officeCase(ctx, tx, u, caseID)
		if err != nil {
			return err
		}
		org, err := findOrganization(ctx, tx, orgName)
		if courtside.ErrorCode(err) == courtside.ENOTFOUND {
			return courtside.Errorf(courtside.ENOTFOUND, "The case is not shared with %q.", strings.TrimSpace(orgName))
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM case_shares WHERE case_id = ? AND organization_id = ?`, c.ID, org.ID)
		if err != nil {
			return fmt.Errorf("storage: unshare case: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("storage: unshare case: %w", err)
		} else if n == 0 {
			return courtside.Errorf(courtside.ENOTFOUND, "The case is not shared with %q.", org.Name)
		}
		if err := detachOrganization(ctx, tx, c.ID, org.ID, 0); err != nil {
			return err
		}
		tx.Audit("case.unshare", shareObject(c.ID, org.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventCaseUnshared, CaseID: c.ID, OrganizationID: org.ID})
		return nil
	})
}

// detachOrganization removes, in tx, what the organisation orgID has attached to a case: it
// cancels the live accompaniments of its victims to the case's hearings and removes its
// victims' links to the case, each audited with its event. A non-zero victimID limits it to
// that victim.
func detachOrganization(ctx context.Context, tx *Tx, caseID, orgID, victimID int64) error {
	victims := "v.organization_id = ?"
	args := []any{orgID}
	if victimID != 0 {
		victims, args = victims+" AND v.id = ?", append(args, victimID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.id, a.hearing_id, a.advocate_id FROM accompaniments a
		JOIN hearings h ON h.id = a.hearing_id JOIN victims v ON v.id = a.victim_id
		WHERE h.case_id = ? AND a.status <> 'CANCELLED' AND `+victims+` ORDER BY a.id`, append([]any{caseID}, args...)...)
	if err != nil {
		return fmt.Errorf("storage: accompaniments of case: %w", err)
	}
	type live struct{ id, hearing, advocate int64 }
	cancelled, err := collect(rows, "accompaniment", func(s scanner) (live, error) {
		var l live
		err := s.Scan(&l.id, &l.hearing, &l.advocate)
		return l, err
	})
	if err != nil {
		return err
	}
	for _, a := range cancelled {
		if _, err := tx.ExecContext(ctx, `UPDATE accompaniments SET status = 'CANCELLED', updated_at = ? WHERE id = ?`,
			FormatTime(tx.now), a.id); err != nil {
			return fmt.Errorf("storage: cancel accompaniment: %w", err)
		}
		tx.Audit("accompaniment.cancel", "accompaniment:"+strconv.FormatInt(a.id, 10), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventAccompanimentCancelled, AccompanimentID: a.id, HearingID: a.hearing,
			CaseID: caseID, UserID: a.advocate})
	}
	rows, err = tx.QueryContext(ctx, `SELECT cv.victim_id FROM case_victims cv JOIN victims v ON v.id = cv.victim_id
		WHERE cv.case_id = ? AND `+victims+` ORDER BY cv.victim_id`, append([]any{caseID}, args...)...)
	if err != nil {
		return fmt.Errorf("storage: links of case: %w", err)
	}
	linked, err := collectIDs(rows)
	if err != nil {
		return fmt.Errorf("storage: links of case: %w", err)
	}
	for _, id := range linked {
		if _, err := tx.ExecContext(ctx, `DELETE FROM case_victims WHERE case_id = ? AND victim_id = ?`, caseID, id); err != nil {
			return fmt.Errorf("storage: unlink victim: %w", err)
		}
		tx.Audit("case.unlink_victim", fmt.Sprintf("case:%d victim:%d", caseID, id), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventVictimUnlinked, CaseID: caseID, VictimID: id})
	}
	return nil
}

// FindCaseShares returns the shares of the cases among caseIDs that the caller may see.
func (s *CaseService) FindCaseShares(ctx context.Context, caseIDs ...int64) ([]*courtside.CaseShare, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if len(caseIDs) == 0 {
		return nil, nil
	}
	w := where(shareScope(u))
	w.in("s.case_id", caseIDs)
	return s.db.queryShares(ctx, w.sql(), w.args...)
}

// FindSharedCases returns the shares the caller may see, newest first.
func (s *CaseService) FindSharedCases(ctx context.Context) ([]*courtside.CaseShare, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	scope, args := shareScope(u)
	return s.db.queryShares(ctx, scope, args...)
}

// shareScope returns the SQL condition, on alias s, limiting shares to those the caller may
// see: an office its cases', an advocacy organisation's members their organisation's.
func shareScope(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleAdmin:
		return "1 = 1", nil
	case courtside.RoleProsecutor:
		return "EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id AND c.organization_id = ?)", []any{u.OrganizationID}
	case courtside.RoleCoordinator, courtside.RoleAdvocate:
		return "s.organization_id = ?", []any{u.OrganizationID}
	}
	return "0 = 1", nil
}

// queryShares reads the shares matching cond, on alias s, newest first.
func (db *DB) queryShares(ctx context.Context, cond string, args ...any) ([]*courtside.CaseShare, error) {
	rows, err := db.Reader.QueryContext(ctx, `SELECT s.case_id, s.organization_id, o.name, o.kind, s.shared_at, COALESCE(u.username, '')
		FROM case_shares s JOIN organizations o ON o.id = s.organization_id LEFT JOIN users u ON u.id = s.shared_by
		WHERE `+cond+` ORDER BY s.shared_at DESC, s.case_id DESC, s.organization_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find shares: %w", err)
	}
	return collect(rows, "share", func(sc scanner) (*courtside.CaseShare, error) {
		s := &courtside.CaseShare{Organization: &courtside.Organization{}}
		if err := sc.Scan(&s.CaseID, &s.OrganizationID, &s.Organization.Name, &s.Organization.Kind, scanTime{&s.SharedAt}, &s.SharedBy); err != nil {
			return nil, err
		}
		s.Organization.ID = s.OrganizationID
		return s, nil
	})
}

// RequestCaseAccess records an advocacy organisation's request for the docket in the court.
func (s *CaseService) RequestCaseAccess(ctx context.Context, r *courtside.CaseAccessRequest) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !courtside.CanRequestCaseAccess(u) {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may ask for access to a case.")
	}
	r.Docket, r.Note = strings.TrimSpace(r.Docket), strings.TrimSpace(r.Note)
	if err := r.Validate(); err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		if err := courtsExist(ctx, tx, r.CourtID); err != nil {
			return courtside.Invalidf("courtId", "Court %d does not exist.", r.CourtID)
		}
		r.OrganizationID, r.Status, r.RequestedAt, r.DecidedAt = u.OrganizationID, courtside.AccessPending, tx.now, nil
		// A case already shared with the organisation is granted at once: that tells the
		// requester nothing it could not already see.
		var shared int64
		err := tx.QueryRowContext(ctx, `SELECT c.id FROM cases c JOIN case_shares s ON s.case_id = c.id AND s.organization_id = ?
			WHERE c.court_id = ? AND `+s.db.eqNoCase("c.docket", "?")+` ORDER BY c.id LIMIT 1`, u.OrganizationID, r.CourtID, r.Docket).Scan(&shared)
		if err == nil {
			at := tx.now
			r.Status, r.DecidedAt, r.CaseID = courtside.AccessGranted, &at, shared
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: find shared case: %w", err)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO case_access_requests (organization_id, court_id, docket, note, status,
			requested_by, requested_at, decided_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id`, r.OrganizationID, r.CourtID, r.Docket, r.Note, r.Status,
			u.ID, FormatTime(r.RequestedAt), nullTime(r.DecidedAt)).Scan(&r.ID)
		if err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "Your organisation's request for docket %s in that court is already pending.", r.Docket)
			}
			return fmt.Errorf("storage: insert access request: %w", err)
		}
		tx.Audit("case.request_access", accessRequestObject(r.ID), courtside.OutcomeOK)
		return nil
	})
}

// DecideCaseAccess grants or refuses a pending request for a docket of the caller's office.
func (s *CaseService) DecideCaseAccess(ctx context.Context, requestID int64, grant bool) (*courtside.CaseAccessRequest, error) {
	u, err := requireProsecutor(ctx, "answer a request for it")
	if err != nil {
		return nil, err
	}
	var out *courtside.CaseAccessRequest
	err = s.db.update(ctx, func(tx *Tx) error {
		cond, args := officeRequests(u)
		rs, err := queryAccessRequests(ctx, tx, s.db.officeRequestsFrom(), cond+" AND r.id = ?", append(args, requestID)...)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return courtside.Errorf(courtside.ENOTFOUND, "Access request not found.")
		}
		out = rs[0]
		if out.Status != courtside.AccessPending {
			return courtside.Errorf(courtside.ECONFLICT, "The request was already %s.", strings.ToLower(string(out.Status)))
		}
		c, err := officeCase(ctx, tx, u, out.CaseID)
		if err != nil {
			return err
		}
		if grant {
			if _, err := s.db.share(ctx, tx, c, out.Organization); err != nil {
				return err
			}
			out.Status = courtside.AccessGranted
			tx.Audit("case.grant_access", accessRequestObject(out.ID), courtside.OutcomeOK)
		} else {
			// Links carried over from before sharing existed go with the refusal.
			if err := detachOrganization(ctx, tx, c.ID, out.OrganizationID, 0); err != nil {
				return err
			}
			out.Status = courtside.AccessRefused
			tx.Audit("case.refuse_access", accessRequestObject(out.ID), courtside.OutcomeOK)
		}
		at := tx.now
		out.DecidedAt = &at
		if _, err := tx.ExecContext(ctx, `UPDATE case_access_requests SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			out.Status, u.ID, FormatTime(tx.now), out.ID); err != nil {
			return fmt.Errorf("storage: decide access request: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindCaseAccessRequests returns the access requests the caller may see, newest first.
func (s *CaseService) FindCaseAccessRequests(ctx context.Context, status *courtside.AccessRequestStatus) ([]*courtside.CaseAccessRequest, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	var from, cond string
	var args []any
	switch {
	case u.Role == courtside.RoleProsecutor && u.OrganizationID != 0:
		from = s.db.officeRequestsFrom()
		cond, args = officeRequests(u)
	case courtside.CanRequestCaseAccess(u):
		// The requester learns a case's ID only once the case is shared with it.
		from = `case_access_requests r JOIN organizations o ON o.id = r.organization_id
			LEFT JOIN cases c ON c.court_id = r.court_id AND ` + s.db.eqNoCase("c.docket", "r.docket") + `
				AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id AND s.organization_id = r.organization_id)`
		cond, args = "r.organization_id = ?", []any{u.OrganizationID}
	default:
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only prosecutors' offices and coordinators have access requests.")
	}
	if status != nil {
		cond, args = cond+" AND r.status = ?", append(args, *status)
	}
	return queryAccessRequests(ctx, s.db.Reader, from, cond, args...)
}

// officeRequestsFrom joins each request to the case it names, for an office.
func (db *DB) officeRequestsFrom() string {
	return `case_access_requests r JOIN organizations o ON o.id = r.organization_id
	JOIN cases c ON c.court_id = r.court_id AND ` + db.eqNoCase("c.docket", "r.docket")
}

// officeRequests returns the condition, over db.officeRequestsFrom(), of the requests for the
// dockets of u's office.
func officeRequests(u *courtside.User) (string, []any) {
	return "c.organization_id = ?", []any{u.OrganizationID}
}

// queryAccessRequests reads the requests of from matching cond, newest first; from joins
// case_access_requests r, organizations o (the requester) and cases c (left or inner).
func queryAccessRequests(ctx context.Context, q queryer, from, cond string, args ...any) ([]*courtside.CaseAccessRequest, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.organization_id, o.name, o.kind, r.court_id, r.docket, r.note, r.status,
		r.requested_at, r.decided_at, COALESCE(c.id, 0) FROM `+from+` WHERE `+cond+` ORDER BY r.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find access requests: %w", err)
	}
	return collect(rows, "access request", func(s scanner) (*courtside.CaseAccessRequest, error) {
		r := &courtside.CaseAccessRequest{Organization: &courtside.Organization{}}
		if err := s.Scan(&r.ID, &r.OrganizationID, &r.Organization.Name, &r.Organization.Kind, &r.CourtID, &r.Docket, &r.Note,
			&r.Status, scanTime{&r.RequestedAt}, scanOptTime{&r.DecidedAt}, &r.CaseID); err != nil {
			return nil, err
		}
		r.Organization.ID = r.OrganizationID
		return r, nil
	})
}
