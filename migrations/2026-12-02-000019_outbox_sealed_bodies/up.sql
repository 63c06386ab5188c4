-- Mail carries working links (password reset, invitation, verification). From now
-- on a message's bodies wait in the outbox sealed with a key the database never
-- holds (`sealed_body`), and once sent through SMTP they are dropped: what is left
-- is the metadata (recipient, subject, status, times). Bodies of messages already
-- delivered or given up are dropped here; a message still waiting keeps its clear
-- bodies until it is sent, and no new message is written in clear.
ALTER TABLE outbox
    ADD COLUMN sealed_body bytea,
    ALTER COLUMN text_body DROP NOT NULL,
    ALTER COLUMN html_body DROP NOT NULL,
    ADD CONSTRAINT outbox_sealed_or_clear CHECK (sealed_body IS NULL OR (text_body IS NULL AND html_body IS NULL));

UPDATE outbox SET text_body = NULL, html_body = NULL WHERE status <> 'pending';
