package courtside

import "context"

// InvitationReply is an interpreter's answer to a booking invitation sent by e-mail (iMIP,
// RFC 6047): what the iTIP REPLY of their calendar app says, and the address the message
// says it is from. See docs/coordination.md, "Answering by e-mail".
type InvitationReply struct {
	// UID is the invitation's UID, signed for the booking (InvitationService.InvitationUID).
	UID string
	// Sequence is the SEQUENCE of the invitation the reply answers (0 when absent).
	Sequence int
	// Attendee is the replying ATTENDEE's address, without "mailto:".
	Attendee string
	// PartStat is the attendee's PARTSTAT: ACCEPTED and DECLINED answer; anything else
	// (TENTATIVE, DELEGATED, NEEDS-ACTION) answers nothing.
	PartStat string
	// Comment is the reply's COMMENT: a decline's reason.
	Comment string
	// From is the address in the message's From header.
	From string
}

// The participation statuses an invitation reply can answer with (RFC 5545 section 3.2.12).
const (
	PartStatAccepted = "ACCEPTED"
	PartStatDeclined = "DECLINED"
)

// InvitationService answers booking offers from the invitations Courtside sends by e-mail:
// the interpreter's calendar app (Gmail, Outlook, Apple Mail) sends an iTIP REPLY to the
// invitation's ORGANIZER, an address Courtside receives mail for.
type InvitationService interface {
	// InvitationUID returns the UID of the invitation to booking bookingID offered to
	// interpreterID: the booking's ID and an HMAC of it under a key derived from the sealing
	// key, followed by "@" and domain. It is pure (no I/O) and the same for every message about
	// the booking, so updates and cancellations replace the invitation in the calendar app.
	InvitationUID(bookingID, interpreterID int64, domain string) string

	// AnswerInvitation applies reply as its booking's interpreter, through the same rules as
	// BookingService.RespondToBooking (a decline offers the next candidate), audited. It needs
	// no user in ctx: the signed UID and the interpreter's own address are the credential.
	// Returns ENOTFOUND for a malformed or forged UID or an unknown booking, EFORBIDDEN when
	// From or the attendee is not the interpreter's e-mail address, ECONFLICT for a reply to an
	// invitation since updated (a lower SEQUENCE than the hearing's last move or cancellation)
	// or to an offer that expired, was answered or was withdrawn, and EINVALID for a PARTSTAT
	// that answers nothing. An ACCEPTED reply to a booking already accepted changes nothing
	// and returns the booking.
	AnswerInvitation(ctx context.Context, reply InvitationReply) (*InterpreterBooking, error)
}
