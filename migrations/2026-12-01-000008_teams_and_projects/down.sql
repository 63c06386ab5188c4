DROP TABLE invitation_grants;
DROP TABLE project_grants;
DROP TABLE projects;
DROP TABLE team_members;
DROP TABLE teams;
ALTER TABLE memberships DROP CONSTRAINT memberships_org_id_key;
