//! The `teams` and `team_members` tables: an organization's teams and who is in them.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use time::OffsetDateTime;
use uuid::Uuid;

use super::groups::GroupQuery;
use super::listing::{after_text, escape_like, Cursor};
use super::lower;
use super::schema::{memberships, team_members, teams};
use crate::domain::{OrgId, Role, Slug, TeamRole};

/// A team row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub created_at: OffsetDateTime,
    /// Whether the organization's identity provider manages it (a SCIM Group).
    pub scim_managed: bool,
}

super::groups::group_queries!(teams, Team);

/// A team's URL name.
pub fn slug_of(conn: &mut PgConnection, team: Uuid) -> QueryResult<String> {
    teams::table.find(team).select(teams::slug).first(conn)
}

/// A team's description.
pub fn description_of(conn: &mut PgConnection, team: Uuid) -> QueryResult<String> {
    teams::table.find(team).select(teams::description).first(conn)
}

/// The teams a member maintains, by name.
pub fn maintained_by(conn: &mut PgConnection, membership: Uuid) -> QueryResult<Vec<Team>> {
    teams::table
        .inner_join(team_members::table.on(team_members::team_id.eq(teams::id)))
        .filter(team_members::membership_id.eq(membership))
        .filter(team_members::role.eq(TeamRole::Maintainer))
        .order((teams::name, teams::id))
        .select(Team::as_select())
        .load(conn)
}

/// How many members a team has, and its Maintainers' names.
#[derive(Debug, Clone, QueryableByName)]
pub struct TeamSummary {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub team_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub members: i64,
    #[diesel(sql_type = Array<Text>)]
    pub maintainers: Vec<String>,
}

