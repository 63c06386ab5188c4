//! The `memberships` table: who belongs to which organization, with which role.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::organizations::Organization;
use super::schema::{memberships, organizations, users};
use super::users::User;
use crate::domain::{EmailAddress, OrgId, Role, UserId};

/// A membership row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub last_active_at: Option<OffsetDateTime>,
    /// Since when the organization is closed to them (`None`: active).
    pub suspended_at: Option<OffsetDateTime>,
    /// Whether the organization's identity provider manages them (SCIM).
    pub scim_managed: bool,
    /// Made by the identity provider for an account of someone else's: it waits for
    /// their `Accept`, and the organization stays closed to them until then.
    pub consent_pending: bool,
}

impl Membership {
    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }
}

/// Adds a user to an organization with a role.
pub fn insert(conn: &mut PgConnection, org: OrgId, user: UserId, role: Role) -> QueryResult<Membership> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(Uuid::new_v4()),
            memberships::organization_id.eq(org.0),
            memberships::user_id.eq(user.0),
            memberships::role.eq(role),
        ))
        .returning(Membership::as_returning())
        .get_result(conn)
}

/// The user's membership in an organization, if any.
pub fn find(conn: &mut PgConnection, org: OrgId, user: UserId) -> QueryResult<Option<Membership>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::user_id.eq(user.0))
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

/// Every organization the user belongs to, with their membership, by organization name.
pub fn organizations_of(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<(Organization, Membership)>> {
    memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user.0))
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((Organization::as_select(), Membership::as_select()))
        .load(conn)
}

/// An account, every organization it belongs to with its membership (by
/// organization name, as [`organizations_of`]) and its bell's number, in one
/// statement: what every signed-in page reads about who is looking, the
/// organization it shows among them. `None` when the account is gone.
pub fn viewer(conn: &mut PgConnection, user: UserId) -> QueryResult<Option<Viewing>> {
    type Row = (User, Option<Organization>, Option<Membership>, Option<i64>);
    let rows: Vec<Row> = users::table
        .left_join(memberships::table.on(memberships::user_id.eq(users::id)))
        .left_join(organizations::table.on(organizations::id.eq(memberships::organization_id)))
        .filter(users::id.eq(user.0))
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((
            User::as_select(),
            Option::<Organization>::as_select(),
            Option::<Membership>::as_select(),
            // A subquery of its own (the account's id bound), so that PostgreSQL counts
            // the bell once, not once per organization row.
            diesel::select(super::notifications::bell_count_of(user.0)).single_value(),
        ))
        .load(conn)?;
    let mut rows = rows.into_iter().peekable();
    let Some((user, _, _, unread)) = rows.peek().cloned() else { return Ok(None) };
    let unread = unread.unwrap_or_default();
    let orgs = rows.filter_map(|(_, org, membership, _)| org.zip(membership)).collect();
    Ok(Some(Viewing { user, orgs, unread }))
}

/// What [`viewer`] reads.
#[derive(Debug, Clone)]
pub struct Viewing {
    pub user: User,
    pub orgs: Vec<(Organization, Membership)>,
    /// The bell's number.
    pub unread: i64,
}

/// The Owner's name and email.
pub fn owner_of(conn: &mut PgConnection, org: OrgId) -> QueryResult<Option<(String, String)>> {
    memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::role.eq(Role::Owner))
        .select((users::name, users::email))
        .first(conn)
        .optional()
}

/// Which of `keys` (addresses in canonical form) already belong to members of the organization.
pub fn member_emails_among(conn: &mut PgConnection, org: OrgId, keys: &[String]) -> QueryResult<Vec<String>> {
    memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .filter(memberships::organization_id.eq(org.0))
        .filter(users::email_key.eq_any(keys))
        .select(users::email_key)
        .load(conn)
}

/// For each of the memberships `ids` of the organization: its account and address.
pub fn people(conn: &mut PgConnection, org: OrgId, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid, String)>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::id.eq_any(ids))
        .select((memberships::id, memberships::user_id, memberships::member_email))
        .load(conn)
}

/// The Owner's user id.
pub fn owner_id(conn: &mut PgConnection, org: OrgId) -> QueryResult<Option<Uuid>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::role.eq(Role::Owner))
        .select(memberships::user_id)
        .first(conn)
        .optional()
}

