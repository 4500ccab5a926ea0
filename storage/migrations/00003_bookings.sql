-- +goose Up
-- Interpreter bookings: one row per offer. An answer ends its row (ACCEPTED stays; DECLINED,
-- EXPIRED and CANCELLED are final), and a decline offers the next candidate in a new row that
-- points back at it (previous_booking_id). The rows of a hearing and language are therefore
-- the record of which interpreters were already offered it, and interpreter_bookings_offered
-- makes a second offer to the same interpreter impossible.
CREATE TABLE interpreter_bookings (
    id                  INTEGER PRIMARY KEY,
    hearing_id          INTEGER NOT NULL REFERENCES hearings (id),
    language            TEXT NOT NULL,                 -- canonical BCP 47 tag of the request
    interpreter_id      INTEGER REFERENCES users (id),
    status              TEXT NOT NULL CHECK (status IN ('OFFERED','ACCEPTED','DECLINED','EXPIRED','CANCELLED','NEEDS_RECONFIRMATION')),
    minimum_tier        TEXT CHECK (minimum_tier IN ('CERTIFIED','PROFESSIONALLY_QUALIFIED','LANGUAGE_SKILLED')),
    respond_by          TEXT,
    fallback_reason     TEXT NOT NULL DEFAULT '',      -- why a tier below CERTIFIED (28 U.S.C. 1827)
    decline_reason      TEXT NOT NULL DEFAULT '',
    previous_booking_id INTEGER REFERENCES interpreter_bookings (id),
    requested_by        INTEGER REFERENCES users (id), -- NULL for an automatic re-offer
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX interpreter_bookings_offered ON interpreter_bookings (hearing_id, language, interpreter_id)
    WHERE interpreter_id IS NOT NULL;
CREATE INDEX interpreter_bookings_hearing ON interpreter_bookings (hearing_id, status);
CREATE INDEX interpreter_bookings_interpreter ON interpreter_bookings (interpreter_id, status);

-- +goose Down
DROP TABLE interpreter_bookings;
