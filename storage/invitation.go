package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"courtside"
)

// InvitationService is the database's service for booking invitations by e-mail (iMIP) and
// their answers.
type InvitationService struct {
	db *DB
}

// NewInvitationService returns the invitation service of db.
func NewInvitationService(db *DB) *InvitationService { return &InvitationService{db: db} }

var _ courtside.InvitationService = (*InvitationService)(nil)

// Booking invitations by e-mail (iMIP, RFC 6047). An offer's e-mail carries an iTIP REQUEST
// whose UID is signed for the booking:
//
//	booking-{booking id}-{HMAC-SHA256, first 16 bytes, lower-case hex}@{domain}
//
// where the HMAC covers a version, the booking ID and the interpreter's ID under a key
// derived from the database's sealing key (invitationKey). The interpreter's calendar app
// answers with an iTIP REPLY carrying the same UID to the ORGANIZER's address, which
// Courtside receives mail for; AnswerInvitation checks the UID without a lookup table (a
// forged one is refused before anything is written) and applies the answer through the same
// code path as RespondToBooking. Updates and cancellations of the booking keep the UID and
// raise the SEQUENCE (the hearing's sequence), so a reply to an invitation since moved is
// recognised as out of date. See docs/coordination.md, "Answering by e-mail".

// invitationMACSize is how much of the HMAC a UID carries: 128 bits.
const invitationMACSize = 16

// maxInvitationUID bounds the UID of a reply before it is parsed.
const maxInvitationUID = 255

// invitationKey derives the key of the invitations' UIDs from a key of the blind index
// (itself derived from the sealing key): HMAC-SHA256(indexKey, "courtside invitation uid").
func invitationKey(indexKey []byte) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("courtside invitation uid"))
	return m.Sum(nil)
}

// invitationMAC returns the MAC of an invitation's UID under key.
func invitationMAC(key []byte, bookingID, interpreterID int64) []byte {
	var msg [8 + 8]byte
	binary.BigEndian.PutUint64(msg[0:], uint64(bookingID))
	binary.BigEndian.PutUint64(msg[8:], uint64(interpreterID))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("courtside invitation uid v1\x00"))
	m.Write(msg[:])
	return m.Sum(nil)[:invitationMACSize]
}

// InvitationUID returns the UID of the invitation to booking bookingID offered to
// interpreterID, under domain (the host of the invitations' reply address). It is pure: no
// I/O. Without a Sealer it returns a UID no reply is accepted for.
func (s *InvitationService) InvitationUID(bookingID, interpreterID int64, domain string) string {
	mac := make([]byte, invitationMACSize)
	if s.db.Sealer != nil {
		mac = invitationMAC(invitationKey(s.db.Sealer.indexKey), bookingID, interpreterID)
	}
	if domain = strings.TrimSpace(domain); domain == "" {
		domain = "courtside"
	}
	return "booking-" + strconv.FormatInt(bookingID, 10) + "-" + hex.EncodeToString(mac) + "@" + domain
}

// parseInvitationUID reads the booking ID and MAC of a UID made by InvitationUID; false when
// it is not one. The domain is not checked: a change of the reply address leaves the
// invitations already sent answerable.
func parseInvitationUID(uid string) (bookingID int64, mac []byte, ok bool) {
	if len(uid) > maxInvitationUID {
		return 0, nil, false
	}
	local, domain, found := strings.Cut(uid, "@")
	if !found || domain == "" {
		return 0, nil, false
	}
	rest, found := strings.CutPrefix(local, "booking-")
	if !found {
		return 0, nil, false
	}
	id, macHex, found := strings.Cut(rest, "-")
	if !found || id == "" || len(id) > 19 || id[0] == '0' || len(macHex) != 2*invitationMACSize {
		return 0, nil, false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return 0, nil, false
		}
	}
	bookingID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	// Strict: lower-case hex only, so a UID has one spelling.
	if strings.ToLower(macHex) != macHex {
		return 0, nil, false
	}
	mac, err = hex.DecodeString(macHex)
	if err != nil {
		return 0, nil, false
	}
	return bookingID, mac, true
}

// validInvitationMAC reports whether mac signs booking b for its interpreter, under the current
// key or an older one (during a key rotation).
func (db *DB) validInvitationMAC(mac []byte, b *courtside.InterpreterBooking) bool {
	if db.Sealer == nil || b.InterpreterID == 0 {
		return false
	}
	keys := [][]byte{db.Sealer.indexKey}
	for _, k := range db.Sealer.olderIndex {
		keys = append(keys, k)
	}
	valid := false
	for _, k := range keys {
		if hmac.Equal(mac, invitationMAC(invitationKey(k), b.ID, b.InterpreterID)) {
			valid = true
		}
	}
	return valid
}

// errBadInvitation is the answer to a UID that is malformed, forged, or names no booking.
func errBadInvitation() error {
	return courtside.Errorf(courtside.ENOTFOUND, "This is not an invitation of Courtside's.")
}

