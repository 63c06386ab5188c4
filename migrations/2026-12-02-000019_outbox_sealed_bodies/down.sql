-- Sealed bodies cannot be opened here (the key is not in the database): the
-- messages keep their metadata and an empty body.
UPDATE outbox SET text_body = '', html_body = '' WHERE text_body IS NULL OR html_body IS NULL;
ALTER TABLE outbox
    DROP CONSTRAINT outbox_sealed_or_clear,
    DROP COLUMN sealed_body,
    ALTER COLUMN text_body SET NOT NULL,
    ALTER COLUMN html_body SET NOT NULL;
