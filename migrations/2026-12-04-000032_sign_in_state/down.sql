-- Accounts without a password cannot be kept where a password is required: they
-- get one nobody knows (an invalid hash), and reset it by mail.
UPDATE users SET password_hash = '!' WHERE password_hash IS NULL;
ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL;

-- Only complete sign-ins go back to `user_id`; one waiting for a second factor
-- is dropped (that browser signs in again).
UPDATE sessions
SET state = (state - 'sign_in') || CASE
    WHEN (state ->> 'sign_in')::jsonb ->> 'step' = 'signed_in'
    THEN jsonb_build_object('user_id', ((state ->> 'sign_in')::jsonb -> 'user')::text)
    ELSE '{}'::jsonb
END
WHERE state ? 'sign_in';
