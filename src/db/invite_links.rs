//! The `invite_links`, `invite_link_grants` and `invite_link_uses` tables: links
//! many people can join by, what each brings, and who used it.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use time::OffsetDateTime;
use uuid::Uuid;

use super::invitation_grants::{Bring, InvitationGrant};
use super::schema::{invite_link_grants, invite_link_uses, invite_links, projects, teams, users};
use crate::domain::{OrgId, Role};

/// An invite link.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invite_links)]
pub struct InviteLink {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub label: String,
    pub token_nonce: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub role: Role,
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub allowed_domains: Vec<String>,
    pub requires_approval: bool,
    pub disabled_at: Option<OffsetDateTime>,
    pub disabled_by: Option<Uuid>,
}

/// A new link's settings.
pub struct NewLink<'a> {
    pub label: &'a str,
    pub role: Role,
    pub expires_at: OffsetDateTime,
    pub max_uses: Option<i32>,
    pub allowed_domains: &'a [String],
    pub requires_approval: bool,
}

/// Writes a link with its token's nonce and hash.
pub fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    by: Option<Uuid>,
    link: &NewLink<'_>,
    nonce: &[u8],
    hash: &[u8],
) -> QueryResult<InviteLink> {
    diesel::insert_into(invite_links::table)
        .values((
            invite_links::organization_id.eq(org.0),
            invite_links::label.eq(link.label),
            invite_links::token_nonce.eq(nonce),
            invite_links::token_hash.eq(hash),
            invite_links::role.eq(link.role),
            invite_links::created_by.eq(by),
            invite_links::expires_at.eq(link.expires_at),
            invite_links::max_uses.eq(link.max_uses),
            invite_links::allowed_domains.eq(link.allowed_domains),
            invite_links::requires_approval.eq(link.requires_approval),
        ))
        .returning(InviteLink::as_returning())
        .get_result(conn)
}

/// Attaches what a new link brings, in one statement.
pub fn insert_grants(conn: &mut PgConnection, org: OrgId, link: Uuid, brings: &[Bring]) -> QueryResult<usize> {
    let rows: Vec<_> = brings
        .iter()
        .map(|bring| {
            let (team, project, name, level) = match bring {
                Bring::Team { id, name } => (Some(*id), None, name.clone(), None),
                Bring::Project { id, name, level } => (None, Some(*id), name.clone(), Some(*level)),
            };
            (
                invite_link_grants::organization_id.eq(org.0),
                invite_link_grants::invite_link_id.eq(link),
                invite_link_grants::team_id.eq(team),
                invite_link_grants::project_id.eq(project),
                invite_link_grants::name.eq(name),
                invite_link_grants::level.eq(level),
            )
        })
        .collect();
    diesel::insert_into(invite_link_grants::table).values(rows).execute(conn)
}

/// What the links `ids` bring, teams first, each by its name as it is now (or as it
/// was, for one deleted since); `invitation_id` holds the link's id.
pub fn grants_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<InvitationGrant>> {
    let name = sql::<Text>("coalesce(teams.name, projects.name, invite_link_grants.name)");
    invite_link_grants::table
        .left_join(teams::table.on(teams::id.nullable().eq(invite_link_grants::team_id)))
        .left_join(projects::table.on(projects::id.nullable().eq(invite_link_grants::project_id)))
        .filter(invite_link_grants::invite_link_id.eq_any(ids))
        .order((invite_link_grants::is_team.desc(), name.clone(), invite_link_grants::id))
        .select((
            invite_link_grants::invite_link_id,
            invite_link_grants::team_id,
            invite_link_grants::project_id,
            name,
            invite_link_grants::level,
            invite_link_grants::is_team,
        ))
        .load(conn)
}

