-- Single sign-on (DESIGN.md §2.11): one OpenID Connect provider per organization,
-- the verified domains it covers, the identities it vouches for, and the sign-ins
-- on their way to it and back.

CREATE TABLE sso_connections (
    organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    issuer text NOT NULL CHECK (issuer <> '' AND length(issuer) <= 2000),
    client_id text NOT NULL CHECK (client_id <> '' AND length(client_id) <= 1000),
    -- Sealed under the instance keys (db::sealed), re-sealed when they rotate.
    client_secret_sealed bytea NOT NULL,
    client_secret_sealed_with text NOT NULL,
    -- What discovery found, so a sign-in need not ask each time (asked again after an hour).
    metadata jsonb,
    metadata_fetched_at timestamptz,
    -- The provider's signing keys: fetched again when a token names a key not among them,
    -- at most once a minute.
    jwks jsonb,
    jwks_fetched_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which verified domains sign in through the organization's provider, and which of
-- them sign in only that way (`Require SSO`).
ALTER TABLE organization_domains
    ADD COLUMN sso boolean NOT NULL DEFAULT false,
    ADD COLUMN sso_required boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT organization_domains_sso_required_is_covered CHECK (sso OR NOT sso_required);

-- An account as the provider knows it: by issuer and subject, never by address alone.
CREATE TABLE sso_identities (
    issuer text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- A sign-in sent to the provider: its state (hashed), nonce and PKCE verifier, kept
-- here so whichever instance the browser comes back to finishes it, once.
CREATE TABLE sso_sign_ins (
    state_hash bytea PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email text NOT NULL,
    nonce text NOT NULL CHECK (length(nonce) >= 16),
    pkce_verifier text NOT NULL CHECK (length(pkce_verifier) >= 43),
    next text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sso_sign_ins_expires_idx ON sso_sign_ins (expires_at);
