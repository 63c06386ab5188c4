DROP INDEX memberships_org_name_idx;
CREATE INDEX memberships_org_name_idx ON memberships (organization_id, lower(member_name), id);
DROP INDEX memberships_org_email_idx;
CREATE INDEX memberships_org_email_idx ON memberships (organization_id, lower(member_email), id);
