//! Access history (DESIGN.md §2.13): the periods migration 46's triggers keep of
//! every team place, project grant and suspension, read back as "who reached what at
//! a moment" in the shape of the live [`Reached`] rows, and as a person's timeline.
//!
//! A period holds from `started_at` (included) to `ended_at` (excluded; `NULL`: it
//! still holds). A grant to a team reaches a member for the part of their place in the
//! team that overlaps the grant.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Int8, Nullable, Text, Timestamptz};
use time::OffsetDateTime;
use uuid::Uuid;

use super::projects::Reached;

type SqlUuid = diesel::sql_types::Uuid;

/// One way a member reached a project at a moment ([`Reached`], `kind = "project"`),
/// with who they were.
#[derive(Debug, Clone, QueryableByName)]
pub struct HeldAt {
    #[diesel(embed)]
    pub path: Reached,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub member_name: String,
    #[diesel(sql_type = Text)]
    pub member_email: String,
    /// Whether they were suspended at that moment.
    #[diesel(sql_type = Bool)]
    pub suspended: bool,
    /// `lower(member_name)`: the page's order and cursor.
    #[diesel(sql_type = Text)]
    pub sort_key: String,
}

/// The teams whose grant to `project` was open at `at`: the ways through teams that
/// [`project_at`] and [`count_project_at`] walk.
pub fn teams_granted_at(conn: &mut PgConnection, project: Uuid, at: OffsetDateTime) -> QueryResult<Vec<Uuid>> {
    use super::schema::grant_history as g;
    g::table
        .filter(g::project_id.eq(project))
        .filter(g::started_at.le(at))
        .filter(g::ended_at.is_null().or(g::ended_at.gt(at)))
        .filter(g::team_id.is_not_null())
        .select(g::team_id.assume_not_null())
        .order(g::team_id)
        .load(conn)
}

/// Whether a period `p` holds at `$2`.
const OPEN_AT: &str = "p.started_at <= $2 AND (p.ended_at IS NULL OR p.ended_at > $2)";

/// SQL for the people who reached project `$1` at `$2`, after (`$3`, `$4`) in name
/// order, at most `$5` from each way: the grants to members, then one part per team of
/// `teams` (bound from `$6`), each walking that team's places in name order
/// (`team_place_history_team_name`). A part per team, with the team's id bound, lets
/// PostgreSQL plan each for its own size: a team of 100,000 is walked from the cursor,
/// never sorted.
fn people_after(teams: &[Uuid]) -> String {
    let mut sql = format!(
        "(SELECT p.membership_id, lower(p.member_name) AS sort_key FROM grant_history p \
           WHERE p.project_id = $1 AND p.membership_id IS NOT NULL AND {OPEN_AT} \
             AND (lower(p.member_name), p.membership_id) > ($3, $4) \
           ORDER BY lower(p.member_name), p.membership_id LIMIT $5)"
    );
    for n in 0..teams.len() {
        sql.push_str(&format!(
            " UNION ALL (SELECT p.membership_id, lower(p.member_name) FROM team_place_history p \
                WHERE p.team_id = ${} AND {OPEN_AT} AND (lower(p.member_name), p.membership_id) > ($3, $4) \
                ORDER BY lower(p.member_name), p.membership_id LIMIT $5)",
            n + 6
        ));
    }
    sql
}

/// [`people_after`] as a query with its binds.
fn people_query(
    sql: String,
    project: Uuid,
    at: OffsetDateTime,
    after: (&str, Uuid),
    limit: i64,
    teams: &[Uuid],
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
    let mut query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<SqlUuid, _>(project)
        .bind::<Timestamptz, _>(at)
        .bind::<Text, _>(after.0.to_owned())
        .bind::<SqlUuid, _>(after.1)
        .bind::<Int8, _>(limit);
    for team in teams {
        query = query.bind::<SqlUuid, _>(*team);
    }
    query
}

