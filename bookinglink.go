package courtside

import (
	"context"
	"time"
)

// BookingLinkOffer is what the page of a booking offer's one-click link shows: the booking,
// and the facts of its hearing and court an interpreter needs to decide. It carries no victim
// data, nor the hearing's case, judge or external ID.
type BookingLinkOffer struct {
	Booking *InterpreterBooking
	// Hearing has only its ID, court, kind, times, courtroom and status set.
	Hearing *Hearing
	Court   *Court
	// Interpreter is the username of the interpreter the offer is for.
	Interpreter string
}

// BookingLinkService answers booking offers through the signed one-click link of the offer
// message, {base-url}/bookings/{id}/respond?token=... The token is the credential: no user is
// signed in. See docs/coordination.md.
type BookingLinkService interface {
	// BookingLinkToken returns the token of the link for booking bookingID offered to
	// interpreterID, valid until expires (the offer's respond-by). It does no I/O.
	BookingLinkToken(bookingID, interpreterID int64, expires time.Time) string

	// FindBookingByLink checks the token and returns the offer. Returns ENOTFOUND for a
	// malformed, forged or foreign token, ECONFLICT for a used or expired link or an offer no
	// longer open.
	FindBookingByLink(ctx context.Context, bookingID int64, token string) (*BookingLinkOffer, error)

	// RespondByLink accepts or declines the booking as its interpreter, once per link, as
	// BookingService.RespondToBooking does (a decline offers the next candidate). Returns
	// EINVALID (reason), ENOTFOUND or ECONFLICT as FindBookingByLink does.
	RespondByLink(ctx context.Context, bookingID int64, token string, accept bool, reason string) (*InterpreterBooking, error)
}
