-- +goose Up
-- The consent ledger: a victim's written, purpose-scoped, time-limited, revocable releases of
-- information (VAWA, 34 U.S.C. 12291(b)(2)) to a prosecutor's office. A release is active while
-- granted_at <= now < expires_at and not revoked; every read checks that against the clock.
-- The reference to the signed paper is sealed like a legal name (storage/seal.go).
CREATE TABLE releases (
    id                        INTEGER PRIMARY KEY,
    victim_id                 INTEGER NOT NULL REFERENCES victims (id),
    recipient_organization_id INTEGER NOT NULL REFERENCES organizations (id),
    purpose                   TEXT NOT NULL CHECK (purpose IN ('CASE_COORDINATION')),
    reference_sealed          BLOB,
    granted_at                TEXT NOT NULL,
    expires_at                TEXT NOT NULL,
    revoked_at                TEXT,
    recorded_by               INTEGER REFERENCES users (id),
    recorded_at               TEXT NOT NULL,
    revoked_by                INTEGER REFERENCES users (id),
    CHECK (expires_at > granted_at)
);
CREATE INDEX releases_victim ON releases (victim_id, id);
CREATE INDEX releases_recipient ON releases (recipient_organization_id, victim_id, purpose, expires_at);

-- +goose Down
DROP TABLE releases;
