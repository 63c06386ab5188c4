DROP FUNCTION bell_poll(text, bigint);
DROP TYPE bell_poll_answer;
DROP TRIGGER users_bell_versions ON users;
DROP FUNCTION users_bell_versions();
DROP TRIGGER invitations_bell_versions_insert ON invitations;
DROP TRIGGER invitations_bell_versions_update ON invitations;
DROP TRIGGER invitations_bell_versions_delete ON invitations;
DROP FUNCTION invitations_bell_versions();
DROP TRIGGER notifications_bell_versions_insert ON notifications;
DROP TRIGGER notifications_bell_versions_update ON notifications;
DROP TRIGGER notifications_bell_versions_delete ON notifications;
DROP FUNCTION notifications_bell_versions();
DROP FUNCTION bell_versions_raise(uuid[]);
DROP TABLE bell_versions;

CREATE TYPE bell_answer AS (user_id uuid, unread bigint);
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
