package storage

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"courtside"
)

// NoticeLinkService is the database's service for the signed links by which victims acknowledge
// notices.
type NoticeLinkService struct {
	db *DB
}

// NewNoticeLinkService returns the notice link service of db.
func NewNoticeLinkService(db *DB) *NoticeLinkService { return &NoticeLinkService{db: db} }

var _ courtside.NoticeLinkService = (*NoticeLinkService)(nil)

// The acknowledgement link of a victim's notice: {ack-base-url}/m/{delivery id}?t=... lets the
// victim say "I got this" (and ask for what they need) without signing in. The token has the
// layout of a booking link's (bookinglink.go):
//
//	version (1 byte) | expires, Unix seconds (8 bytes, big endian) | HMAC-SHA256, first 16 bytes
//
// in URL-safe base64 without padding (34 characters), but its HMAC is under a key of its own,
// HMAC-SHA256(the blind-index key, "courtside notice link"), and covers the version, the
// delivery's ID, the victim's ID and the expiry: a token acknowledges the one delivery it was
// made for and does nothing else. A used token's SHA-256 is recorded in notice_link_uses in the
// acknowledgement's transaction, so a link acts once; the token itself is never stored.

// NoticeLinkToken returns the token of the acknowledgement link of delivery deliveryID to
// victim victimID, valid until expires (to the second). It is pure: no I/O. Without a Sealer
// it returns "", a token no link accepts.
func (s *NoticeLinkService) NoticeLinkToken(deliveryID, victimID int64, expires time.Time) string {
	if s.db.Sealer == nil {
		return ""
	}
	return linkToken(s.db.Sealer.indexKey, noticeLinkPurpose, deliveryID, victimID, expires)
}

// linkedDelivery is a victim's delivery as the link checks need it.
type linkedDelivery struct {
	pending      *courtside.PendingDelivery
	detail       courtside.DetailLevel
	acknowledged bool
}

// errBadNoticeLink is the answer to a token that is malformed, forged, or not for this notice.
func errBadNoticeLink() error {
	return courtside.Errorf(courtside.ENOTFOUND, "This link is not valid.")
}

