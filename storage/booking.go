package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// BookingService is the database's service for interpreter bookings: requests, offers, answers
// and expiry.
type BookingService struct {
	db *DB
}

// NewBookingService returns the booking service of db.
func NewBookingService(db *DB) *BookingService { return &BookingService{db: db} }

var _ courtside.BookingService = (*BookingService)(nil)

// Interpreter bookings are one row per offer (see migrations/00003_bookings.sql): a decline
// ends its row and offers the next ranked candidate in a new row, in the same transaction. The
// rows of a hearing and language record who was asked, and nobody is asked twice.

const bookingColumns = `b.id, b.hearing_id, b.language, COALESCE(b.interpreter_id, 0), b.status, COALESCE(b.minimum_tier, ''),
	b.respond_by, b.fallback_reason, b.decline_reason, COALESCE(b.previous_booking_id, 0), b.created_at, b.updated_at`

// bookingFields returns the scan destinations of bookingColumns.
func bookingFields(b *courtside.InterpreterBooking) []any {
	return []any{&b.ID, &b.HearingID, &b.Language, &b.InterpreterID, &b.Status, &b.MinimumTier, scanOptTime{&b.RespondBy},
		&b.FallbackReason, &b.DeclineReason, &b.PreviousBookingID, scanTime{&b.CreatedAt}, scanTime{&b.UpdatedAt}}
}

func scanBooking(s scanner) (*courtside.InterpreterBooking, error) {
	var b courtside.InterpreterBooking
	if err := s.Scan(bookingFields(&b)...); err != nil {
		return nil, err
	}
	return &b, nil
}

// hearingFields returns the scan destinations of hearingColumns.
func hearingFields(h *courtside.Hearing) []any {
	return []any{&h.ID, &h.CaseID, &h.CourtID, &h.Kind, scanTime{&h.StartsAt}, scanTime{&h.EndsAt}, &h.Courtroom,
		&h.Judge, &h.Status, &h.Sequence, &h.ExternalID, scanTime{&h.CreatedAt}, scanTime{&h.UpdatedAt}}
}

func bookingObject(id int64) string { return "booking:" + strconv.FormatInt(id, 10) }

// heldStatuses are the statuses in which a booking holds its interpreter, and in which the
// interpreter sees the booking and its hearing.
const heldStatuses = `('OFFERED','ACCEPTED','NEEDS_RECONFIRMATION')`

// bookingScope returns the SQL condition, on alias b, limiting bookings to those the caller may
// see: an interpreter its own held bookings (their hearings are the ones it may see); every
// other role the bookings of the hearings it may see.
func bookingScope(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleAdmin:
		return "1 = 1", nil
	case courtside.RoleInterpreter:
		return "b.interpreter_id = ? AND b.status IN " + heldStatuses, []any{u.ID}
	}
	scope, args := hearingScope(u)
	return "EXISTS (SELECT 1 FROM hearings h WHERE h.id = b.hearing_id AND " + scope + ")", args
}

