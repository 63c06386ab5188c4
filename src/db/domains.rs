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

/// What an account could join, as its Dashboard tells it, read in one statement: its
/// requests to join that wait for an answer, and the verified domain its address is
/// at with the facts that decide whether it may join by it.
#[derive(Debug, Clone)]
pub struct Prospects {
    /// Newest first.
    pub requests: Vec<OpenRequest>,
    pub candidate: Option<Candidate>,
}

/// A request to join that waits for an answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OpenRequest {
    pub id: Uuid,
    pub organization: Uuid,
    pub org_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub asked_at: OffsetDateTime,
}

/// The verified domain an address is at, its organization's name, and whether the
/// account is a member there, was removed from it or left it (an event with one of
/// the actions asked for names the address), or has an open invitation there.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub domain: OrgDomain,
    pub org_name: String,
    pub member: bool,
    pub gone: bool,
    pub invited: bool,
}

/// The [`Prospects`] of the account `user`, whose address `email` (canonical `key`)
/// is at the domain `at` (`None`: look up no domain); `gone` the audit actions that
/// keep someone from coming back by themselves.
pub fn prospects(
    conn: &mut PgConnection,
    user: Uuid,
    at: Option<&str>,
    email: &str,
    key: &str,
    gone: &[crate::domain::event::EventKind],
) -> QueryResult<Prospects> {
    use diesel::sql_types::{Bool, Jsonb, Nullable, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Jsonb)]
        requests: serde_json::Value,
        #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
        id: Option<Uuid>,
        #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
        organization_id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        domain: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        token: Option<String>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        created_at: Option<OffsetDateTime>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        verified_at: Option<OffsetDateTime>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        last_checked_at: Option<OffsetDateTime>,
        #[diesel(sql_type = Nullable<Text>)]
        last_error: Option<String>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        failing_since: Option<OffsetDateTime>,
        #[diesel(sql_type = Nullable<Text>)]
        policy: Option<DomainPolicy>,
        #[diesel(sql_type = Nullable<Bool>)]
        sso: Option<bool>,
        #[diesel(sql_type = Nullable<Bool>)]
        sso_required: Option<bool>,
        #[diesel(sql_type = Nullable<Text>)]
        org_name: Option<String>,
        #[diesel(sql_type = Bool)]
        member: bool,
        #[diesel(sql_type = Bool)]
        gone: bool,
        #[diesel(sql_type = Bool)]
        invited: bool,
    }
    // The actions written into the text (event keys of our own vocabulary, the same
    // for every account, so its plan is kept): PostgreSQL then looks them up in the index
    // of the organization's events by action. Bound as an array it planned the check
    // as a scan of every event naming the address, in every organization (120 ms at
    // two million events), and as a run-time array, one of all the organization's.
    let actions = gone.iter().map(|kind| format!("'{}'", kind.key())).collect::<Vec<_>>().join(", ");
    let row: Row = super::prepared::prepared(format!(
        "SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'organization', r.organization_id, \
                        'org_name', o.name, 'asked_at', r.created_at) ORDER BY r.created_at DESC), '[]'::jsonb) \
                   FROM join_requests r JOIN organizations o ON o.id = r.organization_id \
                  WHERE r.user_id = $1 AND r.status = 'open') AS requests, \
                d.id, d.organization_id, d.domain, d.token, d.created_at, d.verified_at, d.last_checked_at, \
                d.last_error, d.failing_since, d.policy, d.sso, d.sso_required, o.name AS org_name, \
                EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = d.organization_id AND m.user_id = $1) \
                    AS member, \
                gone.found IS NOT NULL AS gone, \
                EXISTS (SELECT 1 FROM invitations i WHERE i.organization_id = d.organization_id \
                         AND i.email_key = $4 AND i.status = 'pending' AND i.expires_at > now()) AS invited \
           FROM (SELECT 1) AS one \
           LEFT JOIN LATERAL (SELECT * FROM organization_domains \
                               WHERE domain = $2 AND verified_at IS NOT NULL LIMIT 1) d ON true \
           LEFT JOIN organizations o ON o.id = d.organization_id \
           LEFT JOIN LATERAL (SELECT true AS found FROM audit_events a \
                               WHERE a.organization_id = d.organization_id AND a.action IN ({actions}) \
                                 AND a.target_label = $3 LIMIT 1) gone ON true",
    ))
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<Nullable<Text>, _>(at)
    .bind::<Text, _>(email)
    .bind::<Text, _>(key)
    .get_result(conn)?;
    let requests =
        serde_json::from_value(row.requests).map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
    let candidate = match (row.id, row.organization_id, row.domain, row.token, row.created_at, row.policy) {
        (Some(id), Some(organization_id), Some(domain), Some(token), Some(created_at), Some(policy)) => {
            Some(Candidate {
                domain: OrgDomain {
                    id,
                    organization_id,
                    domain,
                    token,
                    created_at,
                    verified_at: row.verified_at,
                    last_checked_at: row.last_checked_at,
                    last_error: row.last_error,
                    failing_since: row.failing_since,
                    policy,
                    sso: row.sso.unwrap_or_default(),
                    sso_required: row.sso_required.unwrap_or_default(),
                },
                org_name: row.org_name.unwrap_or_default(),
                member: row.member,
                gone: row.gone,
                invited: row.invited,
            })
        }
        _ => None,
    };
    Ok(Prospects { requests, candidate })
}
