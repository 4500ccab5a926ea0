package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"courtside"
)

// InboundSMSService is the database's service for SMS replies and delivery receipts.
type InboundSMSService struct {
	db *DB
}

// NewInboundSMSService returns the inbound SMS service of db.
func NewInboundSMSService(db *DB) *InboundSMSService { return &InboundSMSService{db: db} }

var _ courtside.InboundSMSService = (*InboundSMSService)(nil)

// messageSID is the form of the SMS gateway's message SIDs that inbound messages and receipts
// may carry.
var messageSID = regexp.MustCompile(`^[A-Za-z0-9]{2,64}$`)

// phoneVictim is a victim with a text-message contact point matching an inbound number.
type phoneVictim struct {
	id       int64
	language string
	policy   *courtside.ContactPolicy
	stopped  bool
}

// smsAllowed reports whether the victim's policy allows text messages now.
func (v phoneVictim) smsAllowed() bool { return v.policy.Rule(courtside.ChannelSMS).Allowed }

// victimsByPhone returns the victims, of every organisation, with an SMS contact point whose
// number equals from once normalised. The match is made on the blind index, as
// FindVictimsByContact does: the number is never stored or compared in the clear. Each match
// is audited by victim (or "victim:none"), never by number.
func (db *DB) victimsByPhone(ctx context.Context, tx *Tx, from string) ([]phoneVictim, error) {
	if NormalizeContact(courtside.ChannelSMS, from) == "" {
		tx.Audit("victim.find_by_inbound_sms", "victim:none", courtside.OutcomeOK)
		return nil, nil
	}
	indexes := db.Sealer.blindIndexes(courtside.ChannelSMS, from)
	args := []any{courtside.ChannelSMS}
	for _, ix := range indexes {
		args = append(args, ix)
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT v.id, v.preferred_language, EXISTS (SELECT 1 FROM victim_sms_stops s WHERE s.victim_id = v.id)
		FROM victim_contacts c JOIN victims v ON v.id = c.victim_id
		WHERE c.channel = ? AND c.address_index IN (`+placeholders(len(indexes))+`) ORDER BY v.id`, args...)
	if err != nil {
		return nil, wrapErr("victims by phone", err)
	}
	out, err := collect(rows, "victim", func(s scanner) (phoneVictim, error) {
		var v phoneVictim
		return v, s.Scan(&v.id, &v.language, &v.stopped)
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		tx.Audit("victim.find_by_inbound_sms", "victim:none", courtside.OutcomeOK)
	}
	for i := range out {
		if out[i].policy, err = victimPolicy(ctx, tx, out[i].id); err != nil {
			return nil, err
		}
		tx.Audit("victim.find_by_inbound_sms", victimObject(out[i].id), courtside.OutcomeOK)
	}
	return out, nil
}

// HandleInboundSMS acts on an inbound text message once per message SID and says what to
// reply. See courtside.InboundSMSService.
func (s *InboundSMSService) HandleInboundSMS(ctx context.Context, m courtside.InboundSMS) (*courtside.InboundResult, error) {
	if !messageSID.MatchString(m.MessageID) {
		return nil, courtside.Invalidf("MessageSid", "The message SID must be 2 to 64 letters and digits.")
	}
	switch m.Action {
	case courtside.SMSAck, courtside.SMSStop, courtside.SMSStart, courtside.SMSHelp, courtside.SMSNone:
	case courtside.SMSAnswer:
		if _, err := courtside.ParseAnswer(string(m.Answer)); err != nil {
			return nil, err
		}
	default:
		return nil, courtside.Invalidf("action", "Unknown inbound action %q.", m.Action)
	}
	if s.db.Sealer == nil {
		return nil, fmt.Errorf("storage: no encryption key configured")
	}
	res := &courtside.InboundResult{}
	err := s.db.update(ctx, func(tx *Tx) error {
		var reply, language string
		var victimID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT reply, language, victim_id FROM sms_inbound WHERE message_sid = ?`, m.MessageID).
			Scan(&reply, &language, &victimID)
		if err == nil {
			res.Reply, res.Language, res.Replayed = courtside.SMSReply(reply), language, true
			if res.Reply == courtside.ReplyHelp || res.Reply == courtside.ReplyStop {
				res.Help, err = smsHelpFor(ctx, tx, victimID.Int64)
			}
			return err
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: inbound sms: %w", err)
		}
		victims, err := s.db.victimsByPhone(ctx, tx, m.From)
		if err != nil {
			return err
		}
		res.Language = m.Language
		var about phoneVictim // the victim the reply is about
		if len(victims) > 0 {
			about = victims[0]
			res.Language = about.language
		}
		var deliveryID int64
		switch m.Action {
		case courtside.SMSAck, courtside.SMSAnswer:
			var err error
			if about, deliveryID, res.Reply, err = s.db.answerBySMS(ctx, tx, victims, m); err != nil {
				return err
			}
			if about.id != 0 {
				res.Language = about.language
			}
		case courtside.SMSStop:
			res.Reply = courtside.ReplyNone
			stoppedBefore := len(victims) > 0
			for _, v := range victims {
				stoppedBefore = stoppedBefore && v.stopped
				if _, err := s.db.stopSMS(ctx, tx, v); err != nil {
					return err
				}
			}
			// STOP is confirmed once: not again while every matching victim stays stopped.
			if !stoppedBefore {
				res.Reply = courtside.ReplyStop
			}
		case courtside.SMSStart:
			for _, v := range victims {
				asked, err := s.db.askSMSRestart(ctx, tx, v)
				if err != nil {
					return err
				}
				if asked {
					res.Reply = courtside.ReplyStart
				}
			}
		case courtside.SMSHelp:
			res.Reply = courtside.ReplyHelp
		case courtside.SMSNone:
			if about.id != 0 && about.smsAllowed() {
				res.Reply = courtside.ReplyUnknown
			}
		}
		if res.Reply == courtside.ReplyHelp || res.Reply == courtside.ReplyStop {
			if res.Help, err = smsHelpFor(ctx, tx, about.id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sms_inbound (message_sid, received_at, action, victim_id, delivery_id, reply, language)
			VALUES (?,?,?,?,?,?,?)`, m.MessageID, FormatTime(tx.now), m.Action, nullID(about.id), nullID(deliveryID), res.Reply, res.Language); err != nil {
			return fmt.Errorf("storage: record inbound sms: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// answerBySMS acknowledges the latest notice texted to any of the victims (the latest notice
// to that number), and with an answer makes a request of it. The reply is ACK or ANSWER, or
// nothing when there is no such notice or the victim's policy no longer allows texts.
func (db *DB) answerBySMS(ctx context.Context, tx *Tx, victims []phoneVictim, m courtside.InboundSMS) (phoneVictim, int64, courtside.SMSReply, error) {
	if len(victims) == 0 {
		return phoneVictim{}, 0, courtside.ReplyNone, nil
	}
	ids := make([]int64, len(victims))
	for i, v := range victims {
		ids[i] = v.id
	}
	var deliveryID, victimID, hearingID int64
	var kind courtside.NotificationKind
	err := tx.QueryRowContext(ctx, `SELECT id, victim_id, COALESCE(hearing_id, 0), kind FROM deliveries
		WHERE victim_id IN (`+placeholders(len(ids))+`) AND channel = 'SMS' AND audience = 'VICTIM' AND status IN ('SENT','DELIVERED')
		ORDER BY sent_at DESC, id DESC LIMIT 1`, int64Args(ids)...).Scan(&deliveryID, &victimID, &hearingID, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return victims[0], 0, courtside.ReplyNone, nil
	} else if err != nil {
		return phoneVictim{}, 0, "", fmt.Errorf("storage: latest text: %w", err)
	}
	var about phoneVictim
	for _, v := range victims {
		if v.id == victimID {
			about = v
		}
	}
	if _, err := acknowledge(ctx, tx, deliveryID, courtside.AckBySMSReply); err != nil {
		return about, 0, "", err
	}
	reply := courtside.ReplyAck
	if m.Action == courtside.SMSAnswer && len(courtside.AnswersOffered(kind, courtside.DetailFull)) > 0 {
		if _, _, err := createRequest(ctx, tx, victimID, hearingID, deliveryID, m.Answer, courtside.AckBySMSReply); err != nil {
			return about, 0, "", err
		}
		reply = courtside.ReplyAnswer
	}
	if !about.smsAllowed() {
		// After STOP nothing but the confirmation is texted.
		reply = courtside.ReplyNone
	}
	return about, deliveryID, reply, nil
}

// stopSMS withdraws SMS from a victim's policy at once, remembering the detail level it had,
// and tells the victim's advocates (else the coordinators). It reports false, changing
// nothing, when the victim was stopped already.
func (db *DB) stopSMS(ctx context.Context, tx *Tx, v phoneVictim) (bool, error) {
	if v.stopped {
		return false, nil
	}
	// The detail level SMS had, restored with it; "" when SMS was not allowed, which a restart
	// then leaves as it was.
	rule := v.policy.Rule(courtside.ChannelSMS)
	detail := rule.Detail
	if !rule.Allowed {
		detail = ""
	}
	for i := range v.policy.Channels {
		if v.policy.Channels[i].Channel == courtside.ChannelSMS {
			v.policy.Channels[i].Allowed = false
		}
	}
	if err := setVictimPolicy(ctx, tx, v.id, v.policy); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO victim_sms_stops (victim_id, stopped_at, detail) VALUES (?,?,?)`,
		v.id, FormatTime(tx.now), detail); err != nil {
		return false, fmt.Errorf("storage: record sms stop: %w", err)
	}
	tx.Audit("victim.sms_stop", victimObject(v.id), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: courtside.EventVictimPolicyChanged, VictimID: v.id})
	pseudonym, err := victimPseudonym(ctx, tx, v.id)
	if err != nil {
		return false, err
	}
	return true, db.planToSupporters(ctx, tx.Tx, courtside.NotifySMSStopped, 0, 0, v.id, courtside.NoticeFacts{Pseudonym: pseudonym},
		fmt.Sprintf("stop-v%d-%d", v.id, tx.now.UnixMilli()))
}

