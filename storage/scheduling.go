package storage

import (
	"context"
	"database/sql"
	"time"

	"courtside"
)

// SchedulingService is the database's service for CalDAV scheduling inboxes of booking invitations.
type SchedulingService struct {
	db *DB
}

// NewSchedulingService returns the scheduling service of db.
func NewSchedulingService(db *DB) *SchedulingService { return &SchedulingService{db: db} }

var _ courtside.SchedulingService = (*SchedulingService)(nil)

// CalDAV scheduling (RFC 6638; courtside.SchedulingService). An interpreter's scheduling inbox
// is read from their bookings as they stand: nothing is stored when an offer is made, so the
// inbox can never disagree with the booking. What the interpreter deleted from it is kept in
// schedule_inbox_dismissals (migration 00035), keyed by the message's SEQUENCE, so a move
// (a higher SEQUENCE) brings the booking back as a new message. Answers go through
// AnswerInvitation, the one code path of every iTIP REPLY.

// inboxCondition selects, on aliases b and h, the bookings of interpreter ? that have a
// message in their inbox at ? (now, three times) and ? (the oldest cancellation shown): a
// REQUEST for an offer still open or a booking awaiting reconfirmation, of a hearing yet to
// end; a CANCEL for a booking cancelled, or an offer expired, lately (an app that put the
// REQUEST in the interpreter's calendar takes the event out again).
const inboxCondition = `b.interpreter_id = ? AND (
		(b.status = 'OFFERED' AND (b.respond_by IS NULL OR b.respond_by > ?) AND h.ends_at > ?)
		OR (b.status = 'NEEDS_RECONFIRMATION' AND h.ends_at > ?)
		OR (b.status IN ('CANCELLED','EXPIRED') AND b.updated_at >= ?))`

// inboxArgs are the arguments of inboxCondition for interpreter userID at now.
func inboxArgs(userID int64, now time.Time) []any {
	at := FormatTime(now)
	return []any{userID, at, at, at, FormatTime(now.Add(-courtside.CancelShownFor))}
}

