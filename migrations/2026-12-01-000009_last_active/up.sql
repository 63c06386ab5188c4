-- When each member last used their organization: written at most once every few
-- minutes per member, read by the Members page's `Last active` column and by
-- Seat Usage's inactive members.
ALTER TABLE memberships ADD COLUMN last_active_at timestamptz;

-- Nobody's activity was recorded before: count everyone as active at the
-- upgrade rather than as "never came back", so that no one who used Roster
-- yesterday is offered for removal as inactive. Members joining from now on
-- start empty ("never") until they use the organization.
UPDATE memberships SET last_active_at = now();

-- The `Last active` sort, never-active members first, with id as the keyset tie-breaker.
CREATE INDEX memberships_org_last_active_idx
    ON memberships (organization_id, coalesce(last_active_at, '0001-01-01 00:00:00+00'::timestamptz), id);

-- The one-Owner check only needs to run when a role or an organization changes,
-- not on every activity write.
DROP TRIGGER memberships_exactly_one_owner ON memberships;
CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
    AFTER INSERT OR UPDATE OF role, organization_id OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION memberships_check_one_owner();
