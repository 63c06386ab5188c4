//! The outbox worker: delivers due messages with retries and backoff; several
//! instances can run at once thanks to `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;

use super::transport::Transport;
use crate::db::{outbox, rate_limits, sessions, Db, RunError};

/// Attempts before a message is marked failed (the last retry comes about 4 hours after the first try).
const MAX_ATTEMPTS: i32 = 8;

/// How long a claimed message is reserved for the worker sending it.
const LEASE_SECS: i32 = 300;

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
                outbox::mark_sent(conn, message.id)?;
            }
            Err(error) => {
                let attempts = message.attempts;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                    OffsetDateTime::now_utc() + time::Duration::seconds(30 * 2i64.pow(attempts.max(1) as u32 - 1))
                });
                tracing::warn!(message_id = %message.id, attempts, %error, "mail delivery failed");
                outbox::mark_attempt_failed(conn, message.id, &error, retry_at)?;
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

/// Runs forever: delivers what is due, sleeps `idle` when nothing was, and
/// now and then clears expired sessions and rate-limit windows.
pub async fn run(db: Db, transport: Transport, idle: Duration) {
    let mut rounds: u64 = 0;
    loop {
        let transport_for_round = transport.clone();
        let housekeeping = rounds % 300 == 0;
        let result = db
            .run(move |conn| -> Result<usize, WorkerError> {
                if housekeeping {
                    sessions::delete_expired(conn)?;
                    rate_limits::delete_stale(conn)?;
                }
                Ok(deliver_due(conn, &transport_for_round, 20)?)
            })
            .await;
        rounds += 1;
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