// checkNoticeLink loads delivery deliveryID through q and checks token for it: its MAC under
// the current link key or an older one (during a key rotation), then that it was not used and
// has not expired. Returns ENOTFOUND for a bad token or a delivery that is not a victim's, and
// ECONFLICT with field "used" or "expired".
func (db *DB) checkNoticeLink(ctx context.Context, q queryer, deliveryID int64, token string, now time.Time) (*linkedDelivery, error) {
	version, expires, mac, ok := parseBookingLink(token)
	if !ok || db.Sealer == nil || deliveryID <= 0 {
		return nil, errBadNoticeLink()
	}
	var detail string
	var acknowledged sql.NullString
	d, err := scanPending(scanFunc(func(dest ...any) error {
		return q.QueryRowContext(ctx, `SELECT `+pendingColumns+`, detail, acknowledged_at FROM deliveries WHERE id = ? AND victim_id IS NOT NULL`,
			deliveryID).Scan(append(dest, &detail, &acknowledged)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadNoticeLink()
	} else if err != nil {
		return nil, fmt.Errorf("storage: find notice: %w", err)
	}
	keys := [][]byte{db.Sealer.indexKey}
	for _, k := range db.Sealer.olderIndex {
		keys = append(keys, k)
	}
	valid := false
	for _, k := range keys {
		if hmac.Equal(mac, linkMAC(linkKey(k, noticeLinkPurpose), noticeLinkPurpose, version, d.ID, d.VictimID, expires)) {
			valid = true
		}
	}
	if !valid {
		return nil, errBadNoticeLink()
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM notice_link_uses WHERE token_hash = ?`, bookingLinkHash(token)).Scan(&one)
	if err == nil {
		return nil, &courtside.Error{Code: courtside.ECONFLICT, Field: "used", Message: "This link was already used."}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: notice link use: %w", err)
	}
	if now.Unix() > expires {
		return nil, &courtside.Error{Code: courtside.ECONFLICT, Field: "expired", Message: "This link has expired."}
	}
	l := &linkedDelivery{pending: d, detail: courtside.DetailLevel(detail), acknowledged: acknowledged.Valid}
	if l.detail == "" {
		// A message whose send was never recorded (a crash between the send and the record)
		// is shown as the least it can have said.
		l.detail = courtside.DetailContentFree
	}
	return l, nil
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// linkedNotice completes a checked delivery with what the page needs: the victim's language,
// zone and neutral sender name now, and the answers it may offer.
func linkedNotice(ctx context.Context, q queryer, l *linkedDelivery) (*courtside.LinkedNotice, error) {
	d := l.pending
	n := &courtside.LinkedNotice{Delivery: d, Detail: l.detail, Zone: d.Notice.Hearing.Zone, Acknowledged: l.acknowledged,
		Answers: courtside.AnswersOffered(d.Kind, l.detail)}
	if err := q.QueryRowContext(ctx, `SELECT preferred_language FROM victims WHERE id = ?`, d.VictimID).Scan(&n.Language); err != nil {
		return nil, wrapErr("victim", err)
	}
	p, err := victimPolicy(ctx, q, d.VictimID)
	if err != nil {
		return nil, err
	}
	if p.TimeZone != "" {
		n.Zone = p.TimeZone
	}
	n.SenderName = p.NeutralSender
	return n, nil
}

// FindNoticeByLink checks the token of delivery deliveryID's acknowledgement link and returns
// the notice. It changes nothing and needs no user in ctx: the token is the credential.
func (s *NoticeLinkService) FindNoticeByLink(ctx context.Context, deliveryID int64, token string) (*courtside.LinkedNotice, error) {
	var out *courtside.LinkedNotice
	err := s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		l, err := s.db.checkNoticeLink(ctx, tx, deliveryID, token, s.db.Now().UTC())
		if err != nil {
			return err
		}
		out, err = linkedNotice(ctx, tx, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AcknowledgeByLink acknowledges delivery deliveryID through its link, once: the token's use
// is recorded, the delivery acknowledged (LINK) unless it was already, and each answer becomes
// a request, all in one transaction, audited as the system on the victim's behalf.
func (s *NoticeLinkService) AcknowledgeByLink(ctx context.Context, deliveryID int64, token string, answers []courtside.RequestKind) (*courtside.LinkedNotice, error) {
	// Check the token outside the write transaction first, so that forged and stale links never
	// take the write lock; the check is repeated inside it.
	l, err := s.db.checkNoticeLink(ctx, s.db.Reader, deliveryID, token, s.db.Now().UTC())
	if err != nil {
		return nil, err
	}
	seen := map[courtside.RequestKind]bool{}
	var want []courtside.RequestKind
	for _, a := range answers {
		offered := false
		for _, o := range courtside.AnswersOffered(l.pending.Kind, l.detail) {
			offered = offered || o == a
		}
		if !offered {
			return nil, courtside.Invalidf("answer", "This page does not offer the answer %q.", a)
		}
		if !seen[a] {
			seen[a] = true
			want = append(want, a)
		}
	}
	var out *courtside.LinkedNotice
	err = s.db.update(ctx, func(tx *Tx) error {
		l, err := s.db.checkNoticeLink(ctx, tx, deliveryID, token, tx.now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notice_link_uses (token_hash, delivery_id, used_at) VALUES (?,?,?)`,
			bookingLinkHash(token), deliveryID, FormatTime(tx.now)); err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return &courtside.Error{Code: courtside.ECONFLICT, Field: "used", Message: "This link was already used."}
			}
			return fmt.Errorf("storage: record notice link use: %w", err)
		}
		tx.Audit("notice.link", deliveryObject(deliveryID), courtside.OutcomeOK)
		if _, err := acknowledge(ctx, tx, deliveryID, courtside.AckByLink); err != nil {
			return err
		}
		d := l.pending
		for _, a := range want {
			if _, _, err := createRequest(ctx, tx, d.VictimID, d.HearingID, d.ID, a, courtside.AckByLink); err != nil {
				return err
			}
		}
		l.acknowledged = true
		out, err = linkedNotice(ctx, tx, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deliveryObject(id int64) string { return fmt.Sprintf("delivery:%d", id) }

// acknowledge records that the victim got delivery deliveryID, unless it was acknowledged
// before (the first acknowledgement is kept); a NOTICE_UNACKNOWLEDGED message about it that has
// not gone out yet is withdrawn. It reports whether the acknowledgement is new.
func acknowledge(ctx context.Context, tx *Tx, deliveryID int64, by courtside.AckMethod) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL`,
		FormatTime(tx.now), by, deliveryID)
	if err != nil {
		return false, fmt.Errorf("storage: acknowledge: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	tx.Audit("notice.acknowledge", deliveryObject(deliveryID), courtside.OutcomeOK)
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'SUPPRESSED', reason = 'the notice was acknowledged meanwhile', lease_until = NULL
		WHERE kind = 'NOTICE_UNACKNOWLEDGED' AND status = 'PENDING' AND idempotency_key LIKE ?`, "cs-"+escalationSource(deliveryID)+"-%"); err != nil {
		return false, fmt.Errorf("storage: withdraw escalation: %w", err)
	}
	return true, nil
}
