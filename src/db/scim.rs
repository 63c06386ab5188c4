//! What SCIM provisioning reads and writes (DESIGN.md §2.11): members as SCIM Users,
//! teams as SCIM Groups, a filter turned into SQL, and the log of what the identity
//! provider did.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz};
use time::OffsetDateTime;
use uuid::Uuid;

use super::listing::escape_like;
use super::prepared::{prepared, Prepared};
use super::schema::{memberships, organizations, scim_requests, team_members, teams};
use crate::domain::scim::{Attr, CompareOp, Filter, FilterValue, ResourceKind, ScimError};
use crate::domain::{OrgId, Role, UserId};

/// A member as a SCIM User reads it.
#[derive(Debug, Clone, QueryableByName)]
pub struct UserRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub role: crate::domain::Role,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: OffsetDateTime,
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
    /// What the provider sent that Roster keeps only for it: `name`, `displayName`, `emails`.
    #[diesel(sql_type = Jsonb)]
    pub profile: serde_json::Value,
    #[diesel(sql_type = Bool)]
    pub managed: bool,
    #[diesel(sql_type = Bool)]
    pub suspended: bool,
}

const USER_COLUMNS: &str = "m.id, m.user_id, m.member_email AS email, m.member_name AS name, m.role, m.created_at, \
     coalesce(m.scim_updated_at, m.created_at) AS updated_at, m.scim_external_id AS external_id, \
     m.scim_profile AS profile, m.scim_managed AS managed, m.suspended_at IS NOT NULL AS suspended";

/// A User's `userName`: the provider's, or else the member's address (indexed lowered
/// per organization).
const USER_NAME: &str = "coalesce(m.scim_profile->>'userName', m.member_email)";

/// A team as a SCIM Group reads it (its members come from [`group_members`]).
#[derive(Debug, Clone, QueryableByName)]
pub struct GroupRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: OffsetDateTime,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: OffsetDateTime,
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
    #[diesel(sql_type = Bool)]
    pub managed: bool,
}

const GROUP_COLUMNS: &str = "t.id, t.name, t.created_at, coalesce(t.updated_at, t.created_at) AS updated_at, \
     t.scim_external_id AS external_id, t.scim_managed AS managed";

/// A value bound to a placeholder of a statement built here.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Bool(bool),
    Time(OffsetDateTime),
    BigInt(i64),
}

/// A statement's text and its binds after `$1` (the organization).
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn placeholder(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len() + 1)
    }

    /// The statement, kept prepared by its text (values are all bound): a provider's
    /// requests ask the same few shapes over and over, each inside the organization's lock.
    fn query(self, org: OrgId) -> Prepared<'static> {
        let mut query = prepared(self.text).bind::<diesel::sql_types::Uuid, _>(org.0);
        for bind in self.binds {
            query = match bind {
                Bind::Text(text) => query.bind::<Text, _>(text),
                Bind::Bool(flag) => query.bind::<Bool, _>(flag),
                Bind::Time(time) => query.bind::<Timestamptz, _>(time),
                Bind::BigInt(n) => query.bind::<BigInt, _>(n),
            };
        }
        query
    }
}

