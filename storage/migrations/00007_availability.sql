-- +goose Up
-- Personal calendars: the read-write CalDAV calendars of a user (availability, and those made
-- with MKCALENDAR). Objects are the owner's own iCalendar data, stored as sent (never victim
-- data), with their UID, a strong ETag (hash of the data) and the busy intervals computed when
-- they were written (recurrence expanded, capped). version and availability_changes are the
-- change log of sync-collection and CS:getctag, shaped like calendar_versions/calendar_changes.
CREATE TABLE personal_calendars (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE availability_objects (
    user_id    INTEGER NOT NULL,
    calendar   TEXT NOT NULL,
    name       TEXT NOT NULL,
    uid        TEXT NOT NULL,
    component  TEXT NOT NULL CHECK (component IN ('VEVENT','VTODO')),
    etag       TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, calendar, name),
    UNIQUE (user_id, calendar, uid),
    FOREIGN KEY (user_id, calendar) REFERENCES personal_calendars (user_id, name)
);

CREATE TABLE availability_busy (
    user_id   INTEGER NOT NULL,
    calendar  TEXT NOT NULL,
    name      TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    FOREIGN KEY (user_id, calendar, name) REFERENCES availability_objects (user_id, calendar, name) ON DELETE CASCADE
);
CREATE INDEX availability_busy_user ON availability_busy (user_id, starts_at);
CREATE INDEX availability_busy_object ON availability_busy (user_id, calendar, name);

CREATE TABLE availability_changes (
    user_id  INTEGER NOT NULL,
    calendar TEXT NOT NULL,
    name     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, calendar, name),
    FOREIGN KEY (user_id, calendar) REFERENCES personal_calendars (user_id, name)
);

-- What a user set by PROPPATCH on one of their calendars (hearings or personal): its display
-- name and its colour (Apple's calendar-color), NULL when not set.
CREATE TABLE calendar_settings (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    calendar     TEXT NOT NULL,
    display_name TEXT,
    color        TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, calendar)
);

-- +goose Down
DROP TABLE calendar_settings;
DROP TABLE availability_changes;
DROP TABLE availability_busy;
DROP TABLE availability_objects;
DROP TABLE personal_calendars;
