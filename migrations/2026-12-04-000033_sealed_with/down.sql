DROP INDEX outbox_sealed_with;
ALTER TABLE webhook_endpoints DROP COLUMN secret_sealed_with;
ALTER TABLE outbox DROP COLUMN sealed_with;
