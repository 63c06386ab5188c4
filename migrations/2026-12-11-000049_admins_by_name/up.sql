-- The Admins of an organization by name, for "who can grant access" (the Overview,
-- an empty Access view): the first few by name, whatever the organization's size.
-- Found by role and sorted, they cost a read of every Admin (5,000 of 100,000 in
-- the benchmark's organization); walking the name index instead passes over every
-- member who is not one. Only Admins are in it, so adding members does not touch it.
CREATE INDEX memberships_org_admins_by_name_idx ON memberships (organization_id, lower(member_name), id)
    WHERE role = 'admin';