/// The Owner's and active Admins' user ids, for notifications meant for them.
pub fn admins_of(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::role.eq_any([Role::Owner, Role::Admin]))
        .filter(memberships::suspended_at.is_null())
        .select(memberships::user_id)
        .load(conn)
}

/// The names of the Owner and of the first Admins by name, at most `limit` in all,
/// sorted: whom to ask for access or a new invitation; never the membership `except`
/// (the person asking). Walks the name index, so a large organization with thousands
/// of Admins costs the same as a small one.
pub fn granter_names(
    conn: &mut PgConnection,
    org: OrgId,
    limit: i64,
    except: Option<Uuid>,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Names {
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
        names: Vec<String>,
    }
    let mut names =
        super::prepared::prepared(format!("SELECT {} AS names", super::organizations::granters_sql("$1", "$2", "$3")))
            .bind::<diesel::sql_types::Uuid, _>(org.0)
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(except)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .get_result::<Names>(conn)?
            .names;
    names.sort();
    Ok(names)
}

/// Adds a membership unless the user already has one; returns whether it was added.
pub fn insert_if_absent(conn: &mut PgConnection, org: OrgId, user: UserId, role: Role) -> QueryResult<bool> {
    let added = diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(Uuid::new_v4()),
            memberships::organization_id.eq(org.0),
            memberships::user_id.eq(user.0),
            memberships::role.eq(role),
        ))
        .on_conflict((memberships::organization_id, memberships::user_id))
        .do_nothing()
        .execute(conn)?;
    Ok(added == 1)
}

/// A membership of the organization, locked until the transaction ends.
pub fn lock_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<Membership>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .find(id)
        .for_update()
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

/// The members `ids` of the organization (others are left out), by id; locked
/// (`lock`) for a bulk action that changes them.
pub fn details_of(conn: &mut PgConnection, org: OrgId, ids: &[Uuid], lock: bool) -> QueryResult<Vec<MemberDetail>> {
    let query = memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::id.eq_any(ids))
        .order(memberships::id)
        .select(MemberDetail::as_select());
    if lock {
        query.for_update().load(conn)
    } else {
        query.load(conn)
    }
}

/// Sets the role of each of the memberships `ids`, in one statement.
pub fn set_role_each(conn: &mut PgConnection, ids: &[Uuid], role: Role) -> QueryResult<usize> {
    diesel::update(memberships::table.filter(memberships::id.eq_any(ids))).set(memberships::role.eq(role)).execute(conn)
}

/// Suspends each of the memberships `ids` from now, in one statement.
pub fn suspend_each(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::update(memberships::table.filter(memberships::id.eq_any(ids)))
        .set(memberships::suspended_at.eq(OffsetDateTime::now_utc()))
        .execute(conn)
}

/// Deletes each of the memberships `ids`, in one statement.
pub fn delete_each(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::delete(memberships::table.filter(memberships::id.eq_any(ids))).execute(conn)
}

/// Sets a membership's role.
pub fn set_role(conn: &mut PgConnection, id: Uuid, role: Role) -> QueryResult<usize> {
    diesel::update(memberships::table.find(id)).set(memberships::role.eq(role)).execute(conn)
}

/// Suspends a membership from now (`true`) or reactivates it (`false`); the seat
/// counters follow (migration 40).
pub fn set_suspended(conn: &mut PgConnection, id: Uuid, suspended: bool) -> QueryResult<usize> {
    let at = suspended.then(OffsetDateTime::now_utc);
    diesel::update(memberships::table.find(id)).set(memberships::suspended_at.eq(at)).execute(conn)
}

/// Holds what the identity provider sent in the copies of a membership waiting for
/// its owner's consent (the account's own stay out of the organization's sight).
pub fn await_consent(conn: &mut PgConnection, id: Uuid, name: &str, email: &str) -> QueryResult<usize> {
    diesel::update(memberships::table.find(id))
        .set((
            memberships::consent_pending.eq(true),
            memberships::member_name.eq(name),
            memberships::member_email.eq(email),
            memberships::member_verified.eq(false),
            memberships::member_two_factor.eq("off"),
        ))
        .execute(conn)
}

/// Renames a membership waiting for consent as the identity provider renames it.
pub fn rename_pending(conn: &mut PgConnection, id: Uuid, name: &str) -> QueryResult<usize> {
    diesel::update(memberships::table.find(id).filter(memberships::consent_pending))
        .set(memberships::member_name.eq(name))
        .execute(conn)
}

