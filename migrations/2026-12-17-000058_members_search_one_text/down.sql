DROP INDEX memberships_search_idx;
CREATE INDEX memberships_search_idx ON memberships
    USING gin (organization_id, lower(member_name) gin_trgm_ops, lower(member_email) gin_trgm_ops);
