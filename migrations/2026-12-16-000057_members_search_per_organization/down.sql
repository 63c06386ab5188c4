DROP INDEX memberships_search_idx;
CREATE INDEX memberships_search_idx ON memberships
    USING gin (lower(member_name) gin_trgm_ops, lower(member_email) gin_trgm_ops);
DROP EXTENSION IF EXISTS btree_gin;