// bookableHearing loads, through q, a hearing for which the caller may book interpreters: EFORBIDDEN
// for roles that book none, ENOTFOUND for a hearing outside the caller's hearing scope.
func bookableHearing(ctx context.Context, q queryer, u *courtside.User, id int64) (*courtside.Hearing, error) {
	if !courtside.CanBookInterpreters(u) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators and prosecutors' offices may book interpreters.")
	}
	scope, args := hearingScope(u)
	h, err := scanHearing(q.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ? AND `+scope,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Hearing not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find hearing: %w", err)
	}
	return h, nil
}

// InterpreterCandidates returns the interpreters for the hearing in language, ranked.
func (s *BookingService) InterpreterCandidates(ctx context.Context, hearingID int64, language string) ([]*courtside.Candidate, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !courtside.CanBookInterpreters(u) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators and prosecutors' offices may book interpreters.")
	}
	if language, err = courtside.ParseBookingLanguage(language); err != nil {
		return nil, err
	}
	h, err := bookableHearing(ctx, s.db.Reader, u, hearingID)
	if err != nil {
		return nil, err
	}
	return s.db.rankCandidates(ctx, s.db.Reader, h, language, s.db.Now().UTC())
}

// rankCandidates reads, through q, the interpreters and their bookings around h, and ranks
// them with courtside.RankCandidates.
func (db *DB) rankCandidates(ctx context.Context, q queryer, h *courtside.Hearing, language string, now time.Time) ([]*courtside.Candidate, error) {
	var zone string
	if err := q.QueryRowContext(ctx, `SELECT time_zone FROM courts WHERE id = ?`, h.CourtID).Scan(&zone); err != nil {
		return nil, fmt.Errorf("storage: find court: %w", err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	interpreters, err := db.queryUsers(ctx, q, "u.role = ?", courtside.RoleInterpreter)
	if err != nil {
		return nil, err
	}
	// The bookings that matter: every booking of this hearing (nobody is asked twice), and the
	// held bookings of open hearings that overlap the hearing (travel buffer included) or
	// start in its week.
	// Hearings within the travel time between their court and h's clash with it too: the
	// window is widened by the longest travel time from h's court (travel.go).
	travel, err := travelTimesFrom(ctx, q, h.CourtID)
	if err != nil {
		return nil, err
	}
	longest := travel.longestFrom(h.CourtID)
	from, to := courtside.BookingWeek(h.StartsAt, loc)
	if early := h.StartsAt.Add(-longest); early.Before(from) {
		from = early
	}
	if late := h.EndsAt.Add(longest); late.After(to) {
		to = late
	}
	rows, err := q.QueryContext(ctx, `SELECT `+bookingColumns+`, `+hearingColumns+`
		FROM interpreter_bookings b JOIN hearings h ON h.id = b.hearing_id
		WHERE b.interpreter_id IS NOT NULL AND (b.hearing_id = ? OR (b.status IN `+heldStatuses+`
			AND h.status IN ('SCHEDULED','CONTINUED') AND h.starts_at < ? AND h.ends_at > ?))
		ORDER BY b.id`, h.ID, FormatTime(to), FormatTime(from))
	if err != nil {
		return nil, fmt.Errorf("storage: interpreter commitments: %w", err)
	}
	defer rows.Close()
	var commitments []courtside.Commitment
	for rows.Next() {
		var b courtside.InterpreterBooking
		var bh courtside.Hearing
		if err := rows.Scan(append(bookingFields(&b), hearingFields(&bh)...)...); err != nil {
			return nil, fmt.Errorf("storage: scan commitment: %w", err)
		}
		commitments = append(commitments, courtside.Commitment{Booking: &b, Hearing: &bh})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: interpreter commitments: %w", err)
	}
	return withBusyBlocks(ctx, q, h, loc, courtside.RankCandidates(courtside.RankRequest{Hearing: h, Language: language, Location: loc, Now: now,
		Interpreters: interpreters, Commitments: commitments, TravelBuffer: travel.buffer}))
}

// RequestInterpreter offers the hearing to the best available candidate. When nobody is
// available it writes nothing and returns ECONFLICT: the caller sees why in
// InterpreterCandidates, and may lower the minimum tier.
func (s *BookingService) RequestInterpreter(ctx context.Context, hearingID int64, language string, minimumTier *courtside.Tier) (*courtside.InterpreterBooking, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !courtside.CanBookInterpreters(u) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators and prosecutors' offices may book interpreters.")
	}
	if language, err = courtside.ParseBookingLanguage(language); err != nil {
		return nil, err
	}
	var minimum courtside.Tier
	if minimumTier != nil {
		if minimumTier.Rank() < 0 {
			return nil, courtside.Invalidf("minimumTier", "Minimum tier must be one of CERTIFIED, PROFESSIONALLY_QUALIFIED, LANGUAGE_SKILLED.")
		}
		minimum = *minimumTier
	}
	var b *courtside.InterpreterBooking
	err = s.db.update(ctx, func(tx *Tx) error {
		h, err := bookableHearing(ctx, tx, u, hearingID)
		if err != nil {
			return err
		}
		if !h.Open() {
			return courtside.Errorf(courtside.ECONFLICT, "Hearing is %s; it needs no interpreter.", h.Status)
		}
		if !h.EndsAt.After(tx.now) {
			return courtside.Errorf(courtside.ECONFLICT, "The hearing is over.")
		}
		if err := s.db.expireStaleOffers(ctx, tx, h, language); err != nil {
			return err
		}
		ranked, err := s.db.rankCandidates(ctx, tx, h, language, tx.now)
		if err != nil {
			return err
		}
		chosen := courtside.ChooseCandidate(ranked, minimum)
		if chosen == nil {
			return courtside.NoInterpreterError(language, minimum)
		}
		b = courtside.NewOffer(h, language, chosen, minimum, tx.now)
		if err := insertBooking(ctx, tx, b, u.ID); err != nil {
			return err
		}
		tx.Audit("booking.request", bookingObject(b.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventBookingOffered, BookingID: b.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: b.InterpreterID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// expireStaleOffers refuses a request for a hearing and language that a held booking already
// covers (ECONFLICT), and marks an offer whose deadline has passed EXPIRED on the way.
func (db *DB) expireStaleOffers(ctx context.Context, tx *Tx, h *courtside.Hearing, language string) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b
		WHERE b.hearing_id = ? AND b.language = ? AND b.status IN `+heldStatuses+` ORDER BY b.id`, h.ID, language)
	if err != nil {
		return fmt.Errorf("storage: held bookings: %w", err)
	}
	var held []*courtside.InterpreterBooking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("storage: scan booking: %w", err)
		}
		held = append(held, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: held bookings: %w", err)
	}
	for _, b := range held {
		if !b.Expire(tx.now) {
			return courtside.Errorf(courtside.ECONFLICT, "An interpreter for %s is already %s for this hearing (booking %d).",
				language, strings.ToLower(string(b.Status)), b.ID)
		}
		if err := updateBooking(ctx, tx, b); err != nil {
			return err
		}
		tx.Audit("booking.expire", bookingObject(b.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventBookingExpired, BookingID: b.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: b.InterpreterID})
	}
	return nil
}

