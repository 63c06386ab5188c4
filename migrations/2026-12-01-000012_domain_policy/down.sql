ALTER TABLE organization_domains DROP COLUMN policy;
