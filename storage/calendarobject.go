package storage

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"courtside"
)

// The hearings calendars' stored objects (calendar_objects, migration 00019): the calendar
// projection renders a hearing for each calendar that holds it, in the event's transaction,
// and CalDAV and the webcal feeds read what it stored. A prosecutor's calendar is their
// office's view (every prosecutor of an office sees the same objects, so a new prosecutor's
// calendar is whole at once); an advocate's and an interpreter's are their own.

// Calendar views.
const (
	viewOffice = "OFFICE" // owner: the organisation of a prosecutor's office
	viewUser   = "USER"   // owner: an advocate or an interpreter
)

// calendarView names the objects of one hearings calendar.
type calendarView struct {
	kind  string
	owner int64
}

// viewOf returns the view that holds the user's hearings calendar, or false for a user
// without one.
func viewOf(role courtside.Role, userID int64, orgID *int64) (calendarView, bool) {
	switch role {
	case courtside.RoleProsecutor:
		if orgID == nil {
			return calendarView{}, false
		}
		return calendarView{viewOffice, *orgID}, true
	case courtside.RoleAdvocate, courtside.RoleInterpreter:
		return calendarView{viewUser, userID}, true
	}
	return calendarView{}, false
}

// calendarUser reads what decides a user's calendar view.
const calendarUser = `SELECT role, organization_id FROM users WHERE id = ?`

// userView reads the user's role and returns their calendar's view; ENOTFOUND for no such
// user.
func userView(ctx context.Context, q queryer, userID int64) (calendarView, bool, error) {
	var role courtside.Role
	var org sql.NullInt64
	err := q.QueryRowContext(ctx, calendarUser, userID).Scan(&role, &org)
	if errors.Is(err, sql.ErrNoRows) {
		return calendarView{}, false, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	} else if err != nil {
		return calendarView{}, false, fmt.Errorf("storage: calendar user: %w", err)
	}
	var orgID *int64
	if org.Valid {
		orgID = &org.Int64
	}
	v, ok := viewOf(role, userID, orgID)
	return v, ok, nil
}

// calendarWaitBacklog is the calendar projection's backlog beyond which a read does not wait for
// it (a large import being handled): it serves what is stored.
const calendarWaitBacklog = 1000

// calendarProgress reads the last event of the log and the last one the group has handled.
const calendarProgress = `SELECT COALESCE((SELECT MAX(id) FROM events), 0),
	COALESCE((SELECT MAX(last_id) FROM event_offsets WHERE consumer_group = ?), 0)`

// awaitCalendars waits until the calendar projection (DB.CalendarGroup) has handled every event
// committed before the call, so that a client reads its own change back, up to DB.CalendarWait
// and only while the projection is less than calendarWaitBacklog events behind. It never fails:
// past the wait, or on an error, the read serves what is stored.
func (db *DB) awaitCalendars(ctx context.Context) {
	if db.CalendarGroup == "" {
		return
	}
	var head, done int64
	if err := db.Reader.QueryRowContext(ctx, calendarProgress, db.CalendarGroup).Scan(&head, &done); err != nil ||
		done >= head || head-done > calendarWaitBacklog {
		return
	}
	wait := db.CalendarWait
	if wait <= 0 {
		wait = 2 * time.Second
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 5*time.Millisecond) {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-time.After(delay):
		}
		var ignored int64
		if err := db.Reader.QueryRowContext(ctx, calendarProgress, db.CalendarGroup).Scan(&ignored, &done); err != nil || done >= head {
			return
		}
	}
}

// calendarMemberRow is one user whose hearings calendar holds a hearing.
type calendarMemberRow struct {
	id       int64
	role     courtside.Role
	username string
}

// hearingAudience is a hearing with everyone whose hearings calendar holds it and what each of
// them sees of it.
type hearingAudience struct {
	hearing *courtside.CalendarHearing // the hearing, docket and court
	orgID   int64                      // the office's organisation
	members []calendarMemberRow        // by user ID
	// pseudonyms are, per advocate, the pseudonyms of the victims they accompany at the
	// hearing (live accompaniments), sorted; attendees per interpreter their live booking.
	pseudonyms map[int64][]string
	attendees  map[int64]*courtside.CalendarAttendee
}

