//! The job worker: a handler per kind, leases, retries with backoff; instances share the queue safely.
//!
//! The worker takes a pooled connection only to claim jobs and to record each outcome
//! ([`Db::run`]); a handler gets the [`Db`] and takes its own connections around its
//! network I/O, so no connection waits on SMTP, DNS or HTTP. The handlers are in
//! `crate::handlers`.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::db::jobs::{self, Job};
use crate::db::{Db, RunError};

/// Attempts before a job is marked failed (the last retry comes about 4 hours after the first try).
pub const MAX_ATTEMPTS: i32 = 8;

/// Jobs claimed at once.
pub const BATCH: i64 = 20;
/// How long claimed jobs are reserved: longer than running a whole batch can take
/// when each job takes at most 30 s (mail: the SMTP timeout is 20 s), so no other
/// worker runs them meanwhile.
pub const LEASE_SECS: i32 = 30 * BATCH as i32;

/// What became of one attempt at a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// It ran to the end: the job is `done`.
    Done,
    /// It failed and runs again at `retry_at`.
    Retrying { error: &'a str, retry_at: OffsetDateTime },
    /// It failed for the last time: the job is `failed`.
    GaveUp { error: &'a str },
}

/// Runs the jobs of one kind.
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    /// The kind of job this handler runs.
    fn kind(&self) -> &'static str;

    /// Runs one job, outside any transaction: reads what it needs with `db.run`, does
    /// its network I/O holding no connection, and writes what it found with `db.run`.
    /// Jobs run at least once: after a crash or a lost lease the same job (same `id`)
    /// runs again, so the work must bear repeating. An error is kept on the job,
    /// which is retried later.
    async fn handle(&self, db: &Db, job: &Job) -> Result<(), String>;

    /// Records an attempt's outcome beside the job's own, in the same transaction and
    /// only while this worker still holds the claim. Does nothing unless overridden.
    fn record(&self, _conn: &mut PgConnection, _job: &Job, _outcome: Outcome<'_>) -> QueryResult<()> {
        Ok(())
    }

    /// Told once an attempt's outcome is committed (for counting). Does nothing unless overridden.
    fn recorded(&self, _outcome: Outcome<'_>) {}

    /// When a job that failed its `attempts`-th attempt runs again; `None`: it is given
    /// up. [`retry_at`] unless overridden.
    fn retry_at(&self, attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        retry_at(attempts, now)
    }
}

/// When a job that failed its `attempts`-th attempt runs again: 30 s, 1 min, 2 min, ...
/// doubling each time; `None` once it has had `MAX_ATTEMPTS`.
pub fn retry_at(attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    (attempts < MAX_ATTEMPTS).then(|| now + time::Duration::seconds(30 * 2i64.pow(attempts.max(1) as u32 - 1)))
}

/// A set of handlers, one per kind: the worker claims jobs of these kinds only.
#[derive(Clone, Default)]
pub struct Worker {
    handlers: Vec<Arc<dyn Handler>>,
}

impl Worker {
    /// A worker with no handlers, which claims nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the handler of one kind, replacing any handler of that kind added before.
    pub fn with(mut self, handler: impl Handler + 'static) -> Self {
        self.handlers.retain(|h| h.kind() != handler.kind());
        self.handlers.push(Arc::new(handler));
        self
    }

    /// The kinds this worker claims.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.iter().map(|h| h.kind()).collect()
    }

    /// True when the worker has no handler, so would never claim anything.
    pub fn is_empty(&self) -> bool {
        self.handlers.is_empty()
    }

    /// One round: claims up to `batch` due jobs of this worker's kinds, then runs each
    /// outside any transaction and records each outcome on its own, so one slow or
    /// failing job holds no locks and a failed write after a run repeats at most that
    /// one job. Returns how many jobs were claimed.
    pub async fn run_due(&self, db: &Db, batch: i64) -> Result<usize, WorkerError> {
        self.run_due_until(db, batch, &|| false).await
    }

    /// [`Worker::run_due`], stopping after the job it is running once `stopping` says
    /// so: the jobs it claimed and did not start are given back, due at once.
    pub async fn run_due_until(
        &self,
        db: &Db,
        batch: i64,
        stopping: &(dyn Fn() -> bool + Sync),
    ) -> Result<usize, WorkerError> {
        let kinds = self.kinds();
        let claimed: Vec<Job> = db
            .run(move |conn| -> Result<_, WorkerError> { Ok(jobs::claim_due(conn, &kinds, batch, LEASE_SECS)?) })
            .await?;
        for (done, job) in claimed.iter().enumerate() {
            if stopping() {
                let unstarted: Vec<(uuid::Uuid, i32)> = claimed[done..].iter().map(|j| (j.id, j.attempts)).collect();
                let released = unstarted.len();
                db.run(move |conn| -> Result<(), WorkerError> {
                    for (id, attempts) in unstarted {
                        jobs::release(conn, id, attempts)?;
                    }
                    Ok(())
                })
                .await?;
                tracing::info!(released, "job worker stopped; unstarted jobs given back");
                break;
            }
            let Some(handler) = self.handlers.iter().find(|h| h.kind() == job.kind) else {
                continue; // claim_due returns only our kinds
            };
            tracing::debug!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, "running job");
            let result = handler.handle(db, job).await;
            let (handler, job) = (handler.clone(), job.clone());
            db.run(move |conn| -> Result<(), WorkerError> { Ok(record(conn, handler.as_ref(), &job, result)?) })
                .await?;
        }
        Ok(claimed.len())
    }

    /// Runs until `stop` is cancelled: runs what is due, and sleeps `idle` when nothing
    /// was. Once stopped, it finishes the job it is running and returns.
    pub async fn run(self, db: Db, idle: Duration, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let token = stop.clone();
            let result = self.run_due_until(&db, BATCH, &|| token.is_cancelled()).await;
            let pause = match result {
                Ok(0) => idle,
                Ok(_) => continue,
                Err(error) => {
                    tracing::warn!(%error, "job worker could not run");
                    idle
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => {}
            }
        }
    }
}

