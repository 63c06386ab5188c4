//! The `projects` and `project_grants` tables, and the one query that says what a
//! member reaches (their teams, and every grant that reaches them).

use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text};
use time::OffsetDateTime;
use uuid::Uuid;

use super::groups::GroupQuery;
use super::listing::{escape_like, Cursor};
use super::lower;
use super::schema::{memberships, project_grants, projects, team_members, teams};
use crate::domain::{AccessLevel, OrgId, Slug};

/// A project row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = projects)]
pub struct Project {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub created_at: OffsetDateTime,
}

super::groups::group_queries!(projects, Project);

/// A grant of access to a project, with its grantee's name: a team, or a member.
#[derive(Debug, Clone, Queryable)]
pub struct Grant {
    pub id: Uuid,
    pub project_id: Uuid,
    pub level: AccessLevel,
    pub team_id: Option<Uuid>,
    pub team_name: Option<String>,
    pub team_slug: Option<String>,
    pub membership_id: Option<Uuid>,
    pub member_name: Option<String>,
    pub member_email: Option<String>,
    /// When a member's own grant ends (`None`: it does not).
    pub expires_at: Option<OffsetDateTime>,
}

impl Grant {
    /// The day a member's own grant ends, as pages show it.
    pub fn ends(&self) -> Option<String> {
        self.expires_at.map(crate::domain::dates::day)
    }
    /// How the audit log and notifications name the grantee.
    pub fn grantee(&self) -> String {
        match (&self.team_name, &self.member_email) {
            (Some(team), _) => format!("team {team}"),
            (None, Some(email)) => email.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The grants of the projects `ids`: teams first, then people, each by name.
pub fn grants_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Grant>> {
    project_grants::table
        .left_join(teams::table.on(teams::id.nullable().eq(project_grants::team_id)))
        .left_join(memberships::table.on(memberships::id.nullable().eq(project_grants::membership_id)))
        .filter(project_grants::project_id.eq_any(ids))
        .order((
            project_grants::team_id.is_null(),
            lower(super::listing::fixed::<Text>("coalesce(teams.name, memberships.member_name)")),
            project_grants::id,
        ))
        .select((
            project_grants::id,
            project_grants::project_id,
            project_grants::level,
            project_grants::team_id,
            teams::name.nullable(),
            teams::slug.nullable(),
            project_grants::membership_id,
            memberships::member_name.nullable(),
            memberships::member_email.nullable(),
            project_grants::expires_at,
        ))
        .load(conn)
}

/// Who receives a grant: a team, or one member (by membership id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    Team(Uuid),
    Member(Uuid),
}

/// Gives `grantee` access to a project at `level`, replacing the level it had;
/// returns that previous level. Run with the project locked.
pub fn grant(
    conn: &mut PgConnection,
    org: OrgId,
    project: Uuid,
    grantee: Grantee,
    level: AccessLevel,
) -> QueryResult<Option<AccessLevel>> {
    set_grant(conn, org, project, grantee, level, |_| true)
}

/// Ends a member's own grant on a project; returns whether there was one.
pub fn revoke_member(conn: &mut PgConnection, project: Uuid, membership: Uuid) -> QueryResult<bool> {
    let ended = diesel::delete(
        project_grants::table
            .filter(project_grants::project_id.eq(project))
            .filter(project_grants::membership_id.eq(membership)),
    )
    .execute(conn)?;
    Ok(ended == 1)
}

/// Gives `grantee` access to a project at `level` at least: a higher level they
/// already have stays.
pub fn grant_at_least(
    conn: &mut PgConnection,
    org: OrgId,
    project: Uuid,
    grantee: Grantee,
    level: AccessLevel,
) -> QueryResult<Option<AccessLevel>> {
    set_grant(conn, org, project, grantee, level, |previous| previous < level)
}

/// Inserts the grant, or updates its level when `replace(previous level)` says so.
fn set_grant(
    conn: &mut PgConnection,
    org: OrgId,
    project: Uuid,
    grantee: Grantee,
    level: AccessLevel,
    replace: impl FnOnce(AccessLevel) -> bool,
) -> QueryResult<Option<AccessLevel>> {
    let (team, member) = match grantee {
        Grantee::Team(id) => (Some(id), None),
        Grantee::Member(id) => (None, Some(id)),
    };
    if let Some(membership) = member {
        // A grant given again is no longer listed under Expired, however it was given.
        super::expiry::forget_expired(conn, membership, crate::domain::expiry::On::Project(project))?;
    }
    let existing: Option<(Uuid, AccessLevel)> = project_grants::table
        .filter(project_grants::project_id.eq(project))
        .filter(project_grants::team_id.is_not_distinct_from(team))
        .filter(project_grants::membership_id.is_not_distinct_from(member))
        .select((project_grants::id, project_grants::level))
        .first(conn)
        .optional()?;
    match existing {
        Some((id, previous)) => {
            if replace(previous) {
                diesel::update(project_grants::table.find(id)).set(project_grants::level.eq(level)).execute(conn)?;
            }
            Ok(Some(previous))
        }
        None => {
            diesel::insert_into(project_grants::table)
                .values((
                    project_grants::id.eq(Uuid::new_v4()),
                    project_grants::organization_id.eq(org.0),
                    project_grants::project_id.eq(project),
                    project_grants::team_id.eq(team),
                    project_grants::membership_id.eq(member),
                    project_grants::level.eq(level),
                ))
                .execute(conn)?;
            Ok(None)
        }
    }
}

/// Ends a grant of the project.
pub fn revoke(conn: &mut PgConnection, project: Uuid, grant: Uuid) -> QueryResult<usize> {
    diesel::delete(project_grants::table.filter(project_grants::project_id.eq(project)).find(grant)).execute(conn)
}

/// How many grants a team has (ended with it when it is deleted).
pub fn count_for_team(conn: &mut PgConnection, team: Uuid) -> QueryResult<i64> {
    project_grants::table.filter(project_grants::team_id.eq(team)).count().get_result(conn)
}

/// The accounts a grantee stands for: the member, or everyone in the team.
pub fn users_of(conn: &mut PgConnection, grantee: Grantee) -> QueryResult<Vec<Uuid>> {
    match grantee {
        Grantee::Member(id) => memberships::table.find(id).select(memberships::user_id).load(conn),
        Grantee::Team(id) => super::teams::user_ids(conn, id),
    }
}

/// The accounts that reach a project through any grant (to tell them it is gone).
pub fn users_reaching(conn: &mut PgConnection, project: Uuid) -> QueryResult<Vec<Uuid>> {
    let through_teams = project_grants::table
        .filter(project_grants::project_id.eq(project))
        .filter(project_grants::team_id.is_not_null())
        .select(project_grants::team_id.assume_not_null());
    let direct = project_grants::table
        .filter(project_grants::project_id.eq(project))
        .filter(project_grants::membership_id.is_not_null())
        .select(project_grants::membership_id.assume_not_null());
    let in_teams =
        team_members::table.filter(team_members::team_id.eq_any(through_teams)).select(team_members::membership_id);
    memberships::table
        .filter(memberships::id.eq_any(direct).or(memberships::id.eq_any(in_teams)))
        .select(memberships::user_id)
        .distinct()
        .load(conn)
}

/// One thing a member reaches: a team they are in (`kind = "team"`, `level` their
/// team role) or a grant that reaches them (`kind = "project"`, `via_team` the team
/// it was given to, or `None` for a direct grant).
#[derive(Debug, Clone, QueryableByName, serde::Deserialize)]
pub struct Reached {
    /// Whose reach it is part of.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub level: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub via_team: Option<String>,
    /// The team `via_team` names.
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub via_team_id: Option<Uuid>,
    /// When the team place or the member's own grant ends (`None`: it does not).
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamptz>)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// Everything the member `membership` reaches, in one statement: their teams, then
/// every grant to them or to one of their teams (by project name), then the team places
/// and grants of theirs that ended at their date (`kind` `expired_team`,
/// `expired_project`; `expires_at` is when). With `projects`, only the grants of those
/// projects (no teams, nothing expired).
pub fn reached_by(conn: &mut PgConnection, membership: Uuid, projects: Option<&[Uuid]>) -> QueryResult<Vec<Reached>> {
    reached_by_each(conn, &[membership], projects)
}

/// [`reached_by`] for each of `memberships` at once, still in one statement: the rows
/// come by membership, each membership's in the order [`reached_by`] gives them. A
/// grant to a team reaches each of the team's members given here.
pub fn reached_by_each(
    conn: &mut PgConnection,
    memberships: &[Uuid],
    projects: Option<&[Uuid]>,
) -> QueryResult<Vec<Reached>> {
    // The memberships as a run-time array (`listing::run_time`): PostgreSQL costs a
    // bound array by its length, so each export page of a new length was planned
    // again (1.5 ms of a 2,000-member page's 20).
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(|| reached_sql(&format!("{}::uuid[]", super::listing::run_time_sql("$1")), "$2"));
    super::prepared::prepared(text.as_str())
        .bind::<Array<diesel::sql_types::Uuid>, _>(memberships)
        .bind::<Nullable<Array<diesel::sql_types::Uuid>>, _>(projects)
        .load(conn)
}

/// [`reached_by_each`]'s statement, for the memberships of the array `memberships`
/// and the projects of the array `projects` (SQL `NULL`: all, with teams and what ended).
fn reached_sql(memberships: &str, projects: &str) -> String {
    // The memberships' team places are read once, for the teams themselves and for
    // the grants to those teams (two reads of team_members and two hashes of every
    // team before: a third of an export page's 15 ms).
    format!(
        "WITH places AS MATERIALIZED ( \
              SELECT tm.membership_id, tm.team_id, tm.role, tm.expires_at, t.name, t.slug \
                FROM team_members tm JOIN teams t ON t.id = tm.team_id \
               WHERE tm.membership_id = ANY({memberships})) \
         SELECT tm.membership_id, 'team'::text AS kind, tm.team_id AS id, tm.name, tm.slug, tm.role AS level, \
                NULL::text AS via_team, NULL::uuid AS via_team_id, tm.expires_at, 0 AS part, tm.name AS sort_name \
           FROM places tm \
          WHERE {projects}::uuid[] IS NULL \
         UNION ALL \
         SELECT g.membership_id, 'project'::text, p.id, p.name, p.slug, g.level, NULL, NULL, g.expires_at, 1, p.name \
           FROM project_grants g \
           JOIN projects p ON p.id = g.project_id \
          WHERE g.membership_id = ANY({memberships}) \
            AND ({projects}::uuid[] IS NULL OR g.project_id = ANY({projects})) \
         UNION ALL \
         SELECT tm.membership_id, 'project'::text, p.id, p.name, p.slug, g.level, tm.name, tm.team_id, g.expires_at, \
                1, p.name \
           FROM places tm \
           JOIN project_grants g ON g.team_id = tm.team_id \
           JOIN projects p ON p.id = g.project_id \
          WHERE ({projects}::uuid[] IS NULL OR g.project_id = ANY({projects})) \
         UNION ALL \
         SELECT e.membership_id, CASE WHEN e.team_id IS NULL THEN 'expired_project' ELSE 'expired_team' END, \
                coalesce(e.team_id, e.project_id), coalesce(t.name, p.name), coalesce(t.slug, p.slug), e.grade, \
                NULL, NULL, e.expired_at, CASE WHEN e.team_id IS NULL THEN 3 ELSE 2 END, lower(coalesce(t.name, p.name)) \
           FROM expired_access e \
           LEFT JOIN teams t ON t.id = e.team_id \
           LEFT JOIN projects p ON p.id = e.project_id \
          WHERE e.membership_id = ANY({memberships}) AND {projects}::uuid[] IS NULL \
         ORDER BY membership_id, part, sort_name, id, via_team NULLS FIRST"
    )
}

/// What the member `membership` (an SQL expression) reaches, as [`reached_by`] finds
/// it, as one JSON array of [`Reached`] rows in its order: for a statement that reads
/// it beside other things.
pub(crate) fn reached_json(membership: &str) -> String {
    format!(
        "(SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.membership_id, r.part, r.sort_name, r.id, \
                 r.via_team NULLS FIRST), '[]'::jsonb) FROM ({}) r)",
        reached_sql(&format!("ARRAY[{membership}]::uuid[]"), "NULL")
    )
}

/// The grants given to a team: each project, by name, with its level.
pub fn grants_to_team(conn: &mut PgConnection, team: Uuid) -> QueryResult<Vec<(Uuid, String, String, AccessLevel)>> {
    project_grants::table
        .inner_join(projects::table.on(projects::id.eq(project_grants::project_id)))
        .filter(project_grants::team_id.eq(team))
        .order((lower(projects::name), projects::id))
        .select((projects::id, projects::name, projects::slug, project_grants::level))
        .load(conn)
}

/// Who has access to one project: (grantee name, level), teams first, each by name.
pub type AccessList = Vec<(String, AccessLevel)>;

/// Who has access to each of the projects `ids`, for the Projects list; and, for
/// the member `viewer`, the highest level they reach each at (directly or through
/// one of their teams, as [`reached_by`] finds it), in the same statement.
pub fn grant_labels(
    conn: &mut PgConnection,
    ids: &[Uuid],
    viewer: Option<Uuid>,
) -> QueryResult<Vec<(Uuid, AccessList, Option<AccessLevel>)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        project_id: Uuid,
        #[diesel(sql_type = Array<Text>)]
        names: Vec<String>,
        #[diesel(sql_type = Array<Text>)]
        levels: Vec<AccessLevel>,
        #[diesel(sql_type = Array<Text>)]
        viewer_levels: Vec<AccessLevel>,
    }
    let rows: Vec<Row> = super::prepared::prepared(
        "SELECT g.project_id, \
                array_agg(coalesce(t.name, m.member_name) ORDER BY g.team_id IS NULL, \
                          lower(coalesce(t.name, m.member_name)), g.id) AS names, \
                array_agg(g.level ORDER BY g.team_id IS NULL, lower(coalesce(t.name, m.member_name)), g.id) AS levels, \
                coalesce(array_agg(g.level) FILTER (WHERE g.membership_id = $2 OR g.team_id IN \
                    (SELECT tm.team_id FROM team_members tm WHERE tm.membership_id = $2)), '{}') AS viewer_levels \
           FROM project_grants g \
           LEFT JOIN teams t ON t.id = g.team_id \
           LEFT JOIN memberships m ON m.id = g.membership_id \
          WHERE g.project_id = ANY($1) \
          GROUP BY g.project_id",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(viewer)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.project_id, r.names.into_iter().zip(r.levels).collect(), r.viewer_levels.into_iter().max()))
        .collect())
}
