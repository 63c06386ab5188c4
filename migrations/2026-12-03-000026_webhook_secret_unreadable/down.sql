ALTER TABLE webhook_endpoints DROP COLUMN secret_unreadable_since;
