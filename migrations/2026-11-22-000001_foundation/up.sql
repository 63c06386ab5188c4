-- Accounts, server-side sessions, one-time email tokens, organizations and
-- memberships, the mail outbox and rate-limit counters.

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    email             text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    email_verified_at timestamptz,
    password_hash     text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Email addresses are compared case-insensitively everywhere.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Session state lives here, not in the process, so sign-out and password
-- changes end sessions on the server and any instance can serve any request.
CREATE TABLE sessions (
    id         text PRIMARY KEY,  -- SHA-256 (hex) of the key in the cookie
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    state      jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Links sent by email to verify an address or reset a password. Only the
-- SHA-256 of the token is stored.
CREATE TABLE email_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_tokens_user_purpose_idx ON email_tokens (user_id, purpose);

CREATE TABLE organizations (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug       text NOT NULL UNIQUE
               CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 64),
    seat_limit integer NOT NULL DEFAULT 100 CHECK (seat_limit > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);
-- At most one Owner per organization, whatever the code does.
CREATE UNIQUE INDEX memberships_one_owner_idx ON memberships (organization_id) WHERE role = 'owner';

-- Mail is written here in the transaction of the change that causes it and
-- delivered by the background worker.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    to_address      text NOT NULL,
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_created_idx ON outbox (created_at DESC, id DESC);

-- Fixed-window counters for sign-in, sign-up and mail-sending endpoints.
CREATE TABLE rate_limits (
    key               text PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    hits              integer NOT NULL CHECK (hits > 0)
);
