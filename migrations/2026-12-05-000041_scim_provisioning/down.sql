DROP TABLE scim_requests;
DROP INDEX teams_org_scim_external_id_idx;
ALTER TABLE users DROP COLUMN provisioned_by;
ALTER TABLE teams DROP COLUMN updated_at, DROP COLUMN scim_external_id, DROP COLUMN scim_managed;
DROP INDEX memberships_org_scim_external_id_idx, memberships_org_scim_user_name_idx;
CREATE OR REPLACE FUNCTION users_sync_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships
       SET member_name = NEW.name, member_email = NEW.email,
           member_verified = NEW.email_verified_at IS NOT NULL,
           member_two_factor = NEW.two_factor
     WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
ALTER TABLE memberships
    DROP COLUMN consent_pending,
    DROP COLUMN scim_updated_at, DROP COLUMN scim_profile, DROP COLUMN scim_external_id, DROP COLUMN scim_managed;
ALTER TABLE organizations DROP COLUMN scim_enabled;
DELETE FROM api_keys WHERE scopes = ARRAY['scim']::text[];
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
    cardinality(scopes) >= 1
    AND scopes <@ ARRAY['members:read', 'members:write', 'invitations:read', 'invitations:write',
                        'teams:read', 'teams:write', 'audit:read']::text[]
);
