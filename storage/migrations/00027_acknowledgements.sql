-- +goose Up
-- Two-way notices. A victim acknowledges a notice by its signed link or by a text reply
-- (acknowledged_at, acknowledged_by); an unacknowledged notice escalates at escalate_at to the
-- victim's advocates (escalated_at). provider_id is the SMS gateway's message SID of a sent
-- text, which its delivery receipts quote; delivered_at is when a receipt said it arrived.
ALTER TABLE deliveries ADD COLUMN acknowledged_at TEXT;
ALTER TABLE deliveries ADD COLUMN acknowledged_by TEXT CHECK (acknowledged_by IN ('LINK','SMS_REPLY'));
ALTER TABLE deliveries ADD COLUMN escalate_at TEXT;
ALTER TABLE deliveries ADD COLUMN escalated_at TEXT;
ALTER TABLE deliveries ADD COLUMN provider_id TEXT;
ALTER TABLE deliveries ADD COLUMN delivered_at TEXT;
-- The escalation sweep reads only the notices still waiting for an answer.
CREATE INDEX deliveries_escalation ON deliveries (escalate_at)
    WHERE escalate_at IS NOT NULL AND acknowledged_at IS NULL AND escalated_at IS NULL;
CREATE UNIQUE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
-- The latest text to a victim, for a reply.
CREATE INDEX deliveries_victim_sent ON deliveries (victim_id, channel, sent_at) WHERE victim_id IS NOT NULL;

-- The acknowledgement links that were used: SHA-256 of the token, never the token.
CREATE TABLE notice_link_uses (
    token_hash  BLOB PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    used_at     TEXT NOT NULL
) WITHOUT ROWID;

-- The SMS gateway's delivery receipts (status callbacks), one per message and status: a
-- receipt seen before changes nothing. A receipt may arrive before its send is recorded; it is
-- applied when the send is.
CREATE TABLE sms_receipts (
    message_sid TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('DELIVERED','FAILED')),
    error_code  TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    PRIMARY KEY (message_sid, status)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE sms_receipts;
DROP TABLE notice_link_uses;
DROP INDEX deliveries_victim_sent;
DROP INDEX deliveries_provider;
DROP INDEX deliveries_escalation;
ALTER TABLE deliveries DROP COLUMN delivered_at;
ALTER TABLE deliveries DROP COLUMN provider_id;
ALTER TABLE deliveries DROP COLUMN escalated_at;
ALTER TABLE deliveries DROP COLUMN escalate_at;
ALTER TABLE deliveries DROP COLUMN acknowledged_by;
ALTER TABLE deliveries DROP COLUMN acknowledged_at;
