package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// AvailabilityService is the database's service for personal calendars: their objects, busy
// blocks, occurrences and changes.
type AvailabilityService struct {
	db *DB
}

// NewAvailabilityService returns the availability service of db.
func NewAvailabilityService(db *DB) *AvailabilityService { return &AvailabilityService{db: db} }

var _ courtside.AvailabilityService = (*AvailabilityService)(nil)

// Personal calendars (see courtside.AvailabilityService and migrations/00007_availability.sql).
// The availability calendar has no row until its first write; reads show it with version 0.
// Every write runs in one transaction with its audit row; the calendar's version and the
// object's change row move with it, so CS:getctag and sync-collection see exactly the writes.

// personalCalendarObject names a personal calendar in audit rows.
func personalCalendarObject(userID int64, name string) string {
	return "personal-calendar:" + strconv.FormatInt(userID, 10) + "/" + name
}

// FindPersonalCalendars returns the caller's personal calendars, availability first.
func (s *AvailabilityService) FindPersonalCalendars(ctx context.Context) ([]*courtside.PersonalCalendar, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT name, display_name, version, components, incarnation, created_at, updated_at
		FROM personal_calendars WHERE user_id = ? ORDER BY name <> ?, name`, u.ID, courtside.AvailabilityCalendar)
	if err != nil {
		return nil, fmt.Errorf("storage: personal calendars: %w", err)
	}
	defer rows.Close()
	var out []*courtside.PersonalCalendar
	for rows.Next() {
		c := &courtside.PersonalCalendar{UserID: u.ID}
		var components string
		if err := rows.Scan(&c.Name, &c.DisplayName, &c.Version, &components, &c.Incarnation, scanTime{&c.CreatedAt},
			scanTime{&c.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan personal calendar: %w", err)
		}
		c.Components = splitComponents(components)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: personal calendars: %w", err)
	}
	if len(out) == 0 || out[0].Name != courtside.AvailabilityCalendar {
		out = append([]*courtside.PersonalCalendar{defaultAvailability(u.ID)}, out...)
	}
	return out, nil
}

// defaultAvailability is the availability calendar before its first write.
func defaultAvailability(userID int64) *courtside.PersonalCalendar {
	return &courtside.PersonalCalendar{UserID: userID, Name: courtside.AvailabilityCalendar, DisplayName: "Availability",
		Components: append([]string(nil), courtside.CalendarComponents...)}
}

// splitComponents reads the stored components of a calendar (migration 00034).
func splitComponents(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// newIncarnation returns a random incarnation for a calendar MKCALENDAR makes: 64 bits in hex.
func newIncarnation() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("storage: calendar incarnation: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// FindPersonalCalendar returns one of the caller's personal calendars.
func (s *AvailabilityService) FindPersonalCalendar(ctx context.Context, name string) (*courtside.PersonalCalendar, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	return findPersonalCalendar(ctx, s.db.Reader, u.ID, name)
}

func findPersonalCalendar(ctx context.Context, q queryer, userID int64, name string) (*courtside.PersonalCalendar, error) {
	c := &courtside.PersonalCalendar{UserID: userID, Name: name}
	var components string
	err := q.QueryRowContext(ctx, `SELECT display_name, version, components, incarnation, created_at, updated_at FROM personal_calendars
		WHERE user_id = ? AND name = ?`, userID, name).Scan(&c.DisplayName, &c.Version, &components, &c.Incarnation,
		scanTime{&c.CreatedAt}, scanTime{&c.UpdatedAt})
	c.Components = splitComponents(components)
	if errors.Is(err, sql.ErrNoRows) {
		if name == courtside.AvailabilityCalendar {
			return defaultAvailability(userID), nil
		}
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Calendar not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: personal calendar: %w", err)
	}
	return c, nil
}

// CreatePersonalCalendar creates a personal calendar for the caller, with a new incarnation
// and, in the same transaction, the description and colour it was made with.
func (s *AvailabilityService) CreatePersonalCalendar(ctx context.Context, nc courtside.NewPersonalCalendar) (*courtside.PersonalCalendar, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	name := nc.Name
	if err := courtside.ValidatePersonalCalendarName(name); err != nil {
		return nil, err
	}
	displayName := strings.TrimSpace(nc.DisplayName)
	if len(displayName) > 200 {
		return nil, courtside.Invalidf("displayName", "A display name must be at most 200 characters.")
	}
	description := strings.TrimSpace(nc.Description)
	if len(description) > courtside.MaxCalendarDescription {
		return nil, courtside.Invalidf("description", "A description must be at most %d bytes.", courtside.MaxCalendarDescription)
	}
	if nc.Color != "" {
		if err := courtside.ValidateCalendarColor(nc.Color); err != nil {
			return nil, err
		}
	}
	components, err := courtside.NormalizeComponents(nc.Components)
	if err != nil {
		return nil, err
	}
	incarnation, err := newIncarnation()
	if err != nil {
		return nil, err
	}
	var c *courtside.PersonalCalendar
	err = s.db.update(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM personal_calendars WHERE user_id = ? AND name = ?)`,
			u.ID, name).Scan(&exists); err != nil {
			return fmt.Errorf("storage: personal calendar: %w", err)
		}
		if exists || name == courtside.AvailabilityCalendar {
			return courtside.Errorf(courtside.ECONFLICT, "That calendar exists.")
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM personal_calendars WHERE user_id = ? AND name <> ?`,
			u.ID, courtside.AvailabilityCalendar).Scan(&n); err != nil {
			return fmt.Errorf("storage: count personal calendars: %w", err)
		}
		if n+1 >= courtside.MaxPersonalCalendars { // availability counts, whether or not it has a row
			return &courtside.Error{Code: courtside.EINVALID, Field: courtside.FieldLimit,
				Message: fmt.Sprintf("At most %d calendars.", courtside.MaxPersonalCalendars)}
		}
		c = &courtside.PersonalCalendar{UserID: u.ID, Name: name, DisplayName: displayName, Components: components,
			Incarnation: incarnation, CreatedAt: tx.now, UpdatedAt: tx.now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO personal_calendars (user_id, name, display_name, version, components, incarnation,
				created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?)`, u.ID, name, displayName, strings.Join(components, ","),
			incarnation, FormatTime(tx.now), FormatTime(tx.now)); err != nil {
			return fmt.Errorf("storage: create personal calendar: %w", mapSQLError(err))
		}
		// Settings left by an earlier calendar of the name went with it (DeletePersonalCalendar).
		if description != "" || nc.Color != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_settings (user_id, calendar, display_name, color, description, updated_at)
				VALUES (?, ?, NULL, ?, ?, ?) ON CONFLICT (user_id, calendar) DO UPDATE SET color = excluded.color,
					description = excluded.description, updated_at = excluded.updated_at`,
				u.ID, name, nullable(nc.Color), nullable(description), FormatTime(tx.now)); err != nil {
				return fmt.Errorf("storage: calendar settings: %w", err)
			}
		}
		tx.Audit("calendar.create", personalCalendarObject(u.ID, name), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// nullable stores "" as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// DeletePersonalCalendar deletes one of the caller's personal calendars: its objects (their
// busy blocks and occurrences cascade), its change log and its settings, in one transaction,
// audited. A token of the deleted calendar names no calendar, and one made again under the
// name has a new incarnation, so old tokens stay refused (RFC 6578 section 3.2).
func (s *AvailabilityService) DeletePersonalCalendar(ctx context.Context, name string) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if name == courtside.AvailabilityCalendar {
		return courtside.Errorf(courtside.EFORBIDDEN, "The availability calendar cannot be deleted: delete its events instead.")
	}
	return s.db.update(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM personal_calendars WHERE user_id = ? AND name = ?)`,
			u.ID, name).Scan(&exists); err != nil {
			return fmt.Errorf("storage: personal calendar: %w", err)
		}
		if !exists {
			return courtside.Errorf(courtside.ENOTFOUND, "Calendar not found.")
		}
		for _, q := range []string{
			`DELETE FROM availability_objects WHERE user_id = ? AND calendar = ?`,
			`DELETE FROM availability_changes WHERE user_id = ? AND calendar = ?`,
			`DELETE FROM calendar_settings WHERE user_id = ? AND calendar = ?`,
			`DELETE FROM personal_calendars WHERE user_id = ? AND name = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, u.ID, name); err != nil {
				return fmt.Errorf("storage: delete personal calendar: %w", err)
			}
		}
		tx.Audit("calendar.delete", personalCalendarObject(u.ID, name), courtside.OutcomeOK)
		return nil
	})
}

// ensureCalendar returns the calendar's row inside tx, creating availability's on first use.
func ensureCalendar(ctx context.Context, tx *Tx, userID int64, name string) (*courtside.PersonalCalendar, error) {
	if name == courtside.AvailabilityCalendar {
		_, err := tx.ExecContext(ctx, `INSERT INTO personal_calendars (user_id, name, display_name, version, created_at, updated_at)
			VALUES (?, ?, 'Availability', 0, ?, ?) ON CONFLICT (user_id, name) DO NOTHING`,
			userID, name, FormatTime(tx.now), FormatTime(tx.now))
		if err != nil {
			return nil, fmt.Errorf("storage: create availability calendar: %w", err)
		}
	}
	return findPersonalCalendar(ctx, tx, userID, name)
}

// bumpCalendar moves the calendar's version and its size by sizeDelta bytes, and records the
// object's change.
func bumpCalendar(ctx context.Context, tx *Tx, userID int64, calendar, name string, deleted bool, sizeDelta int64) error {
	var version int64
	if err := tx.QueryRowContext(ctx, `UPDATE personal_calendars SET version = version + 1,
		bytes = CASE WHEN bytes + ? > 0 THEN bytes + ? ELSE 0 END, updated_at = ?
		WHERE user_id = ? AND name = ? RETURNING version`, sizeDelta, sizeDelta, FormatTime(tx.now), userID, calendar).Scan(&version); err != nil {
		return fmt.Errorf("storage: bump personal calendar: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO availability_changes (user_id, calendar, name, version, deleted) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, calendar, name) DO UPDATE SET version = excluded.version, deleted = excluded.deleted`,
		userID, calendar, name, version, deleted); err != nil {
		return fmt.Errorf("storage: personal calendar change: %w", err)
	}
	return nil
}