/// The owner accepted: the membership copies their account again. Returns whether
/// it was waiting.
pub fn give_consent(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::sql_query(
        "UPDATE memberships m SET consent_pending = false, member_name = u.name, member_email = u.email, \
                member_verified = u.email_verified_at IS NOT NULL, member_two_factor = u.two_factor \
           FROM users u WHERE u.id = m.user_id AND m.id = $1 AND m.consent_pending",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .execute(conn)
    .map(|n| n == 1)
}

/// Deletes a membership (the account and its history stay).
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(memberships::table.find(id)).execute(conn)
}

/// Records who invited a member (set when an invitation is accepted).
pub fn set_invited_by(conn: &mut PgConnection, org: OrgId, user: UserId, inviter: Option<Uuid>) -> QueryResult<usize> {
    diesel::update(
        memberships::table.filter(memberships::organization_id.eq(org.0)).filter(memberships::user_id.eq(user.0)),
    )
    .set(memberships::invited_by.eq(inviter))
    .execute(conn)
}

/// A membership with the copies of its member's name, email and verification.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct MemberDetail {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub member_name: String,
    pub member_email: String,
    pub member_verified: bool,
    pub invited_by: Option<Uuid>,
    pub last_active_at: Option<OffsetDateTime>,
    /// The copy of what second factor the member's account has (`off`, `on`, `passkey`).
    pub member_two_factor: String,
    pub suspended_at: Option<OffsetDateTime>,
    pub scim_managed: bool,
    /// When the membership ends (`None`: it does not).
    pub expires_at: Option<OffsetDateTime>,
}

impl MemberDetail {
    pub fn two_factor(&self) -> crate::domain::two_factor::TwoFactor {
        crate::domain::two_factor::TwoFactor::from_db(&self.member_two_factor)
    }
}

/// The accounts of the organization's members who have no second factor, to tell
/// them it is required (reads the index `memberships_org_two_factor_idx`).
pub fn without_two_factor(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<Uuid>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::member_two_factor.eq("off"))
        .select(memberships::user_id)
        .load(conn)
}

/// How many of the organization's members have no second factor.
pub fn count_without_two_factor(conn: &mut PgConnection, org: OrgId) -> QueryResult<i64> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::member_two_factor.eq("off"))
        .count()
        .get_result(conn)
}

/// One member of the organization, as the Members page shows them.
pub fn detail(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<MemberDetail>> {
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .find(id)
        .select(MemberDetail::as_select())
        .first(conn)
        .optional()
}

/// The member of the organization with this email address.
pub fn find_by_email(conn: &mut PgConnection, org: OrgId, email: &EmailAddress) -> QueryResult<Option<MemberDetail>> {
    memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .filter(memberships::organization_id.eq(org.0))
        .filter(users::email_key.eq(email.canonical()))
        .select(MemberDetail::as_select())
        .first(conn)
        .optional()
}

/// Records that a member uses their organization now, unless it was recorded
/// less than `every` ago.
pub fn touch_unless_recent(conn: &mut PgConnection, id: Uuid, every: time::Duration) -> QueryResult<usize> {
    let stale_before = OffsetDateTime::now_utc() - every;
    diesel::update(
        memberships::table
            .find(id)
            .filter(memberships::last_active_at.is_null().or(memberships::last_active_at.lt(stale_before))),
    )
    .set(memberships::last_active_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// Active members (not the Owner, not the suspended) who have not used the organization since `before`
/// (counting from when they joined if they never came), least recently active first.
pub fn inactive_since(
    conn: &mut PgConnection,
    org: OrgId,
    before: OffsetDateTime,
    limit: i64,
) -> QueryResult<Vec<MemberDetail>> {
    let last_seen = super::listing::fixed::<diesel::sql_types::Timestamptz>(
        "coalesce(memberships.last_active_at, memberships.created_at)",
    );
    memberships::table
        .filter(memberships::organization_id.eq(org.0))
        .filter(memberships::role.ne(Role::Owner))
        .filter(memberships::suspended_at.is_null())
        .filter(last_seen.lt(before))
        .order((last_seen, memberships::id))
        .limit(limit)
        .select(MemberDetail::as_select())
        .load(conn)
}
