DROP TABLE invitation_grants;
DROP TABLE project_grants;
DROP TABLE projects;
DROP TABLE team_members;
DROP TABLE teams;
ALTER TABLE invitations DROP CONSTRAINT invitations_org_id_key;
ALTER TABLE memberships DROP CONSTRAINT memberships_org_id_key;
