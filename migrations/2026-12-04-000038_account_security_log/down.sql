DROP INDEX audit_events_account_idx;
