-- The definitions of migrations 47 (organizations_add_counts) and 40
-- (memberships_count_changed), without the never-active count.
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

CREATE OR REPLACE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE organizations o
       SET member_count    = o.member_count    + (c->>'members')::integer,
           pending_count   = o.pending_count   + (c->>'pending')::integer,
           suspended_count = o.suspended_count + coalesce((c->>'suspended')::integer, 0),
           lapsed_count    = o.lapsed_count
                + (SELECT count(*) FROM jsonb_array_elements_text(coalesce(c->'came', '[]')) e
                    WHERE e::timestamptz <= o.lapsed_through)::integer
                - (SELECT count(*) FROM jsonb_array_elements_text(coalesce(c->'gone', '[]')) e
                    WHERE e::timestamptz <= o.lapsed_through)::integer
      FROM jsonb_array_elements(changes) c
     WHERE o.id = (c->>'org')::uuid
       AND ((c->>'members')::integer <> 0 OR (c->>'pending')::integer <> 0
            OR coalesce((c->>'suspended')::integer, 0) <> 0
            OR jsonb_array_length(coalesce(c->'came', '[]')) > 0
            OR jsonb_array_length(coalesce(c->'gone', '[]')) > 0);
$$;

DROP INDEX memberships_org_never_active_joined_idx;
ALTER TABLE organizations DROP COLUMN never_active_count;
