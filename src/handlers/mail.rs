//! The `mail` job: delivers one outbox message, and keeps what the dev mailbox shows up to date.

use diesel::prelude::*;

use crate::db::jobs::Job;
use crate::db::outbox::{self, MailJob};
use crate::db::{Db, RunError};
use crate::domain::SealingKey;
use crate::jobs::{Handler, Outcome};
use crate::mail::transport::Transport;

/// Delivers the message a `mail` job names through the configured transport.
#[derive(Clone)]
pub struct Deliver {
    transport: Transport,
    /// Opens the bodies sealed in the outbox.
    key: SealingKey,
    /// Attempts by outcome, for `/metrics`.
    attempts: prometheus::IntCounterVec,
}

impl Deliver {
    /// A handler sending through `transport` what `key` opens, counting attempts in `attempts`.
    pub fn new(transport: Transport, key: SealingKey, attempts: prometheus::IntCounterVec) -> Self {
        Self { transport, key, attempts }
    }
}

fn message_id(job: &Job) -> Result<uuid::Uuid, String> {
    serde_json::from_value::<MailJob>(job.payload.clone())
        .map(|p| p.message_id)
        .map_err(|e| format!("not a mail job payload: {e}"))
}

/// A failure to read a message, as the job keeps it.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

#[async_trait::async_trait]
impl Handler for Deliver {
    fn kind(&self) -> &'static str {
        outbox::MAIL_JOB
    }

    /// Reads the message, then talks to the SMTP server holding no connection.
    async fn handle(&self, db: &Db, job: &Job) -> Result<(), String> {
        let id = message_id(job)?;
        let message = db
            .run(move |conn| -> Result<_, ReadError> { Ok(outbox::find(conn, id)?) })
            .await
            .map_err(|e| format!("could not read message {id}: {e}"))?
            .ok_or_else(|| format!("message {id} is not in the outbox"))?;
        let bodies = message.bodies(&self.key).ok_or_else(|| {
            format!(
                "message {id} cannot be opened: it was sealed under another ROSTER_SESSION_KEY, \
                 or changed in the database"
            )
        })?;
        tracing::debug!(message_id = %id, "delivering mail");
        self.transport.send(&message, &bodies).await
    }

    /// The message's status follows its job's: `sent`, or `pending` with the last
    /// error while retries remain, then `failed`.
    fn record(&self, conn: &mut PgConnection, job: &Job, outcome: Outcome<'_>) -> QueryResult<()> {
        let Ok(id) = message_id(job) else {
            return Ok(()); // no message to update; the job keeps the error
        };
        match outcome {
            // The dev mailbox is where its mail is read: it keeps the bodies, sealed.
            Outcome::Done => outbox::mark_sent(conn, id, self.transport.is_dev_mailbox()),
            Outcome::Retrying { error, .. } => outbox::mark_attempt_failed(conn, id, error, false),
            Outcome::GaveUp { error } => outbox::mark_attempt_failed(conn, id, error, true),
        }
        .map(|_| ())
    }

    /// Counts the attempt once its outcome is committed, so a retried record counts once.
    fn recorded(&self, outcome: Outcome<'_>) {
        let counted = match outcome {
            Outcome::Done => "sent",
            Outcome::Retrying { .. } => "retrying",
            Outcome::GaveUp { .. } => "failed",
        };
        self.attempts.with_label_values(&[counted]).inc();
    }
}
