use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use time::OffsetDateTime;

use roster::db::jobs::{self, Job};
use roster::db::Db;
use roster::jobs::{Handler, Outcome, Worker, MAX_ATTEMPTS};

use crate::common::TestDb;

/// A handler whose every run fails, and which remembers each outcome it was told of.
#[derive(Clone, Default)]
struct AlwaysFails {
    outcomes: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl Handler for AlwaysFails {
    fn kind(&self) -> &'static str {
        "always_fails"
    }
    async fn handle(&self, _db: &Db, _job: &Job) -> Result<(), String> {
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

#[async_trait::async_trait]
impl Handler for Succeeds {
    fn kind(&self) -> &'static str {
        "succeeds"
    }
    async fn handle(&self, _db: &Db, _job: &Job) -> Result<(), String> {
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

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_and_fails_after_the_last_attempt() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let pool = db.pool(2);
    let handler = AlwaysFails::default();
    let worker = Worker::new().with(handler.clone());
    let id = jobs::enqueue(&mut conn, "always_fails", &serde_json::json!({ "n": 1 })).unwrap();

    for attempt in 1..MAX_ATTEMPTS {
        let before = OffsetDateTime::now_utc();
        assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 1, "attempt {attempt} runs");
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
        assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 0, "not due again before its backoff");
        make_due(&mut conn);
    }

    assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 1, "the last attempt runs");
    let given_up = job(&mut conn, id);
    assert_eq!((given_up.status.as_str(), given_up.attempts), ("failed", MAX_ATTEMPTS));
    assert_eq!(given_up.last_error.as_deref(), Some("the far end said no"));
    assert!(given_up.finished_at.is_some());
    make_due(&mut conn);
    assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 0, "a failed job is not run again");

    let outcomes = handler.outcomes.lock().unwrap().clone();
    let mut expected = vec!["retrying: the far end said no".to_owned(); MAX_ATTEMPTS as usize - 1];
    expected.push("gave up: the far end said no".into());
    assert_eq!(outcomes, expected, "the handler is told of each outcome");
}

#[tokio::test]
async fn a_job_of_a_kind_without_a_handler_is_not_claimed() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let pool = db.pool(2);
    let orphan = jobs::enqueue(&mut conn, "nobody_runs_this", &serde_json::json!({})).unwrap();
    let ours = jobs::enqueue(&mut conn, "succeeds", &serde_json::json!({})).unwrap();
    let worker = Worker::new().with(Succeeds);

    assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 1, "only the job it has a handler for");
    let done = job(&mut conn, ours);
    assert_eq!((done.status.as_str(), done.attempts), ("done", 1));
    assert!(done.finished_at.is_some());
    let waiting = job(&mut conn, orphan);
    assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 0));
    assert_eq!(worker.run_due(&pool, 10).await.unwrap(), 0);
    assert!(jobs::claim_due(&mut conn, &["succeeds"], 10, 300).unwrap().is_empty());

    // It was due all along: a worker that knows the kind claims it.
    let claimed = jobs::claim_due(&mut conn, &["nobody_runs_this"], 10, 300).unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![orphan]);
}

/// A mail job waits on an SMTP server that accepts the connection and says nothing:
/// meanwhile the only pooled connection is free for anyone else, because the handler
/// reads the message, gives the connection back, and only then talks to the server.
#[tokio::test]
async fn a_job_handler_holds_no_pooled_connection_while_it_waits_on_the_network() {
    use roster::db::outbox::{self, NewMessage};
    use roster::handlers::mail::Deliver;
    use roster::mail::transport::Transport;
    use tokio::io::AsyncWriteExt as _;

    let db = TestDb::new();
    let pool = db.pool(1);
    let key = roster::domain::SealingKey::derive_from(&[7u8; 64]);
    let message = NewMessage {
        to: "ada@example.com".into(),
        to_name: None,
        subject: "Hello".into(),
        text_body: "Hello".into(),
        html_body: "<p>Hello</p>".into(),
    };
    let id = outbox::enqueue(&mut db.conn(), &key, &message).unwrap();

    // The SMTP server: accepts, says so, and answers only when told to.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp = format!("smtp://{}", listener.local_addr().unwrap());
    let (accepted, connected) = tokio::sync::oneshot::channel();
    let (answer, told) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        accepted.send(()).unwrap();
        let _ = told.await;
        let _ = stream.write_all(b"554 5.3.2 Not now\r\n").await;
    });

    let transport = Transport::from_settings(Some(&smtp), "Roster <roster@localhost>", "roster.example.com").unwrap();
    let worker = Worker::new().with(Deliver::new(transport, key, roster::metrics::Metrics::new().mail.clone()));
    let running = tokio::spawn({
        let pool = pool.clone();
        async move { worker.run_due(&pool, 10).await.unwrap() }
    });
    connected.await.unwrap();
    // The pool gives up on a wait after 3 s: this would fail if the handler held its only connection.
    let ping = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        pool.run(|conn| -> Result<bool, roster::db::RunError> { Ok(roster::db::ping(conn).is_ok()) }),
    )
    .await;
    assert!(matches!(ping, Ok(Ok(true))), "the pool's connection was free while the server was silent: {ping:?}");
    assert_eq!(pool.pool().state().connections - pool.pool().state().idle_connections, 0, "none checked out");

    answer.send(()).unwrap();
    assert_eq!(running.await.unwrap(), 1, "the job ran");
    let message = outbox::find(&mut db.conn(), id).unwrap().unwrap();
    assert_eq!(message.status, "pending", "it is retried later");
    assert!(message.last_error.is_some_and(|e| e.contains("554")), "the server's refusal is kept");
}
