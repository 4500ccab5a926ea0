package courtside

import (
	"context"
	"time"
)

// CalDAV scheduling (RFC 6638): an interpreter's scheduling inbox holds, as iTIP messages, the
// booking invitations of InvitationService (an offer or its update after a move as a REQUEST,
// a cancellation as a CANCEL), generated from the bookings as they stand rather than stored.
// The interpreter's calendar app answers with an iTIP REPLY, posted to their scheduling outbox
// or carried by the attendee's copy of the invitation PUT in one of their calendars; either
// answers the booking as AnswerInvitation does. See docs/caldav.md, "Scheduling".

// ScheduledInvitation is one iTIP message in an interpreter's scheduling inbox.
type ScheduledInvitation struct {
	BookingID     int64 `json:"bookingId"`
	InterpreterID int64 `json:"interpreterId"`
	// Method is "REQUEST" (an offer, or a booking awaiting reconfirmation after a move) or
	// "CANCEL" (a booking its hearing's cancellation ended, or an offer that expired unanswered).
	Method string `json:"method"`
	// Sequence is the hearing's sequence: it grows with each move and with the cancellation.
	// An expired offer's CANCEL has one more, so that calendar apps take it as newer than the
	// offer's last REQUEST.
	Sequence int `json:"sequence"`
	// Withdrawn marks a CANCEL that takes back the interpreter's invitation alone (an offer
	// that expired) while the hearing goes on, as opposed to the hearing's cancellation.
	Withdrawn bool `json:"withdrawn,omitempty"`
	// Stamp is when the message's content last changed (the booking's or the hearing's last
	// update): the same message has the same bytes whenever it is read.
	Stamp   time.Time    `json:"stamp"`
	Hearing HearingFacts `json:"hearing"`
	// Language is the BCP 47 tag of the language to interpret.
	Language string `json:"language"`
}

// The iTIP methods of scheduling messages (RFC 5546 section 1.4).
const (
	ITIPRequest = "REQUEST"
	ITIPCancel  = "CANCEL"
)

// MaxScheduledInvitations bounds the messages a scheduling inbox lists, newest first.
const MaxScheduledInvitations = 500

// CancelShownFor is how long a CANCEL stays in a scheduling inbox after the cancellation.
const CancelShownFor = 30 * 24 * time.Hour

// SchedulingService serves the scheduling inbox and answers replies for the user in the
// context.
type SchedulingService interface {
	// FindScheduledInvitations returns the caller's scheduling inbox, newest first, at most
	// MaxScheduledInvitations: a REQUEST for each of their bookings offered or awaiting
	// reconfirmation, a CANCEL for each cancelled or expired within CancelShownFor, less those the caller
	// dismissed. Other roles have an empty inbox.
	FindScheduledInvitations(ctx context.Context) ([]*ScheduledInvitation, error)

	// DismissScheduledInvitation takes one message out of the caller's inbox (a DELETE of it),
	// audited; the booking is unchanged. The message comes back only when it changes (a
	// move's new SEQUENCE). Returns ENOTFOUND for a message not in the inbox.
	DismissScheduledInvitation(ctx context.Context, bookingID int64, method string, sequence int) error

	// AnswerScheduledInvitation applies the caller's iTIP REPLY to one of their booking
	// invitations, through the same rules as InvitationService.AnswerInvitation; the caller's
	// app password stands for the sender's address, and the booking must be the caller's own
	// (ENOTFOUND otherwise, as for a forged UID). reply.Attendee must be the caller's e-mail
	// address.
	AnswerScheduledInvitation(ctx context.Context, reply InvitationReply) (*InterpreterBooking, error)
}
