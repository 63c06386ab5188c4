//! A real streaming replica (`pg_basebackup -R`) behind `ROSTER_READ_DATABASE_URL`:
//! the reads that tolerate lag go to it, the reader who just wrote reads from the
//! primary, and a replica that lags or stops sends its reads back to the primary,
//! as `/metrics` says, without a failed request.

use std::time::{Duration, Instant};

use super::faults::seed;
use super::postgres::OwnPostgres;
use super::{common, scratch_dir, Roster, Visitor};

const TOKEN: &str = "a-metrics-token-for-the-replica-test";

/// One figure of `/metrics`.
async fn metric(roster: &Roster, name: &str) -> f64 {
    let text = reqwest::Client::new()
        .get(format!("{}/metrics", roster.address))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("{name} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("/metrics has no {name}:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits until `/metrics` reads `value` for `name`.
async fn until_metric(roster: &Roster, name: &str, value: f64, within: Duration) {
    let start = Instant::now();
    while metric(roster, name).await != value {
        assert!(start.elapsed() < within, "{name} did not come to {value} within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn audit_log(visitor: &Visitor) -> String {
    let response = made_anew(visitor, "/orgs/acme/audit").await;
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

/// `path` made anew (as a hard reload asks), never a kept page sent again: each read
/// is one the replica's figures count.
async fn made_anew(visitor: &Visitor, path: &str) -> reqwest::Response {
    let url = format!("{}{path}", visitor.base);
    visitor.client.get(url).header(reqwest::header::CACHE_CONTROL, "no-cache").send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_reads_go_to_a_streaming_replica_until_it_falls_behind_or_stops_and_writers_read_their_writes() {
    let primary = tokio::task::spawn_blocking(OwnPostgres::start).await.unwrap();
    primary.psql("postgres", "CREATE DATABASE roster");
    let replica = tokio::task::block_in_place(|| OwnPostgres::replica_of(&primary));
    let home = scratch_dir();
    let env = vec![
        ("DATABASE_URL", primary.url("roster")),
        ("ROSTER_READ_DATABASE_URL", replica.url("roster")),
        ("ROSTER_METRICS_TOKEN", TOKEN.to_owned()),
        ("ROSTER_SESSION_KEY", "a-session-key-for-the-replica-test-xxxxxx".repeat(2)),
    ];
    let roster = Roster::start(&home, &[], &env).await;
    let url = primary.url("roster");
    tokio::task::spawn_blocking(move || seed(&url)).await.unwrap();
    // Two browsers of Olivia's: one changes things, the other only reads.
    let (writer, reader) = (Visitor::new(&roster.address), Visitor::new(&roster.address));
    reader.sign_in("olivia@example.com", common::PASSWORD).await;
    writer.sign_in("olivia@example.com", common::PASSWORD).await;
    until_metric(&roster, "roster_read_replica_in_use", 1.0, Duration::from_secs(20)).await;
    assert_eq!(metric(&roster, "roster_read_replica_up").await, 1.0);
    // Signing in is a change: the reader reads from the primary for the replica's
    // allowed lag (5 s by default), then from the replica.
    assert!(reader.cookie("roster_wrote").is_some(), "signing in marks the browser");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(reader.cookie("roster_wrote"), None, "the mark lasts as long as the allowed lag");

    let served = metric(&roster, "roster_read_replica_reads_total").await;
    let log = audit_log(&reader).await;
    assert!(log.contains("Acme"), "{log}");
    let seats = made_anew(&reader, "/orgs/acme/seats").await;
    assert_eq!(seats.status().as_u16(), 200);
    assert_eq!(
        metric(&roster, "roster_read_replica_reads_total").await,
        served + 2.0,
        "the Audit Log's events and Seat Usage's figures came from the replica"
    );
    // A page read from the replica is never kept to be sent again (the replica may be
    // behind the snapshot a kept page is checked against): asked for again as a
    // browser asks, it reads the replica again each time.
    let served = metric(&roster, "roster_read_replica_reads_total").await;
    for _ in 0..2 {
        assert_eq!(reader.get("/orgs/acme/audit").await.status().as_u16(), 200);
    }
    assert_eq!(metric(&roster, "roster_read_replica_reads_total").await, served + 2.0, "no Audit Log was kept");

    // The replica stops replaying: what the writer does now is on the primary only.
    replica.psql("postgres", "SELECT pg_wal_replay_pause()");
    let invited =
        writer.post("/orgs/acme/invitations", &[("emails", "newcomer@example.com"), ("role", "member")]).await;
    assert!(invited.status().is_success() || invited.status().is_redirection(), "{}", invited.status());
    assert!(writer.cookie("roster_wrote").is_some());
    assert!(audit_log(&writer).await.contains("newcomer@example.com"), "the writer reads its own write");
    assert!(
        !audit_log(&reader).await.contains("newcomer@example.com"),
        "the other browser reads the replica, a moment behind"
    );

    // Past the allowed lag, every read goes to the primary, and /metrics says so.
    until_metric(&roster, "roster_read_replica_in_use", 0.0, Duration::from_secs(20)).await;
    let (lag, up) =
        (metric(&roster, "roster_read_replica_lag_seconds").await, metric(&roster, "roster_read_replica_up").await);
    assert!(lag >= 5.0 && up == 1.0, "out of use for its lag ({lag} s), while it answers ({up})");
    let fallbacks = metric(&roster, "roster_read_replica_fallbacks_total").await;
    assert!(audit_log(&reader).await.contains("newcomer@example.com"), "the lagging replica is not read");
    assert_eq!(metric(&roster, "roster_read_replica_fallbacks_total").await, fallbacks + 1.0);

    // Replaying again, it catches up and is read again.
    replica.psql("postgres", "SELECT pg_wal_replay_resume()");
    until_metric(&roster, "roster_read_replica_in_use", 1.0, Duration::from_secs(20)).await;
    let served = metric(&roster, "roster_read_replica_reads_total").await;
    assert!(audit_log(&reader).await.contains("newcomer@example.com"));
    assert_eq!(metric(&roster, "roster_read_replica_reads_total").await, served + 1.0);

    // Stopped while read from: no request fails; the reads go to the primary.
    let reading = tokio::spawn(async move {
        let mut statuses = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            for path in ["/orgs/acme/audit", "/orgs/acme/seats"] {
                let response = reader.get(path).await;
                let status = response.status().as_u16();
                let page = response.text().await.unwrap();
                statuses.push((status, path, page.contains("newcomer@example.com")));
            }
        }
        (statuses, reader)
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| replica.stop());
    let (statuses, reader) = reading.await.unwrap();
    assert!(statuses.len() > 10, "{statuses:?}");
    let failed: Vec<_> = statuses.iter().filter(|(status, _, _)| *status != 200).collect();
    assert!(failed.is_empty(), "requests failed as the replica stopped: {failed:?}");
    assert!(statuses.iter().filter(|(_, path, _)| *path == "/orgs/acme/audit").all(|(_, _, shown)| *shown));
    until_metric(&roster, "roster_read_replica_up", 0.0, Duration::from_secs(10)).await;
    assert_eq!(metric(&roster, "roster_read_replica_in_use").await, 0.0);
    assert!(audit_log(&reader).await.contains("newcomer@example.com"));
    drop(replica);
}
