-- Each signed-in browser is listed under Account → Sessions, where its owner can
-- sign it out: a public id to name it in forms (the row id is the SHA-256 of the
-- cookie's secret, and stays inside), what it is and where from (as it signed
-- in), and when it was last used. `expires_at` is the sooner of the absolute end
-- (14 days after sign-in) and the idle end (the last use plus
-- ROSTER_SESSION_IDLE_TIMEOUT), so every check of a session stays one comparison.
ALTER TABLE sessions
    ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN user_agent text NOT NULL DEFAULT '' CHECK (char_length(user_agent) <= 512),
    ADD COLUMN ip_address text NOT NULL DEFAULT '' CHECK (char_length(ip_address) <= 64),
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX sessions_public_id_key ON sessions (public_id);
