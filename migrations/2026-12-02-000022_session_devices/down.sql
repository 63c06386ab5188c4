DROP INDEX sessions_public_id_key;
ALTER TABLE sessions DROP COLUMN public_id, DROP COLUMN user_agent, DROP COLUMN ip_address, DROP COLUMN last_seen_at;
