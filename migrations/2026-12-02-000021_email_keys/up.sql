-- Addresses are compared by one canonical form that Roster computes in Rust and
-- stores beside the address as typed: the ASCII letters in lowercase, every other
-- character exactly as typed. PostgreSQL's lower() folds look-alikes into ASCII
-- (the Kelvin sign U+212A into "k", "İ" into "i"), so an invitation to
-- "\u212Aelly@example.com" matched kelly@example.com; the key never does that.
-- With the "C" collation lower() folds ASCII only, so the database can check
-- that every stored key is the form of its address (and compute the backfill).
ALTER TABLE users ADD COLUMN email_key text;
UPDATE users SET email_key = lower(email COLLATE "C");
ALTER TABLE users ALTER COLUMN email_key SET NOT NULL,
    ADD CONSTRAINT users_email_key_canonical CHECK (email_key = lower(email COLLATE "C"));
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email_key);

ALTER TABLE invitations ADD COLUMN email_key text;
UPDATE invitations SET email_key = lower(email COLLATE "C");
ALTER TABLE invitations ALTER COLUMN email_key SET NOT NULL,
    ADD CONSTRAINT invitations_email_key_canonical CHECK (email_key = lower(email COLLATE "C"));
DROP INDEX invitations_one_pending_idx;
CREATE UNIQUE INDEX invitations_one_pending_idx ON invitations (organization_id, email_key) WHERE status = 'pending';
DROP INDEX invitations_pending_email_idx;
CREATE INDEX invitations_pending_email_idx ON invitations (email_key) WHERE status = 'pending';

-- An instance of the previous release, still running during a rolling upgrade,
-- writes addresses without their key: the key is filled in for it (and the
-- check above still holds every row to its address).
CREATE FUNCTION email_key_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.email_key IS NULL
       OR (TG_OP = 'UPDATE' AND NEW.email IS DISTINCT FROM OLD.email AND NEW.email_key = OLD.email_key) THEN
        NEW.email_key := lower(NEW.email COLLATE "C");
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_email_key_fill BEFORE INSERT OR UPDATE OF email ON users
    FOR EACH ROW EXECUTE FUNCTION email_key_fill();
CREATE TRIGGER invitations_email_key_fill BEFORE INSERT OR UPDATE OF email ON invitations
    FOR EACH ROW EXECUTE FUNCTION email_key_fill();

-- What matches invitations to accounts, in the database too: the bell's triggers and counts.
CREATE OR REPLACE FUNCTION invitations_bell_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('roster_bell', u.id::text) FROM users u WHERE u.email_key = NEW.email_key;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION bell_count(recipient uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT (SELECT count(*) FROM notifications n WHERE n.recipient_id = recipient AND n.read_at IS NULL)
                 + (SELECT count(*) FROM invitations i JOIN users u ON i.email_key = u.email_key
                     WHERE u.id = recipient AND u.email_verified_at IS NOT NULL
                       AND i.status = 'pending' AND i.expires_at > now()));
END $$;

CREATE OR REPLACE FUNCTION invitations_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (SELECT DISTINCT email_key FROM added) a JOIN users u ON u.email_key = a.email_key));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (SELECT DISTINCT email_key FROM removed WHERE status = 'pending') r
              JOIN users u ON u.email_key = r.email_key));
    ELSE
        PERFORM bell_versions_raise(ARRAY(
            SELECT u.id FROM (
                SELECT a.email_key FROM after a JOIN before b ON b.id = a.id
                 WHERE (a.status, a.expires_at, a.email_key) IS DISTINCT FROM (b.status, b.expires_at, b.email_key)
                UNION
                SELECT b.email_key FROM after a JOIN before b ON b.id = a.id
                 WHERE (a.status, a.expires_at, a.email_key) IS DISTINCT FROM (b.status, b.expires_at, b.email_key)
            ) changed JOIN users u ON u.email_key = changed.email_key));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION users_bell_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.email_key, NEW.email_verified_at) IS DISTINCT FROM (OLD.email_key, OLD.email_verified_at) THEN
        PERFORM bell_versions_raise(ARRAY[NEW.id]);
        PERFORM pg_notify('roster_bell', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER users_bell_versions ON users;
CREATE TRIGGER users_bell_versions AFTER UPDATE OF email, email_key, email_verified_at ON users
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
              FROM invitations i JOIN users u ON i.email_key = u.email_key
             WHERE u.id = answer.user_id AND u.email_verified_at IS NOT NULL
               AND i.status = 'pending' AND i.expires_at > now()) open;
    RETURN answer;
END $$;
