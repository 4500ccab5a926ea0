-- +goose Up
-- The size of each personal calendar's data, its objects' sizes together, kept with each write
-- so that the per-calendar cap (courtside.MaxCalendarBytes) is checked without summing the
-- calendar at every PUT.
ALTER TABLE personal_calendars ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE personal_calendars SET bytes = (SELECT COALESCE(SUM(o.size), 0) FROM availability_objects o
    WHERE o.user_id = personal_calendars.user_id AND o.calendar = personal_calendars.name);

-- +goose Down
ALTER TABLE personal_calendars DROP COLUMN bytes;