/// Where a filter's attribute lives in SQL: a column expression, or one value of a
/// list (`emails`, `members`) tested for some element.
enum Column {
    Value(&'static str),
    /// `EXISTS (SELECT 1 FROM {from} WHERE {scope} AND <a test of {element}>)`
    Some {
        from: &'static str,
        scope: &'static str,
        element: &'static str,
    },
}

fn column(kind: ResourceKind, attr: Attr) -> Result<Column, ScimError> {
    use Column::{Some as Any, Value};
    Ok(match (kind, attr) {
        (ResourceKind::User, Attr::Id) => Value("m.id::text"),
        (ResourceKind::User, Attr::ExternalId) => Value("m.scim_external_id"),
        (ResourceKind::User, Attr::UserName) => Value(USER_NAME),
        (ResourceKind::User, Attr::DisplayName) => Value("coalesce(m.scim_profile->>'displayName', m.member_name)"),
        (ResourceKind::User, Attr::GivenName) => Value("(m.scim_profile->'name'->>'givenName')"),
        (ResourceKind::User, Attr::FamilyName) => Value("(m.scim_profile->'name'->>'familyName')"),
        (ResourceKind::User, Attr::Email) => Any {
            from: "jsonb_array_elements(coalesce(m.scim_profile->'emails', \
                   jsonb_build_array(jsonb_build_object('value', m.member_email)))) e",
            scope: "TRUE",
            element: "(e->>'value')",
        },
        (ResourceKind::User, Attr::Active) => Value("(m.suspended_at IS NULL)"),
        (ResourceKind::User, Attr::Created) => Value("m.created_at"),
        (ResourceKind::User, Attr::LastModified) => Value("coalesce(m.scim_updated_at, m.created_at)"),
        (ResourceKind::Group, Attr::Id) => Value("t.id::text"),
        (ResourceKind::Group, Attr::ExternalId) => Value("t.scim_external_id"),
        (ResourceKind::Group, Attr::DisplayName) => Value("t.name"),
        (ResourceKind::Group, Attr::Created) => Value("t.created_at"),
        (ResourceKind::Group, Attr::LastModified) => Value("coalesce(t.updated_at, t.created_at)"),
        (ResourceKind::Group, Attr::Member) => {
            Any { from: "team_members tm", scope: "tm.team_id = t.id", element: "tm.membership_id::text" }
        }
        (_, attr) => {
            return Err(ScimError::invalid_filter(format!(
                "{} cannot be filtered on for {}s.",
                attr.path(),
                kind.name()
            )))
        }
    })
}

/// The SQL condition of `filter` over `m` (Users) or `t` (Groups).
fn condition(kind: ResourceKind, filter: &Filter, sql: &mut Sql) -> Result<String, ScimError> {
    Ok(match filter {
        Filter::And(parts) | Filter::Or(parts) => {
            let joiner = if matches!(filter, Filter::And(_)) { " AND " } else { " OR " };
            let parts = parts.iter().map(|p| condition(kind, p, sql)).collect::<Result<Vec<_>, _>>()?;
            format!("({})", parts.join(joiner))
        }
        Filter::Not(inner) => format!("(NOT coalesce({}, false))", condition(kind, inner, sql)?),
        Filter::Present(attr) => match column(kind, *attr)? {
            Column::Value(expr) if attr.ty() == crate::domain::scim::AttrType::String => {
                format!("({expr} IS NOT NULL AND {expr} <> '')")
            }
            Column::Value(expr) => format!("({expr} IS NOT NULL)"),
            Column::Some { from, scope, element } => {
                format!("EXISTS (SELECT 1 FROM {from} WHERE {scope} AND {element} IS NOT NULL AND {element} <> '')")
            }
        },
        Filter::Compare { attr, op, value } => {
            let test = |expr: &str, sql: &mut Sql| comparison(*attr, expr, *op, value, sql);
            match column(kind, *attr)? {
                Column::Value(expr) => test(expr, sql)?,
                Column::Some { from, scope, element } => {
                    format!("EXISTS (SELECT 1 FROM {from} WHERE {scope} AND {})", test(element, sql)?)
                }
            }
        }
    })
}

/// `expr op value` in SQL, case-insensitive for the attributes that are.
fn comparison(attr: Attr, expr: &str, op: CompareOp, value: &FilterValue, sql: &mut Sql) -> Result<String, ScimError> {
    let refuse = |what: &str| {
        Err(ScimError::invalid_filter(format!("{} {} cannot compare with {what}.", attr.path(), op.as_str())))
    };
    Ok(match value {
        FilterValue::Null => match op {
            CompareOp::Eq => format!("({expr} IS NULL)"),
            CompareOp::Ne => format!("({expr} IS NOT NULL)"),
            _ => return refuse("null"),
        },
        FilterValue::Bool(flag) => {
            let at = sql.placeholder(Bind::Bool(*flag));
            match op {
                CompareOp::Eq => format!("({expr} = {at})"),
                CompareOp::Ne => format!("({expr} IS DISTINCT FROM {at})"),
                _ => return refuse("a boolean"),
            }
        }
        FilterValue::DateTime(time) => {
            let at = sql.placeholder(Bind::Time(*time));
            let sign = match op {
                CompareOp::Eq => "=",
                CompareOp::Ne => "IS DISTINCT FROM",
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                CompareOp::Le => "<=",
                _ => return refuse("a date and time"),
            };
            format!("({expr} {sign} {at})")
        }
        FilterValue::Str(text) => {
            let (expr, text) = if attr.case_exact() {
                (expr.to_owned(), text.clone())
            } else {
                (format!("lower({expr})"), text.to_lowercase())
            };
            let like = |pattern: String, sql: &mut Sql| {
                let at = sql.placeholder(Bind::Text(pattern));
                format!("({expr} LIKE {at})")
            };
            match op {
                CompareOp::Co => like(format!("%{}%", escape_like(&text)), sql),
                CompareOp::Sw => like(format!("{}%", escape_like(&text)), sql),
                CompareOp::Ew => like(format!("%{}", escape_like(&text)), sql),
                _ => {
                    let at = sql.placeholder(Bind::Text(text));
                    let sign = match op {
                        CompareOp::Eq => "=",
                        CompareOp::Ne => "IS DISTINCT FROM",
                        CompareOp::Gt => ">",
                        CompareOp::Ge => ">=",
                        CompareOp::Lt => "<",
                        _ => "<=",
                    };
                    format!("({expr} {sign} {at})")
                }
            }
        }
    })
}

/// A filter of Users or Groups as SQL, ready for [`users`] or [`groups`].
pub struct Compiled {
    kind: ResourceKind,
    condition: String,
    binds: Vec<Bind>,
}

/// Turns `filter` into SQL; an attribute that cannot be filtered on, or a comparison
/// that makes no sense for its type, is refused as SCIM's `invalidFilter`.
pub fn compile(kind: ResourceKind, filter: &Filter) -> Result<Compiled, ScimError> {
    let mut sql = Sql { text: String::new(), binds: Vec::new() };
    let condition = condition(kind, filter, &mut sql)?;
    Ok(Compiled { kind, condition, binds: sql.binds })
}

/// One page of Users or Groups that match `filter`, in a stable order (when they
/// were created, then id), from the 0-based `offset`; and how many match in all.
fn page<T: QueryableByName<Pg> + 'static>(
    conn: &mut PgConnection,
    org: OrgId,
    kind: ResourceKind,
    filter: Option<&Compiled>,
    offset: i64,
    count: i64,
) -> QueryResult<(Vec<T>, i64)> {
    let (columns, from, alias) = match kind {
        ResourceKind::User => (USER_COLUMNS, "memberships m", "m"),
        ResourceKind::Group => (GROUP_COLUMNS, "teams t", "t"),
    };
    let mut sql = Sql { text: String::new(), binds: Vec::new() };
    let mut conditions = format!("{alias}.organization_id = $1");
    if let Some(filter) = filter.filter(|f| f.kind == kind) {
        conditions.push_str(" AND ");
        conditions.push_str(&filter.condition);
        sql.binds.clone_from(&filter.binds);
    }
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    let count_sql =
        Sql { text: format!("SELECT count(*) AS total FROM {from} WHERE {conditions}"), binds: sql.binds.clone() };
    let total = count_sql.query(org).get_result::<Total>(conn)?.total;
    if count == 0 || offset >= total {
        return Ok((Vec::new(), total));
    }
    let offset_at = sql.placeholder(Bind::BigInt(offset));
    let limit_at = sql.placeholder(Bind::BigInt(count));
    sql.text = format!(
        "SELECT {columns} FROM {from} WHERE {conditions} \
         ORDER BY {alias}.created_at, {alias}.id OFFSET {offset_at} LIMIT {limit_at}"
    );
    let rows = sql.query(org).load::<T>(conn)?;
    Ok((rows, total))
}

