-- +goose Up
-- One message to one recipient on one channel: the evidence that notice was given. The
-- notification planner inserts rows (UNIQUE idempotency key); the delivery worker leases them,
-- sends outside any transaction and records the outcome. The rendered body may carry hearing
-- details the victim's policy allows, so it is sealed like other victim data.
CREATE TABLE deliveries (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,
    hearing_id        INTEGER REFERENCES hearings (id),
    victim_id         INTEGER REFERENCES victims (id),
    user_id           INTEGER REFERENCES users (id),
    channel           TEXT NOT NULL CHECK (channel IN ('EMAIL','SMS','WEBHOOK')),
    language          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('PENDING','SENT','DELIVERED','FAILED','SUPPRESSED')),
    idempotency_key   TEXT NOT NULL UNIQUE,
    body_sealed       BLOB,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    lease_until       TEXT,
    created_at        TEXT NOT NULL,
    sent_at           TEXT,
    lead_time_minutes INTEGER,
    reason            TEXT NOT NULL DEFAULT '',
    CHECK ((victim_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX deliveries_victim ON deliveries (victim_id, created_at);
CREATE INDEX deliveries_hearing ON deliveries (hearing_id, created_at);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- +goose Down
DROP TABLE deliveries;
