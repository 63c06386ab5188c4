DROP INDEX outbox_unsent_idx;