/// Records the outcome of one attempt, with the handler's own record of it, if this
/// worker still holds the claim; otherwise another worker has the job now.
fn record(conn: &mut PgConnection, handler: &dyn Handler, job: &Job, result: Result<(), String>) -> QueryResult<()> {
    let recorded = conn.transaction(|conn| {
        let (held, outcome) = match &result {
            Ok(()) => (jobs::mark_done(conn, job.id, job.attempts)?, Outcome::Done),
            Err(error) => match handler.retry_at(job.attempts, OffsetDateTime::now_utc()) {
                Some(at) => (
                    jobs::mark_failed(conn, job.id, job.attempts, error, Some(at))?,
                    Outcome::Retrying { error, retry_at: at },
                ),
                None => (jobs::mark_failed(conn, job.id, job.attempts, error, None)?, Outcome::GaveUp { error }),
            },
        };
        match outcome {
            Outcome::Done => tracing::debug!(job_id = %job.id, kind = %job.kind, "job done"),
            Outcome::Retrying { error, .. } | Outcome::GaveUp { error } => {
                let gave_up = matches!(outcome, Outcome::GaveUp { .. });
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempts = job.attempts, gave_up, %error, "job failed");
            }
        }
        if held == 0 {
            tracing::warn!(job_id = %job.id, kind = %job.kind, "job lease ran out before its outcome was recorded");
            return Ok(None);
        }
        handler.record(conn, job, outcome).map(|()| Some(outcome))
    })?;
    if let Some(outcome) = recorded {
        handler.recorded(outcome);
    }
    Ok(())
}

/// Why a round of the worker could not run: no connection, or a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_thirty_seconds_doubling_until_the_last_attempt() {
        let now = OffsetDateTime::now_utc();
        let delays: Vec<_> =
            (1..=MAX_ATTEMPTS).map(|n| retry_at(n, now).map(|at| (at - now).whole_seconds())).collect();
        assert_eq!(delays, vec![Some(30), Some(60), Some(120), Some(240), Some(480), Some(960), Some(1920), None]);
    }
}
