//! Server-side sessions: what the session store behind the cookie reads and writes.
//! Sessions are rows, so signing out, a password change or the operator's
//! `sign-out-everywhere` end them for every browser at once.

use diesel::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::sessions;
use crate::error::AppError;

/// A live session's state, by row id; `None` once it expired or was ended.
pub fn load(conn: &mut PgConnection, id: &str) -> Result<Option<serde_json::Value>, AppError> {
    Ok(sessions::load(conn, id)?)
}

/// Starts (or replaces) a session.
pub fn create(
    conn: &mut PgConnection,
    id: &str,
    user: Option<Uuid>,
    state: &serde_json::Value,
    expires_at: OffsetDateTime,
) -> Result<(), AppError> {
    sessions::upsert(conn, id, user, state, expires_at)?;
    Ok(())
}

/// Saves a live session's state; `false` when it was ended on the server meanwhile,
/// so that it is never brought back.
pub fn save(
    conn: &mut PgConnection,
    id: &str,
    user: Option<Uuid>,
    state: &serde_json::Value,
    expires_at: OffsetDateTime,
) -> Result<bool, AppError> {
    Ok(sessions::update(conn, id, user, state, expires_at)? == 1)
}

/// Pushes back a session's expiry.
pub fn extend(conn: &mut PgConnection, id: &str, expires_at: OffsetDateTime) -> Result<(), AppError> {
    sessions::touch(conn, id, expires_at)?;
    Ok(())
}

/// Ends one session.
pub fn end(conn: &mut PgConnection, id: &str) -> Result<(), AppError> {
    sessions::delete(conn, id)?;
    Ok(())
}
