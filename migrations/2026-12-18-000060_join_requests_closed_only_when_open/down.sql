-- Back to migration 43's function: the closing statement runs for every new membership.
CREATE OR REPLACE FUNCTION memberships_close_join_requests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH closed AS (
        UPDATE join_requests r
           SET status = 'joined', decided_at = now()
         WHERE r.id IN (SELECT o.id FROM join_requests o JOIN added a
                          ON o.organization_id = a.organization_id AND o.user_id = a.user_id
                         WHERE o.status = 'open'
                         FOR UPDATE OF o SKIP LOCKED)
        RETURNING r.id
    )
    DELETE FROM notifications n USING closed
     WHERE n.kind = 'join_request.created' AND n.subject_id = closed.id;
    RETURN NULL;
END $$;
