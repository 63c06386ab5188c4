-- Live bell updates: every change to what a user's bell counts sends a
-- NOTIFY on channel roster_bell with that user's id, so every instance can
-- push it to the user's open tabs.
CREATE FUNCTION notifications_bell_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('roster_bell', NEW.recipient_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_bell_notify AFTER INSERT OR UPDATE OF read_at ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_bell_notify();

CREATE FUNCTION invitations_bell_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('roster_bell', u.id::text) FROM users u WHERE lower(u.email) = lower(NEW.email);
    RETURN NULL;
END $$;
CREATE TRIGGER invitations_bell_notify AFTER INSERT OR UPDATE OF status, expires_at ON invitations
    FOR EACH ROW EXECUTE FUNCTION invitations_bell_notify();

-- When an admin copied an invitation's link, the link no longer proves that
-- whoever opens it reads that inbox: accounts made from it must verify by mail.
ALTER TABLE invitations ADD COLUMN link_copied_at timestamptz;
