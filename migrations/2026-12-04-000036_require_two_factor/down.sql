DROP INDEX memberships_org_two_factor_idx;

DROP TRIGGER users_sync_memberships ON users;
CREATE OR REPLACE FUNCTION users_sync_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships
       SET member_name = NEW.name, member_email = NEW.email,
           member_verified = NEW.email_verified_at IS NOT NULL
     WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_sync_memberships AFTER UPDATE OF name, email, email_verified_at ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_memberships();

CREATE OR REPLACE FUNCTION memberships_copy_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT u.name, u.email, u.email_verified_at IS NOT NULL
      INTO NEW.member_name, NEW.member_email, NEW.member_verified
      FROM users u WHERE u.id = NEW.user_id;
    RETURN NEW;
END $$;

ALTER TABLE memberships DROP COLUMN member_two_factor;
DROP TRIGGER authenticator_apps_refresh_user ON authenticator_apps;
DROP FUNCTION factors_refresh_user();
DROP FUNCTION two_factor_of(uuid);
ALTER TABLE users DROP COLUMN two_factor;
ALTER TABLE organizations DROP COLUMN two_factor_required_from;
