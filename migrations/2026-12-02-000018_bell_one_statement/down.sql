DROP FUNCTION bell_of_session(text);
DROP TYPE bell_answer;

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM notifications WHERE recipient_id = recipient AND read_at IS NULL)
         + (SELECT count(*) FROM invitations JOIN users u ON lower(invitations.email) = lower(u.email)
             WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
               AND invitations.status = 'pending' AND invitations.expires_at > now());
END $$;

CREATE FUNCTION bell_count_by_session(session_id text) RETURNS TABLE (user_id uuid, count bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    signed_in uuid;
BEGIN
    SELECT s.user_id INTO signed_in FROM sessions s
     WHERE s.id = session_id AND s.expires_at > now() AND s.user_id IS NOT NULL;
    IF signed_in IS NOT NULL THEN
        user_id := signed_in;
        count := bell_count(signed_in);
        RETURN NEXT;
    END IF;
END $$;
