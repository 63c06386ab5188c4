DROP INDEX projects_org_name_idx;
ALTER TABLE projects ALTER COLUMN name TYPE text COLLATE "default";
CREATE INDEX projects_org_name_idx ON projects (organization_id, lower(name), id);

DROP INDEX teams_org_name_idx;
ALTER TABLE teams ALTER COLUMN name TYPE text COLLATE "default";
CREATE INDEX teams_org_name_idx ON teams (organization_id, lower(name), id);

DROP COLLATION natural_sort;
