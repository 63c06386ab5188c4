-- Seat counts without counting: every page header shows `45 / 100 seats used`,
-- and counting the memberships and pending invitations of a 100,000-member
-- organization took 70 ms per page. Statement-level triggers keep two counters
-- on the organization exact, in the same transaction as the change (one update
-- per statement and organization, none when a statement leaves the counts alone).

ALTER TABLE organizations
    ADD COLUMN member_count  integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    ADD COLUMN pending_count integer NOT NULL DEFAULT 0 CHECK (pending_count >= 0);

UPDATE organizations o
   SET member_count  = (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id),
       pending_count = (SELECT count(*) FROM invitations i WHERE i.organization_id = o.id AND i.status = 'pending');

CREATE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE organizations o
       SET member_count  = o.member_count  + (c->>'members')::integer,
           pending_count = o.pending_count + (c->>'pending')::integer
      FROM jsonb_array_elements(changes) c
     WHERE o.id = (c->>'org')::uuid
       AND ((c->>'members')::integer <> 0 OR (c->>'pending')::integer <> 0);
$$;

-- Memberships: +1 for each inserted row, -1 for each deleted one.
CREATE FUNCTION memberships_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', n, 'pending', 0)) INTO changes
          FROM (SELECT organization_id, count(*) AS n FROM new_rows GROUP BY organization_id) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', -n, 'pending', 0)) INTO changes
          FROM (SELECT organization_id, count(*) AS n FROM old_rows GROUP BY organization_id) c;
    END IF;
    PERFORM organizations_add_counts(coalesce(changes, '[]'));
    RETURN NULL;
END $$;
CREATE TRIGGER memberships_count_inserted AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_changed();
CREATE TRIGGER memberships_count_deleted AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION memberships_count_changed();

-- Pending invitations: +1 for each row that is pending after, -1 for each that was before.
CREATE FUNCTION invitations_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', n)) INTO changes
          FROM (SELECT organization_id, count(*) AS n FROM new_rows WHERE status = 'pending' GROUP BY organization_id) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', -n)) INTO changes
          FROM (SELECT organization_id, count(*) AS n FROM old_rows WHERE status = 'pending' GROUP BY organization_id) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', n)) INTO changes
          FROM (SELECT organization_id, sum(d)::integer AS n
                  FROM (SELECT organization_id, 1 AS d FROM new_rows WHERE status = 'pending'
                        UNION ALL
                        SELECT organization_id, -1 FROM old_rows WHERE status = 'pending') d
                 GROUP BY organization_id) c;
    END IF;
    PERFORM organizations_add_counts(coalesce(changes, '[]'));
    RETURN NULL;
END $$;
CREATE TRIGGER invitations_count_inserted AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invitations_count_pending();
CREATE TRIGGER invitations_count_updated AFTER UPDATE ON invitations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invitations_count_pending();
CREATE TRIGGER invitations_count_deleted AFTER DELETE ON invitations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invitations_count_pending();

-- Pending invitations whose time ran out hold no seat: counted through this
-- index, which holds pending invitations only, never the accepted ones (with id,
-- it also serves the Invitations page sorted by expiry).
CREATE INDEX invitations_pending_org_expires_idx ON invitations (organization_id, expires_at, id) WHERE status = 'pending';
