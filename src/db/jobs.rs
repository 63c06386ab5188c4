//! The `jobs` table: the one queue of background work, claimed with leases and retried with backoff.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text};
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::jobs;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to run, or running under a lease.
    Pending,
    /// Ran to the end.
    Done,
    /// Given up on after its last attempt.
    Failed,
}

impl JobStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// Reads a stored value.
    pub fn from_db(value: &str) -> Option<Self> {
        [JobStatus::Pending, JobStatus::Done, JobStatus::Failed].into_iter().find(|s| s.as_str() == value)
    }
}

/// A job waiting to run (`pending`), finished (`done`), or given up on (`failed`).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    /// Stable across retries: a handler may use it to make a repeated run harmless.
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// Attempts started so far, the current one included once claimed.
    pub attempts: i32,
    /// When a pending job is due; while claimed, when its lease runs out.
    pub run_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// Queues one job, due now; call it inside the transaction of the change that causes it.
pub fn enqueue(conn: &mut PgConnection, kind: &str, payload: &serde_json::Value) -> QueryResult<Uuid> {
    diesel::insert_into(jobs::table)
        .values((jobs::id.eq(Uuid::new_v4()), jobs::kind.eq(kind), jobs::payload.eq(payload)))
        .returning(jobs::id)
        .get_result(conn)
}

/// Queues one job of `kind` per payload, in one statement; returns how many were queued.
pub fn enqueue_many(conn: &mut PgConnection, kind: &str, payloads: &[serde_json::Value]) -> QueryResult<usize> {
    if payloads.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> =
        payloads.iter().map(|p| (jobs::id.eq(Uuid::new_v4()), jobs::kind.eq(kind), jobs::payload.eq(p))).collect();
    diesel::insert_into(jobs::table).values(&rows).execute(conn)
}

/// Claims up to `limit` due jobs of the given kinds for one worker: in one statement,
/// jobs that no other worker holds (`FOR UPDATE SKIP LOCKED`) get their attempt
/// counted and a lease (`run_at` pushed by `lease_secs`), so the claimer can run them
/// outside any transaction. If it dies, the lease runs out and another worker retries.
///
/// Each kind is read on its own, in `jobs_due_idx` order, and the earliest due win:
/// `kind = ANY(...) ORDER BY run_at` would sort every due job of a long backlog
/// (mail waiting for an SMTP server) on every claim.
pub fn claim_due(conn: &mut PgConnection, kinds: &[&str], limit: i64, lease_secs: i32) -> QueryResult<Vec<Job>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    // `RETURNING` gives rows in no particular order: they are sorted again, oldest
    // first, so a batch runs in the order its jobs were queued (an invitation's
    // `created` webhook before its `accepted`).
    // Prepared, not `sql_query`: every worker of every instance claims every few seconds.
    super::prepared::prepared(
        "WITH claimed AS ( \
           UPDATE jobs SET attempts = attempts + 1, run_at = now() + make_interval(secs => $3) \
            WHERE id IN (SELECT due.id FROM unnest($1) AS k(kind) \
                         CROSS JOIN LATERAL (SELECT id, run_at FROM jobs \
                                              WHERE status = 'pending' AND kind = k.kind AND run_at <= now() \
                                              ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED) due \
                         ORDER BY due.run_at LIMIT $2) \
            RETURNING id, kind, payload, status, attempts, run_at, last_error, created_at, finished_at) \
         SELECT * FROM claimed ORDER BY created_at, id",
    )
    .bind::<Array<Text>, _>(kinds)
    .bind::<BigInt, _>(limit)
    .bind::<Integer, _>(lease_secs)
    .load(conn)
}

/// Gives back a claimed job that was not run (the worker is stopping): due now, its
/// attempt uncounted, for the next worker; does nothing if the claim was lost meanwhile.
pub fn release(conn: &mut PgConnection, id: Uuid, claimed_attempt: i32) -> QueryResult<usize> {
    diesel::update(
        jobs::table.find(id).filter(jobs::attempts.eq(claimed_attempt)).filter(jobs::status.eq(JobStatus::Pending)),
    )
    .set((jobs::attempts.eq(claimed_attempt - 1), jobs::run_at.eq(OffsetDateTime::now_utc())))
    .execute(conn)
}

/// Records that a job ran to the end, if this worker still holds the claim
/// (`attempts` as claimed); returns 0 when it no longer does.
pub fn mark_done(conn: &mut PgConnection, id: Uuid, claimed_attempt: i32) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id).filter(jobs::attempts.eq(claimed_attempt)))
        .set((
            jobs::status.eq(JobStatus::Done),
            jobs::finished_at.eq(Some(OffsetDateTime::now_utc())),
            jobs::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed attempt: run again at `retry_at`, or given up on (`failed`) when
/// `retry_at` is `None`; only if this worker still holds the claim, else returns 0.
pub fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    claimed_attempt: i32,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    let now = OffsetDateTime::now_utc();
    let target = jobs::table.find(id).filter(jobs::attempts.eq(claimed_attempt));
    match retry_at {
        Some(at) => diesel::update(target)
            .set((jobs::status.eq(JobStatus::Pending), jobs::last_error.eq(error), jobs::run_at.eq(at)))
            .execute(conn),
        None => diesel::update(target)
            .set((
                jobs::status.eq(JobStatus::Failed),
                jobs::last_error.eq(error),
                jobs::run_at.eq(now),
                jobs::finished_at.eq(Some(now)),
            ))
            .execute(conn),
    }
}

/// One job.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Job>> {
    jobs::table.find(id).select(Job::as_select()).first(conn).optional()
}

/// Jobs waiting to run (due or not), counted by kind.
pub fn pending_by_kind(conn: &mut PgConnection) -> QueryResult<Vec<(String, i64)>> {
    jobs::table
        .filter(jobs::status.eq(JobStatus::Pending))
        .group_by(jobs::kind)
        .select((jobs::kind, diesel::dsl::count_star()))
        .load(conn)
}
