-- +goose Up
-- A blind index of each contact address, so that a contact can be looked up without being
-- stored in the clear: key id (8 bytes) | HMAC-SHA256 of the channel and normalised address under
-- a key derived from the encryption key (see storage/seal.go). Key rotation recomputes it.
ALTER TABLE victim_contacts ADD COLUMN address_index BLOB;
CREATE INDEX victim_contacts_address_index ON victim_contacts (address_index);

-- +goose Down
DROP INDEX victim_contacts_address_index;
ALTER TABLE victim_contacts DROP COLUMN address_index;
