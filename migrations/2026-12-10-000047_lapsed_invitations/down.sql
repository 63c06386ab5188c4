CREATE OR REPLACE FUNCTION invitations_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE organizations DROP COLUMN lapsed_count, DROP COLUMN lapsed_through;
