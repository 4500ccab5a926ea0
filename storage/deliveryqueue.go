package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"courtside"
)

// DeliveryQueue is the database's service for the delivery worker's queue.
type DeliveryQueue struct {
	db *DB
}

// NewDeliveryQueue returns the delivery queue of db.
func NewDeliveryQueue(db *DB) *DeliveryQueue { return &DeliveryQueue{db: db} }

var _ courtside.DeliveryQueue = (*DeliveryQueue)(nil)

// LeaseDeliveries leases up to n due, pending deliveries for leaseFor, oldest first.
func (s *DeliveryQueue) LeaseDeliveries(ctx context.Context, n int, leaseFor time.Duration) ([]*courtside.PendingDelivery, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := FormatTime(tx.now)
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET lease_until = ?
		WHERE id IN (SELECT id FROM deliveries WHERE status = 'PENDING' AND COALESCE(next_attempt_at, '') <= ?
			AND COALESCE(lease_until, '') <= ? ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+pendingColumns,
		FormatTime(tx.now.Add(leaseFor)), now, now, n)
	if err != nil {
		return nil, wrapErr("lease deliveries", mapSQLError(err))
	}
	out, err := collect(rows, "delivery", scanPending)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	// The worker opens each victim's contact point on the delivery's channel next: audited
	// here, in the lease's transaction, before the opening (DeliveryRecipient).
	for _, d := range out {
		if d.VictimID != 0 {
			tx.Audit("victim.read_contact", fmt.Sprintf("victim:%d delivery:%d", d.VictimID, d.ID), courtside.OutcomeOK)
		}
	}
	return out, tx.Commit(ctx)
}

// pendingColumns are the columns of a delivery that scanPending reads, on the deliveries table
// (unaliased).
const pendingColumns = `id, kind, COALESCE(hearing_id, 0), COALESCE(victim_id, 0), COALESCE(user_id, 0), channel, language, status,
	idempotency_key, attempts, created_at, notice, sequence, audience,
	COALESCE((SELECT organization_id FROM victims WHERE id = deliveries.victim_id), (SELECT organization_id FROM users WHERE id = deliveries.user_id), 0)`

// scanPending reads a delivery selected with pendingColumns.
func scanPending(s scanner) (*courtside.PendingDelivery, error) {
	var d courtside.PendingDelivery
	var notice string
	if err := s.Scan(&d.ID, &d.Kind, &d.HearingID, &d.VictimID, &d.UserID, &d.Channel, &d.Language, &d.Status, &d.IdempotencyKey,
		&d.Attempts, scanTime{&d.CreatedAt}, &notice, &d.Sequence, &d.Audience, &d.OrganizationID); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(notice), &d.Notice); err != nil {
		return nil, fmt.Errorf("notice of delivery %d: %w", d.ID, err)
	}
	d.Delivery.Audience, d.Delivery.Sequence = d.Audience, d.Sequence
	return &d, nil
}

