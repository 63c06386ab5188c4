-- Verified domains (DESIGN.md §2.6): a domain an organization claims, proved by a
-- DNS TXT record holding its token; once verified, people whose verified address
-- is at exactly that domain join the organization as Member, seats permitting.
CREATE TABLE organization_domains (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- ASCII (punycode), lowercase, no trailing dot.
    domain          text NOT NULL CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$'),
    token           text NOT NULL CHECK (char_length(token) >= 16),
    created_at      timestamptz NOT NULL DEFAULT now(),
    verified_at     timestamptz,
    last_checked_at timestamptz,
    -- What the last `Verify` found when it failed, in words.
    last_error      text,
    UNIQUE (organization_id, domain)
);
-- A domain is verified for one organization at most.
CREATE UNIQUE INDEX organization_domains_verified_idx ON organization_domains (domain) WHERE verified_at IS NOT NULL;