// askSMSRestart answers START from a stopped victim's phone: an SMS_RESTART request, and a
// message asking the victim's advocates (else the coordinators) to confirm that texting is
// safe again. Nothing is restored until someone does. It reports whether a new request was
// made; a victim who is not stopped, or whose restart is asked already, changes nothing.
func (db *DB) askSMSRestart(ctx context.Context, tx *Tx, v phoneVictim) (bool, error) {
	if !v.stopped {
		return false, nil
	}
	id, created, err := createRequest(ctx, tx, v.id, 0, 0, courtside.RequestSMSRestart, courtside.AckBySMSReply)
	if err != nil || !created {
		return false, err
	}
	tx.Audit("victim.sms_start_request", requestObject(id), courtside.OutcomeOK)
	pseudonym, err := victimPseudonym(ctx, tx, v.id)
	if err != nil {
		return false, err
	}
	return true, db.planToSupporters(ctx, tx.Tx, courtside.NotifySMSStartRequested, 0, 0, v.id,
		courtside.NoticeFacts{Pseudonym: pseudonym, Request: courtside.RequestSMSRestart}, fmt.Sprintf("start-r%d", id))
}

func victimPseudonym(ctx context.Context, q queryer, victimID int64) (string, error) {
	var p string
	err := q.QueryRowContext(ctx, `SELECT pseudonym FROM victims WHERE id = ?`, victimID).Scan(&p)
	return p, wrapErr("victim", err)
}

