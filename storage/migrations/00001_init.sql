-- +goose Up
-- Times are TEXT in UTC, fixed width 'YYYY-MM-DDTHH:MM:SS.sssZ', so they sort as strings.

CREATE TABLE organizations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role            TEXT NOT NULL CHECK (role IN ('ADMIN','COORDINATOR','ADVOCATE','PROSECUTOR','INTERPRETER')),
    organization_id INTEGER REFERENCES organizations (id),
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);

CREATE TABLE interpreter_languages (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    language TEXT NOT NULL,
    tier     TEXT NOT NULL CHECK (tier IN ('CERTIFIED','PROFESSIONALLY_QUALIFIED','LANGUAGE_SKILLED')),
    PRIMARY KEY (user_id, language)
);

-- Secrets are stored as SHA-256 of 256 random bits; the secret itself is shown once.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('api','app','feed')),
    label       TEXT NOT NULL DEFAULT '',
    secret_hash BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE courts (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    time_zone  TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    docket          TEXT NOT NULL,
    court_id        INTEGER NOT NULL REFERENCES courts (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    created_at      TEXT NOT NULL,
    UNIQUE (court_id, docket)
);
CREATE INDEX cases_org ON cases (organization_id);

CREATE TABLE hearings (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    court_id        INTEGER NOT NULL REFERENCES courts (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    kind            TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    courtroom       TEXT NOT NULL DEFAULT '',
    judge           TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('SCHEDULED','CONTINUED','CANCELLED','HELD')),
    sequence        INTEGER NOT NULL DEFAULT 0,
    external_id     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX hearings_external ON hearings (organization_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX hearings_case ON hearings (case_id, starts_at);
CREATE INDEX hearings_starts ON hearings (starts_at, id);

CREATE TABLE hearing_changes (
    id             INTEGER PRIMARY KEY,
    hearing_id     INTEGER NOT NULL REFERENCES hearings (id),
    at             TEXT NOT NULL,
    by_user_id     INTEGER REFERENCES users (id),
    reason         TEXT NOT NULL,
    status         TEXT NOT NULL,
    sequence       INTEGER NOT NULL,
    from_starts_at TEXT,
    to_starts_at   TEXT,
    from_ends_at   TEXT,
    to_ends_at     TEXT,
    from_courtroom TEXT NOT NULL DEFAULT '',
    to_courtroom   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hearing_changes_hearing ON hearing_changes (hearing_id, id);

-- Legal names and contact addresses are sealed with AES-256-GCM (see storage/seal.go).
CREATE TABLE victims (
    id                 INTEGER PRIMARY KEY,
    organization_id    INTEGER NOT NULL REFERENCES organizations (id),
    pseudonym          TEXT NOT NULL,
    preferred_language TEXT NOT NULL,
    legal_name_sealed  BLOB,
    policy             TEXT NOT NULL DEFAULT '{"channels":[]}',
    created_at         TEXT NOT NULL
);
CREATE INDEX victims_org ON victims (organization_id);

CREATE TABLE victim_contacts (
    id                INTEGER PRIMARY KEY,
    victim_id         INTEGER NOT NULL REFERENCES victims (id),
    channel           TEXT NOT NULL CHECK (channel IN ('EMAIL','SMS','WEBHOOK')),
    address_sealed    BLOB NOT NULL,
    confirmed_safe_at TEXT
);
CREATE INDEX victim_contacts_victim ON victim_contacts (victim_id);

CREATE TABLE case_victims (
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    victim_id INTEGER NOT NULL REFERENCES victims (id),
    attends   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, victim_id)
);
CREATE INDEX case_victims_victim ON case_victims (victim_id);

CREATE TABLE accompaniments (
    id            INTEGER PRIMARY KEY,
    hearing_id    INTEGER NOT NULL REFERENCES hearings (id),
    victim_id     INTEGER NOT NULL REFERENCES victims (id),
    advocate_id   INTEGER NOT NULL REFERENCES users (id),
    status        TEXT NOT NULL CHECK (status IN ('ASSIGNED','CONFIRMED','CANCELLED','NEEDS_RECONFIRMATION')),
    meeting_point TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX accompaniments_live ON accompaniments (hearing_id, victim_id, advocate_id) WHERE status <> 'CANCELLED';
CREATE INDEX accompaniments_advocate ON accompaniments (advocate_id);

-- Append-only, hash-chained: hash = SHA-256(prev_hash | id | at | actor | action | object | outcome).
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The event log (watermill-sql, through the SQLite adapters in events/). SQLite has one writer,
-- so commit order is id order.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT NOT NULL,
    uuid       TEXT NOT NULL UNIQUE,
    payload    BLOB NOT NULL,
    metadata   BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX events_topic ON events (topic, id);

CREATE TABLE event_offsets (
    consumer_group TEXT NOT NULL,
    topic          TEXT NOT NULL,
    last_id        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consumer_group, topic)
);

CREATE TABLE event_dead_letters (
    id             INTEGER PRIMARY KEY,
    consumer_group TEXT NOT NULL,
    event_uuid     TEXT NOT NULL,
    error          TEXT NOT NULL,
    at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The calendar projection: a change token per user calendar, and the version at which each
-- object last changed (deleted = the object left the calendar), for ctag, ETag and sync.
CREATE TABLE calendar_versions (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    calendar   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, calendar)
);

CREATE TABLE calendar_changes (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    calendar   TEXT NOT NULL,
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    version    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, calendar, hearing_id)
);

-- +goose Down
SELECT 'down migrations are not supported';