// inList returns "(?, ?, ...)" for n values and the values as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}

// calendarAudienceHearings reads the hearings of the list that follows it, with their docket,
// court and office.
const calendarAudienceHearings = `SELECT ` + calendarHearingColumns + `, h.organization_id` + calendarHearingFrom + ` WHERE h.id IN `

// loadAudiences reads the audiences of the hearings through q (the projection's transaction):
// four queries, however many hearings. Hearings that do not exist are left out.
func loadAudiences(ctx context.Context, q queryer, hearingIDs []int64) (map[int64]*hearingAudience, error) {
	out := make(map[int64]*hearingAudience, len(hearingIDs))
	if len(hearingIDs) == 0 {
		return out, nil
	}
	list, args := inList(hearingIDs)
	rows, err := q.QueryContext(ctx, calendarAudienceHearings+list, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar audience: %w", err)
	}
	for rows.Next() {
		a := &hearingAudience{pseudonyms: map[int64][]string{}, attendees: map[int64]*courtside.CalendarAttendee{}}
		if a.hearing, err = scanCalendarHearing(rows, &a.orgID); err != nil {
			rows.Close()
			return nil, err
		}
		out[a.hearing.Hearing.ID] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar audience: %w", err)
	}

	rows, err = q.QueryContext(ctx, calendarMembersOf+list+` ORDER BY m.hearing_id, u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar members: %w", err)
	}
	for rows.Next() {
		var hearingID int64
		var m calendarMemberRow
		if err := rows.Scan(&hearingID, &m.id, &m.role, &m.username); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: calendar members: %w", err)
		}
		if a := out[hearingID]; a != nil {
			a.members = append(a.members, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar members: %w", err)
	}

	rows, err = q.QueryContext(ctx, calendarPseudonyms+list+` AND a.status <> 'CANCELLED' ORDER BY a.hearing_id, a.advocate_id, v.pseudonym`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
	}
	for rows.Next() {
		var hearingID, advocateID int64
		var p string
		if err := rows.Scan(&hearingID, &advocateID, &p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
		}
		if a := out[hearingID]; a != nil {
			a.pseudonyms[advocateID] = append(a.pseudonyms[advocateID], p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar pseudonyms: %w", err)
	}

	rows, err = q.QueryContext(ctx, calendarAttendees+list+` AND status IN (`+heldBookingStatuses+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar attendees: %w", err)
	}
	for rows.Next() {
		var hearingID, interpreterID int64
		var at courtside.CalendarAttendee
		if err := rows.Scan(&hearingID, &interpreterID, &at.BookingID, &at.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: calendar attendees: %w", err)
		}
		if a := out[hearingID]; a != nil {
			a.attendees[interpreterID] = &at // the latest booking, as fillAttendees
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar attendees: %w", err)
	}
	return out, nil
}

// calendarPseudonyms reads the pseudonyms of the victims accompanied at the hearings of the
// list that follows it, per advocate.
const calendarPseudonyms = `SELECT DISTINCT a.hearing_id, a.advocate_id, v.pseudonym FROM accompaniments a
	JOIN victims v ON v.id = a.victim_id WHERE a.hearing_id IN `

// calendarAttendees reads the interpreters' bookings of the hearings of the list that follows it.
const calendarAttendees = `SELECT hearing_id, interpreter_id, id, status FROM interpreter_bookings
	WHERE interpreter_id IS NOT NULL AND hearing_id IN `

// views returns what each calendar that holds the hearing shows of it: the office's view
// always (a prosecutor who joins the office later sees it), each advocate's with the pseudonyms
// they may see, each interpreter's with their booking as ATTENDEE.
func (a *hearingAudience) views() map[calendarView]*courtside.CalendarHearing {
	out := map[calendarView]*courtside.CalendarHearing{}
	base := *a.hearing
	base.Pseudonyms, base.Attendee = nil, nil
	office := base
	out[calendarView{viewOffice, a.orgID}] = &office
	for _, m := range a.members {
		ch := base
		switch m.role {
		case courtside.RoleAdvocate:
			ch.Pseudonyms = slices.Clone(a.pseudonyms[m.id])
		case courtside.RoleInterpreter:
			if at := a.attendees[m.id]; at != nil {
				c := *at
				c.Username = m.username
				ch.Attendee = &c
			}
		default:
			continue
		}
		out[calendarView{viewUser, m.id}] = &ch
	}
	return out
}

// usersOf returns the members who see view v: the office's prosecutors, or the view's owner.
func (a *hearingAudience) usersOf(v calendarView) []int64 {
	var out []int64
	for _, m := range a.members {
		if (v.kind == viewOffice && m.role == courtside.RoleProsecutor) || (v.kind == viewUser && m.id == v.owner) {
			out = append(out, m.id)
		}
	}
	return out
}

// calendarObjectsOfHearing reads what is stored of a hearing's views, from the
// calendar_objects_hearing index.
const calendarObjectsOfHearing = `SELECT view, owner_id, etag, in_feed FROM calendar_objects WHERE hearing_id = ?`

// keepObjects renders the hearing for each of its views and stores the objects that are new or
// changed, and the hearing's feed event when it changed, and removes the objects of the views
// that no longer hold it. It returns the views whose object changed (replaced: those that had
// one before) and the owners of the user views removed.
func (db *DB) keepObjects(ctx context.Context, tx *sql.Tx, a *hearingAudience) (changed, replaced []calendarView, removed []int64, err error) {
	id := a.hearing.Hearing.ID
	type stored struct {
		etag   string
		inFeed bool
	}
	have := map[calendarView]stored{}
	rows, err := tx.QueryContext(ctx, calendarObjectsOfHearing, id)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	for rows.Next() {
		var v calendarView
		var s stored
		if err := rows.Scan(&v.kind, &v.owner, &s.etag, &s.inFeed); err != nil {
			rows.Close()
			return nil, nil, nil, fmt.Errorf("storage: calendar objects: %w", err)
		}
		have[v] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	views := a.views()
	keys := make([]calendarView, 0, len(views))
	for v := range views {
		keys = append(keys, v)
	}
	slices.SortFunc(keys, func(x, y calendarView) int { // a stable order of writes; the office's first
		if c := strings.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		return cmp.Compare(x.owner, y.owner)
	})
	for _, v := range keys {
		ch := views[v]
		r, err := db.RenderCalendar(ch)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("storage: render hearing %d for a calendar: %w", id, err)
		}
		if v.kind == viewOffice {
			// The office's object is never an open offer: its feed event is every calendar's.
			if err := keepFeedEvent(ctx, tx, id, r.FeedEvent); err != nil {
				return nil, nil, nil, err
			}
		}
		inFeed := r.FeedEvent != nil
		if s, ok := have[v]; ok && s.etag == r.ETag && s.inFeed == inFeed {
			continue
		}
		h := &ch.Hearing
		modified := h.UpdatedAt
		if modified.IsZero() {
			modified = h.CreatedAt
		}
		var cancelled any
		if h.Status == courtside.HearingCancelled {
			cancelled = FormatTime(modified)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_objects (view, owner_id, hearing_id, data, etag, size, starts_at, ends_at,
				modified_at, in_feed, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (view, owner_id, hearing_id) DO UPDATE SET data = excluded.data, etag = excluded.etag, size = excluded.size,
				starts_at = excluded.starts_at, ends_at = excluded.ends_at, modified_at = excluded.modified_at,
				in_feed = excluded.in_feed, cancelled_at = excluded.cancelled_at`,
			v.kind, v.owner, id, r.Data, r.ETag, len(r.Data), FormatTime(h.StartsAt), FormatTime(h.EndsAt),
			FormatTime(modified), inFeed, cancelled); err != nil {
			return nil, nil, nil, fmt.Errorf("storage: keep calendar object: %w", err)
		}
		changed = append(changed, v)
		if _, ok := have[v]; ok {
			replaced = append(replaced, v)
		}
	}
	for v := range have {
		if _, ok := views[v]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_objects WHERE view = ? AND owner_id = ? AND hearing_id = ?`,
			v.kind, v.owner, id); err != nil {
			return nil, nil, nil, fmt.Errorf("storage: remove calendar object: %w", err)
		}
		if v.kind == viewUser {
			removed = append(removed, v.owner)
		}
	}
	slices.Sort(removed)
	return changed, replaced, removed, nil
}

// keepFeedEvent stores the hearing's feed event when it is not stored as it is already.
func keepFeedEvent(ctx context.Context, tx *sql.Tx, hearingID int64, event []byte) error {
	if event == nil {
		return fmt.Errorf("storage: hearing %d has no feed event", hearingID)
	}
	var stored []byte
	err := tx.QueryRowContext(ctx, `SELECT event FROM calendar_feed_events WHERE hearing_id = ?`, hearingID).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: feed event: %w", err)
	}
	if err == nil && bytes.Equal(stored, event) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_feed_events (hearing_id, event) VALUES (?, ?)
		ON CONFLICT (hearing_id) DO UPDATE SET event = excluded.event`, hearingID, event); err != nil {
		return fmt.Errorf("storage: keep feed event: %w", err)
	}
	return nil
}

