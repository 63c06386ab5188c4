-- SCIM 2.0 provisioning (DESIGN.md §2.11): an identity provider creates, updates,
-- suspends and removes members (SCIM Users) and teams (SCIM Groups) with an
-- organization API key whose only scope is `scim`.

-- A SCIM token is an organization API key whose one scope is `scim`.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
    cardinality(scopes) >= 1
    AND (scopes <@ ARRAY['members:read', 'members:write', 'invitations:read', 'invitations:write',
                         'teams:read', 'teams:write', 'audit:read']::text[]
         OR scopes = ARRAY['scim']::text[])
);

-- The Owner turns provisioning on; while it is off, SCIM tokens are refused.
ALTER TABLE organizations ADD COLUMN scim_enabled boolean NOT NULL DEFAULT false;

-- What the identity provider manages is marked, and the console leaves it alone.
-- `scim_external_id` is the provider's own id; `scim_profile` keeps the parts of its
-- User that Roster does not otherwise hold (name parts, display name, emails), so it
-- reads back what it wrote. `scim_updated_at` is the User's `meta.lastModified`.
ALTER TABLE memberships
    ADD COLUMN scim_managed boolean NOT NULL DEFAULT false,
    ADD COLUMN scim_external_id text CHECK (length(scim_external_id) <= 512),
    ADD COLUMN scim_profile jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN scim_updated_at timestamptz,
    -- Made by the provider for an address that already had an account of its own
    -- outside the organization's verified domains: it waits for its owner's Accept,
    -- and until then its copies of name, address, verification and second factor
    -- hold what the provider sent, so the organization learns nothing of the account.
    ADD COLUMN consent_pending boolean NOT NULL DEFAULT false;
CREATE INDEX memberships_org_scim_external_id_idx
    ON memberships (organization_id, scim_external_id) WHERE scim_external_id IS NOT NULL;
-- Identity providers look people up by userName before every change (Okta:
-- `filter=userName eq "…"`): its value is the provider's, or else the address.
CREATE INDEX memberships_org_scim_user_name_idx
    ON memberships (organization_id, lower(coalesce(scim_profile->>'userName', member_email)));

CREATE OR REPLACE FUNCTION users_sync_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships
       SET member_name = NEW.name, member_email = NEW.email,
           member_verified = NEW.email_verified_at IS NOT NULL,
           member_two_factor = NEW.two_factor
     WHERE user_id = NEW.id AND NOT consent_pending;
    RETURN NULL;
END $$;

-- The organization whose identity provider made an account: it may rename the
-- account later (as may one that verified the account's domain); others may not.
ALTER TABLE users ADD COLUMN provisioned_by uuid REFERENCES organizations (id) ON DELETE SET NULL;

ALTER TABLE teams
    ADD COLUMN scim_managed boolean NOT NULL DEFAULT false,
    ADD COLUMN scim_external_id text CHECK (length(scim_external_id) <= 512),
    ADD COLUMN updated_at timestamptz;
CREATE INDEX teams_org_scim_external_id_idx
    ON teams (organization_id, scim_external_id) WHERE scim_external_id IS NOT NULL;

-- What the identity provider did, for Settings → Provisioning (SCIM): every change
-- it asked for and every refusal, newest first; the oldest beyond a few hundred go.
CREATE TABLE scim_requests (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    api_key_id      uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    operation       text NOT NULL,
    subject         text NOT NULL,
    status          integer NOT NULL,
    detail          text NOT NULL DEFAULT ''
);
CREATE INDEX scim_requests_org_at_idx ON scim_requests (organization_id, at DESC, id);
