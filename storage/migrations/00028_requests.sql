-- +goose Up
-- What victims ask for in answer to a notice, for the coordinators to handle. One kind of
-- request is open at most once per victim and hearing.
CREATE TABLE requests (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    victim_id       INTEGER NOT NULL REFERENCES victims (id),
    hearing_id      INTEGER REFERENCES hearings (id),
    delivery_id     INTEGER REFERENCES deliveries (id),
    kind            TEXT NOT NULL CHECK (kind IN ('ATTEND','ACCOMPANIMENT','INTERPRETER','TRANSPORT','SMS_RESTART')),
    via             TEXT NOT NULL CHECK (via IN ('LINK','SMS_REPLY')),
    status          TEXT NOT NULL CHECK (status IN ('OPEN','CLOSED')),
    created_at      TEXT NOT NULL,
    closed_at       TEXT,
    closed_by       INTEGER REFERENCES users (id),
    outcome         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX requests_open ON requests (victim_id, COALESCE(hearing_id, 0), kind) WHERE status = 'OPEN';
CREATE INDEX requests_org ON requests (organization_id, status, created_at);
CREATE INDEX requests_victim ON requests (victim_id, created_at);

-- Inbound text messages, by the gateway's message SID, so that a replayed webhook changes
-- nothing and gets the same reply. Neither the number nor the body is kept.
CREATE TABLE sms_inbound (
    message_sid TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    action      TEXT NOT NULL,
    victim_id   INTEGER REFERENCES victims (id),
    delivery_id INTEGER REFERENCES deliveries (id),
    reply       TEXT NOT NULL DEFAULT '',
    language    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Victims whose phone answered STOP: SMS is withdrawn from their policy until someone confirms
-- a START. detail is the SMS rule's detail level before, restored with it.
CREATE TABLE victim_sms_stops (
    victim_id  INTEGER PRIMARY KEY REFERENCES victims (id),
    stopped_at TEXT NOT NULL,
    detail     TEXT NOT NULL
);

-- +goose Down
DROP TABLE victim_sms_stops;
DROP TABLE sms_inbound;
DROP TABLE requests;
