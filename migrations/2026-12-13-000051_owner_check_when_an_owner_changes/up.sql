-- The one-Owner check, run only where the number of Owners can change. It ran
-- at commit for every membership written: a million generated members queued a
-- million checks (9.6 s of COMMIT), a bulk removal one per member. A membership
-- that is not and was not an Owner's cannot change how many Owners its
-- organization has; what it could still meet is an organization that never had
-- one, which the check on the organization's own row now refuses.
DROP TRIGGER memberships_exactly_one_owner ON memberships;

CREATE CONSTRAINT TRIGGER memberships_owner_added
    AFTER INSERT ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.role = 'owner')
    EXECUTE FUNCTION memberships_check_one_owner();
CREATE CONSTRAINT TRIGGER memberships_owner_changed
    AFTER UPDATE OF role, organization_id ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.role = 'owner' OR NEW.role = 'owner')
    EXECUTE FUNCTION memberships_check_one_owner();
CREATE CONSTRAINT TRIGGER memberships_owner_removed
    AFTER DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.role = 'owner')
    EXECUTE FUNCTION memberships_check_one_owner();

-- An organization is made with its Owner, in the same transaction.
CREATE FUNCTION organizations_check_one_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM organizations WHERE id = NEW.id)
       AND (SELECT count(*) FROM memberships WHERE organization_id = NEW.id AND role = 'owner') <> 1 THEN
        RAISE EXCEPTION 'organization % must have exactly one owner', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_exactly_one_owner';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER organizations_made_with_an_owner
    AFTER INSERT ON organizations
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION organizations_check_one_owner();
