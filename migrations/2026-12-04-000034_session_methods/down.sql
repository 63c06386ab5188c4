ALTER TABLE sessions DROP COLUMN sign_in_methods;
