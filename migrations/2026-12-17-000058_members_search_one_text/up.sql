-- The trigram index of migration 57 kept a member's name and address as two
-- texts, and most of their trigrams twice: an address is mostly its owner's
-- name ("Ada Lovelace", "ada.lovelace@…"). Every membership written wrote about
-- 58 entries, and `roster generate` of a million members spent a third of its
-- time on them. As one text, name and address joined by a space, a membership
-- writes about 44. A search asks it for the text's trigrams and tests the name
-- and the address each, as before: a text that spans the two ("lovelace ada")
-- is in the joined text and in neither, and is left out by that test.
DROP INDEX memberships_search_idx;
CREATE INDEX memberships_search_idx ON memberships
    USING gin (organization_id, (lower(member_name) || ' ' || lower(member_email)) gin_trgm_ops);