// backfillBatch is how many hearings BackfillCalendarObjects renders per transaction.
const backfillBatch = 500

// BackfillCalendarObjects renders the stored objects of every hearing on the backfill queue
// (calendar_backfill: the hearings of a database written before the objects were stored, or
// every hearing when the objects were rendered by another version of the renderer than
// DB.RenderCalendarVersion), backfillBatch hearings a transaction, and returns how many
// hearings it rendered. An object stored for the first time moves no change token (it is what
// the calendar showed already); one that another renderer had stored differently moves the
// version of everyone who sees it, with a change, so that sync reports it; a hearing that
// left a calendar leaves it as the projection has it. It is resumable: a hearing leaves the
// queue in the transaction that stores its objects. serve runs it at start-up, before the
// event router, with DB.RenderCalendar set.
func (s *CalendarService) BackfillCalendarObjects(ctx context.Context) (int, error) {
	if s.db.RenderCalendar == nil {
		return 0, fmt.Errorf("storage: backfill calendar objects: no renderer (DB.RenderCalendar)")
	}
	if err := s.db.queueForRenderer(ctx); err != nil {
		return 0, err
	}
	done := 0
	for {
		n, err := s.db.backfillCalendarBatch(ctx)
		done += n
		if err != nil || n == 0 {
			return done, err
		}
	}
}

