-- The Overview's "never came back" figure (members who joined 30 days ago or
-- more and have not used the organization since) was counted on every Overview:
-- 150,000 index entries at a million members. Members who never came back are
-- now kept per organization, moved by the same statement-level triggers that keep
-- the seat counts; the Overview subtracts those who joined within the last 30
-- days, found through an index of never-active members by join date (as many as
-- joined lately and have not come back yet, whatever the organization's size).
ALTER TABLE organizations
    ADD COLUMN never_active_count integer NOT NULL DEFAULT 0 CHECK (never_active_count >= 0);

CREATE INDEX memberships_org_never_active_joined_idx
    ON memberships (organization_id, created_at) WHERE last_active_at IS NULL;

CREATE OR REPLACE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE organizations o
       SET member_count    = o.member_count    + (c->>'members')::integer,
           pending_count   = o.pending_count   + (c->>'pending')::integer,
           suspended_count = o.suspended_count + coalesce((c->>'suspended')::integer, 0),
           never_active_count = o.never_active_count + coalesce((c->>'never')::integer, 0),
           lapsed_count    = o.lapsed_count
                + (SELECT count(*) FROM jsonb_array_elements_text(coalesce(c->'came', '[]')) e
                    WHERE e::timestamptz <= o.lapsed_through)::integer
                - (SELECT count(*) FROM jsonb_array_elements_text(coalesce(c->'gone', '[]')) e
                    WHERE e::timestamptz <= o.lapsed_through)::integer
      FROM jsonb_array_elements(changes) c
     WHERE o.id = (c->>'org')::uuid
       AND ((c->>'members')::integer <> 0 OR (c->>'pending')::integer <> 0
            OR coalesce((c->>'suspended')::integer, 0) <> 0
            OR coalesce((c->>'never')::integer, 0) <> 0
            OR jsonb_array_length(coalesce(c->'came', '[]')) > 0
            OR jsonb_array_length(coalesce(c->'gone', '[]')) > 0);
$$;

-- As before (migration 40), with `never`: the rows without a last-active time.
CREATE OR REPLACE FUNCTION memberships_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', a, 'pending', 0, 'suspended', s,
                                            'never', n)) INTO changes
          FROM (SELECT organization_id,
                       count(*) FILTER (WHERE suspended_at IS NULL) AS a,
                       count(*) FILTER (WHERE suspended_at IS NOT NULL) AS s,
                       count(*) FILTER (WHERE last_active_at IS NULL) AS n
                  FROM new_rows GROUP BY organization_id) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', -a, 'pending', 0, 'suspended', -s,
                                            'never', -n)) INTO changes
          FROM (SELECT organization_id,
                       count(*) FILTER (WHERE suspended_at IS NULL) AS a,
                       count(*) FILTER (WHERE suspended_at IS NOT NULL) AS s,
                       count(*) FILTER (WHERE last_active_at IS NULL) AS n
                  FROM old_rows GROUP BY organization_id) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', a, 'pending', 0, 'suspended', s,
                                            'never', n)) INTO changes
          FROM (SELECT organization_id, sum(a)::integer AS a, sum(s)::integer AS s, sum(n)::integer AS n
                  FROM (SELECT organization_id,
                               CASE WHEN suspended_at IS NULL THEN 1 ELSE 0 END AS a,
                               CASE WHEN suspended_at IS NULL THEN 0 ELSE 1 END AS s,
                               CASE WHEN last_active_at IS NULL THEN 1 ELSE 0 END AS n
                          FROM new_rows
                        UNION ALL
                        SELECT organization_id,
                               CASE WHEN suspended_at IS NULL THEN -1 ELSE 0 END,
                               CASE WHEN suspended_at IS NULL THEN 0 ELSE -1 END,
                               CASE WHEN last_active_at IS NULL THEN -1 ELSE 0 END
                          FROM old_rows) d
                 GROUP BY organization_id) c;
    END IF;
    PERFORM organizations_add_counts(coalesce(changes, '[]'));
    RETURN NULL;
END $$;

-- Counted with writers held off (another instance may still be serving), so no
-- write falls between the count and the triggers that now keep it.
LOCK TABLE memberships IN SHARE MODE;
UPDATE organizations o
   SET never_active_count = (SELECT count(*) FROM memberships m
                              WHERE m.organization_id = o.id AND m.last_active_at IS NULL);
