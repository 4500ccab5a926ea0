-- +goose Up
-- Court hours as data: the wall-clock hours a court sits, Monday to Friday, in its own time
-- zone ("HH:MM"; 24:00 closes at midnight). 08:00 to 18:00 unless configured.
ALTER TABLE courts ADD COLUMN opens_at TEXT NOT NULL DEFAULT '08:00'
    CHECK (length(opens_at) = 5 AND opens_at GLOB '[0-2][0-9]:[0-5][0-9]');
ALTER TABLE courts ADD COLUMN closes_at TEXT NOT NULL DEFAULT '18:00'
    CHECK (length(closes_at) = 5 AND closes_at GLOB '[0-2][0-9]:[0-5][0-9]');

-- Travel times between pairs of courts, symmetric: one row per pair, the lower court ID first.
-- A pair without a row takes courtside.DefaultTravelTime.
CREATE TABLE travel_times (
    court_a    INTEGER NOT NULL REFERENCES courts (id),
    court_b    INTEGER NOT NULL REFERENCES courts (id),
    minutes    INTEGER NOT NULL CHECK (minutes BETWEEN 0 AND 720),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (court_a, court_b),
    CHECK (court_a < court_b)
) WITHOUT ROWID;
CREATE INDEX travel_times_b ON travel_times (court_b);

-- The signed one-click links of booking offers that were used: SHA-256 of the token, so a link
-- answers once. The token itself is never stored.
CREATE TABLE booking_link_uses (
    token_hash BLOB PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES interpreter_bookings (id),
    accepted   INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    used_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX booking_link_uses_booking ON booking_link_uses (booking_id);

-- +goose Down
DROP TABLE booking_link_uses;
DROP TABLE travel_times;
ALTER TABLE courts DROP COLUMN closes_at;
ALTER TABLE courts DROP COLUMN opens_at;
