-- memberships had two identical indexes on (organization_id, id): the one of
-- migration 15, for the listings, and the one behind the unique constraint of
-- migration 8, which the team and grant foreign keys reference. Every plan that
-- read the first reads the second alike; every membership written updated both
-- (a million generated members: one index of 56 MB written for nothing).
DROP INDEX memberships_org_id_idx;
