-- Events of one transaction share their timestamp (now() is the transaction's start)
-- and a random id: a sequence, given in the order they are written, orders them.
-- The listings walk (…, created_at, seq) backwards.
ALTER TABLE audit_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX audit_events_org_created_idx;
CREATE INDEX audit_events_org_created_idx ON audit_events (organization_id, created_at DESC, seq DESC);
DROP INDEX audit_events_org_action_idx;
CREATE INDEX audit_events_org_action_idx ON audit_events (organization_id, action, created_at DESC, seq DESC);

ALTER TABLE webhook_deliveries ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX webhook_deliveries_log;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, seq DESC);
