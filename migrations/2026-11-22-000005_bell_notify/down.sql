ALTER TABLE invitations DROP COLUMN link_copied_at;
DROP TRIGGER invitations_bell_notify ON invitations;
DROP FUNCTION invitations_bell_notify();
DROP TRIGGER notifications_bell_notify ON notifications;
DROP FUNCTION notifications_bell_notify();
