-- Every new membership looks up its account again, as migration 3 had it.
DROP TRIGGER memberships_copy_user ON memberships;
CREATE TRIGGER memberships_copy_user BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_copy_user();
