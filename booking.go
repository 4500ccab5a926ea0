package courtside

import "time"

// BookingStatus is where an interpreter booking stands.
type BookingStatus string

// The booking statuses.
const (
	BookingOffered             BookingStatus = "OFFERED"
	BookingAccepted            BookingStatus = "ACCEPTED"
	BookingDeclined            BookingStatus = "DECLINED"
	BookingExpired             BookingStatus = "EXPIRED"
	BookingCancelled           BookingStatus = "CANCELLED"
	BookingNeedsReconfirmation BookingStatus = "NEEDS_RECONFIRMATION"
)

// InterpreterBooking is an interpreter offered or booked for a hearing in one language.
type InterpreterBooking struct {
	ID             int64         `json:"id"`
	HearingID      int64         `json:"hearingId"`
	Language       string        `json:"language"`
	InterpreterID  int64         `json:"interpreterId,omitempty"`
	Status         BookingStatus `json:"status"`
	RespondBy      *time.Time    `json:"respondBy,omitempty"`
	FallbackReason string        `json:"fallbackReason,omitempty"`
	CreatedAt      time.Time     `json:"createdAt"`
	UpdatedAt      time.Time     `json:"updatedAt"`
}

// Respond records the offered interpreter's answer. Only an OFFERED booking (or one that
// needs reconfirmation) can be answered, and only before its deadline.
func (b *InterpreterBooking) Respond(accept bool, at time.Time) error {
	if b.Status != BookingOffered && b.Status != BookingNeedsReconfirmation {
		return Errorf(ECONFLICT, "Booking is %s and can no longer be answered.", b.Status)
	}
	if b.Status == BookingOffered && b.RespondBy != nil && at.After(*b.RespondBy) {
		return Errorf(ECONFLICT, "The offer expired at %s.", b.RespondBy.UTC().Format(time.RFC3339))
	}
	if accept {
		b.Status = BookingAccepted
	} else {
		b.Status = BookingDeclined
	}
	b.UpdatedAt = at.UTC()
	return nil
}

// Expire marks an unanswered offer whose deadline has passed as EXPIRED.
func (b *InterpreterBooking) Expire(at time.Time) bool {
	if b.Status != BookingOffered || b.RespondBy == nil || !at.After(*b.RespondBy) {
		return false
	}
	b.Status = BookingExpired
	b.UpdatedAt = at.UTC()
	return true
}

// HearingMoved reacts to a change of the hearing's time or court: an accepted booking needs
// reconfirmation. It reports whether the status changed.
func (b *InterpreterBooking) HearingMoved(at time.Time) bool {
	if b.Status != BookingAccepted {
		return false
	}
	b.Status = BookingNeedsReconfirmation
	b.UpdatedAt = at.UTC()
	return true
}

// HearingCancelled cancels a booking that is still live. It reports whether the status changed.
func (b *InterpreterBooking) HearingCancelled(at time.Time) bool {
	switch b.Status {
	case BookingOffered, BookingAccepted, BookingNeedsReconfirmation:
		b.Status = BookingCancelled
		b.UpdatedAt = at.UTC()
		return true
	}
	return false
}
