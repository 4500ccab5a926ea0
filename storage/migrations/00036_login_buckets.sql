-- +goose Up
-- The sign-in throttles' token buckets are a table on PostgreSQL only (its migration of the same
-- number), where several service processes share one database. A SQLite database is served by
-- one process, which keeps its buckets in memory: nothing to create here.
SELECT 1;

-- +goose Down
SELECT 1;
