//! The `organization_domains` table: domains organizations claim, and which are verified.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::organization_domains;
use crate::domain::{DomainName, DomainPolicy, OrgId};

/// A domain an organization claims.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organization_domains)]
pub struct OrgDomain {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub domain: String,
    pub token: String,
    pub created_at: OffsetDateTime,
    pub verified_at: Option<OffsetDateTime>,
    pub last_checked_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// Since when a re-check has not found the record of a verified domain.
    pub failing_since: Option<OffsetDateTime>,
    pub policy: DomainPolicy,
    /// Whether people at it sign in through the organization's single sign-on.
    pub sso: bool,
    /// Whether they sign in only that way (`Require SSO`).
    pub sso_required: bool,
}

/// Adds a domain to the organization's list, unverified; a unique violation when it is there already.
pub fn insert(conn: &mut PgConnection, org: OrgId, domain: &DomainName, token: &str) -> QueryResult<OrgDomain> {
    diesel::insert_into(organization_domains::table)
        .values((
            organization_domains::id.eq(Uuid::new_v4()),
            organization_domains::organization_id.eq(org.0),
            organization_domains::domain.eq(domain.as_str()),
            organization_domains::token.eq(token),
        ))
        .returning(OrgDomain::as_returning())
        .get_result(conn)
}

/// The organization's domains, by name.
pub fn list_of(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<OrgDomain>> {
    organization_domains::table
        .filter(organization_domains::organization_id.eq(org.0))
        .order(organization_domains::domain)
        .select(OrgDomain::as_select())
        .load(conn)
}

/// One domain of the organization.
pub fn find_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<OrgDomain>> {
    organization_domains::table
        .filter(organization_domains::organization_id.eq(org.0))
        .find(id)
        .select(OrgDomain::as_select())
        .first(conn)
        .optional()
}

/// Records a failed check and what it found.
pub fn mark_failed(conn: &mut PgConnection, id: Uuid, error: &str) -> QueryResult<OrgDomain> {
    diesel::update(organization_domains::table.find(id))
        .set((organization_domains::last_checked_at.eq(diesel::dsl::now), organization_domains::last_error.eq(error)))
        .returning(OrgDomain::as_returning())
        .get_result(conn)
}

/// Marks a domain verified; a unique violation when another organization verified it first.
pub fn mark_verified(conn: &mut PgConnection, id: Uuid) -> QueryResult<OrgDomain> {
    diesel::update(organization_domains::table.find(id))
        .set((
            organization_domains::verified_at.eq(diesel::dsl::now),
            organization_domains::last_checked_at.eq(diesel::dsl::now),
            organization_domains::last_error.eq(None::<String>),
            organization_domains::failing_since.eq(None::<OffsetDateTime>),
        ))
        .returning(OrgDomain::as_returning())
        .get_result(conn)
}

/// Takes a domain off the organization's list.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(organization_domains::table.find(id)).execute(conn)
}

/// The verified domain `domain`, if an organization verified it.
pub fn verified(conn: &mut PgConnection, domain: &str) -> QueryResult<Option<OrgDomain>> {
    organization_domains::table
        .filter(organization_domains::domain.eq(domain))
        .filter(organization_domains::verified_at.is_not_null())
        .select(OrgDomain::as_select())
        .first(conn)
        .optional()
}

/// Sets what a domain does for the people at it.
pub fn set_policy(conn: &mut PgConnection, id: Uuid, policy: DomainPolicy) -> QueryResult<usize> {
    diesel::update(organization_domains::table.find(id)).set(organization_domains::policy.eq(policy)).execute(conn)
}

/// The organization, if any, that verified `domain`.
pub fn verified_owner(conn: &mut PgConnection, domain: &str) -> QueryResult<Option<Uuid>> {
    organization_domains::table
        .filter(organization_domains::domain.eq(domain))
        .filter(organization_domains::verified_at.is_not_null())
        .select(organization_domains::organization_id)
        .first(conn)
        .optional()
}

/// Claims up to `limit` verified domains last checked before `before`, marking
/// them checked now (so no other instance schedules them too); returns their
/// ids. Run in a transaction.
pub fn claim_due_rechecks(conn: &mut PgConnection, before: OffsetDateTime, limit: i64) -> QueryResult<Vec<Uuid>> {
    let due: Vec<Uuid> = organization_domains::table
        .filter(organization_domains::verified_at.is_not_null())
        .filter(organization_domains::last_checked_at.lt(before).or(organization_domains::last_checked_at.is_null()))
        .select(organization_domains::id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)?;
    diesel::update(organization_domains::table.filter(organization_domains::id.eq_any(&due)))
        .set(organization_domains::last_checked_at.eq(diesel::dsl::now))
        .execute(conn)?;
    Ok(due)
}

/// One domain.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<OrgDomain>> {
    organization_domains::table.find(id).select(OrgDomain::as_select()).first(conn).optional()
}

/// One domain, locked until the transaction ends.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<OrgDomain>> {
    organization_domains::table.find(id).for_update().select(OrgDomain::as_select()).first(conn).optional()
}

/// A re-check found the record: the domain stays verified.
pub fn recheck_passed(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(organization_domains::table.find(id))
        .set((
            organization_domains::last_checked_at.eq(diesel::dsl::now),
            organization_domains::failing_since.eq(None::<OffsetDateTime>),
            organization_domains::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// A re-check did not find the record: remember since when.
pub fn recheck_failed(conn: &mut PgConnection, id: Uuid, since: OffsetDateTime, error: &str) -> QueryResult<usize> {
    diesel::update(organization_domains::table.find(id))
        .set((
            organization_domains::last_checked_at.eq(diesel::dsl::now),
            organization_domains::failing_since.eq(since),
            organization_domains::last_error.eq(error),
        ))
        .execute(conn)
}

/// The record stayed missing past the grace period: the domain is no longer verified.
pub fn unverify(conn: &mut PgConnection, id: Uuid, error: &str) -> QueryResult<usize> {
    diesel::update(organization_domains::table.find(id))
        .set((
            organization_domains::verified_at.eq(None::<OffsetDateTime>),
            organization_domains::failing_since.eq(None::<OffsetDateTime>),
            organization_domains::last_error.eq(error),
        ))
        .execute(conn)
}
