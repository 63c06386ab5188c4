DROP INDEX notifications_join_request_subject;
DROP TABLE join_requests;
DROP FUNCTION join_requests_count_open();
DROP FUNCTION join_requests_count_inserted();
DROP FUNCTION join_requests_count_deleted();
DROP INDEX organizations_join_requests_waiting;
ALTER TABLE organizations DROP COLUMN open_join_requests, DROP COLUMN join_requests_waiting;
UPDATE organization_domains SET policy = 'suggest' WHERE policy = 'request';
ALTER TABLE organization_domains DROP CONSTRAINT organization_domains_policy_check;
ALTER TABLE organization_domains
    ADD CONSTRAINT organization_domains_policy_check CHECK (policy IN ('auto_join', 'suggest'));
