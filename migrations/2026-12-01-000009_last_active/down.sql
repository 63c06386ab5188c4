DROP INDEX memberships_org_last_active_idx;
ALTER TABLE memberships DROP COLUMN last_active_at;
