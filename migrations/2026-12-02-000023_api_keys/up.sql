-- Organization API keys (DESIGN.md §2.9). A key acts for the organization with its
-- creator's role, never more than Admin, and only within its scopes. Only the
-- SHA-256 of its secret is kept; `secret_hint` tells keys apart in the list.
-- A revoked key stays listed (and in the audit log) but is refused.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    scopes text[] NOT NULL CHECK (
        cardinality(scopes) >= 1
        AND scopes <@ ARRAY['members:read', 'members:write', 'invitations:read', 'invitations:write',
                            'teams:read', 'teams:write', 'audit:read']::text[]
    ),
    secret_hint text NOT NULL,
    secret_hash bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    creator_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_by text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- Two live keys of one organization never share a name, so the list and the audit
-- log can name them.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (organization_id, lower(name)) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_by_org ON api_keys (organization_id, created_at DESC, id);
