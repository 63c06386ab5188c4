//! The `mail` job: delivers one outbox message, and keeps what the dev mailbox shows up to date.

use diesel::prelude::*;

use super::transport::Transport;
use crate::db::jobs::Job;
use crate::db::outbox::{self, MailJob};
use crate::jobs::{Handler, Outcome};

/// Delivers the message a `mail` job names through the configured transport.
#[derive(Clone)]
pub struct Deliver {
    transport: Transport,
    /// Attempts by outcome, for `/metrics`.
    attempts: prometheus::IntCounterVec,
}

impl Deliver {
    /// A handler sending through `transport`, counting attempts in `attempts`.
    pub fn new(transport: Transport, attempts: prometheus::IntCounterVec) -> Self {
        Self { transport, attempts }
    }
}

fn message_id(job: &Job) -> Result<uuid::Uuid, String> {
    serde_json::from_value::<MailJob>(job.payload.clone())
        .map(|p| p.message_id)
        .map_err(|e| format!("not a mail job payload: {e}"))
}

impl Handler for Deliver {
    fn kind(&self) -> &'static str {
        outbox::MAIL_JOB
    }

    fn handle(&self, conn: &mut PgConnection, job: &Job) -> Result<(), String> {
        let id = message_id(job)?;
        let message = outbox::find(conn, id)
            .map_err(|e| format!("could not read message {id}: {e}"))?
            .ok_or_else(|| format!("message {id} is not in the outbox"))?;
        tracing::debug!(message_id = %id, "delivering mail");
        self.transport.send(&message)
    }

    /// The message's status follows its job's: `sent`, or `pending` with the last
    /// error while retries remain, then `failed`.
    fn record(&self, conn: &mut PgConnection, job: &Job, outcome: Outcome<'_>) -> QueryResult<()> {
        let Ok(id) = message_id(job) else {
            return Ok(()); // no message to update; the job keeps the error
        };
        match outcome {
            Outcome::Done => outbox::mark_sent(conn, id),
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