// AnswerInvitation applies an interpreter's iTIP REPLY to the invitation of their booking. The
// UID is checked first, outside any transaction, so forged and foreign replies never take the
// write lock; then the sender: both From and the ATTENDEE must be the interpreter's own e-mail
// address (compared without regard to case). A reply from another address is refused and
// audited as denied. The answer goes through the same code path as RespondToBooking, audited
// as the interpreter (booking.invitation, then booking.accept or booking.decline); a decline
// offers the hearing to the next candidate, with the reply's COMMENT as its reason (spaces
// collapsed, cut to MaxDeclineReason bytes). A reply whose SEQUENCE is lower than that of
// the hearing's last move or cancellation answers an invitation since updated, and changes
// nothing.
func (s *InvitationService) AnswerInvitation(ctx context.Context, reply courtside.InvitationReply) (*courtside.InterpreterBooking, error) {
	bookingID, mac, ok := parseInvitationUID(reply.UID)
	if !ok {
		return nil, errBadInvitation()
	}
	b, err := findLinkedBooking(ctx, s.db.Reader, bookingID)
	if err != nil {
		if courtside.ErrorCode(err) == courtside.ENOTFOUND {
			return nil, errBadInvitation()
		}
		return nil, err
	}
	if !s.db.validInvitationMAC(mac, b) {
		return nil, errBadInvitation()
	}
	users, err := s.db.queryUsers(ctx, s.db.Reader, "u.id = ?", b.InterpreterID)
	if err != nil {
		return nil, err
	}
	if len(users) != 1 || users[0].Role != courtside.RoleInterpreter {
		return nil, errBadInvitation()
	}
	interpreter := users[0]
	// The answer is the interpreter's: its audit rows and events name the interpreter.
	ctx = courtside.NewContextWithUser(ctx, interpreter)
	if !sameAddress(interpreter.Email, reply.From) || !sameAddress(interpreter.Email, reply.Attendee) {
		// Someone who holds the invitation but writes from another address: recorded, refused.
		if err := s.db.update(ctx, func(tx *Tx) error {
			tx.Audit("booking.invitation", bookingObject(b.ID), courtside.OutcomeDenied)
			return nil
		}); err != nil {
			return nil, err
		}
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only the interpreter the booking was offered to may answer it, from their own address.")
	}
	var accept bool
	switch strings.ToUpper(strings.TrimSpace(reply.PartStat)) {
	case courtside.PartStatAccepted:
		accept = true
	case courtside.PartStatDeclined:
	default:
		return nil, courtside.Invalidf("partstat", "Only ACCEPTED and DECLINED answer a booking.")
	}
	reason := ""
	if !accept {
		reason = declineReason(reply.Comment)
	}
	if accept && b.Status == courtside.BookingAccepted {
		// Calendar apps may send the same answer twice; the booking already says so.
		if err := s.db.checkInvitationSequence(ctx, s.db.Reader, b, reply.Sequence); err != nil {
			return nil, err
		}
		return b, nil
	}
	var answered *courtside.InterpreterBooking
	err = s.db.update(ctx, func(tx *Tx) error {
		b, err := findLinkedBooking(ctx, tx, bookingID)
		if err != nil {
			return err
		}
		if b.InterpreterID != interpreter.ID {
			return errBadInvitation()
		}
		if err := s.db.checkInvitationSequence(ctx, tx, b, reply.Sequence); err != nil {
			return err
		}
		tx.Audit("booking.invitation", bookingObject(b.ID), courtside.OutcomeOK)
		answered, err = s.db.respondInTx(ctx, tx, interpreter, b.ID, accept, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return answered, nil
}

// checkInvitationSequence refuses, with ECONFLICT, a reply whose SEQUENCE is lower than that
// of the last move (time or courtroom) or cancellation of the booking's hearing: it answers an
// invitation that was updated since, whose times the interpreter may not have seen.
func (db *DB) checkInvitationSequence(ctx context.Context, q queryer, b *courtside.InterpreterBooking, sequence int) error {
	var latest int
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(sequence), 0) FROM hearing_changes WHERE hearing_id = ? AND (
			status = 'CANCELLED' OR from_starts_at IS DISTINCT FROM to_starts_at OR from_ends_at IS DISTINCT FROM to_ends_at OR from_courtroom <> to_courtroom)`,
		b.HearingID).Scan(&latest)
	if err != nil {
		return fmt.Errorf("storage: hearing's last move: %w", err)
	}
	if sequence < latest {
		return courtside.Errorf(courtside.ECONFLICT, "This answers an invitation that was updated since (SEQUENCE %d, now %d).", sequence, latest)
	}
	return nil
}

// sameAddress reports whether two e-mail addresses are the same, ignoring case and spaces
// around them. An empty address matches nothing.
func sameAddress(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// declineReason makes a reply's COMMENT a decline reason: whitespace runs and control
// characters become one space, and it is cut at MaxDeclineReason bytes on a character boundary.
func declineReason(comment string) string {
	comment = strings.ToValidUTF8(comment, "\uFFFD")
	comment = strings.Join(strings.FieldsFunc(comment, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
	}), " ")
	if len(comment) <= courtside.MaxDeclineReason {
		return comment
	}
	cut := courtside.MaxDeclineReason
	for cut > 0 && !utf8.RuneStart(comment[cut]) {
		cut--
	}
	return strings.TrimSpace(comment[:cut])
}

// invitedBooking returns the booking of hearingID that a message to interpreter userID about
// the hearing's move concerns (their live booking: offered, accepted or awaiting
// reconfirmation; or, when the hearing was cancelled before the message was planned, the
// booking the cancellation ended), or, for a cancellation, the booking it cancelled, with its
// language; 0 when there is none.
func invitedBooking(ctx context.Context, tx *sql.Tx, hearingID, userID int64, cancelled bool) (int64, string, error) {
	statuses := `('OFFERED','ACCEPTED','NEEDS_RECONFIRMATION','CANCELLED')`
	if cancelled {
		statuses = `('CANCELLED')`
	}
	var id int64
	var language string
	err := tx.QueryRowContext(ctx, `SELECT id, language FROM interpreter_bookings WHERE hearing_id = ? AND interpreter_id = ? AND status IN `+statuses+`
		ORDER BY status = 'CANCELLED', id DESC LIMIT 1`, hearingID, userID).Scan(&id, &language)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, language, wrapErr("invited booking", err)
}
