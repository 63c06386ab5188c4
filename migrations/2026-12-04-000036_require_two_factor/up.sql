-- Require two-factor (DESIGN.md §2.10). An organization that requires it names the
-- moment its grace period ends; each account keeps what second factor it has
-- ('off', 'on': an authenticator app, 'passkey'), derived by the database from the
-- factors themselves, and each membership a sortable copy of it for the Members page.

ALTER TABLE organizations ADD COLUMN two_factor_required_from timestamptz;

ALTER TABLE users ADD COLUMN two_factor text NOT NULL DEFAULT 'off'
    CONSTRAINT users_two_factor_known CHECK (two_factor IN ('off', 'on', 'passkey'));

-- What second factor an account has, from its factors (passkeys join in a later migration).
CREATE FUNCTION two_factor_of(account uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM authenticator_apps a
                              WHERE a.user_id = account AND a.confirmed_at IS NOT NULL)
                THEN 'on' ELSE 'off' END
$$;

UPDATE users SET two_factor = two_factor_of(id);

-- A change to an account's factors refreshes its two_factor (only when it differs,
-- so a code used, which updates the app's last step, writes nothing more).
CREATE FUNCTION factors_refresh_user() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account uuid := COALESCE(NEW.user_id, OLD.user_id);
BEGIN
    UPDATE users SET two_factor = two_factor_of(account)
     WHERE id = account AND two_factor IS DISTINCT FROM two_factor_of(account);
    RETURN NULL;
END $$;
CREATE TRIGGER authenticator_apps_refresh_user AFTER INSERT OR UPDATE OF confirmed_at OR DELETE
    ON authenticator_apps FOR EACH ROW EXECUTE FUNCTION factors_refresh_user();

ALTER TABLE memberships ADD COLUMN member_two_factor text NOT NULL DEFAULT 'off';
UPDATE memberships m SET member_two_factor = u.two_factor FROM users u WHERE u.id = m.user_id AND u.two_factor <> 'off';

-- Memberships copy it like the name, email and verification (migration 3).
CREATE OR REPLACE FUNCTION memberships_copy_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT u.name, u.email, u.email_verified_at IS NOT NULL, u.two_factor
      INTO NEW.member_name, NEW.member_email, NEW.member_verified, NEW.member_two_factor
      FROM users u WHERE u.id = NEW.user_id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION users_sync_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships
       SET member_name = NEW.name, member_email = NEW.email,
           member_verified = NEW.email_verified_at IS NOT NULL,
           member_two_factor = NEW.two_factor
     WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
DROP TRIGGER users_sync_memberships ON users;
CREATE TRIGGER users_sync_memberships AFTER UPDATE OF name, email, email_verified_at, two_factor ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_memberships();

-- The Members page's filter: who in an organization has no second factor.
CREATE INDEX memberships_org_two_factor_idx ON memberships (organization_id, member_two_factor, id);
