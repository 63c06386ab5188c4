-- One job queue for all background work (mail now; webhooks, DNS re-checks and
-- housekeeping later). A worker claims due jobs of the kinds it can run with
-- FOR UPDATE SKIP LOCKED and a lease (run_at pushed ahead, attempts counted),
-- runs them outside any transaction, and records the outcome only if it still
-- holds the claim (attempts unchanged).
CREATE TABLE jobs (
    id          uuid PRIMARY KEY,  -- stable across retries: handlers may use it to deduplicate
    kind        text NOT NULL,
    payload     jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_at      timestamptz NOT NULL DEFAULT now(),
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
-- Claiming: the due jobs of given kinds, oldest run_at first. Partial, so
-- finished jobs cost the claim nothing however many there are.
CREATE INDEX jobs_due_idx ON jobs (kind, run_at) WHERE status = 'pending';

-- Delivery state moves from the outbox to one `mail` job per message. Every
-- message gets its job, delivered or not, so that down.sql can give the outbox
-- back exactly what it had; only the pending ones will ever be claimed.
INSERT INTO jobs (id, kind, payload, status, attempts, run_at, last_error, created_at, finished_at)
SELECT gen_random_uuid(),
       'mail',
       jsonb_build_object('message_id', id),
       CASE status WHEN 'sent' THEN 'done' ELSE status END,
       attempts,
       next_attempt_at,
       last_error,
       created_at,
       -- A message given up on had its next_attempt_at set to the time of giving up.
       CASE status WHEN 'sent' THEN sent_at WHEN 'failed' THEN next_attempt_at END
  FROM outbox;

-- The outbox keeps the message and what the dev mailbox shows about it.
DROP INDEX outbox_due_idx;
ALTER TABLE outbox DROP COLUMN attempts, DROP COLUMN next_attempt_at;

-- Every message written to the outbox gets its delivery job in the same statement,
-- whoever writes it: also an instance of the previous version during a rolling
-- deploy, which knows nothing of jobs (its mail would otherwise never be sent).
CREATE FUNCTION outbox_queue_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (id, kind, payload) VALUES (gen_random_uuid(), 'mail', jsonb_build_object('message_id', NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_queue_delivery AFTER INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION outbox_queue_delivery();
