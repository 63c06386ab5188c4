DROP INDEX notifications_recipient_idx;
CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, created_at DESC, id DESC);
ALTER TABLE notifications DROP COLUMN seq;