// insertBooking writes a new booking; requestedBy is 0 for an automatic re-offer.
func insertBooking(ctx context.Context, tx *Tx, b *courtside.InterpreterBooking, requestedBy int64) error {
	var interpreter, minimum, previous, by any
	if b.InterpreterID != 0 {
		interpreter = b.InterpreterID
	}
	if b.MinimumTier != "" {
		minimum = b.MinimumTier
	}
	if b.PreviousBookingID != 0 {
		previous = b.PreviousBookingID
	}
	if requestedBy != 0 {
		by = requestedBy
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO interpreter_bookings (hearing_id, language, interpreter_id, status, minimum_tier,
		respond_by, fallback_reason, decline_reason, previous_booking_id, requested_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		b.HearingID, b.Language, interpreter, b.Status, minimum, nullTime(b.RespondBy), b.FallbackReason, b.DeclineReason,
		previous, by, FormatTime(b.CreatedAt), FormatTime(b.UpdatedAt)).Scan(&b.ID)
	if err != nil {
		if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
			return courtside.Errorf(courtside.ECONFLICT, "That interpreter was already offered this hearing.")
		}
		return fmt.Errorf("storage: insert booking: %w", err)
	}
	return nil
}

// updateBooking writes a booking's status, decline reason and update time.
func updateBooking(ctx context.Context, tx *Tx, b *courtside.InterpreterBooking) error {
	if _, err := tx.ExecContext(ctx, `UPDATE interpreter_bookings SET status = ?, decline_reason = ?, updated_at = ? WHERE id = ?`,
		b.Status, b.DeclineReason, FormatTime(b.UpdatedAt), b.ID); err != nil {
		return fmt.Errorf("storage: update booking: %w", err)
	}
	return nil
}

