//! Readiness: whether the database answers.

use diesel::PgConnection;

use crate::error::AppError;

/// Runs the cheapest query there is.
pub fn ready(conn: &mut PgConnection) -> Result<(), AppError> {
    Ok(crate::db::ping(conn)?)
}
