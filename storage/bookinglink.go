package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"courtside"
)

// BookingLinkService is the database's service for the signed one-click links that answer a
// booking offer.
type BookingLinkService struct {
	db *DB
}

// NewBookingLinkService returns the booking link service of db.
func NewBookingLinkService(db *DB) *BookingLinkService { return &BookingLinkService{db: db} }

var _ courtside.BookingLinkService = (*BookingLinkService)(nil)

// The signed one-click link of a booking offer: {base-url}/bookings/{id}/respond?token=...
// lets the offered interpreter answer without signing in. The token is
//
//	version (1 byte) | expires, Unix seconds (8 bytes, big endian) | HMAC-SHA256, first 16 bytes
//
// in URL-safe base64 without padding, and the HMAC covers the version, the booking ID, the
// interpreter's ID and the expiry, under a key derived from the database's sealing key
// (linkKey). The booking ID comes from the URL and the interpreter from the booking's
// row, so a token answers only the booking it was made for, and only while that booking is
// still offered to the same interpreter: a re-offer is a new booking with a new ID. A used
// token's SHA-256 is recorded in booking_link_uses in the answer's transaction, so a link
// answers once; the token itself is never stored.

// bookingLinkVersion is the version byte of the tokens made now.
const bookingLinkVersion = 1

// bookingLinkMACSize is how much of the HMAC a token carries: 128 bits, as much as forging
// needs to guess, and short enough that the link fits a text message (34 characters of token).
const bookingLinkMACSize = 16

// bookingLinkSize is the length of a decoded token.
const bookingLinkSize = 1 + 8 + bookingLinkMACSize

// The purposes of the signed links, each with a key of its own.
const (
	bookingLinkPurpose = "booking link" // an interpreter's one-click answer to an offer
	noticeLinkPurpose  = "notice link"  // a victim's acknowledgement of a notice (acknowledgement.go)
)

// linkKey derives the key of the signed links of one purpose from a key of the blind index
// (itself derived from the sealing key): HMAC-SHA256(indexKey, "courtside " + purpose).
func linkKey(indexKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("courtside " + purpose))
	return m.Sum(nil)
}

// linkMAC returns the HMAC, under key, of a signed link's fields: the version, the object it
// acts on (a booking, a delivery), the person it is for (the interpreter, the victim) and its
// expiry, after the purpose.
func linkMAC(key []byte, purpose string, version byte, objectID, subjectID, expires int64) []byte {
	var msg [1 + 8 + 8 + 8]byte
	msg[0] = version
	binary.BigEndian.PutUint64(msg[1:], uint64(objectID))
	binary.BigEndian.PutUint64(msg[9:], uint64(subjectID))
	binary.BigEndian.PutUint64(msg[17:], uint64(expires))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("courtside " + purpose + " v1\x00"))
	m.Write(msg[:])
	return m.Sum(nil)[:bookingLinkMACSize]
}

