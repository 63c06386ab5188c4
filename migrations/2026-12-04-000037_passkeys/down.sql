DROP TABLE passkey_ceremonies;
DROP TRIGGER passkeys_refresh_user ON passkeys;
DROP TABLE passkeys;
CREATE OR REPLACE FUNCTION two_factor_of(account uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM authenticator_apps a
                              WHERE a.user_id = account AND a.confirmed_at IS NOT NULL)
                THEN 'on' ELSE 'off' END
$$;
UPDATE users SET two_factor = two_factor_of(id) WHERE two_factor = 'passkey';
