-- Second factors (DESIGN.md §2.10). An account's authenticator app: its secret
-- sealed under the server's keys (and re-sealed when they rotate), counted once
-- confirmed by a first code; the step of the last code used, so no code is used twice.
CREATE TABLE authenticator_apps (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    secret_sealed_with text,
    confirmed_at timestamptz,
    last_used_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes, by their SHA-256; a used code is deleted.
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest bytea NOT NULL CHECK (length(digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, digest)
);
