package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"courtside"
)

// escalationSource is the source of the NOTICE_UNACKNOWLEDGED messages about delivery id: one
// set per notice, however often the sweep runs.
func escalationSource(deliveryID int64) string { return fmt.Sprintf("esc-d%d", deliveryID) }

// EscalateUnacknowledged escalates up to limit notices whose escalation time has come without
// an acknowledgement, in one transaction: each becomes a NOTICE_UNACKNOWLEDGED message to the
// advocates accompanying the victim at the hearing (else at any hearing, else the
// organisation's coordinators) naming the victim by pseudonym, the hearing and the channels the
// notice was tried on, and the delivery records escalatedAt. A notice that a later notice about
// the same hearing to the same victim covers (acknowledged, or itself waiting for an answer)
// does not escalate: its escalation time is cleared, and the later one's counts. Nor does one
// whose hearing has begun. It needs no user in ctx and returns how many escalated.
func (svc *DeliveryService) EscalateUnacknowledged(ctx context.Context, limit int) (int, error) {
	// Most sweeps find nothing: look first on the read pool, so that they never take the
	// write lock for nothing.
	var one int
	err := svc.db.Reader.QueryRowContext(ctx, `SELECT 1 FROM deliveries
		WHERE escalate_at IS NOT NULL AND acknowledged_at IS NULL AND escalated_at IS NULL AND escalate_at <= ? LIMIT 1`,
		FormatTime(svc.db.Now())).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, wrapErr("due escalations", err)
	}
	tx, err := svc.db.BeginTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+pendingColumns+`, sent_at,
			EXISTS (SELECT 1 FROM deliveries l WHERE l.victim_id = deliveries.victim_id AND l.hearing_id = deliveries.hearing_id AND l.id > deliveries.id
				AND (l.acknowledged_at IS NOT NULL OR (l.escalate_at IS NOT NULL AND l.status IN ('SENT','DELIVERED'))))
		FROM deliveries WHERE escalate_at IS NOT NULL AND acknowledged_at IS NULL AND escalated_at IS NULL AND escalate_at <= ?
		ORDER BY escalate_at, id LIMIT ?`, FormatTime(tx.now), limit)
	if err != nil {
		return 0, wrapErr("due escalations", err)
	}
	type due struct {
		d       *courtside.PendingDelivery
		sentAt  time.Time
		covered bool
	}
	list, err := collect(rows, "escalation", func(s scanner) (due, error) {
		var x due
		var err error
		x.d, err = scanPending(scanFunc(func(dest ...any) error {
			return s.Scan(append(dest, scanTime{&x.sentAt}, &x.covered)...)
		}))
		return x, err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range list {
		d := x.d
		if x.covered || d.Status != courtside.DeliverySent && d.Status != courtside.DeliveryDelivered ||
			!d.Notice.Hearing.StartsAt.After(tx.now) {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET escalate_at = NULL WHERE id = ?`, d.ID); err != nil {
				return 0, fmt.Errorf("storage: clear escalation: %w", err)
			}
			continue
		}
		channels, err := noticeChannels(ctx, tx.Tx, d)
		if err != nil {
			return 0, err
		}
		var pseudonym string
		if err := tx.QueryRowContext(ctx, `SELECT pseudonym FROM victims WHERE id = ?`, d.VictimID).Scan(&pseudonym); err != nil {
			return 0, wrapErr("victim", err)
		}
		sent := x.sentAt
		facts := courtside.NoticeFacts{Hearing: d.Notice.Hearing, Pseudonym: pseudonym, NoticeKind: d.Kind, SentAt: &sent, Channels: channels}
		if err := svc.db.planToSupporters(ctx, tx.Tx, courtside.NotifyNoticeUnacknowledged, d.HearingID, d.Sequence, d.VictimID, facts,
			escalationSource(d.ID)); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET escalated_at = ? WHERE id = ?`, FormatTime(tx.now), d.ID); err != nil {
			return 0, fmt.Errorf("storage: escalate: %w", err)
		}
		tx.Audit("notice.escalate", deliveryObject(d.ID), courtside.OutcomeOK)
		n++
	}
	if len(list) == 0 {
		return 0, nil
	}
	return n, tx.Commit(ctx)
}

// noticeChannels returns the channels a notice was tried on, in the order tried: the
// deliveries sharing its key's stem.
func noticeChannels(ctx context.Context, q queryer, d *courtside.PendingDelivery) ([]courtside.Channel, error) {
	stem := strings.TrimSuffix(d.IdempotencyKey, "-"+string(d.Channel))
	keys := make([]any, len(courtside.Channels))
	for i, c := range courtside.Channels {
		keys[i] = stem + "-" + string(c)
	}
	rows, err := q.QueryContext(ctx, `SELECT channel FROM deliveries WHERE idempotency_key IN (`+placeholders(len(keys))+`) ORDER BY id`, keys...)
	if err != nil {
		return nil, wrapErr("notice channels", err)
	}
	return collect(rows, "channel", func(s scanner) (courtside.Channel, error) {
		var c courtside.Channel
		return c, s.Scan(&c)
	})
}

// planToSupporters plans a message of kind about victim victimID to the people who support the
// victim: the advocates with a live accompaniment of the victim at hearingID, else at any
// hearing, else the coordinators of the victim's organisation. Each delivery's key is made of
// source and the recipient, so planning it again plans nothing.
func (db *DB) planToSupporters(ctx context.Context, tx *sql.Tx, kind courtside.NotificationKind, hearingID int64, sequence int, victimID int64,
	n courtside.NoticeFacts, source string) error {
	people, err := supporters(ctx, tx, victimID, hearingID)
	if err != nil {
		return err
	}
	for _, pr := range people {
		if err := db.planDelivery(ctx, tx, kind, hearingID, sequence, pr, n, source); err != nil {
			return err
		}
	}
	return nil
}

// supporters returns the staff who hear of what happens to a victim's notices.
func supporters(ctx context.Context, tx *sql.Tx, victimID, hearingID int64) ([]person, error) {
	queries := []struct {
		audience courtside.Audience
		sql      string
		args     []any
	}{
		{courtside.AudienceAdvocate, `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND hearing_id = ? AND status <> 'CANCELLED' ORDER BY 1`,
			[]any{victimID, hearingID}},
		{courtside.AudienceAdvocate, `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND status <> 'CANCELLED' ORDER BY 1`,
			[]any{victimID}},
		{courtside.AudienceCoordinator, `SELECT u.id FROM users u JOIN victims v ON v.organization_id = u.organization_id
			WHERE v.id = ? AND u.role = 'COORDINATOR' ORDER BY 1`, []any{victimID}},
	}
	for _, q := range queries {
		if q.audience == courtside.AudienceAdvocate && len(q.args) == 2 && hearingID == 0 {
			continue
		}
		rows, err := tx.QueryContext(ctx, q.sql, q.args...)
		if err != nil {
			return nil, wrapErr("supporters", err)
		}
		ids, err := collectIDs(rows)
		if err != nil {
			return nil, wrapErr("supporters", err)
		}
		if len(ids) == 0 {
			continue
		}
		out := make([]person, len(ids))
		for i, id := range ids {
			out[i] = person{audience: q.audience, userID: id}
		}
		return out, nil
	}
	return nil, nil
}
