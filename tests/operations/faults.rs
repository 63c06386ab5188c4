//! A PostgreSQL of the test's own, stopped, restarted, frozen and thawed under load:
//! requests in flight fail cleanly (the 503 page), nothing is half-done, and the
//! pool recovers without restarting Roster.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::postgres::OwnPostgres;
use super::{common, scratch_dir, Roster, Visitor};

pub fn seed(url: &str) {
    use diesel::Connection as _;
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    let password = roster::domain::NewPassword::parse(common::PASSWORD, common::PASSWORD).unwrap();
    let hash = roster::services::passwords::hash(&password).unwrap();
    let email = roster::domain::EmailAddress::parse("olivia@example.com").unwrap();
    let name = roster::domain::PersonName::parse("Olivia").unwrap();
    roster::services::demo::create_verified_user(&mut conn, &name, &email, &hash).unwrap();
    let acme = roster::domain::OrgName::parse("Acme").unwrap();
    roster::services::demo::create_org_for(&mut conn, &email, &acme, 100_000).unwrap();
}

/// What the load saw: each answer's status, and the slowest answer.
#[derive(Default)]
struct Seen {
    statuses: Vec<u16>,
    slowest: Duration,
    /// Bodies of answers that were neither a success nor the 503 page.
    odd: Vec<String>,
    /// Invitations the server said it sent.
    sent: Vec<String>,
}

/// Browsing and inviting, `workers` at a time, until `stop` is set.
async fn load(olivia: Arc<Visitor>, workers: usize, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    let next = Arc::new(AtomicUsize::new(0));
    // Read once, as a page open in a browser holds it: the pages that would give it
    // afresh are down with the database.
    let token = Arc::new(olivia.csrf_token().await);
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let (olivia, stop, seen, next) = (olivia.clone(), stop.clone(), seen.clone(), next.clone());
            let token = token.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (response, address) = if worker % 2 == 0 {
                        (olivia.get("/orgs/acme/members").await, None)
                    } else {
                        let address = format!("person{}@example.com", next.fetch_add(1, Ordering::Relaxed));
                        let fields = [("emails", address.as_str()), ("role", "member"), ("csrf_token", token.as_str())];
                        (olivia.post_as_is("/orgs/acme/invitations", &fields).await, Some(address))
                    };
                    let status = response.status();
                    let retry_after = response.headers().contains_key("retry-after");
                    let body = response.text().await.unwrap_or_default();
                    {
                        let mut seen = seen.lock().unwrap();
                        seen.slowest = seen.slowest.max(started.elapsed());
                        seen.statuses.push(status.as_u16());
                        match status {
                            StatusCode::OK => {
                                if let Some(address) = address.filter(|_| body.contains("<strong>1 sent.</strong>")) {
                                    seen.sent.push(address);
                                }
                            }
                            StatusCode::SERVICE_UNAVAILABLE if retry_after && body.contains("Busy right now") => {}
                            _ => seen.odd.push(format!("{status}: {}", body.chars().take(600).collect::<String>())),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Waits (bounded) until the Members page answers 200 again.
async fn until_served(olivia: &Visitor, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if olivia.get("/orgs/acme/members").await.status() == StatusCode::OK {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "Roster did not recover within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_stopped_restarted_and_frozen_under_load_costs_clean_503s_and_nothing_half_done() {
    let postgres = tokio::task::spawn_blocking(OwnPostgres::start).await.unwrap();
    let home = scratch_dir();
    let env = vec![
        ("DATABASE_URL", postgres.url("roster")),
        ("ROSTER_REQUEST_TIMEOUT", "3s".to_owned()),
        ("ROSTER_SESSION_KEY", "a-session-key-for-the-faults-test-xxxxx".repeat(2)),
    ];
    let roster = Roster::start(&home, &[], &env).await;
    let url = postgres.url("roster");
    tokio::task::spawn_blocking(move || seed(&url)).await.unwrap();
    let olivia = Arc::new(Visitor::new(&roster.address));
    olivia.sign_in("olivia@example.com", common::PASSWORD).await;

    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Seen::default())));
    let running = tokio::spawn(load(olivia.clone(), 8, stop.clone(), seen.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Stopped (every connection cut, in flight or idle), then started again.
    tokio::task::block_in_place(|| postgres.stop());
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::block_in_place(|| postgres.pg_ctl_start());
    let after_restart = until_served(&olivia, Duration::from_secs(20)).await;

    // Frozen: connections open, nothing answers; then thawed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let frozen = postgres.freeze();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during_freeze = olivia.get("/orgs/acme/members").await.status();
    let log = roster.output();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("status_code=500")).collect();
    let errors = &errors[errors.len().saturating_sub(12)..];
    assert_eq!(
        during_freeze,
        StatusCode::SERVICE_UNAVAILABLE,
        "a frozen database gets the 503 page:\n{}",
        errors.join("\n")
    );
    OwnPostgres::thaw(&frozen);
    let after_thaw = until_served(&olivia, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    running.await.unwrap();

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let count = |status: u16| seen.statuses.iter().filter(|s| **s == status).count();
    eprintln!(
        "{} answers: {} OK, {} 503; slowest {:?}; served again {:?} after the restart and {:?} after the thaw",
        seen.statuses.len(),
        count(200),
        count(503),
        seen.slowest,
        after_restart,
        after_thaw
    );
    let log = roster.output();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR") || l.contains(" 500")).take(20).collect();
    assert!(
        seen.odd.is_empty(),
        "every answer was a page or the 503 page: {} were not; the log:\n{}",
        seen.odd.len(),
        errors.join("\n")
    );
    assert!(count(503) > 0 && count(200) > 0, "the load saw both the outage and the service");
    assert!(seen.slowest < Duration::from_secs(6), "no answer hung: slowest {:?}", seen.slowest);

    // Nothing half-done: every invitation has its mail and its audit event, and every
    // invitation the page said was sent exists.
    let db = common::TestDb { name: String::new(), url: postgres.url("roster") };
    let invitations = db.count("SELECT count(*) FROM invitations");
    assert_eq!(db.count("SELECT count(*) FROM outbox"), invitations, "one mail per invitation");
    assert_eq!(db.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.created'"), invitations);
    for address in &seen.sent {
        let sql = format!("SELECT count(*) FROM invitations WHERE email = '{address}'");
        assert_eq!(db.count(&sql), 1, "{address} was said to be sent");
    }
    std::mem::forget(db); // the cluster goes with its directory

    let (status, output) = roster.finish().await;
    assert!(status.success(), "{output}");
    let _ = std::fs::remove_dir_all(home);
}