// FindScheduledInvitations returns the caller's scheduling inbox, newest first.
func (s *SchedulingService) FindScheduledInvitations(ctx context.Context) ([]*courtside.ScheduledInvitation, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	var out []*courtside.ScheduledInvitation
	err = s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		out, err = scheduledInvitations(ctx, tx, u.ID, s.db.Now().UTC(), 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scheduledInvitations reads, through q, interpreter userID's inbox at now (only booking
// bookingID's messages when it is not 0), less what they dismissed.
func scheduledInvitations(ctx context.Context, q queryer, userID int64, now time.Time, bookingID int64) ([]*courtside.ScheduledInvitation, error) {
	cond, args := inboxCondition, inboxArgs(userID, now)
	if bookingID != 0 {
		cond += ` AND b.id = ?`
		args = append(args, bookingID)
	}
	rows, err := q.QueryContext(ctx, `SELECT b.id, b.status, b.language, b.updated_at, h.kind, h.status, h.starts_at, h.ends_at,
			c.name, c.address, h.courtroom, k.docket, c.time_zone, h.sequence, h.updated_at
		FROM interpreter_bookings b JOIN hearings h ON h.id = b.hearing_id JOIN courts c ON c.id = h.court_id
			JOIN cases k ON k.id = h.case_id
		WHERE `+cond+` ORDER BY b.updated_at DESC, b.id DESC LIMIT ?`, append(args, courtside.MaxScheduledInvitations)...)
	if err != nil {
		return nil, wrapErr("scheduled invitations", err)
	}
	defer rows.Close()
	var out []*courtside.ScheduledInvitation
	for rows.Next() {
		inv := &courtside.ScheduledInvitation{InterpreterID: userID, Method: courtside.ITIPRequest}
		var status courtside.BookingStatus
		var bookingUpdated, hearingUpdated time.Time
		f := &inv.Hearing
		if err := rows.Scan(&inv.BookingID, &status, &inv.Language, scanTime{&bookingUpdated}, &f.Kind, &f.Status,
			scanTime{&f.StartsAt}, scanTime{&f.EndsAt}, &f.Court, &f.Address, &f.Courtroom, &f.Docket, &f.Zone,
			&inv.Sequence, scanTime{&hearingUpdated}); err != nil {
			return nil, wrapErr("scan scheduled invitation", err)
		}
		switch status {
		case courtside.BookingCancelled:
			inv.Method = courtside.ITIPCancel
		case courtside.BookingExpired:
			// The hearing goes on: the CANCEL withdraws this interpreter's invitation alone, one
			// SEQUENCE above the offer's REQUEST, which calendar apps would otherwise take it as
			// no newer than.
			inv.Method, inv.Withdrawn = courtside.ITIPCancel, true
			inv.Sequence++
		}
		inv.Stamp = bookingUpdated
		if hearingUpdated.After(inv.Stamp) {
			inv.Stamp = hearingUpdated
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("scheduled invitations", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	dismissed, err := q.QueryContext(ctx, `SELECT booking_id, method, sequence FROM schedule_inbox_dismissals WHERE user_id = ?`, userID)
	if err != nil {
		return nil, wrapErr("inbox dismissals", err)
	}
	defer dismissed.Close()
	type key struct {
		booking  int64
		method   string
		sequence int
	}
	gone := map[key]bool{}
	for dismissed.Next() {
		var k key
		if err := dismissed.Scan(&k.booking, &k.method, &k.sequence); err != nil {
			return nil, wrapErr("scan inbox dismissal", err)
		}
		gone[k] = true
	}
	if err := dismissed.Err(); err != nil {
		return nil, wrapErr("inbox dismissals", err)
	}
	kept := out[:0]
	for _, inv := range out {
		if !gone[key{inv.BookingID, inv.Method, inv.Sequence}] {
			kept = append(kept, inv)
		}
	}
	return kept, nil
}

// DismissScheduledInvitation takes a message out of the caller's inbox, audited. The
// dismissals of bookings that can no longer have a message go with it.
func (s *SchedulingService) DismissScheduledInvitation(ctx context.Context, bookingID int64, method string, sequence int) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		msgs, err := scheduledInvitations(ctx, tx, u.ID, tx.now, bookingID)
		if err != nil {
			return err
		}
		found := false
		for _, m := range msgs {
			found = found || (m.Method == method && m.Sequence == sequence)
		}
		if !found {
			return courtside.Errorf(courtside.ENOTFOUND, "No such message in the inbox.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schedule_inbox_dismissals (user_id, booking_id, method, sequence, dismissed_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, u.ID, bookingID, method, sequence, FormatTime(tx.now)); err != nil {
			return wrapErr("dismiss inbox message", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM schedule_inbox_dismissals WHERE user_id = ? AND booking_id IN (
				SELECT b.id FROM interpreter_bookings b WHERE b.interpreter_id = ? AND (b.status IN ('DECLINED','ACCEPTED')
					OR (b.status IN ('CANCELLED','EXPIRED') AND b.updated_at < ?)))`,
			u.ID, u.ID, FormatTime(tx.now.Add(-courtside.CancelShownFor))); err != nil {
			return wrapErr("forget inbox dismissals", err)
		}
		tx.Audit("calendar.inbox.dismiss", bookingObject(bookingID), courtside.OutcomeOK)
		return nil
	})
}

// AnswerScheduledInvitation applies the caller's iTIP REPLY through AnswerInvitation, with
// the caller's own e-mail address as the sender. The booking must be the caller's: anyone
// else's answers ENOTFOUND, as a forged UID does, before anything is written.
func (s *SchedulingService) AnswerScheduledInvitation(ctx context.Context, reply courtside.InvitationReply) (*courtside.InterpreterBooking, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
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
	if b.InterpreterID != u.ID || !s.db.validInvitationMAC(mac, b) {
		return nil, errBadInvitation()
	}
	users, err := s.db.queryUsers(ctx, s.db.Reader, "u.id = ?", u.ID)
	if err != nil {
		return nil, err
	}
	if len(users) != 1 || !sameAddress(users[0].Email, reply.Attendee) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only the interpreter the booking was offered to may answer it, as their own address.")
	}
	reply.From = users[0].Email
	return NewInvitationService(s.db).AnswerInvitation(ctx, reply)
}