// RespondToBooking records the offered interpreter's answer; a decline offers the next
// candidate in a new booking, in the same transaction.
func (s *BookingService) RespondToBooking(ctx context.Context, bookingID int64, accept bool, reason string) (*courtside.InterpreterBooking, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleInterpreter {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only the interpreter offered a booking may answer it.")
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > courtside.MaxDeclineReason {
		return nil, courtside.Invalidf("reason", "Reason must be at most %d characters.", courtside.MaxDeclineReason)
	}
	var b *courtside.InterpreterBooking
	err = s.db.update(ctx, func(tx *Tx) error {
		var err error
		b, err = s.db.respondInTx(ctx, tx, u, bookingID, accept, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// respondInTx records, in tx, interpreter u's answer to booking bookingID (reason already
// checked): the one code path of RespondToBooking and RespondByLink. A decline offers the
// next candidate.
func (db *DB) respondInTx(ctx context.Context, tx *Tx, u *courtside.User, bookingID int64, accept bool, reason string) (*courtside.InterpreterBooking, error) {
	b, err := scanBooking(tx.QueryRowContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b
		WHERE b.id = ? AND b.interpreter_id = ?`, bookingID, u.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Booking not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find booking: %w", err)
	}
	h, err := scanHearing(tx.QueryRowContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE h.id = ?`, b.HearingID))
	if err != nil {
		return nil, fmt.Errorf("storage: find hearing: %w", err)
	}
	if accept && !h.Open() {
		return nil, courtside.Errorf(courtside.ECONFLICT, "Hearing is %s.", h.Status)
	}
	if err := b.Respond(accept, tx.now); err != nil {
		return nil, err
	}
	if !accept {
		b.DeclineReason = reason
	}
	if err := updateBooking(ctx, tx, b); err != nil {
		return nil, err
	}
	ev := courtside.Event{Type: courtside.EventBookingAccepted, BookingID: b.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: u.ID}
	if accept {
		tx.Audit("booking.accept", bookingObject(b.ID), courtside.OutcomeOK)
		tx.Event(ev)
		return b, nil
	}
	ev.Type = courtside.EventBookingDeclined
	tx.Audit("booking.decline", bookingObject(b.ID), courtside.OutcomeOK)
	tx.Event(ev)
	return b, db.offerNext(ctx, tx, h, b)
}

// offerNext offers the hearing, after declined, to the next ranked available candidate at or
// above the request's minimum tier. When nobody is left, or the hearing no longer needs an
// interpreter, it offers nothing; for an open hearing it reports the unfilled need.
func (db *DB) offerNext(ctx context.Context, tx *Tx, h *courtside.Hearing, declined *courtside.InterpreterBooking) error {
	if !h.Open() || !h.EndsAt.After(tx.now) {
		return nil
	}
	ranked, err := db.rankCandidates(ctx, tx, h, declined.Language, tx.now)
	if err != nil {
		return err
	}
	chosen := courtside.ChooseCandidate(ranked, declined.MinimumTier)
	if chosen == nil {
		tx.Event(courtside.Event{Type: courtside.EventBookingUnfilled, BookingID: declined.ID, HearingID: h.ID, CaseID: h.CaseID})
		return nil
	}
	next := courtside.NewOffer(h, declined.Language, chosen, declined.MinimumTier, tx.now)
	next.PreviousBookingID = declined.ID
	if err := insertBooking(ctx, tx, next, 0); err != nil {
		return err
	}
	tx.Audit("booking.offer", bookingObject(next.ID), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: courtside.EventBookingOffered, BookingID: next.ID, HearingID: h.ID, CaseID: h.CaseID, UserID: next.InterpreterID})
	return nil
}

// FindBookings returns the bookings the caller may see that match filter, oldest first.
func (s *BookingService) FindBookings(ctx context.Context, f courtside.BookingFilter) ([]*courtside.InterpreterBooking, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	w := where(bookingScope(u))
	w.in("b.id", f.IDs)
	w.in("b.hearing_id", f.HearingIDs)
	if w.none {
		return nil, nil
	}
	if f.Status != nil {
		w.add("b.status = ?", *f.Status)
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT `+bookingColumns+` FROM interpreter_bookings b WHERE `+w.sql()+` ORDER BY b.id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find bookings: %w", err)
	}
	return collect(rows, "booking", scanBooking)
}
