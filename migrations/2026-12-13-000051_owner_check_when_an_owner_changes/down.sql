DROP TRIGGER organizations_made_with_an_owner ON organizations;
DROP FUNCTION organizations_check_one_owner();
DROP TRIGGER memberships_owner_removed ON memberships;
DROP TRIGGER memberships_owner_changed ON memberships;
DROP TRIGGER memberships_owner_added ON memberships;
CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
    AFTER INSERT OR UPDATE OF role, organization_id OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION memberships_check_one_owner();
