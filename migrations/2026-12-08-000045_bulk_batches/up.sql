-- Bulk actions (DESIGN.md §2.13): every audit row a bulk action writes carries the
-- same batch id, so the Audit Log can show the batch as one and list what it did.
ALTER TABLE audit_events ADD COLUMN batch_id uuid;
CREATE INDEX audit_events_batch ON audit_events (organization_id, batch_id, created_at DESC, seq DESC)
    WHERE batch_id IS NOT NULL;