/// Every path by which someone reached `project` at `at`: a grant to them, or to one of
/// `teams` ([`teams_granted_at`]) while they were in it. Those of one page of people
/// (`limit`, by name then membership, after `after`), each person's rows together,
/// direct grant first.
///
/// A page is a merge, not a sort of everyone: each way is walked in name order from
/// the cursor, `limit` people at most; the first `limit` people of those are the
/// page, since anyone among the first `limit` overall is among the first `limit` of
/// every way they had. Each path carries its person's sort key from the page, so the
/// page is not joined again: PostgreSQL costs the page at 200 people and the paths at
/// a few, and that second join ran as a nested loop comparing every path with every
/// person (a million comparisons on an export's page of 1,000: 27 ms of its 30).
pub fn project_at(
    conn: &mut PgConnection,
    project: Uuid,
    at: OffsetDateTime,
    teams: &[Uuid],
    after: Option<(&str, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<HeldAt>> {
    let sql = format!(
        "WITH candidates AS ({}), \
         page AS (SELECT DISTINCT membership_id, sort_key FROM candidates ORDER BY sort_key, membership_id LIMIT $5), \
         grants AS (SELECT p.* FROM grant_history p WHERE p.project_id = $1 AND {OPEN_AT}), \
         paths AS ( \
           SELECT g.membership_id, page.sort_key, g.user_id, g.member_name, g.member_email, g.level, \
                  NULL::uuid AS team_id, NULL::text AS team_name, g.project_id, g.project_name, g.project_slug \
             FROM grants g JOIN page USING (membership_id) \
           UNION ALL \
           SELECT p.membership_id, page.sort_key, p.user_id, p.member_name, p.member_email, g.level, \
                  g.team_id, g.team_name, g.project_id, g.project_name, g.project_slug \
             FROM page \
             CROSS JOIN LATERAL (SELECT * FROM team_place_history p \
                                  WHERE p.membership_id = page.membership_id AND {OPEN_AT} OFFSET 0) p \
             JOIN grants g ON g.team_id = p.team_id) \
         SELECT p.membership_id, 'project'::text AS kind, p.project_id AS id, p.project_name AS name, \
                p.project_slug AS slug, p.level, p.team_name AS via_team, p.team_id AS via_team_id, \
                NULL::timestamptz AS expires_at, p.user_id, p.member_name, p.member_email, p.sort_key, \
                EXISTS (SELECT 1 FROM suspension_history s \
                         WHERE s.membership_id = p.membership_id AND s.started_at <= $2 \
                           AND (s.ended_at IS NULL OR s.ended_at > $2)) AS suspended \
           FROM paths p \
          ORDER BY p.sort_key, p.membership_id, p.team_name NULLS FIRST, p.team_id",
        people_after(teams)
    );
    // Before the first page: below every name and id.
    let after = after.unwrap_or(("", Uuid::nil()));
    people_query(sql, project, at, after, limit, teams).load(conn)
}

/// How many people reached `project` at `at` through a grant to them or to one of
/// `teams`, counted up to `cap`: `cap + 1` means more. Each way is read `cap + 1` deep
/// at most, so a project everyone reaches costs what a large one does.
pub fn count_project_at(
    conn: &mut PgConnection,
    project: Uuid,
    at: OffsetDateTime,
    teams: &[Uuid],
    cap: i64,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = Int8)]
        count: i64,
    }
    let sql = format!("SELECT count(DISTINCT membership_id) AS count FROM ({}) people", people_after(teams));
    let found: Count = people_query(sql, project, at, ("", Uuid::nil()), cap + 1, teams).get_result(conn)?;
    // Past the cap one way alone went `cap + 1` deep; below it, nothing was cut short.
    Ok(found.count.min(cap + 1))
}

