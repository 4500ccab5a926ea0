-- +goose Up
-- PostgreSQL's counterpart of SQLite's 00034: personal calendars that can be deleted and made
-- again (components, incarnation), their description, journals and the Schedule-Tag of an
-- attendee's copy of an invitation. PostgreSQL changes the CHECK constraint in place.
ALTER TABLE personal_calendars ADD COLUMN components TEXT NOT NULL DEFAULT 'VEVENT,VTODO,VJOURNAL';
ALTER TABLE personal_calendars ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
ALTER TABLE calendar_settings ADD COLUMN description TEXT;
ALTER TABLE availability_objects DROP CONSTRAINT availability_objects_component_check;
ALTER TABLE availability_objects ADD CONSTRAINT availability_objects_component_check
    CHECK (component IN ('VEVENT','VTODO','VJOURNAL'));
ALTER TABLE availability_objects ADD COLUMN schedule_tag TEXT NOT NULL DEFAULT '';

-- +goose Down
DELETE FROM availability_objects WHERE component = 'VJOURNAL';
ALTER TABLE availability_objects DROP COLUMN schedule_tag;
ALTER TABLE availability_objects DROP CONSTRAINT availability_objects_component_check;
ALTER TABLE availability_objects ADD CONSTRAINT availability_objects_component_check
    CHECK (component IN ('VEVENT','VTODO'));
ALTER TABLE calendar_settings DROP COLUMN description;
ALTER TABLE personal_calendars DROP COLUMN incarnation;
ALTER TABLE personal_calendars DROP COLUMN components;
