-- When a delivery first found the endpoint's signing secret sealed under a key this
-- Roster no longer has: the Owner is told once, until the secret is rolled.
ALTER TABLE webhook_endpoints ADD COLUMN secret_unreadable_since timestamptz;
