-- Back to the SQL functions of migrations 20, 50 and 52. CREATE OR REPLACE cannot
-- change a function's language, so each is dropped first; the triggers call them
-- by name at run time, so nothing else depends on them.
DROP FUNCTION bell_unread_add(uuid[], bigint[]);
DROP FUNCTION bell_versions_raise(uuid[]);
DROP FUNCTION organizations_add_counts(jsonb);

CREATE FUNCTION bell_versions_raise(recipients uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO bell_versions (user_id)
    SELECT DISTINCT u.id FROM users u WHERE u.id = ANY (recipients) ORDER BY u.id
    ON CONFLICT (user_id) DO UPDATE SET version = bell_versions.version + 1
$$;

CREATE FUNCTION bell_unread_add(recipients uuid[], deltas bigint[]) RETURNS void LANGUAGE sql AS $$
    SELECT bell_versions_raise(recipients);
    UPDATE bell_versions v SET unread = v.unread + d.delta
      FROM (SELECT c.user_id, sum(c.delta) AS delta FROM unnest(recipients, deltas) AS c(user_id, delta)
             GROUP BY c.user_id) d
     WHERE v.user_id = d.user_id AND d.delta <> 0
$$;

CREATE FUNCTION organizations_add_counts(changes jsonb) RETURNS void LANGUAGE sql AS $$
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
