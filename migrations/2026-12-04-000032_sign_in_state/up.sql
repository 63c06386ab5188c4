-- A session's sign-in becomes a typed state (DESIGN.md §2.10): the key `user_id`
-- becomes `sign_in`, a sign-in complete with a password, so nobody is signed out.
-- Session state is a JSON object whose values are JSON texts.
UPDATE sessions
SET state = (state - 'user_id') || jsonb_build_object(
    'sign_in',
    jsonb_build_object(
        'step', 'signed_in',
        'user', (state ->> 'user_id')::jsonb,
        'methods', '["password"]'::jsonb
    )::text
)
WHERE state ? 'user_id';

-- Accounts may have no password: made by provisioning or single sign-on, they
-- sign in another way until their owner sets one through a verified-email link.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
