//! An account's second factors: its authenticator app and its recovery codes.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{authenticator_apps, recovery_codes};

/// An account's authenticator app, confirmed or still being set up.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = authenticator_apps)]
pub struct App {
    pub user_id: Uuid,
    /// The secret, sealed (see [`super::sealed::AUTHENTICATOR_SECRETS`]).
    pub secret_sealed: Vec<u8>,
    /// `None` while being set up: it counts once a first code confirmed it.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The step of the last code used.
    pub last_used_step: Option<i64>,
}

/// The account's app, if any.
pub fn app_of(conn: &mut PgConnection, user: Uuid) -> QueryResult<Option<App>> {
    authenticator_apps::table.find(user).select(App::as_select()).first(conn).optional()
}

/// Starts setting up an app with a new secret, replacing one being set up; `0` when
/// the account has a confirmed app (it is turned off first).
pub fn start_app(conn: &mut PgConnection, user: Uuid, sealed: &[u8], sealed_with: &str) -> QueryResult<usize> {
    use diesel::sql_types::{Bytea, Text, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO authenticator_apps (user_id, secret_sealed, secret_sealed_with) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, \
             secret_sealed_with = EXCLUDED.secret_sealed_with, created_at = now() \
         WHERE authenticator_apps.confirmed_at IS NULL",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Bytea, _>(sealed)
    .bind::<Text, _>(sealed_with)
    .execute(conn)
}

/// Marks the app being set up as confirmed by the code of `step`; `0` when there was
/// none being set up (confirmed meanwhile, or turned off).
pub fn confirm_app(conn: &mut PgConnection, user: Uuid, step: i64) -> QueryResult<usize> {
    diesel::update(authenticator_apps::table.find(user).filter(authenticator_apps::confirmed_at.is_null()))
        .set((authenticator_apps::confirmed_at.eq(diesel::dsl::now), authenticator_apps::last_used_step.eq(step)))
        .execute(conn)
}

/// Records that the code of `step` was used, unless that step or a later one was used
/// already (two sign-ins racing with one code): `0` then.
pub fn use_step(conn: &mut PgConnection, user: Uuid, step: i64) -> QueryResult<usize> {
    diesel::update(
        authenticator_apps::table
            .find(user)
            .filter(authenticator_apps::confirmed_at.is_not_null())
            .filter(authenticator_apps::last_used_step.is_null().or(authenticator_apps::last_used_step.lt(step))),
    )
    .set(authenticator_apps::last_used_step.eq(step))
    .execute(conn)
}

/// Removes the account's app and recovery codes; how many apps were removed.
pub fn remove_all(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)?;
    diesel::delete(authenticator_apps::table.find(user)).execute(conn)
}

/// Replaces the account's recovery codes with these digests.
pub fn replace_codes(conn: &mut PgConnection, user: Uuid, digests: &[Vec<u8>]) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)?;
    let rows: Vec<_> =
        digests.iter().map(|d| (recovery_codes::user_id.eq(user), recovery_codes::digest.eq(d))).collect();
    diesel::insert_into(recovery_codes::table).values(&rows).execute(conn)
}

/// Uses up the code with `digest`: `1` when the account had it, `0` otherwise.
pub fn use_code(conn: &mut PgConnection, user: Uuid, digest: &[u8]) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.find((user, digest))).execute(conn)
}

/// How many recovery codes the account has left.
pub fn codes_left(conn: &mut PgConnection, user: Uuid) -> QueryResult<i64> {
    recovery_codes::table.filter(recovery_codes::user_id.eq(user)).count().get_result(conn)
}
