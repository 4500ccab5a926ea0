-- +goose Up
-- What a HELP text reply tells: the organisation's neutral name and how to reach it.
CREATE TABLE organization_sms_help (
    organization_id INTEGER PRIMARY KEY REFERENCES organizations (id),
    neutral_name    TEXT NOT NULL,
    reach           TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- +goose Down
DROP TABLE organization_sms_help;
