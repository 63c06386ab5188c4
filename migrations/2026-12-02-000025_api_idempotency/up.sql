-- Idempotency-Key on the API's POSTs: the first answer to a key's request is kept
-- (24 hours, then housekeeping deletes it), and a retry with the same Idempotency-Key
-- gets it again instead of doing the work twice. The row is written in the
-- transaction of the work, so a concurrent retry waits on the primary key and then
-- reads the answer; a request that failed leaves nothing.
CREATE TABLE api_idempotency (
    api_key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    idempotency_key text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path and body: the same key for another request is refused.
    request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
    status_code integer CHECK (status_code BETWEEN 100 AND 599),
    body text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, idempotency_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
