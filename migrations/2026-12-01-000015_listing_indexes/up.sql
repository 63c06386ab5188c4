-- Indexes that let every branch of the Members listing walk an index in sort
-- order from the cursor, whatever the size of the organization.

-- Members sorted by Status: all `Active`, so ordered by id alone.
CREATE INDEX memberships_org_id_idx ON memberships (organization_id, id);

-- Pending invitations on the Members page and under the Invitations page's
-- default filter, by email, role and date. The partial indexes skip the
-- accepted invitations, which in a grown organization outnumber the pending
-- ones by far, so a page never reads past thousands of them.
CREATE INDEX invitations_pending_org_email_idx ON invitations (organization_id, lower(email), id)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_org_role_idx ON invitations (organization_id, role, id)
    WHERE status = 'pending';
CREATE INDEX invitations_pending_org_created_idx ON invitations (organization_id, created_at, id)
    WHERE status = 'pending';
