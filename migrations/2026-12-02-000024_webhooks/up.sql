-- Webhooks (DESIGN.md §2.9): endpoints an organization's Owner and Admins add, and
-- one delivery per event and endpoint, queued with the change that caused it. The
-- delivery's id is the `webhook-id` every attempt carries, so receivers deduplicate.
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url text NOT NULL CHECK (char_length(url) BETWEEN 8 AND 2000 AND url ~ '^https?://'),
    -- Event groups it receives: 'invitation.*', 'member.*', ...
    events text[] NOT NULL CHECK (
        cardinality(events) >= 1
        AND events <@ ARRAY['invitation.*', 'member.*', 'team.*', 'project.*', 'seats.*', 'ownership.*']::text[]
    ),
    -- The signing secret, sealed with the instance's key (it must be read back to sign).
    secret_sealed bytea NOT NULL,
    secret_hint text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    -- Why it was disabled by Roster (failing for days); NULL when a person disabled it.
    disabled_reason text,
    -- Since when no delivery has succeeded (NULL: the last one did).
    failing_since timestamptz,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    creator_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id, created_at, id);

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event text NOT NULL,
    -- The exact body sent: the signature covers these bytes.
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_attempt_at timestamptz,
    status_code integer CHECK (status_code BETWEEN 100 AND 599),
    duration_ms integer CHECK (duration_ms >= 0),
    -- The first bytes of the answer, or why there was none.
    response_excerpt text CHECK (char_length(response_excerpt) <= 500),
    delivered_at timestamptz,
    -- 'pending' while attempts remain, then 'delivered' or 'failed'; 'queued' again
    -- after Redeliver, until that attempt is made.
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'delivered', 'failed'))
);
-- The delivery log: an endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