// queueForRenderer puts every hearing on the backfill queue when the stored objects were
// rendered by another version of the renderer than DB.RenderCalendarVersion, and records that
// version, in one transaction. An unset version checks nothing.
func (db *DB) queueForRenderer(ctx context.Context) error {
	if db.RenderCalendarVersion == "" {
		return nil
	}
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: calendar renderer: %w", err)
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, `SELECT version FROM calendar_render WHERE id = 1`).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: calendar renderer: %w", err)
	}
	if stored == db.RenderCalendarVersion {
		return nil
	}
	// No version yet: the objects, if any, are this renderer's (the backfill queue of
	// migration 00019 holds whatever was never rendered).
	if stored != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_backfill (hearing_id) SELECT id FROM hearings WHERE true ON CONFLICT DO NOTHING`); err != nil {
			return fmt.Errorf("storage: calendar renderer: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_render (id, version) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version`, db.RenderCalendarVersion); err != nil {
		return fmt.Errorf("storage: calendar renderer: %w", err)
	}
	return tx.Commit()
}

// calendarBackfillNext reads the first hearings of the backfill queue.
const calendarBackfillNext = `SELECT hearing_id FROM calendar_backfill ORDER BY hearing_id LIMIT ?`

// backfillCalendarBatch renders the first backfillBatch hearings of the queue in one
// transaction.
func (db *DB) backfillCalendarBatch(ctx context.Context) (int, error) {
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("storage: backfill calendar objects: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, calendarBackfillNext, backfillBatch)
	if err != nil {
		return 0, fmt.Errorf("storage: backfill calendar objects: %w", err)
	}
	ids, err := collectIDs(rows)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	audiences, err := loadAudiences(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	at := FormatTime(db.Now())
	for _, id := range ids {
		a := audiences[id]
		if a == nil {
			continue
		}
		_, replaced, removed, err := db.keepObjects(ctx, tx, a)
		if err != nil {
			return 0, err
		}
		p := &versionBumper{ctx: ctx, tx: tx, hearingID: id, at: at, bumped: map[int64]bool{}}
		for _, v := range replaced {
			for _, u := range a.usersOf(v) {
				if !p.bumped[u] {
					if err := p.change(u, false); err != nil {
						return 0, err
					}
				}
			}
		}
		if err := p.leavers(a, removed); err != nil {
			return 0, err
		}
	}
	list, args := inList(ids)
	if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_backfill WHERE hearing_id IN `+list, args...); err != nil {
		return 0, fmt.Errorf("storage: backfill calendar objects: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("storage: backfill calendar objects: %w", err)
	}
	return len(ids), nil
}

// calendarObjectColumns are the columns scanCalendarObject reads, and with data the object's
// bytes after them.
const calendarObjectColumns = `hearing_id, etag, size, starts_at, ends_at, modified_at`

// scanCalendarObjects reads every row of rows, of calendarObjectColumns and the data when
// withData, and closes rows. A listing reads thousands of rows: the objects are allocated
// together, the times read in place and parsed by hand.
func scanCalendarObjects(rows *sql.Rows, withData bool) ([]*courtside.CalendarObject, error) {
	defer rows.Close()
	var o courtside.CalendarObject
	var starts, ends, modified sql.RawBytes
	dest := []any{&o.HearingID, &o.ETag, &o.Size, &starts, &ends, &modified}
	if withData {
		dest = append(dest, &o.Data)
	}
	var vals []courtside.CalendarObject
	for rows.Next() {
		o = courtside.CalendarObject{}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("storage: scan calendar object: %w", err)
		}
		var err error
		if o.StartsAt, err = parseStoredTime(starts); err != nil {
			return nil, err
		}
		if o.EndsAt, err = parseStoredTime(ends); err != nil {
			return nil, err
		}
		if o.ModifiedAt, err = parseStoredTime(modified); err != nil {
			return nil, err
		}
		vals = append(vals, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	out := make([]*courtside.CalendarObject, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out, nil
}

// parseStoredTime parses a stored time (TimeFormat: fixed-width UTC text) without the layout
// interpretation of time.Parse; anything else goes to ParseTime.
func parseStoredTime(b []byte) (time.Time, error) {
	const layout = "0000-00-00T00:00:00.000Z"
	if len(b) != len(layout) {
		return ParseTime(string(b))
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	for i := range layout {
		if layout[i] != '0' && b[i] != layout[i] {
			return ParseTime(string(b))
		}
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	ms, ok7 := num(20, 23)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return ParseTime(string(b))
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != day {
		return ParseTime(string(b)) // 31 June and the like: time.Parse's error
	}
	return t, nil
}

// objectColumns returns the columns to select, with data when withData.
func objectColumns(withData bool) string {
	if withData {
		return calendarObjectColumns + ", data"
	}
	return calendarObjectColumns
}

// calendarObjectsInView lists a view's objects in calendar order; a time range may follow.
const calendarObjectsInView = ` FROM calendar_objects WHERE view = ? AND owner_id = ?`

// FindCalendarObjects returns the stored objects of the user's hearings calendar that overlap
// [from, to), ordered by start, then hearing; a zero bound is open. Without data the answer
// comes from the calendar_objects_time index alone.
func (s *CalendarService) FindCalendarObjects(ctx context.Context, userID int64, from, to time.Time, withData bool) ([]*courtside.CalendarObject, error) {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, courtside.Invalidf("to", "The end of the range must not be before its start.")
	}
	s.db.awaitCalendars(ctx)
	// No transaction: a user's view never changes, and one query reads the objects.
	v, ok, err := userView(ctx, s.db.Reader, userID)
	if err != nil || !ok {
		return nil, err
	}
	query, args := `SELECT `+objectColumns(withData)+calendarObjectsInView, []any{v.kind, v.owner}
	if !to.IsZero() {
		query, args = query+` AND starts_at < ?`, append(args, FormatTime(to))
	}
	if !from.IsZero() {
		query, args = query+` AND ends_at > ?`, append(args, FormatTime(from))
	}
	rows, err := s.db.Reader.QueryContext(ctx, query+` ORDER BY starts_at, hearing_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	return scanCalendarObjects(rows, withData)
}

// calendarObjectHeads lists a view's objects without their data, in calendar order, from the
// calendar_objects_time index alone.
const calendarObjectHeads = `SELECT hearing_id, etag, size, modified_at FROM calendar_objects
	WHERE view = ? AND owner_id = ? ORDER BY starts_at, hearing_id`

// FindCalendarObjectHeads returns the objects of the user's hearings calendar without their
// data or times: hearing, ETag, size and last modification, in calendar order, read from an
// index alone (a PROPFIND Depth 1 asking for ETags).
func (s *CalendarService) FindCalendarObjectHeads(ctx context.Context, userID int64) ([]*courtside.CalendarObject, error) {
	s.db.awaitCalendars(ctx)
	v, ok, err := userView(ctx, s.db.Reader, userID)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := s.db.Reader.QueryContext(ctx, calendarObjectHeads, v.kind, v.owner)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	defer rows.Close()
	var o courtside.CalendarObject
	var modified sql.RawBytes
	dest := []any{&o.HearingID, &o.ETag, &o.Size, &modified}
	var vals []courtside.CalendarObject
	for rows.Next() {
		o = courtside.CalendarObject{}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("storage: scan calendar object: %w", err)
		}
		if o.ModifiedAt, err = parseStoredTime(modified); err != nil {
			return nil, err
		}
		vals = append(vals, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar objects: %w", err)
	}
	out := make([]*courtside.CalendarObject, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out, nil
}

// FindCalendarObjectsByID returns the stored objects of the given hearings that are in the
// user's hearings calendar.
func (s *CalendarService) FindCalendarObjectsByID(ctx context.Context, userID int64, hearingIDs []int64, withData bool) ([]*courtside.CalendarObject, error) {
	s.db.awaitCalendars(ctx)
	v, ok, err := userView(ctx, s.db.Reader, userID)
	if err != nil || !ok {
		return nil, err
	}
	return objectsByID(ctx, s.db.Reader, v, hearingIDs, withData)
}

// objectsByID reads the view's objects of the given hearings, 500 hearings a query.
func objectsByID(ctx context.Context, q queryer, v calendarView, hearingIDs []int64, withData bool) ([]*courtside.CalendarObject, error) {
	var out []*courtside.CalendarObject
	for len(hearingIDs) > 0 {
		n := min(len(hearingIDs), 500)
		list, args := inList(hearingIDs[:n])
		hearingIDs = hearingIDs[n:]
		rows, err := q.QueryContext(ctx, `SELECT `+objectColumns(withData)+calendarObjectsInView+` AND hearing_id IN `+list,
			append([]any{v.kind, v.owner}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("storage: calendar objects: %w", err)
		}
		objs, err := scanCalendarObjects(rows, withData)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// CalendarObjectChanges returns the user's hearings-calendar changes after since, each with its
// stored object (nil for a hearing that left the calendar), and the current version, in one
// read snapshot. It reads the change rows after since and the objects of those hearings only.
func (s *CalendarService) CalendarObjectChanges(ctx context.Context, userID, since int64, withData bool) ([]courtside.CalendarObjectChange, int64, error) {
	s.db.awaitCalendars(ctx)
	tx, err := s.db.Reader.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: calendar changes: %w", err)
	}
	defer tx.Rollback()
	changes, version, err := calendarChanges(ctx, tx, userID, since)
	if err != nil {
		return nil, 0, err
	}
	out := make([]courtside.CalendarObjectChange, len(changes))
	var ids []int64
	for i, c := range changes {
		out[i].CalendarChange = c
		if !c.Deleted {
			ids = append(ids, c.HearingID)
		}
	}
	if len(ids) == 0 {
		return out, version, nil
	}
	v, ok, err := userView(ctx, tx, userID)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return out, version, nil
	}
	objs, err := objectsByID(ctx, tx, v, ids, withData)
	if err != nil {
		return nil, 0, err
	}
	byID := make(map[int64]*courtside.CalendarObject, len(objs))
	for _, o := range objs {
		byID[o.HearingID] = o
	}
	for i := range out {
		if !out[i].Deleted {
			out[i].Object = byID[out[i].HearingID]
		}
	}
	return out, version, nil
}

// calendarFeedWindow is the condition of a view's feed events in a window, on calendar_objects
// o: read from the calendar_objects_feed index alone.
const calendarFeedWindow = ` WHERE o.view = ? AND o.owner_id = ? AND o.in_feed = 1
	AND o.starts_at < ? AND o.ends_at > ? AND (o.cancelled_at IS NULL OR o.cancelled_at > ?)`

// calendarFeedEvents lists a view's feed events in a window, in calendar order, each event read
// by its hearing.
const calendarFeedEvents = `SELECT f.event FROM calendar_objects o JOIN calendar_feed_events f ON f.hearing_id = o.hearing_id` +
	calendarFeedWindow + ` ORDER BY o.starts_at, o.hearing_id`

// calendarFeedBounds reads the earliest end and cancellation of a view's feed events in a window.
const calendarFeedBounds = `SELECT MIN(o.ends_at), MIN(o.cancelled_at) FROM calendar_objects o` + calendarFeedWindow

// calendarNextFeedStart reads the earliest start of a view's feed events at or after a time.
const calendarNextFeedStart = `SELECT MIN(starts_at) FROM calendar_objects
	WHERE view = ? AND owner_id = ? AND in_feed = 1 AND starts_at >= ?`

// ceilMillis returns t rounded up to the stored precision (milliseconds): a stored time (whole
// milliseconds) is before t exactly when it is before FormatTime(ceilMillis(t)). A stored time is
// after t exactly when it is after FormatTime(t), which rounds down.
func ceilMillis(t time.Time) time.Time {
	if d := t.Sub(t.Truncate(time.Millisecond)); d > 0 {
		return t.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	return t
}

// FindFeedEvents returns the feed events of the user's hearings calendar in the window, the
// bounds that say when the window's moving changes them, and the calendar version, from one
// read snapshot. The window is decided in SQL, on the stored times, exactly.
func (svc *CalendarService) FindFeedEvents(ctx context.Context, userID int64, w courtside.FeedWindow) (*courtside.FeedEvents, error) {
	if w.Until.Before(w.From) {
		return nil, courtside.Invalidf("until", "The end of the window must not be before its start.")
	}
	svc.db.awaitCalendars(ctx)
	tx, err := svc.db.Reader.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	defer tx.Rollback()
	out := &courtside.FeedEvents{}
	// The version first: the events read after it are at least as new as it says.
	err = tx.QueryRowContext(ctx, calendarVersionOf, userID, HearingsCalendar).Scan(&out.Version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	v, ok, err := userView(ctx, tx, userID)
	if err != nil || !ok {
		return out, err
	}
	until := FormatTime(ceilMillis(w.Until))
	args := []any{v.kind, v.owner, until, FormatTime(w.From), FormatTime(w.CancelledAfter)}
	rows, err := tx.QueryContext(ctx, calendarFeedEvents, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	defer rows.Close()
	var event []byte
	for rows.Next() {
		if err := rows.Scan(&event); err != nil {
			return nil, fmt.Errorf("storage: scan feed event: %w", err)
		}
		out.Events, event = append(out.Events, event), nil
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	var end, cancelled, next sql.NullString
	if err := tx.QueryRowContext(ctx, calendarFeedBounds, args...).Scan(&end, &cancelled); err != nil {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	if err := tx.QueryRowContext(ctx, calendarNextFeedStart, v.kind, v.owner, until).Scan(&next); err != nil {
		return nil, fmt.Errorf("storage: feed events: %w", err)
	}
	for _, t := range []struct {
		s  sql.NullString
		to *time.Time
	}{{end, &out.FirstEnd}, {cancelled, &out.FirstCancelled}, {next, &out.NextStart}} {
		if t.s.Valid {
			if *t.to, err = ParseTime(t.s.String); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
