-- API keys belong to their organization and act with a role of their own (Admin or
-- Member), no longer through their creator's membership (DESIGN.md §2.10).

ALTER TABLE api_keys ADD COLUMN role text;

-- A key keeps what it could do: its creator's current role, capped at Admin.
UPDATE api_keys
   SET role = CASE WHEN m.role IN ('owner', 'admin') THEN 'admin' ELSE 'member' END
  FROM memberships m
 WHERE m.organization_id = api_keys.organization_id
   AND m.user_id = api_keys.created_by;

-- A live key whose creator is no longer a member was refused until now; it must not
-- start working because keys now outlive their creators: it is revoked.
UPDATE api_keys
   SET revoked_at = now(),
       revoked_by = 'Roster <its creator had left the organization>'
 WHERE role IS NULL AND revoked_at IS NULL;
UPDATE api_keys SET role = 'member' WHERE role IS NULL;

ALTER TABLE api_keys
    ALTER COLUMN role SET NOT NULL,
    ADD CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'member'));
