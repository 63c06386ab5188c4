-- Account → Security log: an account's own events (no organization), newest first,
-- read a page at a time by the account that caused them.
CREATE INDEX audit_events_account_idx ON audit_events (actor_id, created_at DESC, seq DESC)
    WHERE organization_id IS NULL;
