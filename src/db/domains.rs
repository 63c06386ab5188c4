//! The `organization_domains` table: domains organizations claim, and which are verified.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::organization_domains;
use crate::domain::{DomainName, OrgId};

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
        ))
        .returning(OrgDomain::as_returning())
        .get_result(conn)
}

/// Takes a domain off the organization's list.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(organization_domains::table.find(id)).execute(conn)
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