// DeliveryRecipient opens the recipient's address on the delivery's channel. A victim's
// contact point is decrypted; LeaseDeliveries audited the opening (actor: the system), never
// the value.
func (s *DeliveryQueue) DeliveryRecipient(ctx context.Context, d *courtside.PendingDelivery) (*courtside.Recipient, error) {
	r := &courtside.Recipient{Language: d.Language, Zone: time.UTC}
	if d.Notice.Hearing.Zone != "" {
		if loc, err := time.LoadLocation(d.Notice.Hearing.Zone); err == nil {
			r.Zone = loc
		}
	}
	if d.Channel == courtside.ChannelWebhook {
		url, secret, err := s.db.webhookEndpoint(ctx, d.OrganizationID)
		if err != nil {
			return nil, err
		}
		r.WebhookURL, r.WebhookSecret = url, secret
	}
	var err error
	if r.Fallback, err = s.db.hasFallback(ctx, d); err != nil {
		return nil, err
	}
	if d.VictimID == 0 {
		var email, phone string
		if err := s.db.Reader.QueryRowContext(ctx, `SELECT email, phone FROM users WHERE id = ?`, d.UserID).Scan(&email, &phone); err != nil {
			return nil, wrapErr("recipient", err)
		}
		switch d.Channel {
		case courtside.ChannelEmail:
			r.Address = email
		case courtside.ChannelSMS:
			r.Address = phone
		}
		return r, nil
	}
	if s.db.Sealer == nil {
		return nil, fmt.Errorf("storage: no encryption key configured")
	}
	var policyJSON string
	if err := s.db.Reader.QueryRowContext(ctx, `SELECT policy, preferred_language FROM victims WHERE id = ?`, d.VictimID).Scan(&policyJSON, &r.Language); err != nil {
		return nil, wrapErr("victim", err)
	}
	r.Policy = &courtside.ContactPolicy{}
	if err := json.Unmarshal([]byte(policyJSON), r.Policy); err != nil {
		return nil, fmt.Errorf("storage: victim policy: %w", err)
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, channel, address_sealed, confirmed_safe_at FROM victim_contacts WHERE victim_id = ? ORDER BY id`, d.VictimID)
	if err != nil {
		return nil, wrapErr("contacts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c courtside.ContactPoint
		var sealed []byte
		if err := rows.Scan(&id, &c.Channel, &sealed, scanOptTime{&c.ConfirmedSafeAt}); err != nil {
			return nil, wrapErr("scan contact", err)
		}
		if c.Channel == d.Channel && r.Address == "" {
			if c.Address, err = s.db.Sealer.Open(sealed, "victim_contacts", "address", id); err != nil {
				return nil, err
			}
			r.Address = c.Address
		}
		r.Contacts = append(r.Contacts, courtside.ContactPoint{Channel: c.Channel, ConfirmedSafeAt: c.ConfirmedSafeAt})
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("contacts", err)
	}
	return r, nil
}

// RecordDelivery records an outcome and, in the same transaction, its follow-ups.
func (s *DeliveryQueue) RecordDelivery(ctx context.Context, d *courtside.PendingDelivery, o courtside.DeliveryOutcome) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	attempts := d.Attempts
	if o.Attempted {
		attempts++
	}
	reason := truncate(o.Reason, 300)
	var res sql.Result
	switch o.Status {
	case courtside.DeliverySent:
		var lead any
		if !d.Notice.Hearing.StartsAt.IsZero() {
			lead = int64(d.Notice.Hearing.StartsAt.Sub(o.At) / time.Minute)
		}
		var escalateAt, provider any
		if !o.EscalateAt.IsZero() && d.VictimID != 0 {
			escalateAt = FormatTime(o.EscalateAt)
		}
		if o.ProviderID != "" {
			provider = truncate(o.ProviderID, 64)
		}
		res, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'SENT', attempts = ?, sent_at = ?, lead_time_minutes = ?, detail = ?,
			reason = '', lease_until = NULL, escalate_at = ?, provider_id = ? WHERE id = ? AND status = 'PENDING'`,
			attempts, FormatTime(o.At), lead, o.Detail, escalateAt, provider, d.ID)
	case courtside.DeliveryPending:
		res, err = tx.ExecContext(ctx, `UPDATE deliveries SET attempts = ?, next_attempt_at = ?, reason = ?, lease_until = NULL
			WHERE id = ? AND status = 'PENDING'`, attempts, FormatTime(o.NextAttemptAt), reason, d.ID)
	case courtside.DeliveryFailed, courtside.DeliverySuppressed:
		res, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, attempts = ?, reason = ?, detail = ?, lease_until = NULL
			WHERE id = ? AND status = 'PENDING'`, o.Status, attempts, reason, o.Detail, d.ID)
	default:
		return fmt.Errorf("storage: record delivery: unknown status %q", o.Status)
	}
	if err != nil {
		return wrapErr("record delivery", mapSQLError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Recorded already, by a worker whose lease had run out: keep the first outcome.
		return nil
	}
	tx.Audit("delivery."+strings.ToLower(string(o.Status)), fmt.Sprintf("delivery:%d", d.ID), courtside.OutcomeOK)
	if o.Status == courtside.DeliveryFailed || o.Status == courtside.DeliverySuppressed {
		if err := s.db.followUp(ctx, tx.Tx, d, reason); err != nil {
			return err
		}
	}
	if o.Status == courtside.DeliverySent && o.ProviderID != "" {
		// A receipt that arrived before this record is applied now.
		if err := s.db.applyReceipts(ctx, tx, truncate(o.ProviderID, 64)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// followUp plans what a failed or suppressed delivery calls for: the same notice on the next
// channel, or else, for a victim, a message to their advocates.
func (db *DB) followUp(ctx context.Context, tx *sql.Tx, d *courtside.PendingDelivery, reason string) error {
	pr := person{audience: d.Audience, victimID: d.VictimID, userID: d.UserID}
	if d.Kind == courtside.NotifyNoticeSuppressed && pr.victimID != 0 {
		return nil
	}
	tried, err := triedChannels(ctx, tx, d)
	if err != nil {
		return err
	}
	next, _, why, err := firstChannel(ctx, tx, pr, tried)
	if err != nil {
		return err
	}
	if why != "" {
		next = ""
	}
	if next != "" {
		key := nextKey(d.IdempotencyKey, d.Channel, next)
		_, err := insertDelivery(ctx, tx, deliveryRow{kind: d.Kind, hearingID: d.HearingID, person: pr, channel: next, language: d.Language,
			status: courtside.DeliveryPending, key: key, notice: d.Notice, sequence: d.Sequence, now: db.Now()})
		return err
	}
	if pr.victimID == 0 {
		return nil
	}
	return db.tellAdvocates(ctx, tx, d.ID, d.HearingID, d.Sequence, pr, d.Notice, reason)
}

// nextKey is the idempotency key of the same notice on the next channel: the key with its
// channel suffix replaced.
func nextKey(key string, from, to courtside.Channel) string {
	return strings.TrimSuffix(key, "-"+string(from)) + "-" + string(to)
}

// hasFallback reports whether a channel other than the delivery's, and other than those its
// notice was tried on, may still reach the recipient.
func (db *DB) hasFallback(ctx context.Context, d *courtside.PendingDelivery) (bool, error) {
	tried, err := triedChannels(ctx, db.Reader, d)
	if err != nil {
		return false, err
	}
	_, _, why, err := firstChannel(ctx, db.Reader, person{audience: d.Audience, victimID: d.VictimID, userID: d.UserID}, tried)
	if err != nil {
		return false, err
	}
	return why == "", nil
}

// triedChannels returns the channels a notice has been tried on for its recipient, by its
// key's stem.
func triedChannels(ctx context.Context, tx queryer, d *courtside.PendingDelivery) ([]courtside.Channel, error) {
	stem := strings.TrimSuffix(d.IdempotencyKey, "-"+string(d.Channel))
	tried := []courtside.Channel{d.Channel}
	for _, c := range courtside.Channels {
		if c == d.Channel {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE idempotency_key = ?`, stem+"-"+string(c)).Scan(&n); err != nil {
			return nil, wrapErr("tried channels", err)
		}
		if n > 0 {
			tried = append(tried, c)
		}
	}
	return tried, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
