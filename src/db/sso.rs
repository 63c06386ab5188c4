//! Single sign-on's tables: each organization's provider (`sso_connections`), the
//! domains it covers (columns of `organization_domains`), the identities it vouches
//! for (`sso_identities`) and the sign-ins on their way (`sso_sign_ins`).

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domains::OrgDomain;
use super::schema::{organization_domains, sessions, sso_connections, sso_identities, sso_sign_ins, users};
use crate::domain::{OrgId, UserId};

/// An organization's OpenID provider, as saved in Settings.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sso_connections)]
pub struct Connection {
    pub organization_id: Uuid,
    pub issuer: String,
    pub client_id: String,
    /// Sealed (see [`super::sealed::SSO_CLIENT_SECRETS`]).
    pub client_secret_sealed: Vec<u8>,
    pub client_secret_sealed_with: String,
    /// What discovery found (openidconnect's provider metadata, as JSON).
    pub metadata: Option<serde_json::Value>,
    pub metadata_fetched_at: Option<OffsetDateTime>,
    /// The provider's signing keys (a JSON Web Key Set).
    pub jwks: Option<serde_json::Value>,
    pub jwks_fetched_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The organization's provider, if it has one.
pub fn find(conn: &mut PgConnection, org: OrgId) -> QueryResult<Option<Connection>> {
    sso_connections::table.find(org.0).select(Connection::as_select()).first(conn).optional()
}

/// Saves the provider's issuer and client; `secret` (sealed, with its key's id) only
/// when a new one was typed. A changed issuer forgets what was discovered of the old one.
pub fn save(
    conn: &mut PgConnection,
    org: OrgId,
    issuer: &str,
    client_id: &str,
    secret: Option<(&[u8], &str)>,
) -> QueryResult<Connection> {
    let existing = find(conn, org)?;
    match (existing, secret) {
        (None, Some((sealed, with))) => diesel::insert_into(sso_connections::table)
            .values((
                sso_connections::organization_id.eq(org.0),
                sso_connections::issuer.eq(issuer),
                sso_connections::client_id.eq(client_id),
                sso_connections::client_secret_sealed.eq(sealed),
                sso_connections::client_secret_sealed_with.eq(with),
            ))
            .returning(Connection::as_returning())
            .get_result(conn),
        (None, None) => Err(diesel::result::Error::NotFound),
        (Some(old), secret) => {
            let forget = old.issuer != issuer;
            let now = OffsetDateTime::now_utc();
            let target = sso_connections::table.find(org.0);
            let mut saved = diesel::update(target)
                .set((
                    sso_connections::issuer.eq(issuer),
                    sso_connections::client_id.eq(client_id),
                    sso_connections::updated_at.eq(now),
                ))
                .returning(Connection::as_returning())
                .get_result(conn)?;
            if let Some((sealed, with)) = secret {
                saved = diesel::update(target)
                    .set((
                        sso_connections::client_secret_sealed.eq(sealed),
                        sso_connections::client_secret_sealed_with.eq(with),
                    ))
                    .returning(Connection::as_returning())
                    .get_result(conn)?;
            }
            if forget {
                saved = diesel::update(target)
                    .set((
                        sso_connections::metadata.eq(None::<serde_json::Value>),
                        sso_connections::metadata_fetched_at.eq(None::<OffsetDateTime>),
                        sso_connections::jwks.eq(None::<serde_json::Value>),
                        sso_connections::jwks_fetched_at.eq(None::<OffsetDateTime>),
                    ))
                    .returning(Connection::as_returning())
                    .get_result(conn)?;
            }
            Ok(saved)
        }
    }
}

/// Keeps what discovery found for `issuer` (not if the issuer changed meanwhile).
pub fn keep_metadata(
    conn: &mut PgConnection,
    org: OrgId,
    issuer: &str,
    metadata: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::update(sso_connections::table.find(org.0).filter(sso_connections::issuer.eq(issuer)))
        .set((
            sso_connections::metadata.eq(metadata),
            sso_connections::metadata_fetched_at.eq(OffsetDateTime::now_utc()),
        ))
        .execute(conn)
}

/// Claims the fetch of the provider's keys when the last was a minute ago or more
/// (one instance, one sign-in at a time): `false` when another fetched them lately.
pub fn claim_jwks_fetch(conn: &mut PgConnection, org: OrgId, after: time::Duration) -> QueryResult<bool> {
    let before = OffsetDateTime::now_utc() - after;
    diesel::update(
        sso_connections::table
            .find(org.0)
            .filter(sso_connections::jwks_fetched_at.is_null().or(sso_connections::jwks_fetched_at.lt(before))),
    )
    .set(sso_connections::jwks_fetched_at.eq(OffsetDateTime::now_utc()))
    .execute(conn)
    .map(|claimed| claimed == 1)
}

/// Keeps the provider's key set as fetched now (not if the issuer changed meanwhile).
pub fn keep_jwks(conn: &mut PgConnection, org: OrgId, issuer: &str, jwks: &serde_json::Value) -> QueryResult<usize> {
    diesel::update(sso_connections::table.find(org.0).filter(sso_connections::issuer.eq(issuer)))
        .set((sso_connections::jwks.eq(jwks), sso_connections::jwks_fetched_at.eq(OffsetDateTime::now_utc())))
        .execute(conn)
}

/// Where every provider's sign-in may be (its issuer, and the authorization endpoint
/// discovery found), for the sign-in page's Content-Security-Policy: a form's
/// redirect to one must be allowed.
/// Only providers that cover a verified domain count (an Owner who verified none
/// adds nothing to everyone's sign-in page), and at most 100 addresses.
pub fn form_targets(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    diesel::sql_query(
        "WITH live AS (SELECT c.issuer, c.metadata FROM sso_connections c \
           WHERE EXISTS (SELECT 1 FROM organization_domains d WHERE d.organization_id = c.organization_id \
                         AND d.sso AND d.verified_at IS NOT NULL)) \
         SELECT endpoint FROM (SELECT issuer AS endpoint FROM live \
           UNION SELECT metadata ->> 'authorization_endpoint' FROM live WHERE metadata ? 'authorization_endpoint') \
           AS targets ORDER BY endpoint LIMIT 100",
    )
    .load::<Endpoint>(conn)
    .map(|rows| rows.into_iter().map(|row| row.endpoint).collect())
}

#[derive(QueryableByName)]
struct Endpoint {
    #[diesel(sql_type = diesel::sql_types::Text)]
    endpoint: String,
}

/// The verified domain `domain` with the provider that covers it, if single sign-on covers it.
pub fn covering(conn: &mut PgConnection, domain: &str) -> QueryResult<Option<(OrgDomain, Connection)>> {
    organization_domains::table
        .inner_join(
            sso_connections::table.on(sso_connections::organization_id.eq(organization_domains::organization_id)),
        )
        .filter(organization_domains::domain.eq(domain))
        .filter(organization_domains::verified_at.is_not_null())
        .filter(organization_domains::sso.eq(true))
        .select((OrgDomain::as_select(), Connection::as_select()))
        .first(conn)
        .optional()
}

/// Sets which of the organization's domains single sign-on covers: those in `covered`.
/// A domain no longer covered no longer requires it either.
pub fn set_covered(conn: &mut PgConnection, org: OrgId, covered: &[Uuid]) -> QueryResult<usize> {
    diesel::update(organization_domains::table.filter(organization_domains::organization_id.eq(org.0)))
        .set((
            organization_domains::sso.eq(organization_domains::id.eq_any(covered)),
            organization_domains::sso_required
                .eq(organization_domains::sso_required.and(organization_domains::id.eq_any(covered))),
        ))
        .execute(conn)
}

/// Sets whether a covered domain signs in only through the provider.
pub fn set_required(conn: &mut PgConnection, id: Uuid, required: bool) -> QueryResult<usize> {
    diesel::update(organization_domains::table.find(id).filter(organization_domains::sso.eq(true)))
        .set(organization_domains::sso_required.eq(required))
        .execute(conn)
}

/// The covered domain requiring single sign-on that `domain` is, if it is one.
pub fn requiring(conn: &mut PgConnection, domain: &str) -> QueryResult<Option<OrgDomain>> {
    organization_domains::table
        .filter(organization_domains::domain.eq(domain))
        .filter(organization_domains::verified_at.is_not_null())
        .filter(organization_domains::sso_required.eq(true))
        .select(OrgDomain::as_select())
        .first(conn)
        .optional()
}

/// Ends the sessions of accounts at `domain` that did not sign in through single
/// sign-on, except `keep`'s (the Owner's break-glass); returns how many ended.
pub fn end_sessions_without_sso(conn: &mut PgConnection, domain: &str, keep: UserId) -> QueryResult<usize> {
    let at = users::table
        .filter(users::email_key.like(format!("%@{}", escape_like(domain))))
        .filter(users::id.ne(keep.0))
        .select(users::id);
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq_any(at.nullable()))
            .filter(diesel::dsl::not(sessions::sign_in_methods.contains(vec!["sso".to_owned()]))),
    )
    .execute(conn)
}

