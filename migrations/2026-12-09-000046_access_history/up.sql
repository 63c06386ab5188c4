-- Access history (DESIGN.md §2.13): who could reach what, when. Every team place,
-- project grant and suspension is kept as a period, opened when the row appears and
-- closed when it goes (or changes role or level), by triggers on the tables that hold
-- the live state. Whatever writes those tables (the console, the API, SCIM, the
-- expiry sweep, `roster generate`, a cascade from deleting a member, a team, a
-- project) is recorded the same way, so the periods open now are exactly the live
-- state, and the Access view for a past day reads the periods open then.
--
-- Rows outlive what they describe: they keep no key to the member, team or project
-- (only to the organization, with which they go), and carry the names to show
-- once those are gone. A rename updates the names it carries.

CREATE TABLE team_place_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id uuid NOT NULL,
    team_name text NOT NULL,
    team_slug text NOT NULL,
    membership_id uuid NOT NULL,
    user_id uuid NOT NULL,
    member_name text NOT NULL,
    member_email text NOT NULL,
    role text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CONSTRAINT team_place_history_forward CHECK (ended_at IS NULL OR ended_at > started_at)
);
-- One open period per place; what closing a place finds.
CREATE UNIQUE INDEX team_place_history_open ON team_place_history (team_id, membership_id) WHERE ended_at IS NULL;
-- A team's members on a day, by name: a project's access through the team, a page
-- at a time.
CREATE INDEX team_place_history_team_name ON team_place_history (team_id, lower(member_name), membership_id);
-- Who joined or left a team on a day (a project's changes that day).
CREATE INDEX team_place_history_team_start ON team_place_history (team_id, started_at);
CREATE INDEX team_place_history_team_end ON team_place_history (team_id, ended_at) WHERE ended_at IS NOT NULL;
-- A person's history in an organization, across memberships.
CREATE INDEX team_place_history_person ON team_place_history (organization_id, user_id, started_at);
-- Who a membership was, once it is gone.
CREATE INDEX team_place_history_membership ON team_place_history (membership_id, started_at);

CREATE TABLE grant_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    grant_id uuid NOT NULL,
    project_id uuid NOT NULL,
    project_name text NOT NULL,
    project_slug text NOT NULL,
    -- To a team, or to a member (then who they are).
    team_id uuid,
    team_name text,
    membership_id uuid,
    user_id uuid,
    member_name text,
    member_email text,
    level text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CONSTRAINT grant_history_forward CHECK (ended_at IS NULL OR ended_at > started_at),
    CONSTRAINT grant_history_one_grantee CHECK (
        (team_id IS NOT NULL AND team_name IS NOT NULL AND membership_id IS NULL)
        OR (team_id IS NULL AND membership_id IS NOT NULL AND user_id IS NOT NULL
            AND member_name IS NOT NULL AND member_email IS NOT NULL))
);
CREATE UNIQUE INDEX grant_history_open ON grant_history (grant_id) WHERE ended_at IS NULL;
CREATE INDEX grant_history_project ON grant_history (project_id, started_at);
CREATE INDEX grant_history_team ON grant_history (team_id, started_at) WHERE team_id IS NOT NULL;
CREATE INDEX grant_history_person ON grant_history (organization_id, user_id, started_at) WHERE user_id IS NOT NULL;
CREATE INDEX grant_history_membership ON grant_history (membership_id, started_at) WHERE membership_id IS NOT NULL;

CREATE TABLE suspension_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id uuid NOT NULL,
    user_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CONSTRAINT suspension_history_forward CHECK (ended_at IS NULL OR ended_at > started_at)
);
CREATE UNIQUE INDEX suspension_history_open ON suspension_history (membership_id) WHERE ended_at IS NULL;
CREATE INDEX suspension_history_membership ON suspension_history (membership_id, started_at);
CREATE INDEX suspension_history_person ON suspension_history (organization_id, user_id, started_at);

-- Opening: a row made with an earlier creation time (`roster generate` makes
-- members who joined months ago) began then; anything else begins now.
-- Closing: a period opened in this same transaction never happened for anyone else,
-- so it goes; another ends now. (`now()` is the transaction's start: a period opened
-- by a transaction that began later ends no earlier than it began.)

-- Team places: one function opens the periods of places (a new place, a changed role,
-- and the places there were when this migration ran), one closes them.
CREATE FUNCTION open_team_place_periods(teams uuid[], members uuid[], from_creation boolean)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO team_place_history (organization_id, team_id, team_name, team_slug, membership_id, user_id,
                                    member_name, member_email, role, started_at)
    SELECT tm.organization_id, tm.team_id, t.name, t.slug, tm.membership_id, m.user_id,
           m.member_name, m.member_email, tm.role,
           CASE WHEN from_creation THEN least(tm.created_at, now()) ELSE now() END
      FROM unnest(teams, members) AS k (team_id, membership_id)
      JOIN team_members tm ON tm.team_id = k.team_id AND tm.membership_id = k.membership_id
      JOIN teams t ON t.id = tm.team_id
      JOIN memberships m ON m.id = tm.membership_id;
$$;

