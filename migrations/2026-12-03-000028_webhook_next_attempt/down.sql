ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;