/// Ends `user`'s sessions that did not sign in through single sign-on.
pub fn end_own_sessions_without_sso(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(diesel::dsl::not(sessions::sign_in_methods.contains(vec!["sso".to_owned()]))),
    )
    .execute(conn)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The account linked to the provider's (issuer, subject), if any; marks it used.
pub fn identity(conn: &mut PgConnection, issuer: &str, subject: &str) -> QueryResult<Option<UserId>> {
    diesel::update(sso_identities::table.find((issuer, subject)))
        .set(sso_identities::last_used_at.eq(OffsetDateTime::now_utc()))
        .returning(sso_identities::user_id)
        .get_result(conn)
        .optional()
        .map(|found| found.map(UserId))
}

/// Whether `user` is linked to an identity of `issuer` already.
pub fn linked_to_issuer(conn: &mut PgConnection, issuer: &str, user: UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sso_identities::table.filter(sso_identities::issuer.eq(issuer)).filter(sso_identities::user_id.eq(user.0)),
    ))
    .get_result(conn)
}

/// Links the provider's (issuer, subject) to `user`.
pub fn link(conn: &mut PgConnection, issuer: &str, subject: &str, user: UserId) -> QueryResult<usize> {
    diesel::insert_into(sso_identities::table)
        .values((
            sso_identities::issuer.eq(issuer),
            sso_identities::subject.eq(subject),
            sso_identities::user_id.eq(user.0),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
}

/// A sign-in sent to the provider, as kept until it comes back.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sso_sign_ins)]
pub struct PendingSignIn {
    pub organization_id: Uuid,
    pub email: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// Keeps a sign-in sent to the provider, by its state's hash, until `expires_at`.
pub fn keep_sign_in(
    conn: &mut PgConnection,
    state_hash: &[u8],
    pending: &PendingSignIn,
    expires_at: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sso_sign_ins::table)
        .values((
            sso_sign_ins::state_hash.eq(state_hash),
            sso_sign_ins::organization_id.eq(pending.organization_id),
            sso_sign_ins::email.eq(&pending.email),
            sso_sign_ins::nonce.eq(&pending.nonce),
            sso_sign_ins::pkce_verifier.eq(&pending.pkce_verifier),
            sso_sign_ins::next.eq(&pending.next),
            sso_sign_ins::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Takes the sign-in with this state's hash, once: `None` when there is none, it
/// was taken already, or it expired.
pub fn take_sign_in(conn: &mut PgConnection, state_hash: &[u8]) -> QueryResult<Option<PendingSignIn>> {
    diesel::delete(sso_sign_ins::table.find(state_hash).filter(sso_sign_ins::expires_at.gt(OffsetDateTime::now_utc())))
        .returning(PendingSignIn::as_returning())
        .get_result(conn)
        .optional()
}

/// Deletes sign-ins that never came back; returns how many.
pub fn sweep_sign_ins(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(sso_sign_ins::table.filter(sso_sign_ins::expires_at.le(OffsetDateTime::now_utc()))).execute(conn)
}
