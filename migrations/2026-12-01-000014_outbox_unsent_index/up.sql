-- /metrics counts the messages not yet sent and dates the oldest one on every
-- scrape; the outbox keeps every message sent, so that must not read them all.
CREATE INDEX outbox_unsent_idx ON outbox (created_at) WHERE status <> 'sent';
