-- Shareable invite links (DESIGN.md §2.12): one link many people can use, with a
-- role, teams and projects, an expiry, a use limit, allowed email domains and
-- optional approval. Like an invitation's, its token is derived from a nonce with
-- the server's key and only its SHA-256 is kept, so a copy of the database alone
-- never yields a working link.
CREATE TABLE invite_links (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    label             text NOT NULL DEFAULT '' CHECK (char_length(label) <= 80),
    token_nonce       bytea NOT NULL CHECK (octet_length(token_nonce) = 16),
    token_hash        bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    role              text NOT NULL CHECK (role IN ('admin', 'member')),
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    -- NULL: no limit but the seats.
    max_uses          integer CHECK (max_uses BETWEEN 1 AND 10000),
    uses              integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)),
    -- Empty: any address; otherwise the exact domains an address must be at.
    allowed_domains   text[] NOT NULL DEFAULT '{}',
    requires_approval boolean NOT NULL DEFAULT false,
    disabled_at       timestamptz,
    disabled_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (organization_id, id)
);
CREATE INDEX invite_links_organization ON invite_links (organization_id, created_at DESC, id DESC);

-- What a link brings besides the membership, as invitation_grants does for an invitation.
CREATE TABLE invite_link_grants (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    invite_link_id  uuid NOT NULL,
    team_id         uuid,
    project_id      uuid,
    name            text NOT NULL,
    level           text CHECK (level IN ('read', 'write', 'admin')),
    is_team         boolean NOT NULL GENERATED ALWAYS AS (level IS NULL) STORED,
    CHECK (level IS NULL OR team_id IS NULL),
    CHECK (level IS NOT NULL OR project_id IS NULL),
    FOREIGN KEY (organization_id, invite_link_id) REFERENCES invite_links (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, team_id) REFERENCES teams (organization_id, id) ON DELETE SET NULL (team_id),
    FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id)
        ON DELETE SET NULL (project_id)
);
CREATE INDEX invite_link_grants_link ON invite_link_grants (invite_link_id);
CREATE INDEX invite_link_grants_team ON invite_link_grants (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX invite_link_grants_project ON invite_link_grants (project_id) WHERE project_id IS NOT NULL;

-- Who used a link, and whether they joined or asked (an approval link).
CREATE TABLE invite_link_uses (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    invite_link_id uuid NOT NULL REFERENCES invite_links (id) ON DELETE CASCADE,
    user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    name           text NOT NULL,
    email          text NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('joined', 'requested')),
    used_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invite_link_uses_link ON invite_link_uses (invite_link_id, used_at DESC, id DESC);
-- One use per person and link: asking, withdrawing and asking again spends nothing more.
CREATE UNIQUE INDEX invite_link_uses_once ON invite_link_uses (invite_link_id, user_id);

-- A request made through an approval link remembers it: approving brings what it brings.
ALTER TABLE join_requests ADD COLUMN invite_link_id uuid REFERENCES invite_links (id) ON DELETE SET NULL;
CREATE INDEX join_requests_invite_link ON join_requests (invite_link_id) WHERE invite_link_id IS NOT NULL;

-- Webhook endpoints may subscribe to invite links.
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (
    cardinality(events) >= 1
    AND events <@ ARRAY['invitation.*', 'member.*', 'join_request.*', 'invite_link.*', 'team.*', 'project.*',
                        'seats.*', 'ownership.*']::text[]
);
