-- Gives the outbox its delivery state back from the mail jobs, then drops the queue.
DROP TRIGGER outbox_queue_delivery ON outbox;
DROP FUNCTION outbox_queue_delivery();

ALTER TABLE outbox
    ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();

UPDATE outbox o
   SET attempts = j.attempts, next_attempt_at = j.run_at
  FROM (SELECT DISTINCT ON (payload->>'message_id') payload->>'message_id' AS message_id, attempts, run_at
          FROM jobs
         WHERE kind = 'mail'
         ORDER BY payload->>'message_id', created_at DESC) j
 WHERE o.id::text = j.message_id;

CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';

DROP TABLE jobs;
