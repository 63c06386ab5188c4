-- Notifications written in one transaction share their time: a sequence keeps the
-- order they were written in, as for audit events and webhook deliveries.
ALTER TABLE notifications ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX notifications_recipient_idx;
CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, created_at DESC, seq DESC);
