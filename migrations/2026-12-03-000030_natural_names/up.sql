-- Team and project names sort as people read them: "Accounting 2" before
-- "Accounting 10", and without regard to case ("alpha" beside "Alpha"). An ICU
-- collation with numeric ordering does both; it is deterministic, so equality,
-- LIKE and the unique constraints behave as before. Every ORDER BY and keyset
-- comparison on the column uses it, and the new indexes walk it.
CREATE COLLATION IF NOT EXISTS natural_sort (provider = icu, locale = 'und-u-kn-true');

ALTER TABLE teams ALTER COLUMN name TYPE text COLLATE natural_sort;
DROP INDEX teams_org_name_idx;
CREATE INDEX teams_org_name_idx ON teams (organization_id, name, id);

ALTER TABLE projects ALTER COLUMN name TYPE text COLLATE natural_sort;
DROP INDEX projects_org_name_idx;
CREATE INDEX projects_org_name_idx ON projects (organization_id, name, id);