/// A page of the organization's members as Users (`offset` counts from 0).
pub fn users(
    conn: &mut PgConnection,
    org: OrgId,
    filter: Option<&Compiled>,
    offset: i64,
    count: i64,
) -> QueryResult<(Vec<UserRow>, i64)> {
    page(conn, org, ResourceKind::User, filter, offset, count)
}

/// A page of the organization's teams as Groups (`offset` counts from 0).
pub fn groups(
    conn: &mut PgConnection,
    org: OrgId,
    filter: Option<&Compiled>,
    offset: i64,
    count: i64,
) -> QueryResult<(Vec<GroupRow>, i64)> {
    page(conn, org, ResourceKind::Group, filter, offset, count)
}

/// A member in the way of a new User: one with the same account, or else one with
/// the same userName.
#[derive(Debug, QueryableByName)]
pub struct Taken {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    /// The member is the same account (else: another with the same userName).
    #[diesel(sql_type = Bool)]
    pub same_account: bool,
    #[diesel(sql_type = Text)]
    pub email: String,
}

/// The member that a new User for the account `email_key` with `user_name` would
/// clash with, in one statement: the account's own membership first, else a member
/// whose userName is the same as a `userName eq` filter compares it.
pub fn taken(conn: &mut PgConnection, org: OrgId, email_key: &str, user_name: &str) -> QueryResult<Option<Taken>> {
    prepared(format!(
        "SELECT id, same_account, email FROM ( \
           (SELECT m.id, true AS same_account, m.member_email AS email \
              FROM users u JOIN memberships m ON m.user_id = u.id AND m.organization_id = $1 \
             WHERE u.email_key = $2 LIMIT 1) \
           UNION ALL \
           (SELECT m.id, false, m.member_email FROM memberships m \
             WHERE m.organization_id = $1 AND lower({USER_NAME}) = $3 LIMIT 1)) t \
         ORDER BY same_account DESC LIMIT 1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(org.0)
    .bind::<Text, _>(email_key.to_owned())
    .bind::<Text, _>(user_name.to_lowercase())
    .get_result(conn)
    .optional()
}

/// One member as a User.
pub fn user(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<UserRow>> {
    prepared(format!("SELECT {USER_COLUMNS} FROM memberships m WHERE m.organization_id = $1 AND m.id = $2"))
        .bind::<diesel::sql_types::Uuid, _>(org.0)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(conn)
        .optional()
}

/// One team as a Group.
pub fn group(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<GroupRow>> {
    prepared(format!("SELECT {GROUP_COLUMNS} FROM teams t WHERE t.organization_id = $1 AND t.id = $2"))
        .bind::<diesel::sql_types::Uuid, _>(org.0)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(conn)
        .optional()
}

/// A team's member as a Group lists them.
#[derive(Debug, Clone, Queryable)]
pub struct GroupMember {
    pub team_id: Uuid,
    pub membership_id: Uuid,
}

/// The members of `teams`, in the order they joined the organization.
pub fn group_members(conn: &mut PgConnection, teams: &[Uuid]) -> QueryResult<Vec<GroupMember>> {
    team_members::table
        .inner_join(memberships::table.on(memberships::id.eq(team_members::membership_id)))
        .filter(team_members::team_id.eq_any(teams))
        .order((memberships::created_at, memberships::id))
        .select((team_members::team_id, memberships::id))
        .load(conn)
}

/// Which of `ids` are memberships of the organization.
pub fn memberships_among(conn: &mut PgConnection, org: OrgId, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::id.eq_any(ids))
        .select(memberships::id)
        .load(conn)
}

/// Puts the memberships `ids` in the team as `Member`s, in one statement; those
/// already in it stay as they are. Returns the ones added.
pub fn add_to_group(conn: &mut PgConnection, org: OrgId, team: Uuid, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    diesel::sql_query(
        "INSERT INTO team_members (organization_id, team_id, membership_id, role) \
         SELECT $1, $2, m.id, 'member' FROM memberships m WHERE m.organization_id = $1 AND m.id = ANY($3) \
         ON CONFLICT DO NOTHING RETURNING membership_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(org.0)
    .bind::<diesel::sql_types::Uuid, _>(team)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .load::<Membership>(conn)
    .map(|rows| rows.into_iter().map(|r| r.membership_id).collect())
}

#[derive(QueryableByName)]
struct Membership {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    membership_id: Uuid,
}

/// Takes the memberships `ids` out of the team (`None`: everyone), in one statement.
/// Returns the ones removed.
pub fn remove_from_group(conn: &mut PgConnection, team: Uuid, ids: Option<&[Uuid]>) -> QueryResult<Vec<Uuid>> {
    let query = diesel::delete(team_members::table.filter(team_members::team_id.eq(team)));
    match ids {
        Some(ids) => {
            query.filter(team_members::membership_id.eq_any(ids)).returning(team_members::membership_id).load(conn)
        }
        None => query.returning(team_members::membership_id).load(conn),
    }
}

/// Takes everyone but the memberships `keep` out of the team, in one statement.
/// Returns the ones removed.
pub fn remove_all_but(conn: &mut PgConnection, team: Uuid, keep: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    diesel::delete(
        team_members::table.filter(team_members::team_id.eq(team)).filter(team_members::membership_id.ne_all(keep)),
    )
    .returning(team_members::membership_id)
    .load(conn)
}

/// One team as a Group, locked until the transaction ends.
pub fn lock_group(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<GroupRow>> {
    diesel::sql_query(format!(
        "SELECT {GROUP_COLUMNS} FROM teams t WHERE t.organization_id = $1 AND t.id = $2 FOR UPDATE"
    ))
    .bind::<diesel::sql_types::Uuid, _>(org.0)
    .bind::<diesel::sql_types::Uuid, _>(id)
    .get_result(conn)
    .optional()
}

/// Records a change to a Group (`meta.lastModified`) and what the provider manages of it.
pub fn touch_group(conn: &mut PgConnection, team: Uuid, external_id: Option<&str>) -> QueryResult<usize> {
    diesel::update(teams::table.find(team))
        .set((
            teams::updated_at.eq(diesel::dsl::now),
            teams::scim_external_id.eq(external_id),
            teams::scim_managed.eq(true),
        ))
        .execute(conn)
}

/// Adds the user to the organization as a Member the provider manages (membership
/// `id`), with its external id and the parts of its User kept only for it
/// ([`keep_profile`]'s, in the same write).
pub fn insert_member(
    conn: &mut PgConnection,
    id: Uuid,
    org: OrgId,
    user: UserId,
    external_id: Option<&str>,
    profile: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(id),
            memberships::organization_id.eq(org.0),
            memberships::user_id.eq(user.0),
            memberships::role.eq(Role::Member),
            memberships::scim_managed.eq(true),
            memberships::scim_external_id.eq(external_id),
            memberships::scim_profile.eq(profile),
            memberships::scim_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Stores what the provider manages of a member: its external id and the parts of
/// its User kept only for it; marks the member managed. An end date the console set on
/// the membership goes: the provider decides when it ends now (DESIGN.md §2.11).
pub fn keep_profile(
    conn: &mut PgConnection,
    membership: Uuid,
    external_id: Option<&str>,
    profile: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::update(memberships::table.find(membership))
        .set((
            memberships::scim_managed.eq(true),
            memberships::expires_at.eq(None::<time::OffsetDateTime>),
            memberships::expiry_set_by.eq(None::<Uuid>),
            memberships::scim_external_id.eq(external_id),
            memberships::scim_profile.eq(profile),
            memberships::scim_updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// The console manages the member again: the provider's mark goes. Counts only a
/// member who was managed.
pub fn stop_managing(conn: &mut PgConnection, membership: Uuid) -> QueryResult<usize> {
    diesel::update(memberships::table.find(membership).filter(memberships::scim_managed))
        .set(memberships::scim_managed.eq(false))
        .execute(conn)
}

/// Turns provisioning on or off; returns whether it changed.
pub fn set_enabled(conn: &mut PgConnection, org: OrgId, enabled: bool) -> QueryResult<bool> {
    diesel::update(organizations::table.find(org.0).filter(organizations::scim_enabled.ne(enabled)))
        .set(organizations::scim_enabled.eq(enabled))
        .execute(conn)
        .map(|n| n == 1)
}

/// Whether provisioning is on.
pub fn is_enabled(conn: &mut PgConnection, org: OrgId) -> QueryResult<bool> {
    organizations::table.find(org.0).select(organizations::scim_enabled).first(conn)
}

/// A line of what the identity provider did.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_requests)]
pub struct RequestRow {
    pub at: OffsetDateTime,
    pub operation: String,
    pub subject: String,
    pub status: i32,
    pub detail: String,
}

/// How many lines of what the identity provider did are kept per organization.
pub const REQUESTS_KEPT: i64 = 200;

/// Writes a line of what the identity provider did, and forgets the oldest beyond
/// [`REQUESTS_KEPT`] (one in fifty writes looks, so the log costs one statement
/// most of the time).
pub fn log_request(
    conn: &mut PgConnection,
    org: OrgId,
    key: Uuid,
    operation: &str,
    subject: &str,
    status: u16,
    detail: &str,
) -> QueryResult<()> {
    let id = Uuid::new_v4();
    diesel::insert_into(scim_requests::table)
        .values((
            scim_requests::id.eq(id),
            scim_requests::organization_id.eq(org.0),
            scim_requests::api_key_id.eq(key),
            scim_requests::operation.eq(operation),
            scim_requests::subject.eq(subject),
            scim_requests::status.eq(i32::from(status)),
            scim_requests::detail.eq(detail),
        ))
        .execute(conn)?;
    if id.as_u128().is_multiple_of(50) {
        diesel::sql_query(
            "DELETE FROM scim_requests WHERE organization_id = $1 AND id IN \
               (SELECT id FROM scim_requests WHERE organization_id = $1 ORDER BY at DESC, id DESC OFFSET $2)",
        )
        .bind::<diesel::sql_types::Uuid, _>(org.0)
        .bind::<BigInt, _>(REQUESTS_KEPT)
        .execute(conn)?;
    }
    Ok(())
}

/// The latest lines of what the identity provider did, newest first.
pub fn recent_requests(conn: &mut PgConnection, org: OrgId, limit: i64) -> QueryResult<Vec<RequestRow>> {
    scim_requests::table
        .filter(scim_requests::organization_id.eq(org.0))
        .order((scim_requests::at.desc(), scim_requests::id.desc()))
        .limit(limit)
        .select(RequestRow::as_select())
        .load(conn)
}
