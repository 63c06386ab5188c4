-- The bell, polled by every open tab, mostly asks "has anything changed?". Each
-- user's bell has a version, raised in the same transaction as any change to
-- what it counts: their notifications (added, read, removed), invitations to
-- their address (sent, answered, revoked, resent, removed) and their address
-- itself (changed, verified). A poll that brings the version it last saw gets
-- "unchanged" after one lookup of two primary keys (session, version), and is
-- counted again only when the version moved or a counted invitation expired.
CREATE TABLE bell_versions (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version bigint NOT NULL DEFAULT 1 CHECK (version > 0)
);

-- Raises the versions of `recipients` that still exist, in id order, so that two
-- transactions raising overlapping sets never wait on each other in a cycle.
CREATE FUNCTION bell_versions_raise(recipients uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO bell_versions (user_id)
    SELECT DISTINCT u.id FROM users u WHERE u.id = ANY (recipients) ORDER BY u.id
    ON CONFLICT (user_id) DO UPDATE SET version = bell_versions.version + 1
$$;

CREATE FUNCTION notifications_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER notifications_bell_versions_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION notifications_bell_versions();
CREATE TRIGGER notifications_bell_versions_update AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION notifications_bell_versions();
CREATE TRIGGER notifications_bell_versions_delete AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION notifications_bell_versions();

CREATE FUNCTION invitations_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER invitations_bell_versions_insert AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION invitations_bell_versions();
CREATE TRIGGER invitations_bell_versions_update AFTER UPDATE ON invitations
    REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION invitations_bell_versions();
CREATE TRIGGER invitations_bell_versions_delete AFTER DELETE ON invitations
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION invitations_bell_versions();

-- Which invitations a user's bell counts depends on their address and on whether
-- it is verified: a change to either changes the bell, live tabs included.
CREATE FUNCTION users_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.email, NEW.email_verified_at) IS DISTINCT FROM (OLD.email, OLD.email_verified_at) THEN
        PERFORM bell_versions_raise(ARRAY[NEW.id]);
        PERFORM pg_notify('roster_bell', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_bell_versions AFTER UPDATE OF email, email_verified_at ON users
    FOR EACH ROW EXECUTE FUNCTION users_bell_versions();

-- One poll: who session `session_id` signs in and their bell's version; the count
-- too, unless the caller already holds `known_version` (then `unread` is NULL),
-- with the moment the soonest counted invitation expires (the count changes then
-- without a new version). NULL when the session is unknown, expired or signed out.
CREATE TYPE bell_poll_answer AS (user_id uuid, version bigint, unread bigint, fresh_until timestamptz);

CREATE FUNCTION bell_poll(session_id text, known_version bigint) RETURNS bell_poll_answer
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

DROP FUNCTION bell_of_session(text);
DROP TYPE bell_answer;
