-- Passkeys (DESIGN.md §2.10): WebAuthn credentials an account registered, each named
-- by its owner. `credential` is webauthn-rs's Passkey (public key, counter, flags) as
-- JSON: nothing in it is secret. A credential id belongs to one account only.
CREATE TABLE passkeys (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id bytea NOT NULL CONSTRAINT passkeys_credential_id_key UNIQUE,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    credential jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);

-- An account with a passkey has 'passkey' as its second factor (migration 36).
CREATE OR REPLACE FUNCTION two_factor_of(account uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = account) THEN 'passkey'
        WHEN EXISTS (SELECT 1 FROM authenticator_apps a WHERE a.user_id = account AND a.confirmed_at IS NOT NULL)
            THEN 'on'
        ELSE 'off' END
$$;

CREATE TRIGGER passkeys_refresh_user AFTER INSERT OR DELETE ON passkeys
    FOR EACH ROW EXECUTE FUNCTION factors_refresh_user();

-- A passkey ceremony under way: the state webauthn-rs keeps between the options a
-- browser is given and the credential it sends back, under a random id the browser
-- returns with it. Kept here rather than in the session, so that starting one never
-- creates a session (which would void the page's form token), and any instance
-- finishes it. Taken once; expired ones are swept by housekeeping.
CREATE TABLE passkey_ceremonies (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('registration', 'sign_in', 'second_step')),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    state jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry_idx ON passkey_ceremonies (expires_at);
