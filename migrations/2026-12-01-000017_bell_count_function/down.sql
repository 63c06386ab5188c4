DROP FUNCTION bell_count_by_session(text);
DROP FUNCTION bell_count(uuid);
