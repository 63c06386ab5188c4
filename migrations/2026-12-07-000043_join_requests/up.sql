-- Join requests (DESIGN.md §2.12): people at a verified domain whose policy is
-- `request` ask to join; the Owner and Admins answer each request from one queue.

ALTER TABLE organization_domains DROP CONSTRAINT organization_domains_policy_check;
ALTER TABLE organization_domains
    ADD CONSTRAINT organization_domains_policy_check CHECK (policy IN ('auto_join', 'suggest', 'request'));

CREATE TABLE join_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address they asked with, as it was then (the queue shows it, the
    -- audit log names it).
    email text NOT NULL,
    note text CHECK (char_length(note) BETWEEN 1 AND 500),
    -- `joined`: closed because they became a member another way (an invitation,
    -- a domain, provisioning) while it was open.
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'denied', 'withdrawn', 'joined')),
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Approved: the role given. Denied: the reason told, if any.
    role text CHECK (role IN ('admin', 'member')),
    reason text CHECK (char_length(reason) BETWEEN 1 AND 500),
    CHECK ((status = 'open') = (decided_at IS NULL)),
    CHECK ((status = 'approved') = (role IS NOT NULL)),
    CHECK (reason IS NULL OR status = 'denied')
);

-- One open request per person and organization.
CREATE UNIQUE INDEX join_requests_one_open ON join_requests (organization_id, user_id) WHERE status = 'open';
-- The queue, oldest first, walked by keyset.
CREATE INDEX join_requests_queue ON join_requests (organization_id, created_at, id) WHERE status = 'open';
-- A person's own requests (Dashboard), and the accounts' cascades.
CREATE INDEX join_requests_user ON join_requests (user_id, created_at DESC);
CREATE INDEX join_requests_decided_by ON join_requests (decided_by) WHERE decided_by IS NOT NULL;

-- The count beside `Members` in every header, kept rather than counted, as the
-- seat counters are (migration 16). `join_requests_waiting`: a request could not
-- be approved for want of a seat; the sweep tells the Owner once seats free up.
ALTER TABLE organizations
    ADD COLUMN open_join_requests integer NOT NULL DEFAULT 0 CHECK (open_join_requests >= 0),
    ADD COLUMN join_requests_waiting boolean NOT NULL DEFAULT false;

CREATE INDEX organizations_join_requests_waiting ON organizations (id) WHERE join_requests_waiting;

CREATE FUNCTION join_requests_count_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations o
       SET open_join_requests = o.open_join_requests + c.n
      FROM (SELECT organization_id, sum(d)::integer AS n
              FROM (SELECT organization_id, 1 AS d FROM new_rows WHERE status = 'open'
                    UNION ALL
                    SELECT organization_id, -1 FROM old_rows WHERE status = 'open') d
             GROUP BY organization_id) c
     WHERE o.id = c.organization_id AND c.n <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION join_requests_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations o
       SET open_join_requests = o.open_join_requests + c.n
      FROM (SELECT organization_id, count(*)::integer AS n FROM new_rows WHERE status = 'open'
             GROUP BY organization_id) c
     WHERE o.id = c.organization_id;
    RETURN NULL;
END $$;

-- A request deleted with its account takes its bell items with it.
CREATE FUNCTION join_requests_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations o
       SET open_join_requests = o.open_join_requests - c.n
      FROM (SELECT organization_id, count(*)::integer AS n FROM old_rows WHERE status = 'open'
             GROUP BY organization_id) c
     WHERE o.id = c.organization_id;
    DELETE FROM notifications
     WHERE kind = 'join_request.created' AND subject_id IN (SELECT id FROM old_rows WHERE status = 'open');
    RETURN NULL;
END $$;

CREATE TRIGGER join_requests_count_inserted AFTER INSERT ON join_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION join_requests_count_inserted();
CREATE TRIGGER join_requests_count_updated AFTER UPDATE ON join_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION join_requests_count_open();
CREATE TRIGGER join_requests_count_deleted AFTER DELETE ON join_requests
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION join_requests_count_deleted();

-- The bell items telling Owner and Admins of a request are taken back from all of
-- them once one answers it.
CREATE INDEX notifications_join_request_subject ON notifications (subject_id) WHERE kind = 'join_request.created';

-- Whoever becomes a member, however (an invitation, a domain, provisioning, an invite
-- link, an approval), has no request left open there: it is closed as `joined`,
-- and the bell items asking the Owner and Admins to review it go.
-- A request locked by an answer in progress is skipped (waiting for it while that
-- answer waits for this membership would deadlock): the answer sees the membership
-- and closes the request itself.
CREATE FUNCTION memberships_close_join_requests() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER memberships_close_join_requests AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION memberships_close_join_requests();

-- Webhook endpoints may subscribe to requests to join.
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (
    cardinality(events) >= 1
    AND events <@ ARRAY['invitation.*', 'member.*', 'join_request.*', 'team.*', 'project.*', 'seats.*', 'ownership.*']::text[]
);
