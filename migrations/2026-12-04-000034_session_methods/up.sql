-- How each signed-in session signed in (password; later a second factor, a passkey,
-- single sign-on), for Account → Sessions. Written by the session store from the
-- session's sign-in state, as `user_id` is.
ALTER TABLE sessions ADD COLUMN sign_in_methods text[] NOT NULL DEFAULT '{}';
UPDATE sessions
SET sign_in_methods = ARRAY(SELECT jsonb_array_elements_text(((state ->> 'sign_in')::jsonb) -> 'methods'))
WHERE state ? 'sign_in' AND user_id IS NOT NULL;
