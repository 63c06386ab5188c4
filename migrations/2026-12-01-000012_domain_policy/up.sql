-- What a verified domain does for the people at it: `auto_join` (they join as
-- Member when they sign in or verify their address) or `suggest` (they are
-- offered "Join" on their Dashboard and in the bell).
ALTER TABLE organization_domains
    ADD COLUMN policy text NOT NULL DEFAULT 'auto_join' CHECK (policy IN ('auto_join', 'suggest'));
