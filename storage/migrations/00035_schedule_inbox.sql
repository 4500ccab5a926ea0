-- +goose Up
-- The CalDAV scheduling inbox (RFC 6638) of an interpreter is generated from their bookings:
-- a REQUEST per booking offered or awaiting reconfirmation, a CANCEL per booking cancelled
-- lately, each at the hearing's sequence. Deleting a message from the inbox changes nothing
-- but the inbox: it is recorded here, and the message stays out until it changes (a move's
-- higher sequence is a new message).
CREATE TABLE schedule_inbox_dismissals (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    booking_id   INTEGER NOT NULL REFERENCES interpreter_bookings (id),
    method       TEXT NOT NULL CHECK (method IN ('REQUEST','CANCEL')),
    sequence     INTEGER NOT NULL,
    dismissed_at TEXT NOT NULL,
    PRIMARY KEY (user_id, booking_id, method, sequence)
);

-- The inbox reads an interpreter's bookings by status; cancellations by when they happened.
CREATE INDEX interpreter_bookings_inbox ON interpreter_bookings (interpreter_id, status, updated_at);

-- +goose Down
DROP INDEX interpreter_bookings_inbox;
DROP TABLE schedule_inbox_dismissals;
