//! The outbox worker: delivers due messages with retries and backoff; several
//! instances can run at once thanks to `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;

use super::transport::Transport;
use crate::db::{outbox, rate_limits, sessions, Db, RunError};

/// Attempts before a message is marked failed (the last retry comes about 4 hours after the first try).
const MAX_ATTEMPTS: i32 = 8;

/// Messages claimed at once.
pub const BATCH: i64 = 20;
/// How long claimed messages are reserved: longer than sending a whole batch can
/// take with the SMTP timeout (20 s each), so no other worker sends them meanwhile.
const LEASE_SECS: i32 = 30 * BATCH as i32;

/// Claims up to `batch` due messages, then sends each outside any transaction and
/// records the outcome on its own, so one slow or failing message holds no locks and
/// a failed write after a send can duplicate at most that one message.
pub fn deliver_due(conn: &mut PgConnection, transport: &Transport, batch: i64) -> QueryResult<usize> {
    let claimed = outbox::claim_due(conn, batch, LEASE_SECS)?;
    for message in &claimed {
        tracing::debug!(message_id = %message.id, "delivering mail");
        match transport.send(message) {
            Ok(()) => {
                tracing::debug!(message_id = %message.id, "mail delivered");
                outbox::mark_sent(conn, message.id, message.attempts)?;
            }
            Err(error) => {
                let attempts = message.attempts;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    OffsetDateTime::now_utc() + time::Duration::seconds(30 * 2i64.pow(attempts.max(1) as u32 - 1))
                });
                tracing::warn!(message_id = %message.id, attempts, %error, "mail delivery failed");
                outbox::mark_attempt_failed(conn, message.id, message.attempts, &error, retry_at)?;
            }
        }
    }
    Ok(claimed.len())
}

#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Runs forever: delivers what is due, and sleeps `idle` when nothing was.
pub async fn run(db: Db, transport: Transport, idle: Duration) {
    loop {
        let transport_for_round = transport.clone();
        let result = db
            .run(move |conn| -> Result<usize, WorkerError> { Ok(deliver_due(conn, &transport_for_round, BATCH)?) })
            .await;
        match result {
            Ok(0) => tokio::time::sleep(idle).await,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "outbox worker could not run");
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// Runs forever, whether or not mail can be delivered: every ten minutes, deletes
/// expired sessions and rate-limit windows that ended long ago.
pub async fn housekeeping(db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let result = db
            .run(|conn| -> Result<(usize, usize), WorkerError> {
                Ok((sessions::delete_expired(conn)?, rate_limits::delete_stale(conn)?))
            })
            .await;
        match result {
            Ok((sessions, windows)) => tracing::debug!(sessions, windows, "housekeeping"),
            Err(error) => tracing::warn!(%error, "housekeeping could not run"),
        }
    }
}