/// The organization's links, newest first, with the name of who made each: `limit + 1`
/// after the (created, id) cursor.
pub fn list(
    conn: &mut PgConnection,
    org: OrgId,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(InviteLink, Option<String>)>> {
    let mut query = invite_links::table
        .left_join(users::table.on(users::id.nullable().eq(invite_links::created_by)))
        .filter(invite_links::organization_id.eq(org.0))
        .order((invite_links::created_at.desc(), invite_links::id.desc()))
        .select((InviteLink::as_select(), users::name.nullable()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query
            .filter(invite_links::created_at.lt(at).or(invite_links::created_at.eq(at).and(invite_links::id.lt(id))));
    }
    query.load(conn)
}

/// One link of the organization.
pub fn find_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<InviteLink>> {
    invite_links::table
        .filter(invite_links::organization_id.eq(org.0))
        .filter(invite_links::id.eq(id))
        .select(InviteLink::as_select())
        .first(conn)
        .optional()
}

/// One link of the organization, locked for a change or a use.
pub fn lock_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<InviteLink>> {
    invite_links::table
        .filter(invite_links::organization_id.eq(org.0))
        .filter(invite_links::id.eq(id))
        .for_update()
        .select(InviteLink::as_select())
        .first(conn)
        .optional()
}

/// The link whose token has the SHA-256 `hash`.
pub fn find_by_token_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<InviteLink>> {
    invite_links::table.filter(invite_links::token_hash.eq(hash)).select(InviteLink::as_select()).first(conn).optional()
}

/// Stops a link at once.
pub fn disable(conn: &mut PgConnection, id: Uuid, by: Option<Uuid>) -> QueryResult<usize> {
    diesel::update(invite_links::table.find(id))
        .filter(invite_links::disabled_at.is_null())
        .set((invite_links::disabled_at.eq(diesel::dsl::now), invite_links::disabled_by.eq(by)))
        .execute(conn)
}

/// Gives a link a new token: the old one stops working at once.
pub fn set_token(conn: &mut PgConnection, id: Uuid, nonce: &[u8], hash: &[u8]) -> QueryResult<usize> {
    diesel::update(invite_links::table.find(id))
        .set((invite_links::token_nonce.eq(nonce), invite_links::token_hash.eq(hash)))
        .execute(conn)
}

/// Counts one use of the locked link and records who used it, and how.
pub fn record_use(
    conn: &mut PgConnection,
    link: Uuid,
    user: Uuid,
    name: &str,
    email: &str,
    outcome: &str,
) -> QueryResult<usize> {
    diesel::update(invite_links::table.find(link)).set(invite_links::uses.eq(invite_links::uses + 1)).execute(conn)?;
    diesel::insert_into(invite_link_uses::table)
        .values((
            invite_link_uses::invite_link_id.eq(link),
            invite_link_uses::user_id.eq(user),
            invite_link_uses::name.eq(name),
            invite_link_uses::email.eq(email),
            invite_link_uses::outcome.eq(outcome),
        ))
        .execute(conn)
}

/// A use of a link.
#[derive(Debug, Clone, Queryable)]
pub struct LinkUse {
    pub name: String,
    pub email: String,
    pub outcome: String,
    pub used_at: OffsetDateTime,
}

/// Who used a link, newest first (at most `limit`).
pub fn uses_of(conn: &mut PgConnection, link: Uuid, limit: i64) -> QueryResult<Vec<LinkUse>> {
    invite_link_uses::table
        .filter(invite_link_uses::invite_link_id.eq(link))
        .order((invite_link_uses::used_at.desc(), invite_link_uses::id.desc()))
        .select((invite_link_uses::name, invite_link_uses::email, invite_link_uses::outcome, invite_link_uses::used_at))
        .limit(limit)
        .load(conn)
}

/// Whether `user` has used the link already (once per person and link).
pub fn used_by(conn: &mut PgConnection, link: Uuid, user: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        invite_link_uses::table
            .filter(invite_link_uses::invite_link_id.eq(link))
            .filter(invite_link_uses::user_id.eq(user)),
    ))
    .get_result(conn)
}
