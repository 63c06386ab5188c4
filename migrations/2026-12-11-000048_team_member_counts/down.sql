DROP TRIGGER team_members_counted_moved ON team_members;
DROP TRIGGER team_members_counted_out ON team_members;
DROP TRIGGER team_members_counted_in ON team_members;
DROP FUNCTION team_members_count();
DROP FUNCTION teams_add_member_counts(jsonb);
DROP INDEX team_members_maintainers_idx;
ALTER TABLE teams DROP COLUMN member_count;
