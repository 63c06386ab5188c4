DROP TABLE rate_limits;
DROP TABLE outbox;
DROP TABLE memberships;
DROP TABLE organizations;
DROP TABLE email_tokens;
DROP TABLE sessions;
DROP TABLE users;
