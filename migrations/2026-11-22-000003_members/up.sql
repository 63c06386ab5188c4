-- The Members page: sortable copies of each member's name, email and
-- verification (kept in step with users by triggers), who invited them, and
-- the rule that an organization has exactly one Owner, enforced by the database.

ALTER TABLE memberships
    ADD COLUMN member_name     text,
    ADD COLUMN member_email    text,
    ADD COLUMN member_verified boolean,
    ADD COLUMN invited_by      uuid REFERENCES users (id) ON DELETE SET NULL;

UPDATE memberships m
   SET member_name = u.name, member_email = u.email, member_verified = u.email_verified_at IS NOT NULL
  FROM users u
 WHERE u.id = m.user_id;

ALTER TABLE memberships
    ALTER COLUMN member_name SET NOT NULL,
    ALTER COLUMN member_email SET NOT NULL,
    ALTER COLUMN member_verified SET NOT NULL;

-- A new membership copies its user's name, email and verification.
CREATE FUNCTION memberships_copy_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT u.name, u.email, u.email_verified_at IS NOT NULL
      INTO NEW.member_name, NEW.member_email, NEW.member_verified
      FROM users u WHERE u.id = NEW.user_id;
    RETURN NEW;
END $$;
CREATE TRIGGER memberships_copy_user BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_copy_user();

-- A change to a user reaches every membership of theirs.
CREATE FUNCTION users_sync_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships
       SET member_name = NEW.name, member_email = NEW.email,
           member_verified = NEW.email_verified_at IS NOT NULL
     WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_sync_memberships AFTER UPDATE OF name, email, email_verified_at ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_memberships();

-- Sort keys of the Members page, each with id as the keyset tie-breaker.
CREATE INDEX memberships_org_name_idx ON memberships (organization_id, lower(member_name), id);
CREATE INDEX memberships_org_email_idx ON memberships (organization_id, lower(member_email), id);
CREATE INDEX memberships_org_role_idx ON memberships (organization_id, role, id);
CREATE INDEX memberships_org_joined_idx ON memberships (organization_id, created_at, id);
CREATE INDEX memberships_org_verified_idx ON memberships (organization_id, member_verified, id);

-- Exactly one Owner: the partial unique index already forbids two; this
-- deferred check forbids none, at commit, for every organization that still exists.
CREATE FUNCTION memberships_check_one_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org uuid := COALESCE(NEW.organization_id, OLD.organization_id);
BEGIN
    IF EXISTS (SELECT 1 FROM organizations WHERE id = org)
       AND (SELECT count(*) FROM memberships WHERE organization_id = org AND role = 'owner') <> 1 THEN
        RAISE EXCEPTION 'organization % must have exactly one owner', org
            USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_exactly_one_owner';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
    AFTER INSERT OR UPDATE OR DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION memberships_check_one_owner();
