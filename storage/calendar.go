package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"courtside"
)

// CalendarService is the database's service for the hearings calendars: their membership,
// stored objects, versions and changes.
type CalendarService struct {
	db *DB
}

// NewCalendarService returns the calendar service of db.
func NewCalendarService(db *DB) *CalendarService { return &CalendarService{db: db} }

var _ courtside.CalendarService = (*CalendarService)(nil)

// HearingsCalendar is the name of every user's server-generated hearings calendar.
const HearingsCalendar = "hearings"

// heldBookingStatuses are the statuses of a booking that hold its hearing in the interpreter's
// hearings calendar, with the booking as the event's ATTENDEE, as an SQL list.
const heldBookingStatuses = `'OFFERED','ACCEPTED','NEEDS_RECONFIRMATION'`

// calendarRule is the membership rule of one role's hearings calendars.
type calendarRule struct {
	role courtside.Role
	// members selects (user_id, hearing_id): one row for each hearing in the hearings
	// calendar of each user of the role (a hearing may come more than once).
	members string
}

// calendarRules is the membership rule of the hearings calendars, the one place it is written.
// Reading a user's calendar applies their role's rule to the user (calendarMember); the
// projection applies every rule to the hearing (calendarMembersOf), so that both always agree.
//
//   - A prosecutor's calendar holds the office's hearings.
//   - An advocate's holds the hearings they accompany while the case is shared with their
//     organisation, kept after a cancellation so that the calendar shows them cancelled; when
//     the office withdraws the share the hearings leave it (a deletion in sync).
//   - An interpreter's holds the hearings they are offered (so that they can answer in their
//     calendar app), have accepted or must reconfirm, and those whose booking was cancelled
//     with the hearing (kept, so that the calendar shows STATUS:CANCELLED rather than the
//     event vanishing).
var calendarRules = []calendarRule{
	{courtside.RoleProsecutor, `SELECT u.id AS user_id, h.id AS hearing_id FROM hearings h
		JOIN users u ON u.organization_id = h.organization_id AND u.role = 'PROSECUTOR'`},
	{courtside.RoleAdvocate, `SELECT a.advocate_id AS user_id, a.hearing_id AS hearing_id FROM accompaniments a
		JOIN users u ON u.id = a.advocate_id AND u.role = 'ADVOCATE'
		JOIN hearings h ON h.id = a.hearing_id
		WHERE EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = h.case_id AND s.organization_id = u.organization_id)`},
	{courtside.RoleInterpreter, `SELECT ib.interpreter_id AS user_id, ib.hearing_id AS hearing_id FROM interpreter_bookings ib
		JOIN hearings h ON h.id = ib.hearing_id JOIN users u ON u.id = ib.interpreter_id AND u.role = 'INTERPRETER'
		WHERE ib.status IN (` + heldBookingStatuses + `) OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED')`},
}

// calendarRuleOf returns the membership rule of role, or false for a role without a hearings
// calendar.
func calendarRuleOf(role courtside.Role) (string, bool) {
	for _, r := range calendarRules {
		if r.role == role {
			return r.members, true
		}
	}
	return "", false
}

// calendarMember returns the SQL condition, on alias h, for the hearings in the user's hearings
// calendar; one with hearing set fits a query that reads one hearing.
func calendarMember(u *courtside.User, one bool) (string, []any) {
	rule, ok := calendarRuleOf(u.Role)
	if !ok {
		return "0 = 1", nil
	}
	if one {
		return "EXISTS (SELECT 1 FROM (" + rule + ") m WHERE m.user_id = ? AND m.hearing_id = h.id)", []any{u.ID}
	}
	return "h.id IN (SELECT m.hearing_id FROM (" + rule + ") m WHERE m.user_id = ?)", []any{u.ID}
}

// calendarMembersOf selects (hearing_id, user_id, role, username): every user whose hearings
// calendar holds one of the hearings in the list that follows it ("(?, ?, ...)").
var calendarMembersOf = func() string {
	arms := make([]string, len(calendarRules))
	for i, r := range calendarRules {
		arms[i] = r.members
	}
	return `SELECT m.hearing_id, u.id, u.role, u.username FROM (` + strings.Join(arms, "\nUNION\n") + `) m
		JOIN users u ON u.id = m.user_id WHERE m.hearing_id IN `
}()

// FindCalendarHearings returns every hearing in the user's hearings calendar.
func (s *CalendarService) FindCalendarHearings(ctx context.Context, userID int64) ([]*courtside.CalendarHearing, error) {
	return s.db.findCalendarHearings(ctx, userID, nil, timeWindow{})
}

// FindCalendarHearingsInRange returns the hearings in the user's hearings calendar that
// overlap [from, to): starting before to and ending after from, a zero bound being open. The
// range is part of the SQL, so only those hearings are read.
func (s *CalendarService) FindCalendarHearingsInRange(ctx context.Context, userID int64, from, to time.Time) ([]*courtside.CalendarHearing, error) {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, courtside.Invalidf("to", "The end of the range must not be before its start.")
	}
	return s.db.findCalendarHearings(ctx, userID, nil, timeWindow{from: from, to: to})
}

