-- A new membership copies its account's name, address, verification and second
-- factor (migrations 3 and 36) with a look-up of the account, row by row. An
-- insert that brings the copy itself skips it: `roster generate` writes the
-- accounts and their memberships in one statement, the memberships' copy taken
-- from what the accounts' insert returned, so it cannot differ. The look-up cost
-- about 10 µs a row, 10 s of a million members. Every other insert names no copy
-- and is copied as before.
DROP TRIGGER memberships_copy_user ON memberships;
CREATE TRIGGER memberships_copy_user BEFORE INSERT ON memberships
    FOR EACH ROW WHEN (NEW.member_email IS NULL) EXECUTE FUNCTION memberships_copy_user();
