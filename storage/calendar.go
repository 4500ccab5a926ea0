package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"courtside"
)

// HearingsCalendar is the name of every user's server-generated hearings calendar.
const HearingsCalendar = "hearings"

// calendarMembership returns the SQL condition, on alias h, for the hearings in a user's
// hearings calendar: a prosecutor's office's hearings, the hearings an advocate accompanies
// (kept after a cancellation so the calendar shows it cancelled), the hearings an interpreter
// is offered (so that they can answer in their calendar app), accepted or must reconfirm, and those whose booking was cancelled with the
// hearing (kept, so the calendar shows STATUS:CANCELLED rather than the event vanishing).
func calendarMembership(u *courtside.User) (string, []any) {
	switch u.Role {
	case courtside.RoleProsecutor:
		return "h.organization_id = ?", []any{u.OrganizationID}
	case courtside.RoleAdvocate:
		return "EXISTS (SELECT 1 FROM accompaniments a WHERE a.hearing_id = h.id AND a.advocate_id = ?)", []any{u.ID}
	case courtside.RoleInterpreter:
		return `EXISTS (SELECT 1 FROM interpreter_bookings ib WHERE ib.hearing_id = h.id AND ib.interpreter_id = ?
			AND (ib.status IN ('OFFERED','ACCEPTED','NEEDS_RECONFIRMATION') OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED')))`, []any{u.ID}
	}
	return "0 = 1", nil
}

// FindCalendarHearings returns every hearing in the user's hearings calendar.
func (db *DB) FindCalendarHearings(ctx context.Context, userID int64) ([]*courtside.CalendarHearing, error) {
	return db.findCalendarHearings(ctx, userID, nil, timeWindow{})
}

// FindCalendarHearingsInRange returns the hearings in the user's hearings calendar that
// overlap [from, to): starting before to and ending after from, a zero bound being open. The
// range is part of the SQL, so only those hearings are read.
func (db *DB) FindCalendarHearingsInRange(ctx context.Context, userID int64, from, to time.Time) ([]*courtside.CalendarHearing, error) {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, courtside.Invalidf("to", "The end of the range must not be before its start.")
	}
	return db.findCalendarHearings(ctx, userID, nil, timeWindow{from: from, to: to})
}

// timeWindow is a range of hearing times; a zero bound is open.
type timeWindow struct {
	from, to time.Time
}

// FindCalendarHearing returns one hearing of the user's hearings calendar.
func (db *DB) FindCalendarHearing(ctx context.Context, userID, hearingID int64) (*courtside.CalendarHearing, error) {
	chs, err := db.findCalendarHearings(ctx, userID, &hearingID, timeWindow{})
	if err != nil {
		return nil, err
	} else if len(chs) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Calendar object not found.")
	}
	return chs[0], nil
}

