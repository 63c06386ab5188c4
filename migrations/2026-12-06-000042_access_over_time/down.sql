DROP INDEX memberships_org_expiring_idx, memberships_org_expiring_name_idx, memberships_org_expiring_email_idx,
    memberships_org_expiring_role_idx, memberships_org_expiring_joined_idx, memberships_org_expiring_verified_idx,
    memberships_org_expiring_last_active_idx, memberships_org_expiring_status_idx;
DROP TABLE expired_access;
ALTER TABLE invitations DROP COLUMN membership_expires_at, DROP COLUMN reminded_at, DROP COLUMN expiry_told_at;
ALTER TABLE organizations DROP COLUMN expiry_reminder_days, DROP COLUMN invitation_reminders;
ALTER TABLE project_grants DROP COLUMN expires_at, DROP COLUMN expiry_set_by, DROP COLUMN expiry_reminded_at;
ALTER TABLE team_members DROP COLUMN expires_at, DROP COLUMN expiry_set_by, DROP COLUMN expiry_reminded_at;
ALTER TABLE memberships DROP COLUMN expires_at, DROP COLUMN expiry_set_by, DROP COLUMN expiry_reminded_at;
