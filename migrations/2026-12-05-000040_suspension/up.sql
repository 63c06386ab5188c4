-- Suspension (DESIGN.md §2.11): a suspended member keeps their role, team places
-- and project grants, but the organization is closed to them and their seat is
-- free. The Owner is never suspended.
ALTER TABLE memberships
    ADD COLUMN suspended_at timestamptz,
    ADD CONSTRAINT memberships_owner_is_never_suspended CHECK (role <> 'owner' OR suspended_at IS NULL);

-- Seat Usage counts suspended members apart: `member_count` holds active
-- memberships only (the seats), `suspended_count` the others.
ALTER TABLE organizations
    ADD COLUMN suspended_count integer NOT NULL DEFAULT 0 CHECK (suspended_count >= 0);

CREATE OR REPLACE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE organizations o
       SET member_count    = o.member_count    + (c->>'members')::integer,
           pending_count   = o.pending_count   + (c->>'pending')::integer,
           suspended_count = o.suspended_count + coalesce((c->>'suspended')::integer, 0)
      FROM jsonb_array_elements(changes) c
     WHERE o.id = (c->>'org')::uuid
       AND ((c->>'members')::integer <> 0 OR (c->>'pending')::integer <> 0
            OR coalesce((c->>'suspended')::integer, 0) <> 0);
$$;

-- Memberships: each row counts +1 where it is after the statement and -1 where it
-- was before, as active or as suspended. Updates count too (a suspension moves a
-- row from one counter to the other); an update that moves nothing changes nothing.
CREATE OR REPLACE FUNCTION memberships_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', a, 'pending', 0, 'suspended', s)) INTO changes
          FROM (SELECT organization_id,
                       count(*) FILTER (WHERE suspended_at IS NULL) AS a,
                       count(*) FILTER (WHERE suspended_at IS NOT NULL) AS s
                  FROM new_rows GROUP BY organization_id) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', -a, 'pending', 0, 'suspended', -s)) INTO changes
          FROM (SELECT organization_id,
                       count(*) FILTER (WHERE suspended_at IS NULL) AS a,
                       count(*) FILTER (WHERE suspended_at IS NOT NULL) AS s
                  FROM old_rows GROUP BY organization_id) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', a, 'pending', 0, 'suspended', s)) INTO changes
          FROM (SELECT organization_id, sum(a)::integer AS a, sum(s)::integer AS s
                  FROM (SELECT organization_id,
                               CASE WHEN suspended_at IS NULL THEN 1 ELSE 0 END AS a,
                               CASE WHEN suspended_at IS NULL THEN 0 ELSE 1 END AS s
                          FROM new_rows
                        UNION ALL
                        SELECT organization_id,
                               CASE WHEN suspended_at IS NULL THEN -1 ELSE 0 END,
                               CASE WHEN suspended_at IS NULL THEN 0 ELSE -1 END
                          FROM old_rows) d
                 GROUP BY organization_id) c;
    END IF;
    PERFORM organizations_add_counts(coalesce(changes, '[]'));
    RETURN NULL;
END $$;
-- (Transition tables cannot go with a column list, so this fires on every update;
-- an update that suspends nobody adds zero and writes nothing.)
CREATE TRIGGER memberships_count_updated AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_changed();

-- The Members page's `Suspended` filter walks the suspended members only, in any
-- sort: partial indexes hold just them, so they cost nothing while nobody is
-- suspended and the filter never reads the active majority. The sort by status
-- walks the organization's members in status order.
CREATE INDEX memberships_org_suspended_idx ON memberships (organization_id, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_name_idx
    ON memberships (organization_id, lower(member_name), id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_email_idx
    ON memberships (organization_id, lower(member_email), id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_role_idx
    ON memberships (organization_id, role, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_joined_idx
    ON memberships (organization_id, created_at, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_verified_idx
    ON memberships (organization_id, member_verified, id) WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_suspended_last_active_idx
    ON memberships (organization_id, coalesce(last_active_at, '0001-01-01 00:00:00+00'::timestamptz), id)
    WHERE suspended_at IS NOT NULL;
CREATE INDEX memberships_org_status_idx
    ON memberships (organization_id, (CASE WHEN suspended_at IS NULL THEN 'active' ELSE 'suspended' END), id);
