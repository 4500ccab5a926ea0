package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"courtside"
)

// expiryBatch bounds how many overdue offers one ExpireOffers pass reads at a time.
const expiryBatch = 100

// ExpireOffers is the offer-expiry sweep, run by the system (with no user in ctx, so its audit
// rows and events have no actor): every OFFERED booking whose respond-by deadline has passed
// becomes EXPIRED, and the hearing is offered, in the same small transaction, to the next ranked
// available candidate exactly as after a decline (offerNext): a booking.offered event, or
// booking.unfilled when nobody is left. Each offer is its own transaction, so one failure leaves
// the others done and a long sweep never holds the write lock for long. It returns how many
// offers expired.
func (s *BookingService) ExpireOffers(ctx context.Context) (int, error) {
	expired := 0
	var after int64
	for {
		ids, err := s.db.overdueOffers(ctx, after)
		if err != nil {
			return expired, err
		}
		if len(ids) == 0 {
			return expired, nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return expired, err
			}
			done, err := s.db.expireOffer(ctx, id)
			if err != nil {
				return expired, err
			}
			if done {
				expired++
			}
			after = id
		}
	}
}

// overdueOffers returns the IDs, above after, of OFFERED bookings past their deadline.
func (db *DB) overdueOffers(ctx context.Context, after int64) ([]int64, error) {
	rows, err := db.Reader.QueryContext(ctx, `SELECT id FROM interpreter_bookings
		WHERE status = 'OFFERED' AND respond_by IS NOT NULL AND respond_by < ? AND id > ? ORDER BY id LIMIT ?`,
		FormatTime(db.Now()), after, expiryBatch)
	if err != nil {
		return nil, fmt.Errorf("storage: overdue offers: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("storage: overdue offers: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// expireOffer expires one booking, if it is still an overdue offer, and offers its hearing to
// the next candidate.
func (db *DB) expireOffer(ctx context.Context, id int64) (bool, error) {
	expired := false
	err := db.update(ctx, func(tx *Tx) error {
		b, err := scanBooking(tx.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b WHERE b.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("storage: find booking: %w", err)
		}
		if !b.Expire(tx.now) {
			return nil // answered or expired meanwhile
		}
		h, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ?`, b.HearingID))
		if err != nil {
			return fmt.Errorf("storage: find hearing: %w", err)
		}
		if err := updateBooking(ctx, tx, b); err != nil {
			return err
		}
		tx.Audit("booking.expire", bookingObject(b.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventBookingExpired, BookingID: b.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: b.InterpreterID})
		expired = true
		return db.offerNext(ctx, tx, h, b)
	})
	if err != nil {
		return false, fmt.Errorf("storage: expire booking %d: %w", id, err)
	}
	return expired, nil
}
