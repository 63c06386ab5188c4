//! Readiness, and the figures `/metrics` reads from the database.

use diesel::PgConnection;
use time::OffsetDateTime;

use crate::db::{jobs, outbox, sessions};
use crate::error::AppError;

/// Runs the cheapest query there is.
pub fn ready(conn: &mut PgConnection) -> Result<(), AppError> {
    Ok(crate::db::ping(conn)?)
}

/// What the database says about the queues and sessions, for monitoring.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Outbox messages not yet sent, by status.
    pub outbox: Vec<(String, i64)>,
    /// Seconds since the oldest pending message was written.
    pub oldest_pending_secs: Option<f64>,
    /// Background jobs waiting, by kind.
    pub jobs: Vec<(String, i64)>,
    /// Unexpired sessions.
    pub sessions: i64,
    /// Stored secrets that still depend on an older server key, by kind.
    pub sealed_on_older_keys: Vec<(&'static str, i64)>,
}

/// Reads the [`Backlog`] in one read-only transaction (a consistent picture).
pub fn backlog(conn: &mut PgConnection, key: &crate::domain::SealingKey) -> Result<Backlog, AppError> {
    conn.build_transaction().read_only().run(|conn| {
        let unsent = outbox::unsent(conn)?;
        let oldest_pending = unsent.iter().filter(|u| u.status == "pending").find_map(|u| u.oldest);
        Ok(Backlog {
            outbox: unsent.iter().map(|u| (u.status.clone(), u.count)).collect(),
            oldest_pending_secs: oldest_pending.map(|at| (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0)),
            jobs: jobs::pending_by_kind(conn)?,
            sessions: sessions::count_live(conn)?,
            sealed_on_older_keys: super::keys::status(conn, key)?
                .iter()
                .map(|kind| (kind.what, kind.depending_on_older()))
                .collect(),
        })
    })
}
