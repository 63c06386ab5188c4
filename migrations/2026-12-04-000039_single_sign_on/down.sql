DROP TABLE sso_sign_ins;
DROP TABLE sso_identities;
ALTER TABLE organization_domains
    DROP CONSTRAINT organization_domains_sso_required_is_covered,
    DROP COLUMN sso_required,
    DROP COLUMN sso;
DROP TABLE sso_connections;