// RecordSMSReceipt records a delivery receipt of the SMS gateway once, and applies it to the
// delivery whose send the gateway named with that message SID, if it is recorded yet.
func (s *InboundSMSService) RecordSMSReceipt(ctx context.Context, r courtside.SMSReceipt) error {
	if !messageSID.MatchString(r.MessageID) {
		return courtside.Invalidf("MessageSid", "The message SID must be 2 to 64 letters and digits.")
	}
	if r.Status != courtside.DeliveryDelivered && r.Status != courtside.DeliveryFailed {
		return courtside.Invalidf("MessageStatus", "A receipt is DELIVERED or FAILED.")
	}
	for _, c := range r.ErrorCode {
		if c < '0' || c > '9' || len(r.ErrorCode) > 10 {
			return courtside.Invalidf("ErrorCode", "The error code must be a number.")
		}
	}
	return s.db.update(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sms_receipts (message_sid, status, error_code, received_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`,
			r.MessageID, r.Status, r.ErrorCode, FormatTime(tx.now))
		if err != nil {
			return fmt.Errorf("storage: record receipt: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.db.applyReceipts(ctx, tx, r.MessageID)
	})
}

// applyReceipts moves the SENT delivery whose provider ID is sid by the receipts recorded for
// it: DELIVERED wins; FAILED makes the delivery FAILED and plans the notice on the next
// channel (or tells the advocates), unless the victim has already acknowledged it.
func (db *DB) applyReceipts(ctx context.Context, tx *Tx, sid string) error {
	var acknowledged sql.NullString
	d, err := scanPending(scanFunc(func(dest ...any) error {
		return tx.QueryRowContext(ctx, `SELECT `+pendingColumns+`, acknowledged_at FROM deliveries WHERE provider_id = ?`, sid).
			Scan(append(dest, &acknowledged)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("storage: delivery of receipt: %w", err)
	}
	if d.Status != courtside.DeliverySent {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT status, error_code FROM sms_receipts WHERE message_sid = ?`, sid)
	if err != nil {
		return fmt.Errorf("storage: receipts: %w", err)
	}
	type receipt struct{ status, code string }
	receipts, err := collect(rows, "receipt", func(s scanner) (receipt, error) {
		var r receipt
		return r, s.Scan(&r.status, &r.code)
	})
	if err != nil {
		return err
	}
	failed := ""
	for _, r := range receipts {
		switch r.status {
		case string(courtside.DeliveryDelivered):
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'DELIVERED', delivered_at = ? WHERE id = ? AND status = 'SENT'`,
				FormatTime(tx.now), d.ID); err != nil {
				return fmt.Errorf("storage: record receipt: %w", err)
			}
			tx.Audit("delivery.delivered", deliveryObject(d.ID), courtside.OutcomeOK)
			return nil
		case string(courtside.DeliveryFailed):
			failed = "the gateway reported the text undelivered"
			if r.code != "" {
				failed += " (error " + r.code + ")"
			}
		}
	}
	if failed == "" || acknowledged.Valid {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'FAILED', reason = ? WHERE id = ? AND status = 'SENT'`, failed, d.ID); err != nil {
		return fmt.Errorf("storage: record receipt: %w", err)
	}
	tx.Audit("delivery.failed", deliveryObject(d.ID), courtside.OutcomeOK)
	return db.followUp(ctx, tx.Tx, d, failed)
}
