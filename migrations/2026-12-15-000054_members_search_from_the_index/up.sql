-- A search of the Members page walks the sort's index (name or address) until a
-- page of rows match; with few matches that is thousands of rows, each read from
-- the table and lowered twice to be tested. These two indexes now hold both
-- lowered values as keys (the one after the id changes no order: ids are unique),
-- which a walk tests as they are stored, and the name and the address themselves,
-- without which PostgreSQL does not consider reading the index alone. The walk
-- then reads the table only for the page's rows. Same leading keys as migration
-- 3's, so every other use stays.
DROP INDEX memberships_org_name_idx;
CREATE INDEX memberships_org_name_idx ON memberships (organization_id, lower(member_name), id, lower(member_email))
    INCLUDE (member_name, member_email);
DROP INDEX memberships_org_email_idx;
CREATE INDEX memberships_org_email_idx ON memberships (organization_id, lower(member_email), id, lower(member_name))
    INCLUDE (member_name, member_email);