// timeWindow is a range of hearing times; a zero bound is open.
type timeWindow struct {
	from, to time.Time
}

// FindCalendarHearing returns one hearing of the user's hearings calendar.
func (s *CalendarService) FindCalendarHearing(ctx context.Context, userID, hearingID int64) (*courtside.CalendarHearing, error) {
	chs, err := s.db.findCalendarHearings(ctx, userID, &hearingID, timeWindow{})
	if err != nil {
		return nil, err
	} else if len(chs) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Calendar object not found.")
	}
	return chs[0], nil
}

// calendarHearingColumns are the columns scanCalendarHearing reads: the hearing, its docket
// and its court.
const calendarHearingColumns = hearingColumns + `, c.docket, ct.id, ct.name, ct.time_zone, ct.address, ct.created_at`

// calendarHearingFrom joins what calendarHearingColumns reads.
const calendarHearingFrom = ` FROM hearings h JOIN cases c ON c.id = h.case_id JOIN courts ct ON ct.id = h.court_id`

// scanCalendarHearing reads a row of calendarHearingColumns, with extra columns after them.
func scanCalendarHearing(s scanner, extra ...any) (*courtside.CalendarHearing, error) {
	var ch courtside.CalendarHearing
	h := &ch.Hearing
	dest := []any{&h.ID, &h.CaseID, &h.CourtID, &h.Kind, scanTime{&h.StartsAt}, scanTime{&h.EndsAt}, &h.Courtroom,
		&h.Judge, &h.Status, &h.Sequence, &h.ExternalID, scanTime{&h.CreatedAt}, scanTime{&h.UpdatedAt},
		&ch.Docket, &ch.Court.ID, &ch.Court.Name, &ch.Court.TimeZone, &ch.Court.Address, scanTime{&ch.Court.CreatedAt}}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return nil, fmt.Errorf("storage: scan calendar hearing: %w", err)
	}
	return &ch, nil
}