// linkToken returns the token of a signed link of purpose: version, expiry (to the second) and
// MAC, in URL-safe base64.
func linkToken(indexKey []byte, purpose string, objectID, subjectID int64, expires time.Time) string {
	exp := expires.Unix()
	buf := make([]byte, 0, bookingLinkSize)
	buf = append(buf, bookingLinkVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(exp))
	buf = append(buf, linkMAC(linkKey(indexKey, purpose), purpose, bookingLinkVersion, objectID, subjectID, exp)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// BookingLinkToken returns the token of the one-click link for an offered booking: HMAC-SHA256
// over (booking id, interpreter id, the offer's respond-by, a version) with a key derived from
// the database's sealing key ("courtside booking link"), valid until expires (the booking's
// respond-by, to the second). It is pure: no I/O, callable inside a transaction. Without a
// Sealer it returns "", a token no link accepts.
func (s *BookingLinkService) BookingLinkToken(bookingID, interpreterID int64, expires time.Time) string {
	if s.db.Sealer == nil {
		return ""
	}
	return linkToken(s.db.Sealer.indexKey, bookingLinkPurpose, bookingID, interpreterID, expires)
}

// BookingLinkURL returns the one-click link of an offered booking under baseURL, such as
// https://courtside.example/bookings/42/respond?token=...
func (s *BookingLinkService) BookingLinkURL(baseURL string, b *courtside.InterpreterBooking) string {
	var expires time.Time
	if b.RespondBy != nil {
		expires = *b.RespondBy
	}
	return fmt.Sprintf("%s/bookings/%d/respond?token=%s", strings.TrimRight(baseURL, "/"), b.ID,
		s.BookingLinkToken(b.ID, b.InterpreterID, expires))
}

// errBadLink is the answer to a token that is malformed, forged, or not for this booking.
func errBadLink() error {
	return courtside.Errorf(courtside.ENOTFOUND, "This link is not valid.")
}

// parseBookingLink decodes a token into its version, expiry and MAC; false when malformed.
func parseBookingLink(token string) (version byte, expires int64, mac []byte, ok bool) {
	if len(token) > 2*bookingLinkSize {
		return 0, 0, nil, false
	}
	// Strict: one token has one spelling, so its hash in booking_link_uses is its only one.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != bookingLinkSize || raw[0] != bookingLinkVersion {
		return 0, 0, nil, false
	}
	return raw[0], int64(binary.BigEndian.Uint64(raw[1:9])), raw[9:], true
}

// checkBookingLink checks token for booking b: its MAC under the current link key or the key
// of an older sealing key (during a rotation), then that it was not used and has not expired,
// and that the booking can still be answered. Returns ENOTFOUND for a bad token, ECONFLICT
// for a used or expired one or an answered booking.
func (db *DB) checkBookingLink(ctx context.Context, q queryer, b *courtside.InterpreterBooking, token string, now time.Time) error {
	version, expires, mac, ok := parseBookingLink(token)
	if !ok || db.Sealer == nil || b.InterpreterID == 0 {
		return errBadLink()
	}
	keys := [][]byte{db.Sealer.indexKey}
	for _, k := range db.Sealer.olderIndex {
		keys = append(keys, k)
	}
	valid := false
	for _, k := range keys {
		if hmac.Equal(mac, linkMAC(linkKey(k, bookingLinkPurpose), bookingLinkPurpose, version, b.ID, b.InterpreterID, expires)) {
			valid = true
		}
	}
	if !valid {
		return errBadLink()
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM booking_link_uses WHERE token_hash = ?`, bookingLinkHash(token)).Scan(&one)
	if err == nil {
		return courtside.Errorf(courtside.ECONFLICT, "This link was already used.")
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: booking link use: %w", err)
	}
	if now.Unix() > expires {
		return courtside.Errorf(courtside.ECONFLICT, "This link expired at %s.", time.Unix(expires, 0).UTC().Format(time.RFC3339))
	}
	switch b.Status {
	case courtside.BookingOffered, courtside.BookingNeedsReconfirmation:
		return nil
	case courtside.BookingExpired:
		return courtside.Errorf(courtside.ECONFLICT, "This offer expired.")
	}
	return courtside.Errorf(courtside.ECONFLICT, "This offer was already answered or withdrawn (booking is %s).", b.Status)
}

// bookingLinkHash is what booking_link_uses records of a token.
func bookingLinkHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// findLinkedBooking loads booking id through q; ENOTFOUND (as for a bad token) when there is none.
func findLinkedBooking(ctx context.Context, q queryer, id int64) (*courtside.InterpreterBooking, error) {
	b, err := scanBooking(q.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadLink()
	} else if err != nil {
		return nil, fmt.Errorf("storage: find booking: %w", err)
	}
	return b, nil
}

// FindBookingByLink checks the token of a one-click link for booking bookingID and returns the
// booking with the hearing facts an offer page shows (no victim data). It needs no user in ctx:
// the token is the credential. Returns ENOTFOUND for a malformed, forged or foreign token (or
// an unknown booking), and ECONFLICT for a used or expired link or an offer no longer open
// (answered, expired, cancelled, or re-offered to someone else).
func (s *BookingLinkService) FindBookingByLink(ctx context.Context, bookingID int64, token string) (*courtside.BookingLinkOffer, error) {
	var out *courtside.BookingLinkOffer
	err := s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		b, err := findLinkedBooking(ctx, tx, bookingID)
		if err != nil {
			return err
		}
		if err := s.db.checkBookingLink(ctx, tx, b, token, s.db.Now().UTC()); err != nil {
			return err
		}
		h, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ?`, b.HearingID))
		if err != nil {
			return fmt.Errorf("storage: find hearing: %w", err)
		}
		c, err := scanCourt(tx.QueryRowContext(ctx, `SELECT `+courtColumns+` FROM courts WHERE id = ?`, h.CourtID))
		if err != nil {
			return fmt.Errorf("storage: find court: %w", err)
		}
		var username string
		if err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, b.InterpreterID).Scan(&username); err != nil {
			return fmt.Errorf("storage: find interpreter: %w", err)
		}
		out = &courtside.BookingLinkOffer{Booking: b, Court: c, Interpreter: username, Hearing: &courtside.Hearing{ID: h.ID, CourtID: h.CourtID,
			Kind: h.Kind, StartsAt: h.StartsAt, EndsAt: h.EndsAt, Courtroom: h.Courtroom, Status: h.Status}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RespondByLink accepts or declines booking bookingID as its interpreter, through a one-click
// link's token, in one transaction: the token is checked, its use recorded (single use: a
// second use answers ECONFLICT), and the answer goes through the same code path as
// RespondToBooking (audited as the interpreter, plus a booking.link audit row; a decline
// offers the hearing to the next candidate). reason is the decline's reason, at most
// MaxDeclineReason characters (EINVALID). It needs no user in ctx. Returns ENOTFOUND for a bad
// token and ECONFLICT for a used or expired link or a booking that can no longer be answered.
func (s *BookingLinkService) RespondByLink(ctx context.Context, bookingID int64, token string, accept bool, reason string) (*courtside.InterpreterBooking, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) > courtside.MaxDeclineReason {
		return nil, courtside.Invalidf("reason", "Reason must be at most %d characters.", courtside.MaxDeclineReason)
	}
	// Check the token outside the write transaction first, so that forged and stale links never
	// take the write lock; the check is repeated inside it.
	b, err := findLinkedBooking(ctx, s.db.Reader, bookingID)
	if err != nil {
		return nil, err
	}
	if err := s.db.checkBookingLink(ctx, s.db.Reader, b, token, s.db.Now().UTC()); err != nil {
		return nil, err
	}
	users, err := s.db.queryUsers(ctx, s.db.Reader, "u.id = ?", b.InterpreterID)
	if err != nil {
		return nil, err
	}
	if len(users) != 1 || users[0].Role != courtside.RoleInterpreter {
		return nil, errBadLink()
	}
	interpreter := users[0]
	// The answer is the interpreter's: its audit rows and events name the interpreter.
	ctx = courtside.NewContextWithUser(ctx, interpreter)
	var answered *courtside.InterpreterBooking
	err = s.db.update(ctx, func(tx *Tx) error {
		b, err := findLinkedBooking(ctx, tx, bookingID)
		if err != nil {
			return err
		}
		if b.InterpreterID != interpreter.ID {
			return errBadLink()
		}
		if err := s.db.checkBookingLink(ctx, tx, b, token, tx.now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO booking_link_uses (token_hash, booking_id, accepted, used_at) VALUES (?,?,?,?)`,
			bookingLinkHash(token), b.ID, accept, FormatTime(tx.now)); err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "This link was already used.")
			}
			return fmt.Errorf("storage: record booking link use: %w", err)
		}
		tx.Audit("booking.link", bookingObject(b.ID), courtside.OutcomeOK)
		answered, err = s.db.respondInTx(ctx, tx, interpreter, b.ID, accept, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return answered, nil
}
