UPDATE webhook_endpoints SET events = array_remove(events, 'invite_link.*') WHERE 'invite_link.*' = ANY (events);
DELETE FROM webhook_endpoints WHERE cardinality(events) = 0;
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (
    cardinality(events) >= 1
    AND events <@ ARRAY['invitation.*', 'member.*', 'join_request.*', 'team.*', 'project.*', 'seats.*', 'ownership.*']::text[]
);
DELETE FROM notifications WHERE kind LIKE 'invite_link.%';
DROP INDEX join_requests_invite_link;
ALTER TABLE join_requests DROP COLUMN invite_link_id;
DROP TABLE invite_link_uses;
DROP TABLE invite_link_grants;
DROP TABLE invite_links;
