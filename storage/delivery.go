package storage

import (
	"context"
	"fmt"
	"time"

	"courtside"
)

// DeliveryService is the database's service for notices' deliveries as people read them, and
// the escalation of unacknowledged ones.
type DeliveryService struct {
	db *DB
}

// NewDeliveryService returns the delivery service of db.
func NewDeliveryService(db *DB) *DeliveryService { return &DeliveryService{db: db} }

var _ courtside.DeliveryService = (*DeliveryService)(nil)

// deliveryScope returns the SQL condition, on alias d, limiting deliveries to those the caller
// may see at time now. A prosecutor's office sees the deliveries about its hearings to its own
// staff and to interpreters; those to a victim, and those to an advocate accompanying a victim
// to the hearing, only while that victim has an active release to the office.
func deliveryScope(u *courtside.User, now time.Time) (string, []any) {
	switch u.Role {
	case courtside.RoleCoordinator:
		return `(EXISTS (SELECT 1 FROM victims v WHERE v.id = d.victim_id AND v.organization_id = ?)
			OR EXISTS (SELECT 1 FROM users x WHERE x.id = d.user_id AND x.organization_id = ?))`, []any{u.OrganizationID, u.OrganizationID}
	case courtside.RoleAdvocate:
		return `(d.user_id = ? OR EXISTS (SELECT 1 FROM accompaniments a WHERE a.victim_id = d.victim_id AND a.advocate_id = ?))`, []any{u.ID, u.ID}
	case courtside.RoleProsecutor:
		victim, victimArgs := releasedTo("d.victim_id", u.OrganizationID, now)
		accompanied, accompaniedArgs := releasedTo("a.victim_id", u.OrganizationID, now)
		args := []any{u.OrganizationID}
		args = append(args, victimArgs...)
		args = append(args, u.OrganizationID)
		args = append(args, accompaniedArgs...)
		return `EXISTS (SELECT 1 FROM hearings h WHERE h.id = d.hearing_id AND h.organization_id = ?) AND (
			(d.victim_id IS NOT NULL AND ` + victim + `)
			OR (d.victim_id IS NULL AND EXISTS (SELECT 1 FROM users x WHERE x.id = d.user_id
				AND (x.role = 'INTERPRETER' OR x.organization_id = ?)))
			OR (d.victim_id IS NULL AND EXISTS (SELECT 1 FROM accompaniments a
				WHERE a.hearing_id = d.hearing_id AND a.advocate_id = d.user_id AND ` + accompanied + `)))`, args
	}
	return "d.user_id = ?", []any{u.ID}
}

// FindDeliveries returns the deliveries the caller may see that match filter, oldest first.
func (s *DeliveryService) FindDeliveries(ctx context.Context, f courtside.DeliveryFilter) ([]*courtside.Delivery, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if f.VictimID != nil {
		if _, err := NewVictimService(s.db).FindVictimByID(ctx, *f.VictimID); err != nil {
			return nil, err
		}
	}
	if f.HearingID != nil {
		if _, err := NewHearingService(s.db).FindHearingByID(ctx, *f.HearingID); err != nil {
			return nil, err
		}
	}
	w := where(deliveryScope(u, s.db.Now()))
	if f.VictimID != nil {
		w.add("d.victim_id = ?", *f.VictimID)
	}
	if f.HearingID != nil {
		w.add("d.hearing_id = ?", *f.HearingID)
	}
	if f.Sequence != nil {
		w.add("d.sequence = ?", *f.Sequence)
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT d.id, d.kind, COALESCE(d.hearing_id, 0), COALESCE(d.victim_id, 0), COALESCE(d.user_id, 0),
		d.channel, d.language, d.status, d.idempotency_key, d.attempts, d.created_at, d.sent_at, d.lead_time_minutes, d.reason, d.audience, d.sequence, d.detail,
		d.acknowledged_at, COALESCE(d.acknowledged_by, ''), d.escalate_at, d.escalated_at
		FROM deliveries d WHERE `+w.sql()+` ORDER BY d.created_at, d.id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find deliveries: %w", err)
	}
	defer rows.Close()
	var out []*courtside.Delivery
	for rows.Next() {
		var d courtside.Delivery
		var lead *int64
		if err := rows.Scan(&d.ID, &d.Kind, &d.HearingID, &d.VictimID, &d.UserID, &d.Channel, &d.Language, &d.Status,
			&d.IdempotencyKey, &d.Attempts, scanTime{&d.CreatedAt}, scanOptTime{&d.SentAt}, &lead, &d.Reason, &d.Audience, &d.Sequence, &d.Detail,
			scanOptTime{&d.AcknowledgedAt}, &d.AcknowledgedBy, scanOptTime{&d.EscalateAt}, scanOptTime{&d.EscalatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan delivery: %w", err)
		}
		if lead != nil {
			n := int(*lead)
			d.LeadTimeMinutes = &n
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}
