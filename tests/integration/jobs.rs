use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use time::OffsetDateTime;

use roster::db::jobs::{self, Job};
use roster::jobs::{Handler, Outcome, Worker, MAX_ATTEMPTS};

use crate::common::TestDb;

/// A handler whose every run fails, and which remembers each outcome it was told of.
#[derive(Clone, Default)]
struct AlwaysFails {
    outcomes: Arc<Mutex<Vec<String>>>,
}

impl Handler for AlwaysFails {
    fn kind(&self) -> &'static str {
        "always_fails"
    }
    fn handle(&self, _conn: &mut PgConnection, _job: &Job) -> Result<(), String> {
        Err("the far end said no".into())
    }
    fn record(&self, _conn: &mut PgConnection, _job: &Job, outcome: Outcome<'_>) -> QueryResult<()> {
        let outcome = match outcome {
            Outcome::Done => "done".to_owned(),
            Outcome::Retrying { error, .. } => format!("retrying: {error}"),
            Outcome::GaveUp { error } => format!("gave up: {error}"),
        };
        self.outcomes.lock().unwrap().push(outcome);
        Ok(())
    }
}

/// A handler that succeeds.
struct Succeeds;

impl Handler for Succeeds {
    fn kind(&self) -> &'static str {
        "succeeds"
    }
    fn handle(&self, _conn: &mut PgConnection, _job: &Job) -> Result<(), String> {
        Ok(())
    }
}

fn job(conn: &mut PgConnection, id: uuid::Uuid) -> Job {
    jobs::find(conn, id).unwrap().expect("the job is still there")
}

fn make_due(conn: &mut PgConnection) {
    diesel::sql_query("UPDATE jobs SET run_at = now() - interval '1 second' WHERE status = 'pending'")
        .execute(conn)
        .unwrap();
}

#[test]
fn a_failing_job_is_retried_with_backoff_and_fails_after_the_last_attempt() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let handler = AlwaysFails::default();
    let worker = Worker::new().with(handler.clone());
    let id = jobs::enqueue(&mut conn, "always_fails", &serde_json::json!({ "n": 1 })).unwrap();

    for attempt in 1..MAX_ATTEMPTS {
        let before = OffsetDateTime::now_utc();
        assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 1, "attempt {attempt} runs");
        let after = OffsetDateTime::now_utc();
        let failed = job(&mut conn, id);
        assert_eq!((failed.status.as_str(), failed.attempts), ("pending", attempt));
        assert_eq!(failed.last_error.as_deref(), Some("the far end said no"));
        let delay = time::Duration::seconds(30 * 2i64.pow(attempt as u32 - 1));
        assert!(
            failed.run_at >= before + delay && failed.run_at <= after + delay,
            "attempt {attempt}: retried {delay} later, at {} (run between {before} and {after})",
            failed.run_at
        );
        assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 0, "not due again before its backoff");
        make_due(&mut conn);
    }

    assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 1, "the last attempt runs");
    let given_up = job(&mut conn, id);
    assert_eq!((given_up.status.as_str(), given_up.attempts), ("failed", MAX_ATTEMPTS));
    assert_eq!(given_up.last_error.as_deref(), Some("the far end said no"));
    assert!(given_up.finished_at.is_some());
    make_due(&mut conn);
    assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 0, "a failed job is not run again");

    let outcomes = handler.outcomes.lock().unwrap().clone();
    let mut expected = vec!["retrying: the far end said no".to_owned(); MAX_ATTEMPTS as usize - 1];
    expected.push("gave up: the far end said no".into());
    assert_eq!(outcomes, expected, "the handler is told of each outcome");
}

#[test]
fn a_job_of_a_kind_without_a_handler_is_not_claimed() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let orphan = jobs::enqueue(&mut conn, "nobody_runs_this", &serde_json::json!({})).unwrap();
    let ours = jobs::enqueue(&mut conn, "succeeds", &serde_json::json!({})).unwrap();
    let worker = Worker::new().with(Succeeds);

    assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 1, "only the job it has a handler for");
    let done = job(&mut conn, ours);
    assert_eq!((done.status.as_str(), done.attempts), ("done", 1));
    assert!(done.finished_at.is_some());
    let waiting = job(&mut conn, orphan);
    assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 0));
    assert_eq!(worker.run_due(&mut conn, 10).unwrap(), 0);
    assert!(jobs::claim_due(&mut conn, &["succeeds"], 10, 300).unwrap().is_empty());

    // It was due all along: a worker that knows the kind claims it.
    let claimed = jobs::claim_due(&mut conn, &["nobody_runs_this"], 10, 300).unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![orphan]);
}
