-- +goose Up
-- The occurrences of each VEVENT of a personal calendar that is not one occurrence filling its
-- extent (a recurrence, RDATEs, overrides), worked out once by the CalDAV edge when the object
-- is written, so that no calendar-query expands a recurrence again: every occurrence that
-- starts before the object's occurrences_until, as fixed-width UTC text (zero-length ones
-- included). occurrences_until is '~' when the rows hold every occurrence, a time when they
-- stop there (an unbounded rule, or more than the cap), and '' when they were never worked out
-- (rows written before this migration, until serve's start-up backfill
-- storage.DB.BackfillAvailabilityOccurrences fills them): '' and a time before a range's end
-- sort before it, which keeps such an object a candidate of that range.
CREATE TABLE availability_occurrences (
    user_id   INTEGER NOT NULL,
    calendar  TEXT NOT NULL,
    name      TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    FOREIGN KEY (user_id, calendar, name) REFERENCES availability_objects (user_id, calendar, name) ON DELETE CASCADE
);
CREATE INDEX availability_occurrences_object ON availability_occurrences (user_id, calendar, name, starts_at, ends_at);
ALTER TABLE availability_objects ADD COLUMN occurrences_until TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE availability_objects DROP COLUMN occurrences_until;
DROP INDEX availability_occurrences_object;
DROP TABLE availability_occurrences;