/// What the person `user` reached in `org` at `at`, in the order and shape of
/// [`super::projects::reached_by`]: their teams, then every grant to them or to one of
/// their teams (nothing expired: that is the live view's own list).
pub fn person_at(conn: &mut PgConnection, org: Uuid, user: Uuid, at: OffsetDateTime) -> QueryResult<Vec<Reached>> {
    diesel::sql_query(
        "SELECT tp.membership_id, 'team'::text AS kind, tp.team_id AS id, tp.team_name AS name, tp.team_slug AS slug, \
                tp.role AS level, NULL::text AS via_team, NULL::uuid AS via_team_id, NULL::timestamptz AS expires_at, \
                0 AS part, tp.team_name AS sort_name \
           FROM team_place_history tp \
          WHERE tp.organization_id = $1 AND tp.user_id = $2 \
            AND tp.started_at <= $3 AND (tp.ended_at IS NULL OR tp.ended_at > $3) \
         UNION ALL \
         SELECT g.membership_id, 'project', g.project_id, g.project_name, g.project_slug, g.level, NULL, NULL, NULL, \
                1, g.project_name \
           FROM grant_history g \
          WHERE g.organization_id = $1 AND g.user_id = $2 \
            AND g.started_at <= $3 AND (g.ended_at IS NULL OR g.ended_at > $3) \
         UNION ALL \
         SELECT tp.membership_id, 'project', g.project_id, g.project_name, g.project_slug, g.level, g.team_name, \
                g.team_id, NULL, 1, g.project_name \
           FROM team_place_history tp \
           JOIN grant_history g ON g.team_id = tp.team_id \
                AND g.started_at <= $3 AND (g.ended_at IS NULL OR g.ended_at > $3) \
          WHERE tp.organization_id = $1 AND tp.user_id = $2 \
            AND tp.started_at <= $3 AND (tp.ended_at IS NULL OR tp.ended_at > $3) \
         ORDER BY part, sort_name, id, via_team NULLS FIRST",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(at)
    .load(conn)
}

/// One stretch of someone's access: a place in a team (`kind = "team"`, `grade` the
/// team role), a way to a project (`kind = "project"`, `grade` the level, `team` the
/// team it came through, if any) or a suspension (`kind = "suspension"`).
#[derive(Debug, Clone, QueryableByName)]
pub struct Stretch {
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The team's or project's id (the membership's for a suspension).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub grade: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub team: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: OffsetDateTime,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ended_at: Option<OffsetDateTime>,
}

/// The person `user`'s history in `org`, across every membership they had: team
/// places, ways to projects and suspensions, the latest first, at most `limit`.
pub fn of_person(conn: &mut PgConnection, org: Uuid, user: Uuid, limit: i64) -> QueryResult<Vec<Stretch>> {
    // A way through a team holds while both the place and the team's grant do.
    diesel::sql_query(
        "SELECT 'team'::text AS kind, tp.team_id AS id, tp.team_name AS name, tp.team_slug AS slug, tp.role AS grade, \
                NULL::text AS team, tp.started_at, tp.ended_at \
           FROM team_place_history tp WHERE tp.organization_id = $1 AND tp.user_id = $2 \
         UNION ALL \
         SELECT 'project', g.project_id, g.project_name, g.project_slug, g.level, NULL, g.started_at, g.ended_at \
           FROM grant_history g WHERE g.organization_id = $1 AND g.user_id = $2 \
         UNION ALL \
         SELECT 'project', g.project_id, g.project_name, g.project_slug, g.level, g.team_name, \
                greatest(g.started_at, tp.started_at), least(g.ended_at, tp.ended_at) \
           FROM team_place_history tp \
           JOIN grant_history g ON g.team_id = tp.team_id \
                AND g.started_at < coalesce(tp.ended_at, 'infinity') \
                AND tp.started_at < coalesce(g.ended_at, 'infinity') \
          WHERE tp.organization_id = $1 AND tp.user_id = $2 \
         UNION ALL \
         SELECT 'suspension', s.membership_id, '', '', '', NULL, s.started_at, s.ended_at \
           FROM suspension_history s WHERE s.organization_id = $1 AND s.user_id = $2 \
         ORDER BY started_at DESC, kind DESC, name, id, team NULLS FIRST \
         LIMIT $3",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(user)
    .bind::<Int8, _>(limit)
    .load(conn)
}

/// A way someone reached a project that began or ended in a stretch of time.
#[derive(Debug, Clone, QueryableByName)]
pub struct Turn {
    #[diesel(sql_type = Timestamptz)]
    pub at: OffsetDateTime,
    /// Whether it began then (or ended).
    #[diesel(sql_type = Bool)]
    pub began: bool,
    /// What caused it: `place` (they joined or left the team) or `grant` (a grant began
    /// or ended; always so for a grant to them).
    #[diesel(sql_type = Text)]
    pub by: String,
    #[diesel(sql_type = SqlUuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = Text)]
    pub member_name: String,
    #[diesel(sql_type = Text)]
    pub member_email: String,
    #[diesel(sql_type = Text)]
    pub level: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub team: Option<String>,
}

/// The ways to `project` that began or ended from `from` (included) to `to`
/// (excluded), the earliest first, at most `limit`; and how many there were.
pub fn project_turns(
    conn: &mut PgConnection,
    project: Uuid,
    from: OffsetDateTime,
    to: OffsetDateTime,
    limit: i64,
) -> QueryResult<(Vec<Turn>, i64)> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(embed)]
        turn: Turn,
        #[diesel(sql_type = Int8)]
        total: i64,
    }
    // Each turn is found by what caused it, so each part walks an index on the moment
    // it looks for (a place's start or end, a grant's), never every place of a team:
    // a way through a team begins when the later of its place and its grant does, and
    // ends when the earlier of them ends.
    let rows: Vec<Counted> = diesel::sql_query(
        "WITH grants AS ( \
           SELECT g.* FROM grant_history g \
            WHERE g.project_id = $1 AND g.started_at < $3 AND coalesce(g.ended_at, 'infinity') >= $2), \
         turns AS ( \
           SELECT g.started_at AS at, true AS began, 'grant'::text AS by, g.membership_id, g.member_name, \
                  g.member_email, g.level, NULL::text AS team \
             FROM grants g WHERE g.membership_id IS NOT NULL AND g.started_at >= $2 \
           UNION ALL \
           SELECT g.ended_at, false, 'grant', g.membership_id, g.member_name, g.member_email, g.level, NULL \
             FROM grants g WHERE g.membership_id IS NOT NULL AND g.ended_at < $3 \
           UNION ALL \
           SELECT tp.started_at, true, 'place', tp.membership_id, tp.member_name, tp.member_email, g.level, g.team_name \
             FROM grants g JOIN team_place_history tp ON tp.team_id = g.team_id \
                  AND tp.started_at >= $2 AND tp.started_at < $3 \
                  AND tp.started_at >= g.started_at AND tp.started_at < coalesce(g.ended_at, 'infinity') \
           UNION ALL \
           SELECT g.started_at, true, 'grant', tp.membership_id, tp.member_name, tp.member_email, g.level, g.team_name \
             FROM grants g JOIN team_place_history tp ON tp.team_id = g.team_id \
                  AND tp.started_at < g.started_at AND coalesce(tp.ended_at, 'infinity') > g.started_at \
            WHERE g.team_id IS NOT NULL AND g.started_at >= $2 \
           UNION ALL \
           SELECT tp.ended_at, false, 'place', tp.membership_id, tp.member_name, tp.member_email, g.level, g.team_name \
             FROM grants g JOIN team_place_history tp ON tp.team_id = g.team_id \
                  AND tp.ended_at >= $2 AND tp.ended_at < $3 \
                  AND tp.ended_at > g.started_at AND tp.ended_at <= coalesce(g.ended_at, 'infinity') \
           UNION ALL \
           SELECT g.ended_at, false, 'grant', tp.membership_id, tp.member_name, tp.member_email, g.level, g.team_name \
             FROM grants g JOIN team_place_history tp ON tp.team_id = g.team_id \
                  AND tp.started_at < g.ended_at AND coalesce(tp.ended_at, 'infinity') > g.ended_at \
            WHERE g.team_id IS NOT NULL AND g.ended_at < $3) \
         SELECT t.*, count(*) OVER () AS total FROM turns t \
          ORDER BY t.at, t.began, lower(t.member_name), t.membership_id, t.team NULLS FIRST \
          LIMIT $4",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Int8, _>(limit)
    .load(conn)?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.turn).collect(), total))
}

