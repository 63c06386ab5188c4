UPDATE webhook_endpoints SET events = array_remove(events, 'join_request.*') WHERE 'join_request.*' = ANY (events);
DELETE FROM webhook_endpoints WHERE cardinality(events) = 0;
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (
    cardinality(events) >= 1
    AND events <@ ARRAY['invitation.*', 'member.*', 'team.*', 'project.*', 'seats.*', 'ownership.*']::text[]
);
DROP TRIGGER memberships_close_join_requests ON memberships;
DROP FUNCTION memberships_close_join_requests();
DELETE FROM notifications WHERE kind LIKE 'join_request.%';
DROP INDEX notifications_join_request_subject;
DROP TABLE join_requests;
DROP FUNCTION join_requests_count_open();
DROP FUNCTION join_requests_count_inserted();
DROP FUNCTION join_requests_count_deleted();
DROP INDEX organizations_join_requests_waiting;
ALTER TABLE organizations DROP COLUMN open_join_requests, DROP COLUMN join_requests_waiting;
-- Without requests a Request domain could only let everyone in or nobody: its
-- Owner chooses, before this can be undone.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM organization_domains WHERE policy = 'request') THEN
        RAISE EXCEPTION 'Some verified domains have the policy Request: choose Auto-join or Suggest for them in Settings first.';
    END IF;
END $$;
ALTER TABLE organization_domains DROP CONSTRAINT organization_domains_policy_check;
ALTER TABLE organization_domains
    ADD CONSTRAINT organization_domains_policy_check CHECK (policy IN ('auto_join', 'suggest'));
