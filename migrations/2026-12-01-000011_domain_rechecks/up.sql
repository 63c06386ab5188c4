-- Verified domains are checked again every day: when their record is missing,
-- `failing_since` says since when; after a grace period the domain stops being
-- verified (auto-join stops) and the Owner is told.
ALTER TABLE organization_domains ADD COLUMN failing_since timestamptz;
-- The daily re-check finds the domains that are due.
CREATE INDEX organization_domains_recheck_idx ON organization_domains (last_checked_at) WHERE verified_at IS NOT NULL;
