-- When each member last used their organization: written at most once every few
-- minutes per member (the application checks before writing), read by the
-- Members page's `Last active` column and by Seat Usage's inactive members.
ALTER TABLE memberships ADD COLUMN last_active_at timestamptz;

-- The `Last active` sort, never-active members first, with id as the keyset tie-breaker.
CREATE INDEX memberships_org_last_active_idx
    ON memberships (organization_id, coalesce(last_active_at, '0001-01-01 00:00:00+00'::timestamptz), id);
