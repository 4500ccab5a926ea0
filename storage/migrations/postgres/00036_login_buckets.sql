-- +goose Up
-- The sign-in throttles' token buckets, shared by every service process on the database: one
-- row per bucket, scope 'address' (a client address, an IPv6 client by its /64) or 'username',
-- key the SHA-256 of the address or of the folded username (never the address or the name
-- itself), tokens left as of at (microseconds since 1970, UTC). A bucket refills at the
-- configured rate up to its burst; buckets full again are deleted now and then. UNLOGGED: a
-- crash empties the table, which only refills every bucket.
CREATE UNLOGGED TABLE login_buckets (
    scope  TEXT NOT NULL CHECK (scope IN ('address','username')),
    key    BYTEA NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    at     BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- +goose Down
DROP TABLE login_buckets;
