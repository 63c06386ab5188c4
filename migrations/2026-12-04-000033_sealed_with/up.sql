-- Which server key sealed each stored secret (its key id, never the key), so that
-- what still needs an older key can be counted and re-sealed under the newest.
-- NULL: sealed before keys were named; the re-seal job names (or re-seals) it.
ALTER TABLE outbox ADD COLUMN sealed_with text;
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed_with text;
CREATE INDEX outbox_sealed_with ON outbox (sealed_with) WHERE sealed_body IS NOT NULL;
