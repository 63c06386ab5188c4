//! An account's second factors: its authenticator app, its passkeys and its recovery codes.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{authenticator_apps, passkey_ceremonies, passkeys, recovery_codes};

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

/// Removes the account's authenticator app; `0` when it had none.
pub fn remove_app(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::delete(authenticator_apps::table.find(user)).execute(conn)
}

/// Removes the account's recovery codes.
pub fn remove_codes(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user))).execute(conn)
}

/// Removes every second factor of the account: its app, passkeys and recovery codes.
pub fn remove_all(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    remove_codes(conn, user)?;
    let keys = diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user))).execute(conn)?;
    Ok(keys + remove_app(conn, user)?)
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

/// A passkey of an account, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub credential_id: Vec<u8>,
    pub name: String,
    /// webauthn-rs's `Passkey`, as JSON.
    pub credential: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// The account's passkeys, oldest first.
pub fn passkeys_of(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<PasskeyRow>> {
    passkeys::table
        .filter(passkeys::user_id.eq(user))
        .order((passkeys::created_at, passkeys::id))
        .select(PasskeyRow::as_select())
        .load(conn)
}

/// Adds a passkey; `None` when its credential id is registered already (to any account).
pub fn add_passkey(
    conn: &mut PgConnection,
    user: Uuid,
    credential_id: &[u8],
    name: &str,
    credential: &serde_json::Value,
) -> QueryResult<Option<PasskeyRow>> {
    diesel::insert_into(passkeys::table)
        .values((
            passkeys::id.eq(Uuid::new_v4()),
            passkeys::user_id.eq(user),
            passkeys::credential_id.eq(credential_id),
            passkeys::name.eq(name),
            passkeys::credential.eq(credential),
        ))
        .on_conflict_do_nothing()
        .returning(PasskeyRow::as_returning())
        .get_result(conn)
        .optional()
}

/// The account's passkey with this credential id, locked for its use.
pub fn lock_passkey(conn: &mut PgConnection, user: Uuid, credential_id: &[u8]) -> QueryResult<Option<PasskeyRow>> {
    passkeys::table
        .filter(passkeys::user_id.eq(user))
        .filter(passkeys::credential_id.eq(credential_id))
        .for_update()
        .select(PasskeyRow::as_select())
        .first(conn)
        .optional()
}

/// Records a use of a passkey: its updated credential (the counter) and when.
pub fn passkey_used(conn: &mut PgConnection, id: Uuid, credential: &serde_json::Value) -> QueryResult<usize> {
    diesel::update(passkeys::table.find(id))
        .set((passkeys::credential.eq(credential), passkeys::last_used_at.eq(diesel::dsl::now)))
        .execute(conn)
}

/// Removes one of the account's passkeys; `None` when it has no such passkey.
pub fn remove_passkey(conn: &mut PgConnection, user: Uuid, id: Uuid) -> QueryResult<Option<PasskeyRow>> {
    diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user)).filter(passkeys::id.eq(id)))
        .returning(PasskeyRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Keeps a passkey ceremony's state under `id` (of `kind`, for `user` when one is
/// known) until `expires_at`.
pub fn keep_ceremony(
    conn: &mut PgConnection,
    id: Uuid,
    kind: &str,
    user: Option<Uuid>,
    state: &serde_json::Value,
    expires_at: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(passkey_ceremonies::table)
        .values((
            passkey_ceremonies::id.eq(id),
            passkey_ceremonies::kind.eq(kind),
            passkey_ceremonies::user_id.eq(user),
            passkey_ceremonies::state.eq(state),
            passkey_ceremonies::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Takes a ceremony's state back, once: `None` when it is unknown, used, expired, of
/// another kind, or another account's.
pub fn take_ceremony(
    conn: &mut PgConnection,
    id: Uuid,
    kind: &str,
    user: Option<Uuid>,
) -> QueryResult<Option<serde_json::Value>> {
    diesel::delete(
        passkey_ceremonies::table
            .find(id)
            .filter(passkey_ceremonies::kind.eq(kind))
            .filter(passkey_ceremonies::user_id.is_not_distinct_from(user))
            .filter(passkey_ceremonies::expires_at.gt(diesel::dsl::now)),
    )
    .returning(passkey_ceremonies::state)
    .get_result(conn)
    .optional()
}

/// Sweeps ceremonies nobody finished.
pub fn delete_expired_ceremonies(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(passkey_ceremonies::table.filter(passkey_ceremonies::expires_at.le(diesel::dsl::now))).execute(conn)
}
