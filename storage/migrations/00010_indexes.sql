-- +goose Up
-- The sync-collection diff (DB.CalendarChanges) reads a user's changes after a version in
-- version order: with this index it reads only those rows, straight from the index, instead of
-- every change of the user's calendar (the primary key is ordered by hearing, not version).
CREATE INDEX calendar_changes_version ON calendar_changes (user_id, calendar, version, hearing_id, deleted);

-- +goose Down
DROP INDEX calendar_changes_version;
