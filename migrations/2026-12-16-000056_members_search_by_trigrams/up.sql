-- A search that few members match read the whole organization: the Members page
-- walks its sort's index testing each row until a page matches, which at a million
-- members and one match is a million rows (1.4 s a search under load). A trigram
-- index finds the rows holding a text anywhere in the name or the address; the
-- page asks it once the walk shows matches are rare (db::members, SEARCH_WALK).
--
-- pg_trgm is one of PostgreSQL's own extensions (contrib), trusted since
-- PostgreSQL 13: the database's owner may create it without being a superuser.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'Roster needs the pg_trgm extension for its member search: %', SQLERRM
        USING HINT = 'It is part of PostgreSQL (on some systems in a package of its own, such as postgresql-contrib). '
                     'Install it, or have a superuser run CREATE EXTENSION pg_trgm in this database, then start Roster again.';
END $$;

CREATE INDEX memberships_search_idx ON memberships
    USING gin (lower(member_name) gin_trgm_ops, lower(member_email) gin_trgm_ops);
