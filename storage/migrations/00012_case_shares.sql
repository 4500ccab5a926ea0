-- +goose Up
-- A prosecutor's office shares a case with an advocacy organisation: only then do the
-- organisation's coordinators see the case and its hearings and link victims to it. Withdrawing
-- a share deletes its row (the audit log keeps the history).
CREATE TABLE case_shares (
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    shared_at       TEXT NOT NULL,
    shared_by       INTEGER REFERENCES users (id),
    PRIMARY KEY (case_id, organization_id)
) WITHOUT ROWID;
CREATE INDEX case_shares_org ON case_shares (organization_id, case_id);

-- An advocacy organisation asks for a case by court and docket number. The office owning that
-- docket sees the request (matched when read, so a request made before the case is opened
-- finds it later); the requester learns nothing about whether the docket exists.
CREATE TABLE case_access_requests (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    court_id        INTEGER NOT NULL REFERENCES courts (id),
    docket          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('PENDING','GRANTED','REFUSED')),
    requested_by    INTEGER REFERENCES users (id),
    requested_at    TEXT NOT NULL,
    decided_by      INTEGER REFERENCES users (id),
    decided_at      TEXT
);
CREATE UNIQUE INDEX case_access_requests_pending ON case_access_requests (organization_id, court_id, docket COLLATE NOCASE)
    WHERE status = 'PENDING';
CREATE INDEX case_access_requests_docket ON case_access_requests (court_id, docket COLLATE NOCASE);

-- Links made before sharing existed were never the office's decision: each organisation with a
-- victim linked to a case gets a pending request for it, which the office grants or refuses.
-- Until then the links stay but give the organisation no access (the scopes require a share).
INSERT INTO case_access_requests (organization_id, court_id, docket, note, status, requested_at)
SELECT DISTINCT v.organization_id, c.court_id, c.docket, 'Carried over: a victim of this organisation was linked to the case before cases were shared.',
    'PENDING', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM case_victims cv JOIN victims v ON v.id = cv.victim_id JOIN cases c ON c.id = cv.case_id;

-- +goose Down
DROP TABLE case_access_requests;
DROP TABLE case_shares;
