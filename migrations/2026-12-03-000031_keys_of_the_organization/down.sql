ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check, DROP COLUMN role;
