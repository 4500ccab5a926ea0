-- +goose Up
-- Indexes for the lookups of the calendar projection and the notice planner, each run once per
-- event (storage.TestHotQueriesUseIndexes checks their plans):
-- the advocates of a hearing (calendar membership, the planners' people of a hearing), whatever
-- the accompaniments' status;
CREATE INDEX accompaniments_hearing ON accompaniments (hearing_id, advocate_id);
-- the advocates accompanying a victim at any hearing (the notice planner, when a victim's notice
-- is suppressed and no advocate accompanies them at the hearing itself);
CREATE INDEX accompaniments_victim ON accompaniments (victim_id, advocate_id) WHERE status <> 'CANCELLED';
-- the calendars a hearing was in (the projection's leavers);
CREATE INDEX calendar_changes_hearing ON calendar_changes (hearing_id, calendar, deleted, user_id);
-- the prosecutors of an office (calendar membership of a hearing).
CREATE INDEX users_organization_role ON users (organization_id, role);

-- +goose Down
DROP INDEX users_organization_role;
DROP INDEX calendar_changes_hearing;
DROP INDEX accompaniments_victim;
DROP INDEX accompaniments_hearing;
