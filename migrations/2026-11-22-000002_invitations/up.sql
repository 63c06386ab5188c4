-- Invitations, the audit log and in-app notifications.

CREATE TABLE invitations (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    role            text NOT NULL CHECK (role IN ('admin', 'member')),
    -- 'expired' is not stored: a pending invitation past expires_at is expired.
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    -- The link's token is derived from this nonce with a server key (so Copy Link
    -- can show it again); only the token's SHA-256 is stored.
    token_nonce     bytea NOT NULL CHECK (octet_length(token_nonce) = 16),
    token_hash      bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    invited_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Kept as it was when inviting: sortable, and still shown if that account goes.
    inviter_name    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    last_sent_at    timestamptz NOT NULL DEFAULT now(),
    send_count      integer NOT NULL DEFAULT 1 CHECK (send_count >= 1),
    responded_at    timestamptz,
    responded_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((status = 'pending') = (responded_at IS NULL))
);
-- At most one pending invitation per organization and address.
CREATE UNIQUE INDEX invitations_one_pending_idx
    ON invitations (organization_id, lower(email)) WHERE status = 'pending';
-- Sort keys of the Invitations page, each with id as the tie-breaker for keyset pagination.
CREATE INDEX invitations_org_created_idx ON invitations (organization_id, created_at, id);
CREATE INDEX invitations_org_email_idx ON invitations (organization_id, lower(email), id);
CREATE INDEX invitations_org_expires_idx ON invitations (organization_id, expires_at, id);
CREATE INDEX invitations_org_role_idx ON invitations (organization_id, role, id);
CREATE INDEX invitations_org_inviter_idx ON invitations (organization_id, inviter_name, id);
CREATE INDEX invitations_org_status_idx ON invitations (organization_id, status, id);
-- Pending invitations for an address, for the invitee's Dashboard and bell.
CREATE INDEX invitations_pending_email_idx ON invitations (lower(email)) WHERE status = 'pending';

-- Every membership event; append-only for the application.
CREATE TABLE audit_events (
    id              uuid PRIMARY KEY,
    organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_label     text NOT NULL,
    action          text NOT NULL,
    target_label    text NOT NULL,
    before          jsonb,
    after           jsonb,
    request_id      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org_created_idx ON audit_events (organization_id, created_at DESC, id DESC);

-- In-app notifications, written in the transaction of the event that causes them.
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    recipient_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    subject_id      uuid,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz
);
CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (recipient_id) WHERE read_at IS NULL;
