package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"courtside"
)

// RequestService is the database's service for victims' requests and the HELP settings.
type RequestService struct {
	db *DB
}

// NewRequestService returns the request service of db.
func NewRequestService(db *DB) *RequestService { return &RequestService{db: db} }

var _ courtside.RequestService = (*RequestService)(nil)

// requestColumns are the columns scanRequest reads, on alias r.
const requestColumns = `r.id, r.organization_id, r.victim_id, COALESCE(r.hearing_id, 0), COALESCE(r.delivery_id, 0), r.kind, r.via, r.status,
	r.created_at, r.closed_at, COALESCE(r.closed_by, 0), r.outcome`

func scanRequest(s scanner) (*courtside.Request, error) {
	var r courtside.Request
	if err := s.Scan(&r.ID, &r.OrganizationID, &r.VictimID, &r.HearingID, &r.DeliveryID, &r.Kind, &r.Via, &r.Status,
		scanTime{&r.CreatedAt}, scanOptTime{&r.ClosedAt}, &r.ClosedBy, &r.Outcome); err != nil {
		return nil, err
	}
	return &r, nil
}

func requestObject(id int64) string { return "request:" + strconv.FormatInt(id, 10) }

// requestScope returns the SQL condition, on alias r, limiting requests to those the caller may
// see: a coordinator's organisation's, and an advocate's accompanied victims'. Every other role
// sees none (and is refused before this is used).
func requestScope(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleCoordinator:
		return "r.organization_id = ?", []any{u.OrganizationID}
	case courtside.RoleAdvocate:
		return `EXISTS (SELECT 1 FROM accompaniments a WHERE a.victim_id = r.victim_id AND a.advocate_id = ? AND a.status <> 'CANCELLED')`, []any{u.ID}
	}
	return "0 = 1", nil
}

// mayHandleRequests reports whether u's role may see and close requests at all.
func mayHandleRequests(u *courtside.User) error {
	if u.Role != courtside.RoleCoordinator && u.Role != courtside.RoleAdvocate {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators and advocates see victims' requests.")
	}
	return nil
}

// FindRequests returns the requests the caller may see, oldest first.
func (s *RequestService) FindRequests(ctx context.Context, f courtside.RequestFilter) ([]*courtside.Request, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := mayHandleRequests(u); err != nil {
		return nil, err
	}
	if f.VictimID != nil {
		if _, err := NewVictimService(s.db).FindVictimByID(ctx, *f.VictimID); err != nil {
			return nil, err
		}
	}
	w := where(requestScope(u))
	if f.Status != nil {
		w.add("r.status = ?", *f.Status)
	}
	if f.VictimID != nil {
		w.add("r.victim_id = ?", *f.VictimID)
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+requestColumns+` FROM requests r WHERE `+w.sql()+` ORDER BY r.created_at, r.id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find requests: %w", err)
	}
	return collect(rows, "request", scanRequest)
}

// findRequestFor loads request id inside tx if u may see it; ENOTFOUND otherwise.
func findRequestFor(ctx context.Context, tx *Tx, u *courtside.User, id int64) (*courtside.Request, error) {
	scope, args := requestScope(u)
	r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM requests r WHERE r.id = ? AND `+scope, append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Request not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find request: %w", err)
	}
	return r, nil
}

// CloseRequest closes an open request as handled.
func (s *RequestService) CloseRequest(ctx context.Context, id int64) (*courtside.Request, error) {
	return s.db.closeRequest(ctx, id, false)
}

// ConfirmSMSRestart restores SMS in the victim's policy, at the detail it had before STOP, and
// closes the SMS_RESTART request.
func (s *RequestService) ConfirmSMSRestart(ctx context.Context, id int64) (*courtside.Request, error) {
	return s.db.closeRequest(ctx, id, true)
}

