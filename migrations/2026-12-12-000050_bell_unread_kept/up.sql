-- The bell's count of unread notifications is kept per user, not counted on every
-- page: each page's viewer statement names the bell's number, and counting it read
-- every unread notification of the viewer (an Owner with 979 unread: 0.17 ms of
-- the statement's 0.2, on every page). Invitations to the user's address are still
-- counted when asked: there are few, and they stop counting when they expire, which
-- no write announces.
--
-- The count moves by what each statement on notifications changed (the rows it
-- added, removed, or whose reading or recipient it changed), added to the kept
-- value under the row's lock, so concurrent statements add up instead of one
-- overwriting the other's count; rows are locked in user id order, as
-- `bell_versions_raise` locks them, so two statements never wait in a cycle.
-- No notification is written between the count below and the new trigger taking
-- over (another instance still serving while this one migrates): writers in flight
-- finish first and are counted, later ones wait for this transaction and find the
-- new trigger.
LOCK TABLE notifications IN SHARE MODE;

ALTER TABLE bell_versions ADD COLUMN unread bigint NOT NULL DEFAULT 0 CHECK (unread >= 0);

INSERT INTO bell_versions (user_id, unread)
SELECT n.recipient_id, count(*) FROM notifications n WHERE n.read_at IS NULL GROUP BY n.recipient_id
ON CONFLICT (user_id) DO UPDATE SET unread = EXCLUDED.unread;

-- Adds `deltas[i]` to the kept count of `recipients[i]` (a user may come several
-- times) for those that still exist, after raising their bells' versions, which
-- locks their rows in id order (a check on the count could not see an insert's
-- conflict first, so the rows exist before the counts move).
CREATE FUNCTION bell_unread_add(recipients uuid[], deltas bigint[]) RETURNS void LANGUAGE sql AS $$
    SELECT bell_versions_raise(recipients);
    UPDATE bell_versions v SET unread = v.unread + d.delta
      FROM (SELECT c.user_id, sum(c.delta) AS delta FROM unnest(recipients, deltas) AS c(user_id, delta)
             GROUP BY c.user_id) d
     WHERE v.user_id = d.user_id AND d.delta <> 0
$$;

CREATE OR REPLACE FUNCTION notifications_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    recipients uuid[];
    deltas bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(recipient_id), array_agg((read_at IS NULL)::int) INTO recipients, deltas FROM added;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(recipient_id), array_agg(-1) INTO recipients, deltas FROM removed WHERE read_at IS NULL;
    ELSE
        -- An unread notification read, or moved away, leaves its recipient's count; one
        -- made unread, or moved in unread, joins its new recipient's.
        SELECT array_agg(user_id), array_agg(delta) INTO recipients, deltas FROM (
            SELECT b.recipient_id AS user_id, -1 AS delta FROM after a JOIN before b ON b.id = a.id
             WHERE b.read_at IS NULL AND (a.read_at IS NOT NULL OR a.recipient_id <> b.recipient_id)
            UNION ALL
            SELECT a.recipient_id, 1 FROM after a JOIN before b ON b.id = a.id
             WHERE a.read_at IS NULL AND (b.read_at IS NOT NULL OR a.recipient_id <> b.recipient_id)
        ) changes;
    END IF;
    IF recipients IS NOT NULL THEN
        PERFORM bell_unread_add(recipients, deltas);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce((SELECT v.unread FROM bell_versions v WHERE v.user_id = recipient), 0)
                 + (SELECT count(*) FROM invitations i JOIN users u ON i.email_key = u.email_key
                     WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
                       AND i.status = 'pending' AND i.expires_at > now()));
END $$;

CREATE OR REPLACE FUNCTION bell_poll(session_id text, known_version bigint) RETURNS bell_poll_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    answer bell_poll_answer;
    kept bigint;
BEGIN
    SELECT s.user_id, coalesce(v.version, 0), coalesce(v.unread, 0) INTO answer.user_id, answer.version, kept
      FROM sessions s LEFT JOIN bell_versions v ON v.user_id = s.user_id
     WHERE s.id = session_id AND s.expires_at > now() AND s.user_id IS NOT NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF answer.version = known_version THEN
        RETURN answer;
    END IF;
    SELECT kept + open.pending, open.soonest
      INTO answer.unread, answer.fresh_until
      FROM (SELECT count(*) AS pending, min(i.expires_at) AS soonest
              FROM invitations i JOIN users u ON i.email_key = u.email_key
             WHERE u.id = answer.user_id AND u.email_verified_at IS NOT NULL
               AND i.status = 'pending' AND i.expires_at > now()) open;
    RETURN answer;
END $$;
