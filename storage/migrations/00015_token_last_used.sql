-- +goose Up
-- When each secret (API token, app password, feed token) last authenticated a request; written
-- at most once a minute per secret, so that reads stay reads.
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;

-- +goose Down
ALTER TABLE tokens DROP COLUMN last_used_at;
