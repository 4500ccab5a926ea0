-- +goose Up
-- The hearings calendars' objects, kept by the calendar projection (storage.DB.ProjectCalendar)
-- in the transaction of the event that changed them, so that CalDAV and the webcal feeds serve
-- stored bytes and never render on a read. One row per hearing and view: the OFFICE view is a
-- prosecutor's office's (owner_id = the organisation; every prosecutor of the office sees the
-- same object), a USER view an advocate's or an interpreter's own (owner_id = the user: the
-- pseudonyms they may see, their PARTSTAT). Times are fixed-width UTC text.
CREATE TABLE calendar_objects (
    id           INTEGER PRIMARY KEY,
    view         TEXT NOT NULL CHECK (view IN ('OFFICE', 'USER')),
    owner_id     INTEGER NOT NULL,
    hearing_id   INTEGER NOT NULL REFERENCES hearings (id),
    data         BLOB NOT NULL,    -- the iCalendar object as CalDAV serves it
    etag         TEXT NOT NULL,    -- its strong entity tag
    size         INTEGER NOT NULL, -- its length in bytes
    starts_at    TEXT NOT NULL,    -- the hearing's times: the object's time extent
    ends_at      TEXT NOT NULL,
    modified_at  TEXT NOT NULL,    -- the hearing's last update: getlastmodified
    in_feed      INTEGER NOT NULL CHECK (in_feed IN (0, 1)), -- 0: never in a feed (an open offer)
    cancelled_at TEXT              -- when the hearing was cancelled (its last update); NULL while it is not
);
CREATE UNIQUE INDEX calendar_objects_key ON calendar_objects (view, owner_id, hearing_id);
-- A calendar's listing in calendar order, and its time-range prefilter, from the index alone
-- when no data is read (PROPFIND Depth 1 asks for ETags).
CREATE INDEX calendar_objects_time ON calendar_objects (view, owner_id, starts_at, hearing_id, ends_at, etag, size, modified_at);
-- A feed's window, from the index alone.
CREATE INDEX calendar_objects_feed ON calendar_objects (view, owner_id, starts_at, hearing_id, ends_at, cancelled_at) WHERE in_feed = 1;
-- The projection finds every view of a hearing.
CREATE INDEX calendar_objects_hearing ON calendar_objects (hearing_id);

-- Each hearing's VEVENT as feeds serve it: the same in every calendar (a feed carries neither
-- pseudonyms nor attendees), kept with the hearing's objects.
CREATE TABLE calendar_feed_events (
    hearing_id INTEGER PRIMARY KEY REFERENCES hearings (id),
    event      BLOB NOT NULL
);

-- Hearings whose objects were never rendered: every hearing of a database written before this
-- migration. A migration cannot render (the renderer is the CalDAV edge's), so serve's start-up
-- backfill (storage.DB.BackfillCalendarObjects) renders them and empties this queue; the
-- projection takes a hearing off it too when it renders it.
CREATE TABLE calendar_backfill (
    hearing_id INTEGER PRIMARY KEY REFERENCES hearings (id)
);
INSERT INTO calendar_backfill (hearing_id) SELECT id FROM hearings;

-- +goose Down
DROP TABLE calendar_backfill;
DROP TABLE calendar_feed_events;
DROP TABLE calendar_objects;
