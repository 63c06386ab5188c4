DROP INDEX audit_events_batch;
ALTER TABLE audit_events DROP COLUMN batch_id;
