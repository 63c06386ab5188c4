-- The recipient's display name, for `To: "Ada Lovelace" <ada@example.com>`: mail
-- addressed to a bare address scores worse with spam filters. NULL where Roster
-- does not know the name (an invitation knows only an address), and on messages
-- written before this migration or by an instance of the previous version.
ALTER TABLE outbox ADD COLUMN to_name text;
