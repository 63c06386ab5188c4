DROP TABLE recovery_codes;
DROP TABLE authenticator_apps;
