-- +goose Up
-- The version of the renderer that rendered the stored calendar objects (calendar.RenderVersion).
-- When the server starts with another, it puts every hearing on the backfill queue and renders
-- them again (storage.DB.BackfillCalendarObjects), so that no calendar keeps serving an object
-- as an older version of Courtside wrote it.
CREATE TABLE calendar_render (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL
);

-- +goose Down
DROP TABLE calendar_render;
