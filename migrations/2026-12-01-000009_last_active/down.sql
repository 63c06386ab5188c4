DROP TRIGGER memberships_exactly_one_owner ON memberships;
CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
    AFTER INSERT OR UPDATE OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION memberships_check_one_owner();
DROP INDEX memberships_org_last_active_idx;
ALTER TABLE memberships DROP COLUMN last_active_at;
