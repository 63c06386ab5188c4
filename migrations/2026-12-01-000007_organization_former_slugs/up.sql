-- The URL names an organization had before a rename, so its members' old links and
-- bookmarks keep working. A former slug is free for any organization to take; the
-- organization that takes it (live slug) wins and the old redirect is forgotten.
CREATE TABLE organization_former_slugs (
    slug            text PRIMARY KEY
                    CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 64),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organization_former_slugs_org_idx ON organization_former_slugs (organization_id);
