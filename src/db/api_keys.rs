//! The `api_keys` table: an organization's API keys, by the hash of their secret.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::organizations::Organization;
use super::schema::{api_idempotency, api_keys, organizations};
use crate::domain::{OrgId, Role};

/// An API key as stored: never its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub secret_hint: String,
    pub created_by: Option<Uuid>,
    pub creator_name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    /// The role it acts with: Admin or Member, its own whoever created it.
    pub role: Role,
}

/// A new key; `secret_hash` is the SHA-256 of its secret.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: &'a str,
    pub scopes: Vec<String>,
    pub secret_hint: &'a str,
    pub secret_hash: &'a [u8],
    /// The person who created it (`None`: the operator, from the command line).
    pub created_by: Option<Uuid>,
    pub creator_name: &'a str,
    /// `Role::as_str` of its role (a borrowed struct cannot insert the enum itself).
    pub role: &'static str,
}

/// Stores a key; a unique violation when a live key of the organization has its name.
pub fn insert(conn: &mut PgConnection, key: &NewApiKey<'_>) -> QueryResult<ApiKey> {
    diesel::insert_into(api_keys::table).values(key).returning(ApiKey::as_returning()).get_result(conn)
}

/// The organization's keys, live ones first, newest first.
pub fn of_org(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::organization_id.eq(org.0))
        .order((api_keys::revoked_at.is_not_null(), api_keys::created_at.desc(), api_keys::id))
        .select(ApiKey::as_select())
        .load(conn)
}

/// Whether a live key of the organization is called `name` (in any case).
pub fn live_name_taken(conn: &mut PgConnection, org: OrgId, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        api_keys::table
            .filter(api_keys::organization_id.eq(org.0))
            .filter(api_keys::revoked_at.is_null())
            .filter(super::lower(api_keys::name).eq(name.to_lowercase())),
    ))
    .get_result(conn)
}

/// Revokes a live key of the organization; `None` when it is not one (another
/// organization's, unknown, or revoked already: the loser of a race).
pub fn revoke(conn: &mut PgConnection, org: OrgId, id: Uuid, by: &str) -> QueryResult<Option<ApiKey>> {
    diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::organization_id.eq(org.0))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set((api_keys::revoked_at.eq(diesel::dsl::now), api_keys::revoked_by.eq(by)))
    .returning(ApiKey::as_returning())
    .get_result(conn)
    .optional()
}

/// The key whose secret hashes to `hash`, with its organization: what every request
/// with a key needs first, in one statement.
pub fn find_by_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<(ApiKey, Organization)>> {
    api_keys::table
        .inner_join(organizations::table)
        .filter(api_keys::secret_hash.eq(hash))
        .select((ApiKey::as_select(), Organization::as_select()))
        .first(conn)
        .optional()
}

/// The organization's live key called `name` (in any case).
pub fn find_live_by_name(conn: &mut PgConnection, org: OrgId, name: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::organization_id.eq(org.0))
        .filter(api_keys::revoked_at.is_null())
        .filter(super::lower(api_keys::name).eq(name.to_lowercase()))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
}

/// How often a key's use is recorded: one write a minute per key, not one per request.
const USE_RECORDED_EVERY: time::Duration = time::Duration::minutes(1);

/// Records a use of `key`, unless one was recorded in the last minute: as `key` was
/// read (no statement at all), and again in the statement, for requests at once.
pub fn mark_used(conn: &mut PgConnection, key: &ApiKey) -> QueryResult<usize> {
    let since = OffsetDateTime::now_utc() - USE_RECORDED_EVERY;
    if key.last_used_at.is_some_and(|at| at >= since) {
        return Ok(0);
    }
    diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(key.id))
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(since))),
    )
    .set(api_keys::last_used_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// A request's place under its Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// The first request with this key: its answer is to be stored.
    First,
    /// Answered before: the hash of that request, and its answer.
    Answered { request_hash: Vec<u8>, status_code: i32, body: String },
}

/// Claims `key` for a request of `api_key` hashing to `request_hash`, in the caller's
/// transaction. A concurrent request with the same key waits here until the first
/// one's transaction ends, then finds its answer (or, if it failed, claims the key).
pub fn claim_idempotency(
    conn: &mut PgConnection,
    api_key: Uuid,
    key: &str,
    request_hash: &[u8],
) -> QueryResult<Idempotency> {
    let inserted = diesel::insert_into(api_idempotency::table)
        .values((
            api_idempotency::api_key_id.eq(api_key),
            api_idempotency::idempotency_key.eq(key),
            api_idempotency::request_hash.eq(request_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Idempotency::First);
    }
    let (request_hash, status_code, body): (Vec<u8>, Option<i32>, Option<String>) = api_idempotency::table
        .find((api_key, key))
        .select((api_idempotency::request_hash, api_idempotency::status_code, api_idempotency::body))
        .first(conn)?;
    Ok(Idempotency::Answered { request_hash, status_code: status_code.unwrap_or(200), body: body.unwrap_or_default() })
}

/// Stores the answer to the request that claimed `key`.
pub fn store_answer(
    conn: &mut PgConnection,
    api_key: Uuid,
    key: &str,
    status_code: i32,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(api_idempotency::table.find((api_key, key)))
        .set((api_idempotency::status_code.eq(status_code), api_idempotency::body.eq(body)))
        .execute(conn)
}

/// Deletes the answers kept longer than a day.
pub fn delete_stale_idempotency(conn: &mut PgConnection) -> QueryResult<usize> {
    let day_ago = OffsetDateTime::now_utc() - time::Duration::days(1);
    diesel::delete(api_idempotency::table.filter(api_idempotency::created_at.lt(day_ago))).execute(conn)
}
