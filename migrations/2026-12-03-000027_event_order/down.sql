DROP INDEX webhook_deliveries_log;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
ALTER TABLE webhook_deliveries DROP COLUMN seq;

DROP INDEX audit_events_org_action_idx;
CREATE INDEX audit_events_org_action_idx ON audit_events (organization_id, action, created_at DESC, id DESC);
DROP INDEX audit_events_org_created_idx;
CREATE INDEX audit_events_org_created_idx ON audit_events (organization_id, created_at DESC, id DESC);
ALTER TABLE audit_events DROP COLUMN seq;
