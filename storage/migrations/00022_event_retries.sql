-- +goose Up
-- Events a handler failed on, set aside for its consumer group to retry later with backoff
-- (events/retry.go), so that neither the retries nor their waits hold the writer. order_key
-- names what the event is about ('hearing:12', 'case:3', ...): a group's later events with the
-- same key wait behind it, so that one hearing's events are handled in order. A row leaves the
-- table when its event is handled, or when it is parked in event_dead_letters.
CREATE TABLE event_retries (
    id              INTEGER PRIMARY KEY,
    consumer_group  TEXT NOT NULL,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    order_key       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    UNIQUE (consumer_group, event_id)
);
CREATE INDEX event_retries_order ON event_retries (consumer_group, order_key, event_id);

-- A parked event records how often it was tried. Rows parked before retries with backoff
-- were tried five times, 25 ms apart.
ALTER TABLE event_dead_letters ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
UPDATE event_dead_letters SET attempts = 5;

-- +goose Down
DROP INDEX event_retries_order;
DROP TABLE event_retries;
ALTER TABLE event_dead_letters DROP COLUMN attempts;
