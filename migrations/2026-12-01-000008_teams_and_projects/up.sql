-- Teams and projects (DESIGN.md §2.5): teams of members with a team role,
-- projects reached through a team or a direct grant, and the teams and projects
-- an invitation brings. Every link names its organization, so composite foreign
-- keys make a cross-organization link impossible, and links hang off the
-- membership (not the account): removing a member ends their team places and
-- grants, and a later invitation starts from nothing.

ALTER TABLE memberships ADD CONSTRAINT memberships_org_id_key UNIQUE (organization_id, id);
ALTER TABLE invitations ADD CONSTRAINT invitations_org_id_key UNIQUE (organization_id, id);

CREATE TABLE teams (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 64),
    description     text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, slug),
    UNIQUE (organization_id, id)
);
-- The Teams page's order and search, with id as the keyset tie-breaker.
CREATE INDEX teams_org_name_idx ON teams (organization_id, lower(name), id);

CREATE TABLE team_members (
    organization_id uuid NOT NULL,
    team_id         uuid NOT NULL,
    membership_id   uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('maintainer', 'member')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, membership_id),
    FOREIGN KEY (organization_id, team_id) REFERENCES teams (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, membership_id) REFERENCES memberships (organization_id, id) ON DELETE CASCADE
);
-- A member's teams (the Access view, and the cascade from memberships).
CREATE INDEX team_members_membership_idx ON team_members (membership_id);

CREATE TABLE projects (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug            text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 64),
    description     text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, slug),
    UNIQUE (organization_id, id)
);
CREATE INDEX projects_org_name_idx ON projects (organization_id, lower(name), id);

-- Access to a project, for a team or for one member, at a level.
CREATE TABLE project_grants (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    team_id         uuid,
    membership_id   uuid,
    level           text NOT NULL CHECK (level IN ('read', 'write', 'admin')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((team_id IS NULL) <> (membership_id IS NULL)),
    FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, team_id) REFERENCES teams (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, membership_id) REFERENCES memberships (organization_id, id) ON DELETE CASCADE
);
-- One grant per project and grantee; a new level replaces the old one.
CREATE UNIQUE INDEX project_grants_team_idx ON project_grants (team_id, project_id) WHERE team_id IS NOT NULL;
CREATE UNIQUE INDEX project_grants_member_idx ON project_grants (membership_id, project_id)
    WHERE membership_id IS NOT NULL;
CREATE INDEX project_grants_project_idx ON project_grants (project_id);

-- What an invitation brings besides the membership. The name is kept as it was
-- when inviting, so a team or project deleted meanwhile can still be named when
-- the accepted invitation skips it (its id is then set to NULL).
CREATE TABLE invitation_grants (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    invitation_id   uuid NOT NULL,
    team_id         uuid,
    project_id      uuid,
    name            text NOT NULL,
    -- NULL for a team (the invitee joins it as Member); the level for a project.
    level           text CHECK (level IN ('read', 'write', 'admin')),
    -- Derived: a team has no level, a project has one.
    is_team         boolean NOT NULL GENERATED ALWAYS AS (level IS NULL) STORED,
    CHECK (level IS NULL OR team_id IS NULL),
    CHECK (level IS NOT NULL OR project_id IS NULL),
    FOREIGN KEY (organization_id, invitation_id) REFERENCES invitations (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, team_id) REFERENCES teams (organization_id, id) ON DELETE SET NULL (team_id),
    FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id)
        ON DELETE SET NULL (project_id)
);
CREATE INDEX invitation_grants_invitation_idx ON invitation_grants (invitation_id);
CREATE INDEX invitation_grants_team_idx ON invitation_grants (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX invitation_grants_project_idx ON invitation_grants (project_id) WHERE project_id IS NOT NULL;
