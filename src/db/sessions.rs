//! The `sessions` table: server-side session state keyed by the SHA-256 of the cookie's key.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Jsonb, Nullable, Text, Uuid as SqlUuid};
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::sessions;

/// How long sessions last: `absolute` after sign-in at most, and `idle` after their last use.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub absolute: Duration,
    pub idle: Duration,
}

/// Where a session was signed in from, as its browser said.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip_address: String,
}

/// A live session as one request reads it.
#[derive(Debug, QueryableByName)]
pub struct Loaded {
    #[diesel(sql_type = Jsonb)]
    pub state: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub last_seen_at: OffsetDateTime,
    /// The database's snapshot as this statement saw it (`pg_current_snapshot()`:
    /// which transactions had committed), so that a page read after it can tell
    /// later whether anything was written since (`web::page_cache`); with when the
    /// server started, so that another server (a promoted standby, a restore) whose
    /// transaction ids reach the same snapshot never reads as the same.
    #[diesel(sql_type = Text)]
    pub snapshot: String,
}

/// A live session's state, with when it was last used and the snapshot it was read in.
pub fn load(conn: &mut PgConnection, id: &str) -> QueryResult<Option<Loaded>> {
    super::prepared::prepared(
        "SELECT state, last_seen_at, \
                pg_current_snapshot()::text || ' ' || pg_postmaster_start_time()::text AS snapshot \
           FROM sessions WHERE id = $1 AND expires_at > now()",
    )
    .bind::<Text, _>(id)
    .get_result(conn)
    .optional()
}

/// Inserts or replaces a session, used now; it ends after the sooner of its two lifetimes.
pub fn upsert(
    conn: &mut PgConnection,
    id: &str,
    user_id: Option<Uuid>,
    methods: &[String],
    state: &serde_json::Value,
    device: &Device,
    lifetimes: Lifetimes,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO sessions (id, user_id, state, user_agent, ip_address, expires_at, last_seen_at, sign_in_methods) \
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => least($6, $7)), now(), $8) \
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, state = EXCLUDED.state, \
             sign_in_methods = EXCLUDED.sign_in_methods, \
             user_agent = EXCLUDED.user_agent, ip_address = EXCLUDED.ip_address, \
             expires_at = EXCLUDED.expires_at, last_seen_at = EXCLUDED.last_seen_at",
    )
    .bind::<Text, _>(id)
    .bind::<Nullable<SqlUuid>, _>(user_id)
    .bind::<Jsonb, _>(state)
    .bind::<Text, _>(&device.user_agent)
    .bind::<Text, _>(&device.ip_address)
    .bind::<Double, _>(lifetimes.absolute.as_secs_f64())
    .bind::<Double, _>(lifetimes.idle.as_secs_f64())
    .bind::<Array<Text>, _>(methods)
    .execute(conn)
}

/// Marks a live session used now, which pushes its idle end back (never past its absolute end).
pub fn touch(conn: &mut PgConnection, id: &str, lifetimes: Lifetimes) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE sessions SET last_seen_at = now(), \
             expires_at = least(created_at + make_interval(secs => $2), now() + make_interval(secs => $3)) \
         WHERE id = $1 AND expires_at > now()",
    )
    .bind::<Text, _>(id)
    .bind::<Double, _>(lifetimes.absolute.as_secs_f64())
    .bind::<Double, _>(lifetimes.idle.as_secs_f64())
    .execute(conn)
}

/// Deletes one session.
pub fn delete(conn: &mut PgConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id)).execute(conn)
}

/// Ends every session of a user.
pub fn delete_for_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Removes expired rows; called now and then by the background worker.
pub fn delete_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(diesel::dsl::now))).execute(conn)
}

/// Replaces the state of a live session and marks it used now; 0 when it no longer
/// exists (ended on the server while the request ran), so it is never brought back.
pub fn update(
    conn: &mut PgConnection,
    id: &str,
    user_id: Option<Uuid>,
    methods: &[String],
    state: &serde_json::Value,
    device: &Device,
    lifetimes: Lifetimes,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE sessions SET user_id = $2, state = $3, user_agent = $4, ip_address = $5, last_seen_at = now(), \
             sign_in_methods = $8, \
             expires_at = least(created_at + make_interval(secs => $6), now() + make_interval(secs => $7)) \
         WHERE id = $1 AND expires_at > now()",
    )
    .bind::<Text, _>(id)
    .bind::<Nullable<SqlUuid>, _>(user_id)
    .bind::<Jsonb, _>(state)
    .bind::<Text, _>(&device.user_agent)
    .bind::<Text, _>(&device.ip_address)
    .bind::<Double, _>(lifetimes.absolute.as_secs_f64())
    .bind::<Double, _>(lifetimes.idle.as_secs_f64())
    .bind::<Array<Text>, _>(methods)
    .execute(conn)
}

/// A signed-in session as its owner sees it listed.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SignedInSession {
    /// The row id, to tell the session of the request apart; never shown.
    pub id: String,
    pub public_id: Uuid,
    pub user_agent: String,
    pub ip_address: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// How it signed in (`password`, ...), as [`crate::domain::sign_in::Method`] names them.
    pub sign_in_methods: Vec<String>,
}

/// A user's live sessions, most recently used first.
pub fn live_for_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<SignedInSession>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .order((sessions::last_seen_at.desc(), sessions::public_id))
        .select(SignedInSession::as_select())
        .load(conn)
}

/// Ends the user's session named `public_id`, unless it is `keep`; 0 when there is none.
pub fn delete_by_public_id(conn: &mut PgConnection, user_id: Uuid, public_id: Uuid, keep: &str) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::public_id.eq(public_id))
            .filter(sessions::id.ne(keep)),
    )
    .execute(conn)
}

/// Ends every session of the user but `keep`.
pub fn delete_others(conn: &mut PgConnection, user_id: Uuid, keep: &str) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::expires_at.gt(diesel::dsl::now)),
    )
    .execute(conn)
}

/// Signed-in sessions that have not expired.
pub fn count_live(conn: &mut PgConnection) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::user_id.is_not_null())
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
}
