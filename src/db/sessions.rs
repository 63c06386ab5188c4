//! The `sessions` table: server-side session state keyed by the SHA-256 of the cookie's key.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::sessions;

/// Loads unexpired session state.
pub fn load(conn: &mut PgConnection, id: &str) -> QueryResult<Option<serde_json::Value>> {
    sessions::table
        .find(id)
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .select(sessions::state)
        .first(conn)
        .optional()
}

/// Inserts or replaces a session's state.
pub fn upsert(
    conn: &mut PgConnection,
    id: &str,
    user_id: Option<Uuid>,
    state: &serde_json::Value,
    expires_at: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user_id),
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
        ))
        .on_conflict(sessions::id)
        .do_update()
        .set((sessions::user_id.eq(user_id), sessions::state.eq(state), sessions::expires_at.eq(expires_at)))
        .execute(conn)
}

/// Pushes back a session's expiry.
pub fn touch(conn: &mut PgConnection, id: &str, expires_at: OffsetDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id)).set(sessions::expires_at.eq(expires_at)).execute(conn)
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

/// Replaces the state of an existing session; 0 when it no longer exists (ended on
/// the server while the request ran), so it is never brought back.
pub fn update(
    conn: &mut PgConnection,
    id: &str,
    user_id: Option<Uuid>,
    state: &serde_json::Value,
    expires_at: OffsetDateTime,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id))
        .set((sessions::user_id.eq(user_id), sessions::state.eq(state), sessions::expires_at.eq(expires_at)))
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