func (db *DB) closeRequest(ctx context.Context, id int64, restoreSMS bool) (*courtside.Request, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := mayHandleRequests(u); err != nil {
		return nil, err
	}
	var out *courtside.Request
	err = db.update(ctx, func(tx *Tx) error {
		r, err := findRequestFor(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if restoreSMS && r.Kind != courtside.RequestSMSRestart {
			return courtside.Invalidf("requestId", "Only an SMS_RESTART request restores text messages; this one is %s.", r.Kind)
		}
		if r.Status != courtside.RequestOpen {
			return courtside.Errorf(courtside.ECONFLICT, "This request was closed already.")
		}
		outcome := ""
		if restoreSMS {
			if err := restoreSMSRule(ctx, tx, r.VictimID); err != nil {
				return err
			}
			outcome = "SMS_RESTORED"
			tx.Audit("victim.sms_restart", victimObject(r.VictimID), courtside.OutcomeOK)
			tx.Event(courtside.Event{Type: courtside.EventVictimPolicyChanged, VictimID: r.VictimID})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET status = 'CLOSED', closed_at = ?, closed_by = ?, outcome = ? WHERE id = ?`,
			FormatTime(tx.now), u.ID, outcome, r.ID); err != nil {
			return fmt.Errorf("storage: close request: %w", err)
		}
		tx.Audit("request.close", requestObject(r.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventRequestClosed, RequestID: r.ID, VictimID: r.VictimID, HearingID: r.HearingID})
		now := tx.now
		r.Status, r.ClosedAt, r.ClosedBy, r.Outcome = courtside.RequestClosed, &now, u.ID, outcome
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// restoreSMSRule allows SMS again in a victim's policy, at the detail level recorded when the
// victim's phone answered STOP, and forgets the stop. ECONFLICT when SMS was not stopped.
func restoreSMSRule(ctx context.Context, tx *Tx, victimID int64) error {
	var detail string
	err := tx.QueryRowContext(ctx, `SELECT detail FROM victim_sms_stops WHERE victim_id = ?`, victimID).Scan(&detail)
	if errors.Is(err, sql.ErrNoRows) {
		return courtside.Errorf(courtside.ECONFLICT, "Text messages are not stopped for this victim.")
	} else if err != nil {
		return fmt.Errorf("storage: sms stop: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM victim_sms_stops WHERE victim_id = ?`, victimID); err != nil {
		return fmt.Errorf("storage: sms stop: %w", err)
	}
	if detail == "" {
		// SMS was not allowed when the phone answered STOP: there is nothing to restore.
		return nil
	}
	policy, err := victimPolicy(ctx, tx, victimID)
	if err != nil {
		return err
	}
	found := false
	for i := range policy.Channels {
		if policy.Channels[i].Channel == courtside.ChannelSMS {
			policy.Channels[i].Allowed, policy.Channels[i].Detail, found = true, courtside.DetailLevel(detail), true
		}
	}
	if !found {
		policy.Channels = append(policy.Channels, courtside.ChannelRule{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailLevel(detail)})
	}
	return setVictimPolicy(ctx, tx, victimID, policy)
}

// victimPolicy reads a victim's contact policy inside tx.
func victimPolicy(ctx context.Context, q queryer, victimID int64) (*courtside.ContactPolicy, error) {
	var raw string
	if err := q.QueryRowContext(ctx, `SELECT policy FROM victims WHERE id = ?`, victimID).Scan(&raw); err != nil {
		return nil, wrapErr("victim policy", err)
	}
	var p courtside.ContactPolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("storage: victim policy: %w", err)
	}
	return &p, nil
}

// setVictimPolicy writes a victim's contact policy inside tx.
func setVictimPolicy(ctx context.Context, tx *Tx, victimID int64, p *courtside.ContactPolicy) error {
	if p.Channels == nil {
		p.Channels = []courtside.ChannelRule{}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("storage: policy: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE victims SET policy = ? WHERE id = ?`, string(raw), victimID); err != nil {
		return fmt.Errorf("storage: set policy: %w", err)
	}
	return nil
}

// createRequest records what a victim asked for in answer to delivery deliveryID (about
// hearingID), unless the same kind is open already for the victim and hearing; a new request
// is audited and announced with a request.created event. It reports the request's ID and
// whether it is new.
func createRequest(ctx context.Context, tx *Tx, victimID, hearingID, deliveryID int64, kind courtside.RequestKind, via courtside.AckMethod) (int64, bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO requests (organization_id, victim_id, hearing_id, delivery_id, kind, via, status, created_at)
		SELECT organization_id, id, ?, ?, ?, ?, 'OPEN', ? FROM victims WHERE id = ? ON CONFLICT DO NOTHING RETURNING id`,
		nullID(hearingID), nullID(deliveryID), kind, via, FormatTime(tx.now), victimID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err := tx.QueryRowContext(ctx, `SELECT id FROM requests WHERE victim_id = ? AND COALESCE(hearing_id, 0) = ? AND kind = ? AND status = 'OPEN'`,
			victimID, hearingID, kind).Scan(&id)
		return id, false, wrapErr("open request", err)
	}
	if err != nil {
		return 0, false, fmt.Errorf("storage: insert request: %w", err)
	}
	tx.Audit("request.create", requestObject(id), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: courtside.EventRequestCreated, RequestID: id, VictimID: victimID, HearingID: hearingID})
	return id, true, nil
}

// SMSHelp returns the caller's organisation's HELP settings, nil when none are set.
func (svc *RequestService) SMSHelp(ctx context.Context) (*courtside.SMSHelpSettings, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator sees the organisation's text-message help.")
	}
	var s courtside.SMSHelpSettings
	err = svc.db.Reader.QueryRowContext(ctx, `SELECT neutral_name, reach FROM organization_sms_help WHERE organization_id = ?`, u.OrganizationID).
		Scan(&s.NeutralName, &s.Reach)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("storage: sms help: %w", err)
	}
	return &s, nil
}

// SetSMSHelp sets the caller's organisation's HELP settings.
func (svc *RequestService) SetSMSHelp(ctx context.Context, s courtside.SMSHelpSettings) (*courtside.SMSHelpSettings, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may set the organisation's text-message help.")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	err = svc.db.update(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO organization_sms_help (organization_id, neutral_name, reach, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (organization_id) DO UPDATE SET neutral_name = excluded.neutral_name, reach = excluded.reach, updated_at = excluded.updated_at`,
			u.OrganizationID, s.NeutralName, s.Reach, FormatTime(tx.now)); err != nil {
			return fmt.Errorf("storage: set sms help: %w", err)
		}
		tx.Audit("organization.sms_help", "organization:"+strconv.FormatInt(u.OrganizationID, 10), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// smsHelpFor returns the HELP settings for a victim: the organisation's, else the victim's
// neutral sender name with no way to reach it. Zero for no victim.
func smsHelpFor(ctx context.Context, q queryer, victimID int64) (courtside.SMSHelpSettings, error) {
	var s courtside.SMSHelpSettings
	if victimID == 0 {
		return s, nil
	}
	err := q.QueryRowContext(ctx, `SELECT h.neutral_name, h.reach FROM organization_sms_help h JOIN victims v ON v.organization_id = h.organization_id
		WHERE v.id = ?`, victimID).Scan(&s.NeutralName, &s.Reach)
	if err == nil {
		return s, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("storage: sms help: %w", err)
	}
	p, err := victimPolicy(ctx, q, victimID)
	if err != nil {
		return s, err
	}
	s.NeutralName = p.NeutralSender
	return s, nil
}