// findCalendarHearings reads the user's hearings calendar from the domain tables, as it is at
// this moment (the booking answers of partstat and free-busy need that); CalDAV and the feeds
// read the objects the projection stored.
func (db *DB) findCalendarHearings(ctx context.Context, userID int64, hearingID *int64, win timeWindow) ([]*courtside.CalendarHearing, error) {
	u, err := NewUserService(db).FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	member, args := calendarMember(u, hearingID != nil)
	query := `SELECT ` + calendarHearingColumns + calendarHearingFrom + ` WHERE ` + member
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
		ch, err := scanCalendarHearing(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
		byHearing[ch.Hearing.ID] = ch
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
func (s *CalendarService) CalendarVersion(ctx context.Context, userID int64) (int64, time.Time, error) {
	s.db.awaitCalendars(ctx)
	var version int64
	var at time.Time
	err := s.db.Reader.QueryRowContext(ctx, `SELECT version, updated_at FROM calendar_versions WHERE user_id = ? AND calendar = ?`,
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
func (s *CalendarService) CalendarChanges(ctx context.Context, userID, since int64) ([]courtside.CalendarChange, int64, error) {
	tx, err := s.db.Reader.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	defer tx.Rollback()
	return calendarChanges(ctx, tx, userID, since)
}

// calendarVersionOf reads a user's calendar version.
const calendarVersionOf = `SELECT version FROM calendar_versions WHERE user_id = ? AND calendar = ?`

// calendarChangesAfter reads a user's changes after a version, in version order, from the
// calendar_changes_version index: only the rows after the version are read.
const calendarChangesAfter = `SELECT hearing_id, version, deleted FROM calendar_changes
	WHERE user_id = ? AND calendar = ? AND version > ? ORDER BY version, hearing_id`

// calendarChanges reads the changes after since and the current version through q, a read
// transaction.
func calendarChanges(ctx context.Context, q queryer, userID, since int64) ([]courtside.CalendarChange, int64, error) {
	var version int64
	err := q.QueryRowContext(ctx, calendarVersionOf, userID, HearingsCalendar).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	rows, err := q.QueryContext(ctx, calendarChangesAfter, userID, HearingsCalendar, since)
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

// audienceEvents are the events on which every user whose calendar holds the hearing gets a
// new version and a change for it, whether or not their object changed (the client fetches it
// again and finds the same ETag): a hearing's own changes, an advocate assigned, a booking
// taken, offered (the offered interpreter only) or ended (the leavers only).
var audienceEvents = map[courtside.EventType]bool{
	courtside.EventHearingScheduled: true, courtside.EventHearingChanged: true, courtside.EventHearingCancelled: true,
	courtside.EventAccompanimentAssigned: true, courtside.EventBookingAccepted: true, courtside.EventBookingDeclined: true,
	courtside.EventBookingExpired: true, courtside.EventBookingOffered: true,
}

// calendarEvent reports whether an event of type t can change a hearings calendar: the
// hearing, accompaniment and booking events.
func calendarEvent(t courtside.EventType) bool {
	s := string(t)
	return strings.HasPrefix(s, "hearing.") || strings.HasPrefix(s, "accompaniment.") || strings.HasPrefix(s, "booking.")
}

// ProjectCalendar is the calendar projection, an event-log handler that writes only through tx,
// the event's own transaction. For an event that can change a hearing's calendars (calendarEvent)
// it renders the hearing for every calendar that holds it (with DB.RenderCalendar) and keeps
// each object, its ETag and its time extent (calendar_objects), removing the objects of the
// calendars the hearing left; it bumps the change token of every user whose object changed, and
// on the audienceEvents of every user whose calendar holds the hearing, recording the version
// at which the hearing changed for each; for a user whose calendar held the hearing and no
// longer does, it records that the hearing left it (deleted).
func (s *CalendarService) ProjectCalendar(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	if ev.HearingID == 0 || !calendarEvent(ev.Type) {
		return nil
	}
	audiences, err := loadAudiences(ctx, tx, []int64{ev.HearingID})
	if err != nil {
		return err
	}
	a := audiences[ev.HearingID]
	if a == nil {
		return nil // no such hearing: nothing shows it
	}
	p := &versionBumper{ctx: ctx, tx: tx, hearingID: ev.HearingID, at: FormatTime(ev.At), bumped: map[int64]bool{}}
	if audienceEvents[ev.Type] {
		for _, m := range a.members {
			if ev.Type == courtside.EventBookingDeclined || ev.Type == courtside.EventBookingExpired {
				break // the hearing itself did not change: only who sees it may have
			}
			if ev.Type == courtside.EventBookingOffered && m.id != ev.UserID {
				continue // an offer changes only the offered interpreter's calendar
			}
			if err := p.change(m.id, false); err != nil {
				return err
			}
		}
	}
	var removed []int64
	if s.db.RenderCalendar != nil {
		changed, _, gone, err := s.db.keepObjects(ctx, tx, a)
		if err != nil {
			return err
		}
		removed = gone
		// Whoever sees an object that changed learns of it, whatever the event.
		for _, v := range changed {
			for _, id := range a.usersOf(v) {
				if !p.bumped[id] {
					if err := p.change(id, false); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := p.leavers(a, removed); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_backfill WHERE hearing_id = ?`, ev.HearingID); err != nil {
		return fmt.Errorf("storage: calendar backfill: %w", err)
	}
	return nil
}

// versionBumper moves users' hearings-calendar versions for one hearing in the projection's
// transaction.
type versionBumper struct {
	ctx       context.Context
	tx        *sql.Tx
	hearingID int64
	at        string
	bumped    map[int64]bool // users whose version moved for this event
}

// change bumps the user's version and records the hearing as changed (or deleted) at it.
func (p *versionBumper) change(userID int64, deleted bool) error {
	var version int64
	if err := p.tx.QueryRowContext(p.ctx, `INSERT INTO calendar_versions (user_id, calendar, version, updated_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (user_id, calendar) DO UPDATE SET version = calendar_versions.version + 1, updated_at = excluded.updated_at
		RETURNING version`, userID, HearingsCalendar, p.at).Scan(&version); err != nil {
		return fmt.Errorf("storage: bump calendar version: %w", err)
	}
	if _, err := p.tx.ExecContext(p.ctx, `INSERT INTO calendar_changes (user_id, calendar, hearing_id, version, deleted) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, calendar, hearing_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted`,
		userID, HearingsCalendar, p.hearingID, version, deleted); err != nil {
		return fmt.Errorf("storage: calendar change: %w", err)
	}
	p.bumped[userID] = true
	return nil
}

// calendarLeavers reads the users whose calendar holds a hearing by the change log (a change
// recorded, not deleted), from the calendar_changes_hearing index.
const calendarLeavers = `SELECT user_id FROM calendar_changes WHERE hearing_id = ? AND calendar = ? AND deleted = 0`

// leavers records that the hearing left the calendars of the users it was in who are no longer
// its audience: those with a change recorded and not deleted (an interpreter whose booking was
// declined at reconfirmation, for instance), and those whose stored object was removed.
func (p *versionBumper) leavers(a *hearingAudience, removed []int64) error {
	rows, err := p.tx.QueryContext(p.ctx, calendarLeavers, p.hearingID, HearingsCalendar)
	if err != nil {
		return fmt.Errorf("storage: calendar leavers: %w", err)
	}
	was, err := collectIDs(rows)
	if err != nil {
		return fmt.Errorf("storage: calendar leavers: %w", err)
	}
	stays := map[int64]bool{}
	for _, m := range a.members {
		stays[m.id] = true
	}
	for _, id := range append(was, removed...) {
		if stays[id] {
			continue
		}
		stays[id] = true // once
		if err := p.change(id, true); err != nil {
			return err
		}
	}
	return nil
}

// fillAttendees sets the interpreter's live booking on each hearing of their calendar.
func fillAttendees(ctx context.Context, q queryer, u *courtside.User, byHearing map[int64]*courtside.CalendarHearing) error {
	rows, err := q.QueryContext(ctx, `SELECT hearing_id, id, status FROM interpreter_bookings
		WHERE interpreter_id = ? AND status IN (`+heldBookingStatuses+`) ORDER BY id`, u.ID)
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
