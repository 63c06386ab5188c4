DROP INDEX organization_domains_recheck_idx;
ALTER TABLE organization_domains DROP COLUMN failing_since;