/// The summaries of the teams `ids`, in one statement (teams without members are
/// absent): the kept count (migration 48) and the Maintainers through their own
/// index, so a team's size costs nothing here.
pub fn summaries(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<TeamSummary>> {
    super::prepared::prepared(
        "SELECT t.id AS team_id, t.member_count::bigint AS members, \
                ARRAY(SELECT m.member_name FROM team_members tm JOIN memberships m ON m.id = tm.membership_id \
                       WHERE tm.team_id = t.id AND tm.role = 'maintainer' \
                       ORDER BY lower(m.member_name)) AS maintainers \
           FROM teams t \
          WHERE t.id = ANY($1) AND t.member_count > 0",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)
}

/// A member of a team, with their organization role.
#[derive(Debug, Clone, Queryable)]
pub struct TeamMember {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub org_role: Role,
    pub role: TeamRole,
    pub added_at: OffsetDateTime,
    /// `lower(name)`, for the next page's cursor.
    pub sort_key: String,
    /// When their place in the team ends (`None`: it does not).
    pub expires_at: Option<OffsetDateTime>,
}

impl TeamMember {
    /// The day their place ends, as pages show it.
    pub fn ends(&self) -> Option<String> {
        self.expires_at.map(crate::domain::dates::day)
    }
}

/// `limit + 1` members of a team by name, after the cursor.
pub fn members(
    conn: &mut PgConnection,
    team: Uuid,
    after: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Vec<TeamMember>> {
    let mut query = team_members::table
        .inner_join(memberships::table.on(memberships::id.eq(team_members::membership_id)))
        .filter(team_members::team_id.eq(team))
        .select((
            memberships::id,
            memberships::user_id,
            memberships::member_name,
            memberships::member_email,
            memberships::role,
            team_members::role,
            team_members::created_at,
            lower(memberships::member_name),
            team_members::expires_at,
        ))
        .into_boxed();
    if let Some(Cursor::Text(name, id)) = after {
        query = query.filter(after_text("lower(memberships.member_name)", "memberships.id", false, name.clone(), *id));
    }
    query.order((lower(memberships::member_name), memberships::id)).limit(limit + 1).load(conn)
}

/// One member of a team, if they are in it.
pub fn member(conn: &mut PgConnection, team: Uuid, membership: Uuid) -> QueryResult<Option<TeamMember>> {
    team_members::table
        .inner_join(memberships::table.on(memberships::id.eq(team_members::membership_id)))
        .filter(team_members::team_id.eq(team))
        .filter(team_members::membership_id.eq(membership))
        .select((
            memberships::id,
            memberships::user_id,
            memberships::member_name,
            memberships::member_email,
            memberships::role,
            team_members::role,
            team_members::created_at,
            lower(memberships::member_name),
            team_members::expires_at,
        ))
        .first(conn)
        .optional()
}

/// A member's role in a team (`None`: not in it).
pub fn role_of(conn: &mut PgConnection, team: Uuid, membership: Uuid) -> QueryResult<Option<TeamRole>> {
    team_members::table
        .filter(team_members::team_id.eq(team))
        .filter(team_members::membership_id.eq(membership))
        .select(team_members::role)
        .first(conn)
        .optional()
}

/// A member's role in each of `teams` they are in.
pub fn roles_in(conn: &mut PgConnection, membership: Uuid, teams: &[Uuid]) -> QueryResult<Vec<(Uuid, TeamRole)>> {
    team_members::table
        .filter(team_members::membership_id.eq(membership))
        .filter(team_members::team_id.eq_any(teams))
        .select((team_members::team_id, team_members::role))
        .load(conn)
}

/// Adds a member to a team; returns whether they were not in it yet.
pub fn add(conn: &mut PgConnection, org: OrgId, team: Uuid, membership: Uuid, role: TeamRole) -> QueryResult<bool> {
    let added = diesel::insert_into(team_members::table)
        .values((
            team_members::organization_id.eq(org.0),
            team_members::team_id.eq(team),
            team_members::membership_id.eq(membership),
            team_members::role.eq(role),
        ))
        .on_conflict((team_members::team_id, team_members::membership_id))
        .do_nothing()
        .execute(conn)?;
    // A place given again is no longer listed under Expired, however it was given.
    super::expiry::forget_expired(conn, membership, crate::domain::expiry::On::Team(team))?;
    Ok(added == 1)
}

/// The members of a team: membership id and name, by name.
pub fn member_names(conn: &mut PgConnection, team: Uuid) -> QueryResult<Vec<(Uuid, String)>> {
    team_members::table
        .inner_join(memberships::table.on(memberships::id.eq(team_members::membership_id)))
        .filter(team_members::team_id.eq(team))
        .order((lower(memberships::member_name), memberships::id))
        .select((memberships::id, memberships::member_name))
        .load(conn)
}

/// Adds each of `memberships` to a team with `role`, in one statement; returns those
/// who were not in it yet.
pub fn add_each(
    conn: &mut PgConnection,
    org: OrgId,
    team: Uuid,
    memberships: &[Uuid],
    role: TeamRole,
) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<_> = memberships
        .iter()
        .map(|id| {
            (
                team_members::organization_id.eq(org.0),
                team_members::team_id.eq(team),
                team_members::membership_id.eq(*id),
                team_members::role.eq(role),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let added: Vec<Uuid> = diesel::insert_into(team_members::table)
        .values(rows)
        .on_conflict((team_members::team_id, team_members::membership_id))
        .do_nothing()
        .returning(team_members::membership_id)
        .get_results(conn)?;
    super::expiry::forget_expired_in_team(conn, &added, team)?;
    Ok(added)
}

/// Takes each of `memberships` out of a team, in one statement; returns those who
/// were in it, with the role they had.
pub fn remove_each(conn: &mut PgConnection, team: Uuid, memberships: &[Uuid]) -> QueryResult<Vec<(Uuid, TeamRole)>> {
    diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team))
            .filter(team_members::membership_id.eq_any(memberships)),
    )
    .returning((team_members::membership_id, team_members::role))
    .get_results(conn)
}

/// The team role of each of `memberships` in the team (those in it).
pub fn roles_of_each(conn: &mut PgConnection, team: Uuid, memberships: &[Uuid]) -> QueryResult<Vec<(Uuid, TeamRole)>> {
    team_members::table
        .filter(team_members::team_id.eq(team))
        .filter(team_members::membership_id.eq_any(memberships))
        .select((team_members::membership_id, team_members::role))
        .load(conn)
}

/// Takes a member out of a team; returns the role they had, if they were in it.
pub fn remove(conn: &mut PgConnection, team: Uuid, membership: Uuid) -> QueryResult<Option<TeamRole>> {
    diesel::delete(
        team_members::table.filter(team_members::team_id.eq(team)).filter(team_members::membership_id.eq(membership)),
    )
    .returning(team_members::role)
    .get_result(conn)
    .optional()
}

/// Sets a member's team role; returns whether they are in the team.
pub fn set_role(conn: &mut PgConnection, team: Uuid, membership: Uuid, role: TeamRole) -> QueryResult<bool> {
    let updated = diesel::update(
        team_members::table.filter(team_members::team_id.eq(team)).filter(team_members::membership_id.eq(membership)),
    )
    .set(team_members::role.eq(role))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The accounts of a team's members (to tell them about the team).
pub fn user_ids(conn: &mut PgConnection, team: Uuid) -> QueryResult<Vec<Uuid>> {
    team_members::table
        .inner_join(memberships::table.on(memberships::id.eq(team_members::membership_id)))
        .filter(team_members::team_id.eq(team))
        .select(memberships::user_id)
        .load(conn)
}

/// Which members a picker offers: those of `org` whose name or email contains
/// `search`, optionally leaving out a team's members, one membership (the viewer),
/// or all but one role; `limit` of them after the cursor, by name.
pub struct CandidateQuery<'a> {
    pub org: OrgId,
    pub outside_team: Option<Uuid>,
    pub except: Option<Uuid>,
    pub only: Option<Role>,
    pub search: &'a str,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// A member a picker offers: (membership id, name, email, `lower(name)` for the cursor).
pub type Candidate = (Uuid, String, String, String);

/// The members `q` asks for, by `lower(member_name)` and id (the index of the
/// Members page), so each page of suggestions reads about `limit` rows.
pub fn candidates(conn: &mut PgConnection, q: &CandidateQuery<'_>) -> QueryResult<Vec<Candidate>> {
    let mut query = memberships::table
        .filter(memberships::organization_id.eq(q.org.0))
        .select((memberships::id, memberships::member_name, memberships::member_email, lower(memberships::member_name)))
        .into_boxed();
    if let Some(role) = q.only {
        query = query.filter(memberships::role.eq(role));
    }
    if let Some(team) = q.outside_team {
        let in_team = team_members::table.filter(team_members::team_id.eq(team)).select(team_members::membership_id);
        query = query.filter(memberships::id.ne_all(in_team));
    }
    if let Some(except) = q.except {
        query = query.filter(memberships::id.ne(except));
    }
    if !q.search.is_empty() {
        let pattern = format!("%{}%", escape_like(&q.search.to_lowercase()));
        query = query.filter(
            lower(memberships::member_name).like(pattern.clone()).or(lower(memberships::member_email).like(pattern)),
        );
    }
    if let Some(Cursor::Text(name, id)) = &q.after {
        query = query.filter(after_text("lower(memberships.member_name)", "memberships.id", false, name.clone(), *id));
    }
    query.order((lower(memberships::member_name), memberships::id)).limit(q.limit).load(conn)
}
