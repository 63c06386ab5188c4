DROP INDEX memberships_org_status_idx;
DROP INDEX memberships_org_suspended_idx, memberships_org_suspended_name_idx, memberships_org_suspended_email_idx,
    memberships_org_suspended_role_idx, memberships_org_suspended_joined_idx, memberships_org_suspended_verified_idx,
    memberships_org_suspended_last_active_idx;
DROP TRIGGER memberships_count_updated ON memberships;
-- Suspended members count as members again, as they did before suspension existed.
UPDATE organizations SET member_count = member_count + suspended_count WHERE suspended_count > 0;
CREATE OR REPLACE FUNCTION memberships_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE organizations o
       SET member_count  = o.member_count  + (c->>'members')::integer,
           pending_count = o.pending_count + (c->>'pending')::integer
      FROM jsonb_array_elements(changes) c
     WHERE o.id = (c->>'org')::uuid
       AND ((c->>'members')::integer <> 0 OR (c->>'pending')::integer <> 0);
$$;
ALTER TABLE organizations DROP COLUMN suspended_count;
ALTER TABLE memberships DROP CONSTRAINT memberships_owner_is_never_suspended, DROP COLUMN suspended_at;