/// Since when Roster has kept the organization's whole access history: `None` when
/// it was made after keeping began (migration 46), so all of it is there. Before that
/// moment, only what was still held then is known.
pub fn kept_since(conn: &mut PgConnection, org: Uuid) -> QueryResult<Option<OffsetDateTime>> {
    use super::schema::organizations;
    organizations::table.find(org).select(organizations::access_history_since).first(conn)
}

/// Who had the membership `membership` in `org`: their account, name and address, from
/// the membership while it lasts (`current`), from its history once it is gone.
pub struct Person {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub current: bool,
}

/// The [`Person`] of `membership` in `org`, if it ever was one.
pub fn person(conn: &mut PgConnection, org: Uuid, membership: Uuid) -> QueryResult<Option<Person>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = Text)]
        member_name: String,
        #[diesel(sql_type = Text)]
        member_email: String,
        #[diesel(sql_type = Bool)]
        current: bool,
    }
    let found: Option<Row> = diesel::sql_query(
        "(SELECT user_id, member_name, member_email, true AS current FROM memberships \
           WHERE organization_id = $1 AND id = $2) \
         UNION ALL \
         (SELECT user_id, member_name, member_email, false FROM team_place_history \
           WHERE organization_id = $1 AND membership_id = $2 ORDER BY started_at DESC LIMIT 1) \
         UNION ALL \
         (SELECT user_id, member_name, member_email, false FROM grant_history \
           WHERE organization_id = $1 AND membership_id = $2 ORDER BY started_at DESC LIMIT 1) \
         LIMIT 1",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(membership)
    .get_result(conn)
    .optional()?;
    Ok(found.map(|p| Person { user_id: p.user_id, name: p.member_name, email: p.member_email, current: p.current }))
}
