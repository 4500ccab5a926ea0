-- +goose Up
-- Sessions of people who logged in; only the SHA-256 of the token is stored.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, for the lockout rule.
CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (user_id, at);

-- The end of a lockout after too many failed logins.
ALTER TABLE users ADD COLUMN locked_until TEXT;

-- +goose Down
DROP TABLE login_failures;
DROP TABLE sessions;
