-- When a delivery that failed is tried again, for its log ("Next try in 5 minutes").
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at timestamptz;
