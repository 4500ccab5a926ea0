-- +goose Up
-- PostgreSQL's counterpart of SQLite's 00035: the CalDAV scheduling inbox's dismissed messages
-- and the index the inbox reads bookings by.
CREATE TABLE schedule_inbox_dismissals (
    user_id      BIGINT NOT NULL REFERENCES users (id),
    booking_id   BIGINT NOT NULL REFERENCES interpreter_bookings (id),
    method       TEXT NOT NULL CHECK (method IN ('REQUEST','CANCEL')),
    sequence     BIGINT NOT NULL,
    dismissed_at TEXT NOT NULL,
    PRIMARY KEY (user_id, booking_id, method, sequence)
);
CREATE INDEX interpreter_bookings_inbox ON interpreter_bookings (interpreter_id, status, updated_at);

-- +goose Down
DROP INDEX interpreter_bookings_inbox;
DROP TABLE schedule_inbox_dismissals;
