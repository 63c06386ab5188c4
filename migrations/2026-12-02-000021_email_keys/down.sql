CREATE OR REPLACE FUNCTION invitations_bell_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('roster_bell', u.id::text) FROM users u WHERE lower(u.email) = lower(NEW.email);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT (SELECT count(*) FROM notifications n WHERE n.recipient_id = recipient AND n.read_at IS NULL)
                 + (SELECT count(*) FROM invitations i JOIN users u ON lower(i.email) = lower(u.email)
                     WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
                       AND i.status = 'pending' AND i.expires_at > now()));
END $$;

CREATE OR REPLACE FUNCTION invitations_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (SELECT DISTINCT lower(email) AS email FROM added) a
              JOIN users u ON lower(u.email) = a.email));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (SELECT DISTINCT lower(email) AS email FROM removed WHERE status = 'pending') r
              JOIN users u ON lower(u.email) = r.email));
    ELSE
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (
                SELECT lower(a.email) AS email FROM after a JOIN before b ON b.id = a.id
                 WHERE (a.status, a.expires_at, a.email) IS DISTINCT FROM (b.status, b.expires_at, b.email)
                UNION
                SELECT lower(b.email) FROM after a JOIN before b ON b.id = a.id
                 WHERE (a.status, a.expires_at, a.email) IS DISTINCT FROM (b.status, b.expires_at, b.email)
            ) changed JOIN users u ON lower(u.email) = changed.email));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION users_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.email, NEW.email_verified_at) IS DISTINCT FROM (OLD.email, OLD.email_verified_at) THEN
        PERFORM bell_versions_raise(ARRAY[NEW.id]);
        PERFORM pg_notify('roster_bell', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER users_bell_versions ON users;
CREATE TRIGGER users_bell_versions AFTER UPDATE OF email, email_verified_at ON users
    FOR EACH ROW EXECUTE FUNCTION users_bell_versions();

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
              FROM invitations i JOIN users u ON lower(i.email) = lower(u.email)
             WHERE u.id = answer.user_id AND u.email_verified_at IS NOT NULL
               AND i.status = 'pending' AND i.expires_at > now()) open;
    RETURN answer;
END $$;

DROP TRIGGER invitations_email_key_fill ON invitations;
DROP TRIGGER users_email_key_fill ON users;
DROP FUNCTION email_key_fill();

DROP INDEX invitations_pending_email_idx;
CREATE INDEX invitations_pending_email_idx ON invitations (lower(email)) WHERE status = 'pending';
DROP INDEX invitations_one_pending_idx;
CREATE UNIQUE INDEX invitations_one_pending_idx ON invitations (organization_id, lower(email)) WHERE status = 'pending';
ALTER TABLE invitations DROP COLUMN email_key;

DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
ALTER TABLE users DROP COLUMN email_key;
