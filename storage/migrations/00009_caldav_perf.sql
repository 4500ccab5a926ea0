-- +goose Up
-- The time extent of each object of a personal calendar, so that a calendar-query time range
-- can be applied in SQL before any object is decoded: the first start and the last end of its
-- expanded occurrences, as fixed-width UTC text. An open side is stored as '' (start) or '~'
-- (end), which sort before and after every time, so one index range answers the overlap test.
-- VTODOs and unbounded recurrences are open; so are the rows written before this migration
-- (the defaults), which keeps every existing object a candidate until serve's start-up
-- backfill (storage.DB.BackfillAvailabilityExtents, which needs the iCalendar reading of the
-- CalDAV edge) or a new PUT fills its extent. The CalDAV edge decides each candidate by RFC
-- 4791 section 9.9.
ALTER TABLE availability_objects ADD COLUMN extent_start TEXT NOT NULL DEFAULT '';
ALTER TABLE availability_objects ADD COLUMN extent_end TEXT NOT NULL DEFAULT '~';
-- 1 when the object is one occurrence filling its extent exactly (a VEVENT without recurrence):
-- its match is then decided from the extent without decoding it.
ALTER TABLE availability_objects ADD COLUMN extent_exact INTEGER NOT NULL DEFAULT 0 CHECK (extent_exact IN (0, 1));
CREATE INDEX availability_objects_extent ON availability_objects (user_id, calendar, extent_start, extent_end);

-- The size of each object's data, and an index that holds what a listing of a calendar's
-- objects without their data needs (PROPFIND Depth 1, getetag and the like), so that such a
-- listing reads the index alone.
ALTER TABLE availability_objects ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE availability_objects SET size = length(data);
CREATE INDEX availability_objects_heads ON availability_objects (user_id, calendar, name, etag, updated_at, size);

-- sync-collection on a personal calendar reads the changes after a version, in version order:
-- this index holds them in that order, so an answer after one change reads one row.
CREATE INDEX availability_changes_version ON availability_changes (user_id, calendar, version, name, deleted);

-- +goose Down
DROP INDEX availability_changes_version;
DROP INDEX availability_objects_heads;
ALTER TABLE availability_objects DROP COLUMN size;
DROP INDEX availability_objects_extent;
ALTER TABLE availability_objects DROP COLUMN extent_exact;
ALTER TABLE availability_objects DROP COLUMN extent_end;
ALTER TABLE availability_objects DROP COLUMN extent_start;