CREATE FUNCTION close_team_place_periods(teams uuid[], members uuid[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM team_place_history h USING unnest(teams, members) AS k (team_id, membership_id)
     WHERE h.team_id = k.team_id AND h.membership_id = k.membership_id
       AND h.ended_at IS NULL AND h.started_at >= now();
    UPDATE team_place_history h SET ended_at = now()
      FROM unnest(teams, members) AS k (team_id, membership_id)
     WHERE h.team_id = k.team_id AND h.membership_id = k.membership_id AND h.ended_at IS NULL;
$$;

CREATE FUNCTION team_places_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM open_team_place_periods(array_agg(team_id), array_agg(membership_id), true) FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION team_places_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM close_team_place_periods(array_agg(team_id), array_agg(membership_id)) FROM old_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION team_place_role_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM close_team_place_periods(ARRAY[NEW.team_id], ARRAY[NEW.membership_id]);
    PERFORM open_team_place_periods(ARRAY[NEW.team_id], ARRAY[NEW.membership_id], false);
    RETURN NULL;
END $$;

CREATE TRIGGER team_places_opened AFTER INSERT ON team_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION team_places_opened();
CREATE TRIGGER team_places_closed AFTER DELETE ON team_members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION team_places_closed();
CREATE TRIGGER team_place_role_changed AFTER UPDATE OF role ON team_members
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION team_place_role_changed();

-- Project grants, the same way.
CREATE FUNCTION open_grant_periods(grants uuid[], from_creation boolean) RETURNS void LANGUAGE sql AS $$
    INSERT INTO grant_history (organization_id, grant_id, project_id, project_name, project_slug, team_id, team_name,
                               membership_id, user_id, member_name, member_email, level, started_at)
    SELECT g.organization_id, g.id, g.project_id, p.name, p.slug, g.team_id, t.name,
           g.membership_id, m.user_id, m.member_name, m.member_email, g.level,
           CASE WHEN from_creation THEN least(g.created_at, now()) ELSE now() END
      FROM project_grants g
      JOIN projects p ON p.id = g.project_id
      LEFT JOIN teams t ON t.id = g.team_id
      LEFT JOIN memberships m ON m.id = g.membership_id
     WHERE g.id = ANY (grants);
$$;

CREATE FUNCTION close_grant_periods(grants uuid[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM grant_history WHERE grant_id = ANY (grants) AND ended_at IS NULL AND started_at >= now();
    UPDATE grant_history SET ended_at = now() WHERE grant_id = ANY (grants) AND ended_at IS NULL;
$$;

CREATE FUNCTION grants_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM open_grant_periods(array_agg(id), true) FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION grants_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM close_grant_periods(array_agg(id)) FROM old_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION grant_level_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM close_grant_periods(ARRAY[NEW.id]);
    PERFORM open_grant_periods(ARRAY[NEW.id], false);
    RETURN NULL;
END $$;

CREATE TRIGGER grants_opened AFTER INSERT ON project_grants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants_opened();
CREATE TRIGGER grants_closed AFTER DELETE ON project_grants
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grants_closed();
CREATE TRIGGER grant_level_changed AFTER UPDATE OF level ON project_grants
    FOR EACH ROW WHEN (OLD.level IS DISTINCT FROM NEW.level) EXECUTE FUNCTION grant_level_changed();

-- Suspensions.
CREATE FUNCTION suspension_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.suspended_at IS NOT NULL THEN
        DELETE FROM suspension_history WHERE membership_id = OLD.id AND ended_at IS NULL AND started_at >= now();
        UPDATE suspension_history SET ended_at = now() WHERE membership_id = OLD.id AND ended_at IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.suspended_at IS NOT NULL THEN
        INSERT INTO suspension_history (organization_id, membership_id, user_id, started_at)
        VALUES (NEW.organization_id, NEW.id, NEW.user_id, now());
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER suspension_began AFTER INSERT ON memberships
    FOR EACH ROW WHEN (NEW.suspended_at IS NOT NULL) EXECUTE FUNCTION suspension_changed();
CREATE TRIGGER suspension_changed AFTER UPDATE OF suspended_at ON memberships
    FOR EACH ROW WHEN ((OLD.suspended_at IS NULL) <> (NEW.suspended_at IS NULL)) EXECUTE FUNCTION suspension_changed();
CREATE TRIGGER suspension_ended AFTER DELETE ON memberships
    FOR EACH ROW WHEN (OLD.suspended_at IS NOT NULL) EXECUTE FUNCTION suspension_changed();

-- Renames: the names a period carries are the latest, as the live pages show (so
-- the history is read and sorted by them without going back to the live rows).
CREATE FUNCTION team_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_place_history SET team_name = NEW.name, team_slug = NEW.slug WHERE team_id = NEW.id;
    UPDATE grant_history SET team_name = NEW.name WHERE team_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER team_renamed AFTER UPDATE OF name, slug ON teams
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION team_renamed();

CREATE FUNCTION project_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grant_history SET project_name = NEW.name, project_slug = NEW.slug WHERE project_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER project_renamed AFTER UPDATE OF name, slug ON projects
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION project_renamed();

CREATE FUNCTION member_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_place_history SET member_name = NEW.member_name, member_email = NEW.member_email
     WHERE membership_id = NEW.id;
    UPDATE grant_history SET member_name = NEW.member_name, member_email = NEW.member_email
     WHERE membership_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER member_renamed AFTER UPDATE OF member_name, member_email ON memberships
    FOR EACH ROW WHEN (OLD.member_name IS DISTINCT FROM NEW.member_name OR OLD.member_email IS DISTINCT FROM NEW.member_email)
    EXECUTE FUNCTION member_renamed();

-- What is there now began when it was made; what ended before this migration is in
-- the audit log only. The organizations that exist now say since when their history
-- is whole; one made later has all of it (NULL).
ALTER TABLE organizations ADD COLUMN access_history_since timestamptz;
UPDATE organizations SET access_history_since = now();
SELECT open_team_place_periods(array_agg(team_id), array_agg(membership_id), true) FROM team_members;
SELECT open_grant_periods(array_agg(id), true) FROM project_grants;
INSERT INTO suspension_history (organization_id, membership_id, user_id, started_at)
SELECT organization_id, id, user_id, suspended_at FROM memberships WHERE suspended_at IS NOT NULL;
