-- The bell, polled by every open tab, in one statement per call: the session
-- check and both counts in a single SELECT inside one function (migration 17
-- ran three, one of them through a second function). It returns a composite
-- value, so the caller's `SELECT bell_of_session($1)` can be a prepared
-- statement the connection keeps, rather than a query parsed on every poll.
CREATE TYPE bell_answer AS (user_id uuid, unread bigint);

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT (SELECT count(*) FROM notifications n WHERE n.recipient_id = recipient AND n.read_at IS NULL)
                 + (SELECT count(*) FROM invitations i JOIN users u ON lower(i.email) = lower(u.email)
                     WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
                       AND i.status = 'pending' AND i.expires_at > now()));
END $$;

-- Who the live session `session_id` signs in, with their bell count; NULL when
-- the session is unknown, expired or signed out.
CREATE FUNCTION bell_of_session(session_id text) RETURNS bell_answer LANGUAGE plpgsql STABLE AS $$
DECLARE
    answer bell_answer;
BEGIN
    SELECT s.user_id,
           (SELECT count(*) FROM notifications n WHERE n.recipient_id = s.user_id AND n.read_at IS NULL)
         + (SELECT count(*) FROM invitations i JOIN users u ON lower(i.email) = lower(u.email)
             WHERE u.id = s.user_id AND u.email_verified_at IS NOT NULL
               AND i.status = 'pending' AND i.expires_at > now())
      INTO answer
      FROM sessions s
     WHERE s.id = session_id AND s.expires_at > now() AND s.user_id IS NOT NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN answer;
END $$;

DROP FUNCTION bell_count_by_session(text);
