CREATE INDEX memberships_org_id_idx ON memberships (organization_id, id);
