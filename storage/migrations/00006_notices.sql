-- +goose Up
-- Reminders are rows, not delayed messages: the reminder planner keeps one row per recipient,
-- lead time and hearing sequence; a move supersedes the old rows and plans new ones, a
-- cancellation cancels them. The reminder scheduler fires due rows as reminder.due events.
-- recipient is 'v<victim id>' or 'u<user id>'; lead is a Go duration ("168h0m0s") or a wall
-- clock time on the hearing's day in the court's zone ("@07:00").
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    victim_id  INTEGER REFERENCES victims (id),
    user_id    INTEGER REFERENCES users (id),
    recipient  TEXT NOT NULL,
    lead       TEXT NOT NULL,
    due_at     TEXT NOT NULL,
    sequence   INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('PLANNED','FIRED','SUPERSEDED','CANCELLED')),
    created_at TEXT NOT NULL,
    fired_at   TEXT,
    UNIQUE (hearing_id, recipient, lead, sequence),
    CHECK ((victim_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX reminders_due ON reminders (status, due_at);
CREATE INDEX reminders_hearing ON reminders (hearing_id, status);

-- What a delivery says, as facts (hearing before and after, lead, language needed): the words
-- are rendered at send time, under the contact policy in force then. sequence is the hearing's
-- sequence the notice is about; audience says whom it is for.
ALTER TABLE deliveries ADD COLUMN notice TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN audience TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN detail TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_lease ON deliveries (status, lease_until);

-- An organisation's own receiver of WEBHOOK messages. The signing secret is sealed.
CREATE TABLE webhook_endpoints (
    organization_id INTEGER PRIMARY KEY REFERENCES organizations (id),
    url             TEXT NOT NULL,
    secret_sealed   BLOB NOT NULL,
    created_at      TEXT NOT NULL
);

-- +goose Down
DROP TABLE webhook_endpoints;
DROP INDEX deliveries_lease;
ALTER TABLE deliveries DROP COLUMN detail;
ALTER TABLE deliveries DROP COLUMN audience;
ALTER TABLE deliveries DROP COLUMN sequence;
ALTER TABLE deliveries DROP COLUMN notice;
DROP TABLE reminders;
