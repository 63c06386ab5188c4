-- Access over time (DESIGN.md §2.12): a membership, a team place or a member's own
-- project grant may end at a date. Whoever set it (`expiry_set_by`) and the person
-- are reminded once (`expiry_reminded_at`) some days before; at the date Roster ends
-- it. The Owner's membership never expires (they cannot be removed either).
ALTER TABLE memberships
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN expiry_set_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN expiry_reminded_at timestamptz,
    ADD CONSTRAINT memberships_owner_never_expires CHECK (role <> 'owner' OR expires_at IS NULL);
ALTER TABLE team_members
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN expiry_set_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN expiry_reminded_at timestamptz;
-- A grant to a whole team ends for everyone in it at once: only a member's own grant
-- carries a date (a team's members are time-boxed by their places in it).
ALTER TABLE project_grants
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN expiry_set_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN expiry_reminded_at timestamptz,
    ADD CONSTRAINT project_grants_expiry_is_a_members CHECK (expires_at IS NULL OR membership_id IS NOT NULL);

-- How many days ahead the reminder comes; whether unanswered invitations get a
-- reminder email two days before they expire.
ALTER TABLE organizations
    ADD COLUMN expiry_reminder_days integer NOT NULL DEFAULT 7
        CONSTRAINT organizations_expiry_reminder_days_range CHECK (expiry_reminder_days BETWEEN 1 AND 30),
    ADD COLUMN invitation_reminders boolean NOT NULL DEFAULT true;

-- An invitation may bring a membership that ends at a date; it was reminded once
-- (`reminded_at`), and its inviter told once when it expired unanswered.
ALTER TABLE invitations
    ADD COLUMN membership_expires_at timestamptz,
    ADD COLUMN reminded_at timestamptz,
    ADD COLUMN expiry_told_at timestamptz;

-- Team places and grants that ended at their date, listed under `Expired` on the
-- member's Access view with `Grant again`. Granting the same again removes the row.
CREATE TABLE expired_access (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    team_id uuid REFERENCES teams (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
    -- A team role (`maintainer`, `member`) for a team place, a level for a grant.
    grade text NOT NULL,
    expired_at timestamptz NOT NULL,
    CONSTRAINT expired_access_one_place CHECK ((team_id IS NULL) <> (project_id IS NULL)),
    CONSTRAINT expired_access_grade CHECK (
        (team_id IS NOT NULL AND grade IN ('maintainer', 'member'))
        OR (project_id IS NOT NULL AND grade IN ('read', 'write', 'admin')))
);
CREATE UNIQUE INDEX expired_access_team_idx ON expired_access (membership_id, team_id) WHERE team_id IS NOT NULL;
CREATE UNIQUE INDEX expired_access_project_idx ON expired_access (membership_id, project_id) WHERE project_id IS NOT NULL;
CREATE INDEX expired_access_team_fk_idx ON expired_access (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX expired_access_project_fk_idx ON expired_access (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX expired_access_org_idx ON expired_access (organization_id);

-- What Roster's sweep walks: only the rows that carry a date, in date order.
CREATE INDEX memberships_expires_idx ON memberships (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX team_members_expires_idx ON team_members (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX project_grants_expires_idx ON project_grants (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX invitations_unreminded_idx ON invitations (expires_at)
    WHERE status = 'pending' AND reminded_at IS NULL;
CREATE INDEX invitations_expiry_untold_idx ON invitations (expires_at)
    WHERE status = 'pending' AND expiry_told_at IS NULL;
CREATE INDEX memberships_expiry_set_by_fk_idx ON memberships (expiry_set_by) WHERE expiry_set_by IS NOT NULL;
CREATE INDEX team_members_expiry_set_by_fk_idx ON team_members (expiry_set_by) WHERE expiry_set_by IS NOT NULL;
CREATE INDEX project_grants_expiry_set_by_fk_idx ON project_grants (expiry_set_by) WHERE expiry_set_by IS NOT NULL;

-- The Members page's "Expiring within 30 days" walks the members with a date only,
-- in any sort, as the `Suspended` filter does (migration 40).
CREATE INDEX memberships_org_expiring_idx ON memberships (organization_id, id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_name_idx
    ON memberships (organization_id, lower(member_name), id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_email_idx
    ON memberships (organization_id, lower(member_email), id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_role_idx ON memberships (organization_id, role, id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_joined_idx
    ON memberships (organization_id, created_at, id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_verified_idx
    ON memberships (organization_id, member_verified, id) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_last_active_idx
    ON memberships (organization_id, coalesce(last_active_at, '0001-01-01 00:00:00+00'::timestamptz), id)
    WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_expiring_status_idx
    ON memberships (organization_id, (CASE WHEN suspended_at IS NULL THEN 'active' ELSE 'suspended' END), id)
    WHERE expires_at IS NOT NULL;

-- Invitations that expired, or are about to, before reminders existed are not
-- reminded or reported all at once on the first sweep after the upgrade.
UPDATE invitations SET expiry_told_at = expires_at WHERE status = 'pending' AND expires_at <= now();
UPDATE invitations SET reminded_at = now()
 WHERE status = 'pending' AND expires_at > now() AND expires_at <= now() + interval '2 days';