// etagMatches reports whether an If-Match value ("*" or an unquoted ETag) matches etag.
func etagMatches(ifMatch, etag string) bool {
	return ifMatch == "*" || ifMatch == etag
}

// PutAvailabilityObject creates or replaces an object of one of the caller's calendars.
func (s *AvailabilityService) PutAvailabilityObject(ctx context.Context, obj *courtside.AvailabilityObject, cond courtside.PutCondition) (bool, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return false, err
	}
	if err := courtside.ValidateObjectName(obj.Name); err != nil {
		return false, err
	}
	switch {
	case obj.Component != courtside.ComponentEvent && obj.Component != courtside.ComponentTodo && obj.Component != courtside.ComponentJournal:
		return false, courtside.Invalidf(courtside.FieldComponent, "Only VEVENT, VTODO and VJOURNAL objects are supported.")
	case obj.UID == "" || len(obj.UID) > 255:
		return false, courtside.Invalidf("uid", "An object needs a UID of at most 255 characters.")
	case len(obj.Data) > courtside.MaxCalendarObjectBytes:
		return false, courtside.Invalidf("data", "An object must be at most %d bytes.", courtside.MaxCalendarObjectBytes)
	case len(obj.Busy) > courtside.MaxBusyInstances:
		return false, courtside.Invalidf("busy", "At most %d busy instances per object.", courtside.MaxBusyInstances)
	case obj.ETag == "":
		return false, fmt.Errorf("storage: put availability object: no ETag")
	}
	if !obj.ExtentStart.IsZero() && !obj.ExtentEnd.IsZero() && obj.ExtentEnd.Before(obj.ExtentStart) {
		return false, courtside.Invalidf("extent", "An object's extent must not end before it starts.")
	}
	if obj.ExtentExact && (obj.ExtentStart.IsZero() || obj.ExtentEnd.IsZero()) {
		obj.ExtentExact = false // an open extent is never exact
	}
	for _, b := range obj.Busy {
		if !b.End.After(b.Start) {
			return false, courtside.Invalidf("busy", "A busy interval must end after it starts.")
		}
	}
	if len(obj.Occurrences) > courtside.MaxBusyInstances {
		return false, courtside.Invalidf("occurrences", "At most %d stored occurrences per object.", courtside.MaxBusyInstances)
	}
	for _, o := range obj.Occurrences {
		if o.End.Before(o.Start) {
			return false, courtside.Invalidf("occurrences", "An occurrence must not end before it starts.")
		}
	}
	until := occurrencesUntil(obj)
	obj.UserID = u.ID
	obj.Size = int64(len(obj.Data))
	created := false
	err = s.db.update(ctx, func(tx *Tx) error {
		cal, err := ensureCalendar(ctx, tx, u.ID, obj.Calendar)
		if err != nil {
			return err
		}
		if !cal.Takes(obj.Component) {
			return courtside.Invalidf(courtside.FieldComponent, "This calendar takes only %s objects.",
				strings.Join(cal.Components, ", "))
		}
		var etag string
		var createdAt time.Time
		var oldSize int64
		err = tx.QueryRowContext(ctx, `SELECT etag, created_at, size FROM availability_objects WHERE user_id = ? AND calendar = ? AND name = ?`,
			u.ID, obj.Calendar, obj.Name).Scan(&etag, scanTime{&createdAt}, &oldSize)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: find availability object: %w", err)
		}
		switch {
		case exists && cond.IfNoneMatch:
			return &courtside.Error{Code: courtside.ECONFLICT, Field: courtside.FieldPrecondition, Message: "The object exists."}
		case cond.IfMatch != "" && (!exists || !etagMatches(cond.IfMatch, etag)):
			return &courtside.Error{Code: courtside.ECONFLICT, Field: courtside.FieldPrecondition, Message: "The object has changed."}
		}
		var other string
		err = tx.QueryRowContext(ctx, `SELECT name FROM availability_objects WHERE user_id = ? AND calendar = ? AND uid = ? AND name <> ?`,
			u.ID, obj.Calendar, obj.UID, obj.Name).Scan(&other)
		if err == nil {
			return &courtside.Error{Code: courtside.ECONFLICT, Field: courtside.FieldUID, Message: "Another object of the calendar has this UID."}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("storage: find availability uid: %w", err)
		}
		// The calendar's data together stays within MaxCalendarBytes, so that a listing of it
		// (PROPFIND, calendar-query, multiget) holds a bounded amount in memory.
		var size int64
		if err := tx.QueryRowContext(ctx, `SELECT bytes FROM personal_calendars WHERE user_id = ? AND name = ?`,
			u.ID, obj.Calendar).Scan(&size); err != nil {
			return fmt.Errorf("storage: size of personal calendar: %w", err)
		}
		if obj.Size > oldSize && size-oldSize+obj.Size > courtside.MaxCalendarBytes {
			return &courtside.Error{Code: courtside.EINVALID, Field: courtside.FieldLimit,
				Message: fmt.Sprintf("A calendar holds at most %d MiB of data.", courtside.MaxCalendarBytes>>20)}
		}
		now := FormatTime(tx.now)
		if exists {
			obj.CreatedAt = createdAt
			if _, err := tx.ExecContext(ctx, `UPDATE availability_objects SET uid = ?, component = ?, etag = ?, data = ?, updated_at = ?,
				extent_start = ?, extent_end = ?, extent_exact = ?, size = ?, occurrences_until = ?, schedule_tag = ?
				WHERE user_id = ? AND calendar = ? AND name = ?`, obj.UID, obj.Component, obj.ETag, obj.Data, now,
				extentStart(obj.ExtentStart), extentEnd(obj.ExtentEnd), obj.ExtentExact, obj.Size, until, obj.ScheduleTag,
				u.ID, obj.Calendar, obj.Name); err != nil {
				return fmt.Errorf("storage: update availability object: %w", err)
			}
			for _, table := range []string{"availability_busy", "availability_occurrences"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ? AND calendar = ? AND name = ?`,
					u.ID, obj.Calendar, obj.Name); err != nil {
					return fmt.Errorf("storage: clear %s: %w", table, err)
				}
			}
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM availability_objects WHERE user_id = ? AND calendar = ?`,
				u.ID, obj.Calendar).Scan(&n); err != nil {
				return fmt.Errorf("storage: count availability objects: %w", err)
			}
			if n >= courtside.MaxCalendarObjects {
				return &courtside.Error{Code: courtside.EINVALID, Field: courtside.FieldLimit,
					Message: fmt.Sprintf("A calendar holds at most %d objects.", courtside.MaxCalendarObjects)}
			}
			obj.CreatedAt = tx.now
			if _, err := tx.ExecContext(ctx, `INSERT INTO availability_objects (user_id, calendar, name, uid, component, etag, data, created_at, updated_at,
				extent_start, extent_end, extent_exact, size, occurrences_until, schedule_tag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.ID, obj.Calendar, obj.Name, obj.UID, obj.Component, obj.ETag, obj.Data, now, now, extentStart(obj.ExtentStart),
				extentEnd(obj.ExtentEnd), obj.ExtentExact, obj.Size, until, obj.ScheduleTag); err != nil {
				return fmt.Errorf("storage: insert availability object: %w", mapSQLError(err))
			}
			created = true
		}
		obj.UpdatedAt = tx.now
		for _, b := range obj.Busy {
			if _, err := tx.ExecContext(ctx, `INSERT INTO availability_busy (user_id, calendar, name, starts_at, ends_at) VALUES (?, ?, ?, ?, ?)`,
				u.ID, obj.Calendar, obj.Name, FormatTime(b.Start), FormatTime(b.End)); err != nil {
				return fmt.Errorf("storage: insert busy block: %w", err)
			}
		}
		if err := insertOccurrences(ctx, tx.Tx, u.ID, obj.Calendar, obj.Name, obj); err != nil {
			return err
		}
		if err := bumpCalendar(ctx, tx, u.ID, obj.Calendar, obj.Name, false, obj.Size-oldSize); err != nil {
			return err
		}
		action := "calendar.object.update"
		if created {
			action = "calendar.object.create"
		}
		tx.Audit(action, personalCalendarObject(u.ID, obj.Calendar), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// Stored forms of occurrences_until (migration 00017): every occurrence is stored, or none
// was worked out (every range is then a candidate).
const (
	occurrencesAll     = "~"
	occurrencesUnknown = ""
)

// hasOccurrences reports whether a component's occurrences are stored (VEVENT and VJOURNAL;
// a VTODO's match is decided from its own properties).
func hasOccurrences(component string) bool {
	return component == courtside.ComponentEvent || component == courtside.ComponentJournal
}

// occurrencesUntil returns the stored form of how far obj's occurrences are complete. They
// matter only for a VEVENT or VJOURNAL whose extent is not exact; the others hold every
// occurrence there is to store (none).
func occurrencesUntil(obj *courtside.AvailabilityObject) string {
	switch {
	case !hasOccurrences(obj.Component) || obj.ExtentExact:
		return occurrencesAll
	case !obj.OccurrencesKnown:
		return occurrencesUnknown
	case obj.OccurrencesUntil.IsZero():
		return occurrencesAll
	}
	return FormatTime(obj.OccurrencesUntil)
}

// insertOccurrences stores obj's occurrences as those of the object (userID, calendar, name),
// when they matter (see occurrencesUntil).
func insertOccurrences(ctx context.Context, tx *sql.Tx, userID int64, calendar, name string, obj *courtside.AvailabilityObject) error {
	if !hasOccurrences(obj.Component) || obj.ExtentExact || !obj.OccurrencesKnown {
		return nil
	}
	for _, o := range obj.Occurrences {
		if _, err := tx.ExecContext(ctx, `INSERT INTO availability_occurrences (user_id, calendar, name, starts_at, ends_at) VALUES (?, ?, ?, ?, ?)`,
			userID, calendar, name, FormatTime(o.Start), FormatTime(o.End)); err != nil {
			return fmt.Errorf("storage: insert occurrence: %w", err)
		}
	}
	return nil
}

const availabilityObjectColumns = `name, uid, component, etag, data, created_at, updated_at, extent_start, extent_end, extent_exact, size,
	schedule_tag`

// Open extents are stored as these, which sort before and after every FormatTime value.
const (
	openExtentStart = ""
	openExtentEnd   = "~"
)

// extentStart returns the stored form of an extent's start (zero: open).
func extentStart(t time.Time) string {
	if t.IsZero() || t.UTC().Year() < 1 {
		return openExtentStart
	}
	return FormatTime(t)
}

// extentEnd returns the stored form of an extent's end (zero: open). Times past year 9999
// would not sort as text: they are open too.
func extentEnd(t time.Time) string {
	if t.IsZero() || t.UTC().Year() > 9999 {
		return openExtentEnd
	}
	return FormatTime(t)
}

func scanAvailabilityObject(s scanner, userID int64, calendar string) (*courtside.AvailabilityObject, error) {
	o := &courtside.AvailabilityObject{UserID: userID, Calendar: calendar}
	var start, end string
	if err := s.Scan(&o.Name, &o.UID, &o.Component, &o.ETag, &o.Data, scanTime{&o.CreatedAt}, scanTime{&o.UpdatedAt},
		&start, &end, &o.ExtentExact, &o.Size, &o.ScheduleTag); err != nil {
		return nil, err
	}
	if start != openExtentStart {
		t, err := ParseTime(start)
		if err != nil {
			return nil, fmt.Errorf("extent start: %w", err)
		}
		o.ExtentStart = t
	}
	if end != openExtentEnd {
		t, err := ParseTime(end)
		if err != nil {
			return nil, fmt.Errorf("extent end: %w", err)
		}
		o.ExtentEnd = t
	}
	return o, nil
}

// FindAvailabilityObject returns one object of one of the caller's calendars.
func (s *AvailabilityService) FindAvailabilityObject(ctx context.Context, calendar, name string) (*courtside.AvailabilityObject, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	o, err := scanAvailabilityObject(s.db.Reader.QueryRowContext(ctx, `SELECT `+availabilityObjectColumns+` FROM availability_objects
		WHERE user_id = ? AND calendar = ? AND name = ?`, u.ID, calendar, name), u.ID, calendar)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Calendar object not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find availability object: %w", err)
	}
	return o, nil
}

// FindAvailabilityObjects returns every object of one of the caller's calendars, by name.
func (s *AvailabilityService) FindAvailabilityObjects(ctx context.Context, calendar string) ([]*courtside.AvailabilityObject, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := findPersonalCalendar(ctx, s.db.Reader, u.ID, calendar); err != nil {
		return nil, err
	}
	return findAvailabilityObjects(ctx, s.db.Reader, u.ID, calendar, availabilityObjectColumns, "", nil)
}

// findAvailabilityObjects returns the objects of a calendar, by name, that meet the extra
// condition cond (with its args), reading columns.
func findAvailabilityObjects(ctx context.Context, q queryer, userID int64, calendar, columns, cond string, args []any) ([]*courtside.AvailabilityObject, error) {
	// No ORDER BY: SQLite would walk the primary key in name order, reading every row,
	// rather than the index that cond can use. The rows are sorted here.
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM availability_objects
		WHERE user_id = ? AND calendar = ?`+cond, append([]any{userID, calendar}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: availability objects: %w", err)
	}
	defer rows.Close()
	var out []*courtside.AvailabilityObject
	for rows.Next() {
		o, err := scanAvailabilityObject(rows, userID, calendar)
		if err != nil {
			return nil, fmt.Errorf("storage: scan availability object: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: availability objects: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FindAvailabilityObjectsInRange returns, by name, the objects of one of the caller's
// calendars whose stored extent meets [from, to] (zero bounds are open). The test is
// inclusive at both ends, so that a zero-length event at either edge stays a candidate; it
// runs on the index availability_objects_extent, and only the candidates' data is read.
func (s *AvailabilityService) FindAvailabilityObjectsInRange(ctx context.Context, calendar string, from, to time.Time) ([]*courtside.AvailabilityObject, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, courtside.Invalidf("to", "The end of the range must not be before its start.")
	}
	if _, err := findPersonalCalendar(ctx, s.db.Reader, u.ID, calendar); err != nil {
		return nil, err
	}
	// extent_start <= to AND extent_end >= from, with open bounds as the sentinels; then a
	// VEVENT that is not exact needs a stored occurrence overlapping [from, to) (start < to and
	// end > from, or zero length and start >= from), unless its occurrences are not known up
	// to `to` (occurrences_until < to: '' when unknown, '~' when all are stored).
	hi, lo := openExtentEnd, openExtentStart
	if !to.IsZero() {
		hi = extentEnd(to)
	}
	if !from.IsZero() {
		lo = extentStart(from)
	}
	return findAvailabilityObjects(ctx, s.db.Reader, u.ID, calendar, availabilityObjectColumns,
		` AND extent_start <= ? AND extent_end >= ?
		  AND (component NOT IN ('VEVENT', 'VJOURNAL') OR extent_exact = 1 OR occurrences_until < ?
		       OR EXISTS (SELECT 1 FROM availability_occurrences o
		                  WHERE o.user_id = availability_objects.user_id AND o.calendar = availability_objects.calendar
		                    AND o.name = availability_objects.name AND o.starts_at < ?
		                    AND (o.ends_at > ? OR (o.ends_at = o.starts_at AND o.starts_at >= ?))))`,
		[]any{hi, lo, hi, hi, lo, lo})
}

// FindAvailabilityObjectsNamed returns, by name, those of the named objects of one of the
// caller's calendars that exist.
func (s *AvailabilityService) FindAvailabilityObjectsNamed(ctx context.Context, calendar string, names []string) ([]*courtside.AvailabilityObject, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := findPersonalCalendar(ctx, s.db.Reader, u.ID, calendar); err != nil {
		return nil, err
	}
	var out []*courtside.AvailabilityObject
	const batch = 500 // well under SQLite's limit on bound parameters
	for len(names) > 0 {
		n := min(batch, len(names))
		args := make([]any, n)
		for i, name := range names[:n] {
			args[i] = name
		}
		objs, err := findAvailabilityObjects(ctx, s.db.Reader, u.ID, calendar, availabilityObjectColumns,
			` AND name IN (`+placeholders(n)+`)`, args)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		names = names[n:]
	}
	if len(out) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	return out, nil
}

// FindAvailabilityObjectHeads returns every object of one of the caller's calendars by name
// with only its name, ETag, update time and size, read from an index without the data.
func (s *AvailabilityService) FindAvailabilityObjectHeads(ctx context.Context, calendar string) ([]*courtside.AvailabilityObject, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := findPersonalCalendar(ctx, s.db.Reader, u.ID, calendar); err != nil {
		return nil, err
	}
	// These columns are all in the index availability_objects_heads: the table is not read.
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT name, etag, updated_at, size FROM availability_objects
		WHERE user_id = ? AND calendar = ? ORDER BY name`, u.ID, calendar)
	if err != nil {
		return nil, fmt.Errorf("storage: availability objects: %w", err)
	}
	defer rows.Close()
	var out []*courtside.AvailabilityObject
	for rows.Next() {
		o := &courtside.AvailabilityObject{UserID: u.ID, Calendar: calendar}
		if err := rows.Scan(&o.Name, &o.ETag, scanTime{&o.UpdatedAt}, &o.Size); err != nil {
			return nil, fmt.Errorf("storage: scan availability object: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: availability objects: %w", err)
	}
	return out, nil
}

// DeleteAvailabilityObject deletes an object of one of the caller's calendars.
func (s *AvailabilityService) DeleteAvailabilityObject(ctx context.Context, calendar, name, ifMatch string) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		var etag string
		var size int64
		err := tx.QueryRowContext(ctx, `SELECT etag, size FROM availability_objects WHERE user_id = ? AND calendar = ? AND name = ?`,
			u.ID, calendar, name).Scan(&etag, &size)
		if errors.Is(err, sql.ErrNoRows) {
			return courtside.Errorf(courtside.ENOTFOUND, "Calendar object not found.")
		} else if err != nil {
			return fmt.Errorf("storage: find availability object: %w", err)
		}
		if ifMatch != "" && !etagMatches(ifMatch, etag) {
			return &courtside.Error{Code: courtside.ECONFLICT, Field: courtside.FieldPrecondition, Message: "The object has changed."}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM availability_objects WHERE user_id = ? AND calendar = ? AND name = ?`,
			u.ID, calendar, name); err != nil {
			return fmt.Errorf("storage: delete availability object: %w", err)
		}
		if err := bumpCalendar(ctx, tx, u.ID, calendar, name, true, -size); err != nil {
			return err
		}
		tx.Audit("calendar.object.delete", personalCalendarObject(u.ID, calendar), courtside.OutcomeOK)
		return nil
	})
}

// AvailabilityChanges returns the changes of one of the caller's calendars after since.
func (s *AvailabilityService) AvailabilityChanges(ctx context.Context, calendar string, since int64) ([]courtside.AvailabilityChange, int64, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, 0, err
	}
	var out []courtside.AvailabilityChange
	var version int64
	err = s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		c, err := findPersonalCalendar(ctx, tx, u.ID, calendar)
		if err != nil {
			return err
		}
		version = c.Version
		rows, err := tx.QueryContext(ctx, `SELECT name, version, deleted FROM availability_changes
			WHERE user_id = ? AND calendar = ? AND version > ? ORDER BY version, name`, u.ID, calendar, since)
		if err != nil {
			return fmt.Errorf("storage: availability changes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var ch courtside.AvailabilityChange
			if err := rows.Scan(&ch.Name, &ch.Version, &ch.Deleted); err != nil {
				return fmt.Errorf("storage: scan availability change: %w", err)
			}
			out = append(out, ch)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, version, nil
}

// FindBusyBlocks returns the caller's busy blocks overlapping [from, to), by start.
func (s *AvailabilityService) FindBusyBlocks(ctx context.Context, from, to time.Time) ([]courtside.BusyBlock, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, courtside.Invalidf("to", "The end of the range must be after its start.")
	}
	m, err := busyBlocks(ctx, s.db.Reader, []int64{u.ID}, from, to)
	if err != nil {
		return nil, err
	}
	return m[u.ID], nil
}

// busyBlocks returns the busy blocks of users overlapping [from, to), by user, each by start.
func busyBlocks(ctx context.Context, q queryer, users []int64, from, to time.Time) (map[int64][]courtside.BusyBlock, error) {
	out := map[int64][]courtside.BusyBlock{}
	if len(users) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id, calendar, name, starts_at, ends_at FROM availability_busy
		WHERE user_id IN (`+placeholders(len(users))+`) AND starts_at < ? AND ends_at > ? ORDER BY user_id, starts_at, ends_at`,
		append(int64Args(users), FormatTime(to), FormatTime(from))...)
	if err != nil {
		return nil, fmt.Errorf("storage: busy blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b courtside.BusyBlock
		if err := rows.Scan(&b.UserID, &b.Calendar, &b.Object, scanTime{&b.Start}, scanTime{&b.End}); err != nil {
			return nil, fmt.Errorf("storage: scan busy block: %w", err)
		}
		out[b.UserID] = append(out[b.UserID], b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: busy blocks: %w", err)
	}
	return out, nil
}

// withBusyBlocks makes the ranked interpreters who are busy in their own personal calendars
// during h unavailable, with the reason, and ranks them again by RankCandidates' order (tier,
// language match, availability, week bookings, ID). It reads through q, the ranking's own
// snapshot or transaction.
func withBusyBlocks(ctx context.Context, q queryer, h *courtside.Hearing, loc *time.Location, cands []*courtside.Candidate) ([]*courtside.Candidate, error) {
	var ids []int64
	for _, c := range cands {
		if c.Available {
			ids = append(ids, c.Interpreter.ID)
		}
	}
	if len(ids) == 0 {
		return cands, nil
	}
	busy, err := busyBlocks(ctx, q, ids, h.StartsAt, h.EndsAt)
	if err != nil {
		return nil, err
	}
	if len(busy) == 0 {
		return cands, nil
	}
	for _, c := range cands {
		if b := busy[c.Interpreter.ID]; c.Available && len(b) > 0 {
			c.Available = false
			// The interpreter's own calendar is theirs: the reason gives none of its times.
			c.Reason = "Busy in their own calendar at that time."
		}
	}
	courtside.SortCandidates(cands)
	return cands, nil
}

// FindCalendarSettings returns what the caller set on their calendars, by calendar name.
func (svc *AvailabilityService) FindCalendarSettings(ctx context.Context) (map[string]courtside.CalendarSettings, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := svc.db.Reader.QueryContext(ctx, `SELECT calendar, COALESCE(display_name, ''), COALESCE(color, ''), COALESCE(description, '')
		FROM calendar_settings WHERE user_id = ?`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("storage: calendar settings: %w", err)
	}
	defer rows.Close()
	out := map[string]courtside.CalendarSettings{}
	for rows.Next() {
		var name string
		var s courtside.CalendarSettings
		if err := rows.Scan(&name, &s.DisplayName, &s.Color, &s.Description); err != nil {
			return nil, fmt.Errorf("storage: scan calendar settings: %w", err)
		}
		out[name] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: calendar settings: %w", err)
	}
	return out, nil
}

// SetCalendarSettings sets or removes the display name, colour and description of one of the
// caller's calendars, audited.
func (s *AvailabilityService) SetCalendarSettings(ctx context.Context, calendar string, up courtside.CalendarSettingsUpdate) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if p := up.DisplayName; p != nil {
		if len(*p) > 200 || strings.ContainsAny(*p, "\r\n\x00") {
			return courtside.Invalidf("displayName", "A display name is one line of at most 200 characters.")
		}
	}
	if p := up.Color; p != nil && *p != "" {
		if err := courtside.ValidateCalendarColor(*p); err != nil {
			return err
		}
	}
	if p := up.Description; p != nil {
		if len(*p) > courtside.MaxCalendarDescription || strings.ContainsRune(*p, 0) {
			return courtside.Invalidf("description", "A description must be at most %d bytes.", courtside.MaxCalendarDescription)
		}
	}
	return s.db.update(ctx, func(tx *Tx) error {
		if calendar != HearingsCalendar {
			if _, err := findPersonalCalendar(ctx, tx, u.ID, calendar); err != nil {
				return err
			}
		}
		value := func(p *string) any {
			if p == nil {
				return nil
			}
			return nullable(*p)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_settings (user_id, calendar, display_name, color, description, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, calendar) DO UPDATE SET
				display_name = CASE WHEN ? = 1 THEN excluded.display_name ELSE calendar_settings.display_name END,
				color = CASE WHEN ? = 1 THEN excluded.color ELSE calendar_settings.color END,
				description = CASE WHEN ? = 1 THEN excluded.description ELSE calendar_settings.description END, updated_at = excluded.updated_at`,
			u.ID, calendar, value(up.DisplayName), value(up.Color), value(up.Description), FormatTime(tx.now),
			up.DisplayName != nil, up.Color != nil, up.Description != nil); err != nil {
			return fmt.Errorf("storage: set calendar settings: %w", err)
		}
		tx.Audit("calendar.settings", personalCalendarObject(u.ID, calendar), courtside.OutcomeOK)
		return nil
	})
}

