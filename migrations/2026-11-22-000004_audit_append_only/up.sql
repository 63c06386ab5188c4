-- The audit log is append-only for the application: rows are never changed,
-- and only go away with their organization.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit events cannot be changed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM organizations WHERE id = OLD.organization_id) THEN
        RAISE EXCEPTION 'audit events are deleted only with their organization' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
-- Filtering the log by action.
CREATE INDEX audit_events_org_action_idx ON audit_events (organization_id, action, created_at DESC, id DESC);
