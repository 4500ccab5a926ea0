package storage

import (
	"context"
	"fmt"
	"strconv"

	"courtside"
)

// A hearing's bookings and accompaniments follow the hearing, in the transaction that changes
// it (saveHearingChange): a move of its time or courtroom makes accepted bookings and
// confirmed accompaniments NEEDS_RECONFIRMATION; a cancellation cancels the live ones. Each
// changed row gets its audit row and its event, which carry identifiers only (the hearing, the
// booking or accompaniment, the interpreter or advocate as UserID), never the victim.

// hearingMoved reports whether change moved the hearing's time or courtroom.
func hearingMoved(c *courtside.HearingChange) bool {
	if c == nil || c.FromStartsAt == nil || c.ToStartsAt == nil || c.FromEndsAt == nil || c.ToEndsAt == nil {
		return false
	}
	return !c.FromStartsAt.Equal(*c.ToStartsAt) || !c.FromEndsAt.Equal(*c.ToEndsAt) || c.FromCourtroom != c.ToCourtroom
}

// followHearingChange applies the hearing's change to its bookings and accompaniments.
func (db *DB) followHearingChange(ctx context.Context, tx *Tx, h *courtside.Hearing, change *courtside.HearingChange) error {
	cancelled := h.Status == courtside.HearingCancelled
	if !cancelled && !hearingMoved(change) {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b
		WHERE b.hearing_id = ? AND b.status IN `+heldStatuses+` ORDER BY b.id`, h.ID)
	if err != nil {
		return fmt.Errorf("storage: hearing bookings: %w", err)
	}
	var bookings []*courtside.InterpreterBooking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("storage: scan booking: %w", err)
		}
		bookings = append(bookings, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: hearing bookings: %w", err)
	}
	for _, b := range bookings {
		action, evType := "booking.needs_reconfirmation", courtside.EventBookingNeedsReconfirmation
		changed := false
		if cancelled {
			action, evType = "booking.cancel", courtside.EventBookingCancelled
			changed = b.HearingCancelled(tx.now)
		} else {
			changed = b.HearingMoved(tx.now)
		}
		if !changed {
			continue
		}
		if err := updateBooking(ctx, tx, b); err != nil {
			return err
		}
		tx.Audit(action, bookingObject(b.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: evType, BookingID: b.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: b.InterpreterID})
	}

	arows, err := tx.QueryContext(ctx, `SELECT `+accompanimentColumns+` FROM accompaniments a
		WHERE a.hearing_id = ? AND a.status <> 'CANCELLED' ORDER BY a.id`, h.ID)
	if err != nil {
		return fmt.Errorf("storage: hearing accompaniments: %w", err)
	}
	var accs []*courtside.Accompaniment
	for arows.Next() {
		a, err := scanAccompaniment(arows)
		if err != nil {
			arows.Close()
			return fmt.Errorf("storage: scan accompaniment: %w", err)
		}
		accs = append(accs, a)
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return fmt.Errorf("storage: hearing accompaniments: %w", err)
	}
	for _, a := range accs {
		action, evType := "accompaniment.needs_reconfirmation", courtside.EventAccompanimentNeedsReconfirmation
		changed := false
		if cancelled {
			action, evType = "accompaniment.cancel", courtside.EventAccompanimentCancelled
			changed = a.HearingCancelled(tx.now)
		} else {
			changed = a.HearingMoved(tx.now)
		}
		if !changed {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accompaniments SET status = ?, updated_at = ? WHERE id = ?`,
			a.Status, FormatTime(a.UpdatedAt), a.ID); err != nil {
			return fmt.Errorf("storage: update accompaniment: %w", err)
		}
		tx.Audit(action, "accompaniment:"+strconv.FormatInt(a.ID, 10), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: evType, AccompanimentID: a.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: a.AdvocateID})
	}
	return nil
}