func (db *DB) findCalendarHearings(ctx context.Context, userID int64, hearingID *int64, win timeWindow) ([]*courtside.CalendarHearing, error) {
	u, err := db.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	member, args := calendarMembership(u)
	query := `SELECT ` + hearingColumns + `, c.docket, ct.id, ct.name, ct.time_zone, ct.address, ct.created_at
		FROM hearings h JOIN cases c ON c.id = h.case_id JOIN courts ct ON ct.id = h.court_id WHERE ` + member
	if hearingID != nil {
		query, args = query+" AND h.id = ?", append(args, *hearingID)
	}
	if !win.to.IsZero() {
		query, args = query+" AND h.starts_at < ?", append(args, FormatTime(win.to))
	}
	if !win.from.IsZero() {
		query, args = query+" AND h.ends_at > ?", append(args, FormatTime(win.from))
	}
	rows, err := db.Reader.QueryContext(ctx, query+" ORDER BY h.starts_at, h.id", args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar hearings: %w", err)
	}
	defer rows.Close()
	var out []*courtside.CalendarHearing
	byHearing := map[int64]*courtside.CalendarHearing{}
	for rows.Next() {
		var ch courtside.CalendarHearing
		h := &ch.Hearing
		if err := rows.Scan(&h.ID, &h.CaseID, &h.CourtID, &h.Kind, scanTime{&h.StartsAt}, scanTime{&h.EndsAt}, &h.Courtroom,
			&h.Judge, &h.Status, &h.Sequence, &h.ExternalID, scanTime{&h.CreatedAt}, scanTime{&h.UpdatedAt},
			&ch.Docket, &ch.Court.ID, &ch.Court.Name, &ch.Court.TimeZone, &ch.Court.Address, scanTime{&ch.Court.CreatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan calendar hearing: %w", err)
		}
		out = append(out, &ch)
		byHearing[h.ID] = &ch
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar hearings: %w", err)
	}
	if u.Role == courtside.RoleInterpreter && len(out) > 0 {
		if err := fillAttendees(ctx, db.Reader, u, byHearing); err != nil {
			return nil, err
		}
	}
	if u.Role == courtside.RoleAdvocate && len(out) > 0 {
		// An advocate's calendar names the victims they accompany, by pseudonym only.
		prow, err := db.Reader.QueryContext(ctx, `SELECT DISTINCT a.hearing_id, v.pseudonym FROM accompaniments a
			JOIN victims v ON v.id = a.victim_id WHERE a.advocate_id = ? AND a.status <> 'CANCELLED' ORDER BY a.hearing_id, v.pseudonym`, u.ID)
		if err != nil {
			return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
		}
		defer prow.Close()
		for prow.Next() {
			var id int64
			var p string
			if err := prow.Scan(&id, &p); err != nil {
				return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
			}
			if ch := byHearing[id]; ch != nil {
				ch.Pseudonyms = append(ch.Pseudonyms, p)
			}
		}
		if err := prow.Err(); err != nil {
			return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
		}
	}
	return out, nil
}

// CalendarVersion returns the user's hearings-calendar change token and when it last moved.
func (db *DB) CalendarVersion(ctx context.Context, userID int64) (int64, time.Time, error) {
	var version int64
	var at time.Time
	err := db.Reader.QueryRowContext(ctx, `SELECT version, updated_at FROM calendar_versions WHERE user_id = ? AND calendar = ?`,
		userID, HearingsCalendar).Scan(&version, scanTime{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	} else if err != nil {
		return 0, time.Time{}, fmt.Errorf("storage: calendar version: %w", err)
	}
	return version, at, nil
}

// CalendarChanges returns the user's hearings-calendar changes after version since, in version
// order, and the current version, both from one read snapshot.
func (db *DB) CalendarChanges(ctx context.Context, userID, since int64) ([]courtside.CalendarChange, int64, error) {
	tx, err := db.Reader.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	defer tx.Rollback()
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM calendar_versions WHERE user_id = ? AND calendar = ?`,
		userID, HearingsCalendar).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT hearing_id, version, deleted FROM calendar_changes
		WHERE user_id = ? AND calendar = ? AND version > ? ORDER BY version, hearing_id`, userID, HearingsCalendar, since)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	defer rows.Close()
	var out []courtside.CalendarChange
	for rows.Next() {
		var c courtside.CalendarChange
		if err := rows.Scan(&c.HearingID, &c.Version, &c.Deleted); err != nil {
			return nil, 0, fmt.Errorf("storage: scan calendar change: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	return out, version, nil
}

// ProjectCalendar is the calendar projection, an event-log handler: for a hearing or
// accompaniment event, or an accepted interpreter booking, it bumps the change token of every
// user whose hearings calendar holds the hearing, and records the version at which the hearing
// changed for each of them; for a user whose calendar held the hearing and no longer does, it
// records that the hearing left it (deleted). It writes only through tx, the event's own
// transaction.
func (db *DB) ProjectCalendar(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	if ev.HearingID == 0 {
		return nil
	}
	switch ev.Type {
	case courtside.EventHearingScheduled, courtside.EventHearingChanged, courtside.EventHearingCancelled, courtside.EventAccompanimentAssigned,
		courtside.EventBookingAccepted, courtside.EventBookingDeclined, courtside.EventBookingExpired, courtside.EventBookingOffered:
	default:
		return nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT u.id FROM users u JOIN hearings h ON h.organization_id = u.organization_id
			WHERE h.id = ? AND u.role = 'PROSECUTOR'
		UNION
		SELECT a.advocate_id FROM accompaniments a WHERE a.hearing_id = ?
		UNION
		SELECT ib.interpreter_id FROM interpreter_bookings ib JOIN hearings h ON h.id = ib.hearing_id
			WHERE ib.hearing_id = ? AND (ib.status IN ('OFFERED','ACCEPTED','NEEDS_RECONFIRMATION')
				OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED'))`, ev.HearingID, ev.HearingID, ev.HearingID)
	if err != nil {
		return fmt.Errorf("storage: calendar audience: %w", err)
	}
	var users []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("storage: calendar audience: %w", err)
		}
		users = append(users, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: calendar audience: %w", err)
	}
	at := FormatTime(ev.At)
	for _, id := range users {
		if ev.Type == courtside.EventBookingDeclined || ev.Type == courtside.EventBookingExpired {
			break // the hearing itself did not change: only who sees it may have
		}
		if ev.Type == courtside.EventBookingOffered && id != ev.UserID {
			continue // an offer changes only the offered interpreter's calendar
		}
		var version int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO calendar_versions (user_id, calendar, version, updated_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (user_id, calendar) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at
			RETURNING version`, id, HearingsCalendar, at).Scan(&version); err != nil {
			return fmt.Errorf("storage: bump calendar version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_changes (user_id, calendar, hearing_id, version, deleted) VALUES (?, ?, ?, ?, 0)
			ON CONFLICT (user_id, calendar, hearing_id) DO UPDATE SET version = excluded.version, deleted = 0`,
			id, HearingsCalendar, ev.HearingID, version); err != nil {
			return fmt.Errorf("storage: calendar change: %w", err)
		}
	}
	return db.projectCalendarLeavers(ctx, tx, ev, users)
}

// projectCalendarLeavers records that the hearing left the calendars of the users it was in
// (a change recorded, not deleted) who are no longer its audience: an interpreter whose
// booking was cancelled with the hearing or declined at reconfirmation, for instance.
func (db *DB) projectCalendarLeavers(ctx context.Context, tx *sql.Tx, ev courtside.Event, audience []int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT user_id FROM calendar_changes WHERE calendar = ? AND hearing_id = ? AND deleted = 0`,
		HearingsCalendar, ev.HearingID)
	if err != nil {
		return fmt.Errorf("storage: calendar leavers: %w", err)
	}
	stays := map[int64]bool{}
	for _, id := range audience {
		stays[id] = true
	}
	var leavers []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("storage: calendar leavers: %w", err)
		}
		if !stays[id] {
			leavers = append(leavers, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: calendar leavers: %w", err)
	}
	for _, id := range leavers {
		var version int64
		if err := tx.QueryRowContext(ctx, `UPDATE calendar_versions SET version = version + 1, updated_at = ?
			WHERE user_id = ? AND calendar = ? RETURNING version`, FormatTime(ev.At), id, HearingsCalendar).Scan(&version); err != nil {
			return fmt.Errorf("storage: bump calendar version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE calendar_changes SET version = ?, deleted = 1
			WHERE user_id = ? AND calendar = ? AND hearing_id = ?`, version, id, HearingsCalendar, ev.HearingID); err != nil {
			return fmt.Errorf("storage: calendar change: %w", err)
		}
	}
	return nil
}

// fillAttendees sets the interpreter's live booking on each hearing of their calendar.
func fillAttendees(ctx context.Context, q queryer, u *courtside.User, byHearing map[int64]*courtside.CalendarHearing) error {
	rows, err := q.QueryContext(ctx, `SELECT hearing_id, id, status FROM interpreter_bookings
		WHERE interpreter_id = ? AND status IN ('OFFERED','ACCEPTED','NEEDS_RECONFIRMATION') ORDER BY id`, u.ID)
	if err != nil {
		return fmt.Errorf("storage: calendar attendees: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hearingID int64
		a := &courtside.CalendarAttendee{Username: u.Username}
		if err := rows.Scan(&hearingID, &a.BookingID, &a.Status); err != nil {
			return fmt.Errorf("storage: calendar attendees: %w", err)
		}
		if ch := byHearing[hearingID]; ch != nil {
			ch.Attendee = a
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: calendar attendees: %w", err)
	}
	return nil
}
