-- Seats held by invitations without counting them. `pending_count` (migration 16)
-- counts every pending invitation, and a pending one whose time ran out holds no
-- seat, so every page subtracted a count of the expired ones: at 100,000 expired
-- invitations that walked 100,000 index entries per page. An organization now also
-- keeps `lapsed_count`, the pending invitations that had expired by
-- `lapsed_through`, so a page counts only those expired since then:
--   reserved = pending_count - lapsed_count
--              - pending with lapsed_through < expires_at <= now()
-- Housekeeping moves `lapsed_through` to now (every ten minutes), adding what
-- expired in between; the trigger below keeps `lapsed_count` exact as invitations
-- change (resent, revoked, accepted, deleted) in between.

ALTER TABLE organizations
    ADD COLUMN lapsed_through timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lapsed_count   integer     NOT NULL DEFAULT 0 CHECK (lapsed_count >= 0);

UPDATE organizations o
   SET lapsed_through = now(),
       lapsed_count = (SELECT count(*) FROM invitations i
                        WHERE i.organization_id = o.id AND i.status = 'pending' AND i.expires_at <= now());

-- `came` and `gone` are the expiry times of the rows that are pending after and were
-- pending before the statement. Whether one of them had lapsed is decided against
-- `lapsed_through` inside this update, which reads the organization's row as it is
-- once its lock is granted: a housekeeping round that moved `lapsed_through` and
-- committed meanwhile is seen, so no invitation is counted twice or lost. An
-- organization whose pending invitations changed is always updated (and so locked),
-- even when its counts do not move: housekeeping takes the same lock.
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

CREATE OR REPLACE FUNCTION invitations_count_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', n,
                                            'came', came, 'gone', '[]'::jsonb)) INTO changes
          FROM (SELECT organization_id, count(*) AS n, jsonb_agg(expires_at) AS came
                  FROM new_rows WHERE status = 'pending' GROUP BY organization_id) c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', -n,
                                            'came', '[]'::jsonb, 'gone', gone)) INTO changes
          FROM (SELECT organization_id, count(*) AS n, jsonb_agg(expires_at) AS gone
                  FROM old_rows WHERE status = 'pending' GROUP BY organization_id) c;
    ELSE
        -- Rows pending before and after with the same expiry cancel out (EXCEPT ALL):
        -- an update that leaves every pending invitation's seat as it was (its last
        -- send, say) leaves the organization alone.
        SELECT jsonb_agg(jsonb_build_object('org', organization_id, 'members', 0, 'pending', n,
                                            'came', came, 'gone', gone)) INTO changes
          FROM (SELECT organization_id, sum(d)::integer AS n,
                       coalesce(jsonb_agg(expires_at) FILTER (WHERE d = 1), '[]') AS came,
                       coalesce(jsonb_agg(expires_at) FILTER (WHERE d = -1), '[]') AS gone
                  FROM ((SELECT organization_id, id, expires_at, 1 AS d FROM new_rows WHERE status = 'pending'
                         EXCEPT ALL
                         SELECT organization_id, id, expires_at, 1 FROM old_rows WHERE status = 'pending')
                        UNION ALL
                        (SELECT organization_id, id, expires_at, -1 FROM old_rows WHERE status = 'pending'
                         EXCEPT ALL
                         SELECT organization_id, id, expires_at, -1 FROM new_rows WHERE status = 'pending')) d
                 GROUP BY organization_id) c;
    END IF;
    PERFORM organizations_add_counts(coalesce(changes, '[]'));
    RETURN NULL;
END $$;
