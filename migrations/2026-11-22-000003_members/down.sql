DROP TRIGGER memberships_exactly_one_owner ON memberships;
DROP FUNCTION memberships_check_one_owner();
DROP INDEX memberships_org_verified_idx;
DROP INDEX memberships_org_joined_idx;
DROP INDEX memberships_org_role_idx;
DROP INDEX memberships_org_email_idx;
DROP INDEX memberships_org_name_idx;
DROP TRIGGER users_sync_memberships ON users;
DROP FUNCTION users_sync_memberships();
DROP TRIGGER memberships_copy_user ON memberships;
DROP FUNCTION memberships_copy_user();
ALTER TABLE memberships
    DROP COLUMN invited_by,
    DROP COLUMN member_verified,
    DROP COLUMN member_email,
    DROP COLUMN member_name;
