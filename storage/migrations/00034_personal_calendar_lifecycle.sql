-- +goose Up
-- Personal calendars that can be deleted and made again, that take journals, and that keep
-- what MKCALENDAR and PROPPATCH set on them.
--
-- components: the kinds of object a calendar takes (CalDAV supported-calendar-component-set),
-- comma-separated in the order VEVENT, VTODO, VJOURNAL; every calendar takes all three unless
-- MKCALENDAR asked for fewer.
-- incarnation: a random value given to each calendar MKCALENDAR makes, part of its sync token,
-- so that a token of a deleted calendar is refused by one made again under the same name (RFC
-- 6578 section 3.2); '' for availability and for the calendars made before this migration,
-- whose tokens keep working.
ALTER TABLE personal_calendars ADD COLUMN components TEXT NOT NULL DEFAULT 'VEVENT,VTODO,VJOURNAL';
ALTER TABLE personal_calendars ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';

-- The calendar's description (CALDAV:calendar-description), set by MKCALENDAR or PROPPATCH.
ALTER TABLE calendar_settings ADD COLUMN description TEXT;

-- Objects may now be VJOURNALs, and an object may be the attendee's copy of a booking
-- invitation, a scheduling object resource with a Schedule-Tag (RFC 6638 section 3.2.10).
-- SQLite cannot change a CHECK constraint: the table is made again and its rows copied. Its
-- busy blocks and occurrences, which cascade from it, are kept aside meanwhile and put back.
CREATE TEMP TABLE availability_busy_kept AS SELECT * FROM availability_busy;
CREATE TEMP TABLE availability_occurrences_kept AS SELECT * FROM availability_occurrences;

CREATE TABLE availability_objects_new (
    user_id           INTEGER NOT NULL,
    calendar          TEXT NOT NULL,
    name              TEXT NOT NULL,
    uid               TEXT NOT NULL,
    component         TEXT NOT NULL CHECK (component IN ('VEVENT','VTODO','VJOURNAL')),
    etag              TEXT NOT NULL,
    data              BLOB NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    extent_start      TEXT NOT NULL DEFAULT '',
    extent_end        TEXT NOT NULL DEFAULT '~',
    extent_exact      INTEGER NOT NULL DEFAULT 0 CHECK (extent_exact IN (0, 1)),
    size              INTEGER NOT NULL DEFAULT 0,
    occurrences_until TEXT NOT NULL DEFAULT '',
    schedule_tag      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, calendar, name),
    UNIQUE (user_id, calendar, uid),
    FOREIGN KEY (user_id, calendar) REFERENCES personal_calendars (user_id, name)
);
INSERT INTO availability_objects_new (user_id, calendar, name, uid, component, etag, data, created_at, updated_at,
        extent_start, extent_end, extent_exact, size, occurrences_until)
    SELECT user_id, calendar, name, uid, component, etag, data, created_at, updated_at,
        extent_start, extent_end, extent_exact, size, occurrences_until FROM availability_objects;
DROP TABLE availability_objects;
ALTER TABLE availability_objects_new RENAME TO availability_objects;
CREATE INDEX availability_objects_extent ON availability_objects (user_id, calendar, extent_start, extent_end);
CREATE INDEX availability_objects_heads ON availability_objects (user_id, calendar, name, etag, updated_at, size);

INSERT INTO availability_busy SELECT * FROM availability_busy_kept;
INSERT INTO availability_occurrences SELECT * FROM availability_occurrences_kept;
DROP TABLE availability_busy_kept;
DROP TABLE availability_occurrences_kept;

-- +goose Down
CREATE TEMP TABLE availability_busy_kept AS SELECT * FROM availability_busy;
CREATE TEMP TABLE availability_occurrences_kept AS SELECT * FROM availability_occurrences;
CREATE TABLE availability_objects_old (
    user_id           INTEGER NOT NULL,
    calendar          TEXT NOT NULL,
    name              TEXT NOT NULL,
    uid               TEXT NOT NULL,
    component         TEXT NOT NULL CHECK (component IN ('VEVENT','VTODO')),
    etag              TEXT NOT NULL,
    data              BLOB NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    extent_start      TEXT NOT NULL DEFAULT '',
    extent_end        TEXT NOT NULL DEFAULT '~',
    extent_exact      INTEGER NOT NULL DEFAULT 0 CHECK (extent_exact IN (0, 1)),
    size              INTEGER NOT NULL DEFAULT 0,
    occurrences_until TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, calendar, name),
    UNIQUE (user_id, calendar, uid),
    FOREIGN KEY (user_id, calendar) REFERENCES personal_calendars (user_id, name)
);
INSERT INTO availability_objects_old SELECT user_id, calendar, name, uid, component, etag, data, created_at, updated_at,
        extent_start, extent_end, extent_exact, size, occurrences_until FROM availability_objects WHERE component <> 'VJOURNAL';
DROP TABLE availability_objects;
ALTER TABLE availability_objects_old RENAME TO availability_objects;
CREATE INDEX availability_objects_extent ON availability_objects (user_id, calendar, extent_start, extent_end);
CREATE INDEX availability_objects_heads ON availability_objects (user_id, calendar, name, etag, updated_at, size);
INSERT INTO availability_busy SELECT b.* FROM availability_busy_kept b
    WHERE EXISTS (SELECT 1 FROM availability_objects o WHERE o.user_id = b.user_id AND o.calendar = b.calendar AND o.name = b.name);
INSERT INTO availability_occurrences SELECT o.* FROM availability_occurrences_kept o
    WHERE EXISTS (SELECT 1 FROM availability_objects a WHERE a.user_id = o.user_id AND a.calendar = o.calendar AND a.name = o.name);
DROP TABLE availability_busy_kept;
DROP TABLE availability_occurrences_kept;
ALTER TABLE calendar_settings DROP COLUMN description;
ALTER TABLE personal_calendars DROP COLUMN incarnation;
ALTER TABLE personal_calendars DROP COLUMN components;