// BackfillAvailabilityExtents works out the extent of each VEVENT object stored without one
// (written before migration 00009, which left them open) with extent, the CalDAV edge's
// reading of an object, and stores it, 500 rows a transaction. A row changed meanwhile keeps
// what its writer stored; one whose extent comes back open stays a candidate of every range,
// as before. It returns how many rows it filled. Serve runs it at start; it writes no audit
// row, as it changes no object, only what is derived from it.
func (s *AvailabilityService) BackfillAvailabilityExtents(ctx context.Context, extent func(data []byte) (start, end time.Time, exact bool)) (int, error) {
	type row struct {
		userID         int64
		calendar, name string
		etag           string
		start, end     time.Time
		exact          bool
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT user_id, calendar, name, etag, data FROM availability_objects
		WHERE component = 'VEVENT' AND extent_start = ? AND extent_end = ?`, openExtentStart, openExtentEnd)
	if err != nil {
		return 0, fmt.Errorf("storage: extents to fill: %w", err)
	}
	var todo []row
	for rows.Next() {
		var r row
		var data []byte
		if err := rows.Scan(&r.userID, &r.calendar, &r.name, &r.etag, &data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("storage: scan extent to fill: %w", err)
		}
		r.start, r.end, r.exact = extent(data)
		if r.start.IsZero() && r.end.IsZero() {
			continue
		}
		if !r.start.IsZero() && !r.end.IsZero() && r.end.Before(r.start) {
			continue
		}
		r.exact = r.exact && !r.start.IsZero() && !r.end.IsZero()
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("storage: extents to fill: %w", err)
	}
	filled := 0
	for len(todo) > 0 {
		n := min(500, len(todo))
		tx, err := s.db.beginWriter(ctx)
		if err != nil {
			return filled, fmt.Errorf("storage: fill extents: %w", err)
		}
		for _, r := range todo[:n] {
			res, err := tx.ExecContext(ctx, `UPDATE availability_objects SET extent_start = ?, extent_end = ?, extent_exact = ?
				WHERE user_id = ? AND calendar = ? AND name = ? AND etag = ? AND extent_start = ? AND extent_end = ?`,
				extentStart(r.start), extentEnd(r.end), r.exact, r.userID, r.calendar, r.name, r.etag, openExtentStart, openExtentEnd)
			if err != nil {
				tx.Rollback()
				return filled, fmt.Errorf("storage: fill extent: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				filled++
			}
		}
		if err := tx.Commit(); err != nil {
			return filled, fmt.Errorf("storage: fill extents: %w", err)
		}
		todo = todo[n:]
	}
	return filled, nil
}

// BackfillAvailabilityOccurrences works out the occurrences of each VEVENT object that is not
// exact and was stored without them (before migration 00017, which left them unknown) with
// occurrences, the CalDAV edge's reading of an object, and stores them, 500 objects a
// transaction. A row changed meanwhile keeps what its writer stored; one that cannot be read
// stays a candidate of every range within its extent, as before. It returns how many objects
// it filled. Serve runs it at start, after BackfillAvailabilityExtents; it writes no audit
// row, as it changes no object, only what is derived from it.
func (s *AvailabilityService) BackfillAvailabilityOccurrences(ctx context.Context, occurrences func(data []byte) ([]courtside.Interval, time.Time, bool)) (int, error) {
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT user_id, calendar, name, etag, data FROM availability_objects
		WHERE component = 'VEVENT' AND extent_exact = 0 AND occurrences_until = ?`, occurrencesUnknown)
	if err != nil {
		return 0, fmt.Errorf("storage: occurrences to fill: %w", err)
	}
	var todo []occurrencesRow
	for rows.Next() {
		var r occurrencesRow
		var data []byte
		if err := rows.Scan(&r.obj.UserID, &r.obj.Calendar, &r.obj.Name, &r.etag, &data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("storage: scan occurrences to fill: %w", err)
		}
		occ, until, ok := occurrences(data)
		if !ok || len(occ) > courtside.MaxBusyInstances {
			continue
		}
		r.obj.Component, r.obj.Occurrences, r.obj.OccurrencesUntil, r.obj.OccurrencesKnown = "VEVENT", occ, until, true
		r.until = occurrencesUntil(&r.obj)
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("storage: occurrences to fill: %w", err)
	}
	filled := 0
	for len(todo) > 0 {
		n := min(500, len(todo))
		tx, err := s.db.Writer.BeginTx(ctx, nil)
		if err != nil {
			return filled, fmt.Errorf("storage: fill occurrences: %w", err)
		}
		k, err := fillOccurrences(ctx, tx, todo[:n])
		if err != nil {
			tx.Rollback()
			return filled, err
		}
		if err := tx.Commit(); err != nil {
			return filled, fmt.Errorf("storage: fill occurrences: %w", err)
		}
		filled += k
		todo = todo[n:]
	}
	return filled, nil
}

// occurrencesRow is an object whose occurrences the backfill has worked out.
type occurrencesRow struct {
	obj   courtside.AvailabilityObject
	etag  string
	until string
}

// fillOccurrences stores the occurrences of rows whose object is unchanged and still without
// them, in tx. It returns how many it filled.
func fillOccurrences(ctx context.Context, tx *sql.Tx, rows []occurrencesRow) (int, error) {
	filled := 0
	for _, r := range rows {
		res, err := tx.ExecContext(ctx, `UPDATE availability_objects SET occurrences_until = ?
			WHERE user_id = ? AND calendar = ? AND name = ? AND etag = ? AND occurrences_until = ?`,
			r.until, r.obj.UserID, r.obj.Calendar, r.obj.Name, r.etag, occurrencesUnknown)
		if err != nil {
			return filled, fmt.Errorf("storage: fill occurrences: %w", err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			continue
		}
		if err := insertOccurrences(ctx, tx, r.obj.UserID, r.obj.Calendar, r.obj.Name, &r.obj); err != nil {
			return filled, err
		}
		filled++
	}
	return filled, nil
}
