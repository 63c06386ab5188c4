DROP INDEX memberships_search_idx;
DROP EXTENSION IF EXISTS pg_trgm;
