CREATE OR REPLACE FUNCTION bell_poll(session_id text, known_version bigint) RETURNS bell_poll_answer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    answer bell_poll_answer;
BEGIN
    SELECT s.user_id, coalesce(v.version, 0) INTO answer.user_id, answer.version
      FROM sessions s LEFT JOIN bell_versions v ON v.user_id = s.user_id
     WHERE s.id = session_id AND s.expires_at > now() AND s.user_id IS NOT NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF answer.version = known_version THEN
        RETURN answer;
    END IF;
    SELECT (SELECT count(*) FROM notifications n WHERE n.recipient_id = answer.user_id AND n.read_at IS NULL)
           + open.pending,
           open.soonest
      INTO answer.unread, answer.fresh_until
      FROM (SELECT count(*) AS pending, min(i.expires_at) AS soonest
              FROM invitations i JOIN users u ON i.email_key = u.email_key
             WHERE u.id = answer.user_id AND u.email_verified_at IS NOT NULL
               AND i.status = 'pending' AND i.expires_at > now()) open;
    RETURN answer;
END $$;

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT (SELECT count(*) FROM notifications n WHERE n.recipient_id = recipient AND n.read_at IS NULL)
                 + (SELECT count(*) FROM invitations i JOIN users u ON i.email_key = u.email_key
                     WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
                       AND i.status = 'pending' AND i.expires_at > now()));
END $$;

CREATE OR REPLACE FUNCTION notifications_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bell_versions_raise(ARRAY(SELECT recipient_id FROM added));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bell_versions_raise(ARRAY(SELECT recipient_id FROM removed WHERE read_at IS NULL));
    ELSE
        PERFORM bell_versions_raise(ARRAY(
            SELECT unnest(ARRAY[a.recipient_id, b.recipient_id]) FROM after a JOIN before b ON b.id = a.id
             WHERE a.read_at IS DISTINCT FROM b.read_at OR a.recipient_id <> b.recipient_id));
    END IF;
    RETURN NULL;
END $$;

DROP FUNCTION bell_unread_add(uuid[], bigint[]);
ALTER TABLE bell_versions DROP COLUMN unread;
