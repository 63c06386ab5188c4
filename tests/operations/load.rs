//! 200 connections at once for a minute on the Members page and the bell (DESIGN.md §6
//! and §7): no request fails and the server's memory stays flat. The speed budgets are
//! the benchmark's (release build); this holds the debug build to "no errors, no growth".

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{common, database_with_olivia, scratch_dir, Roster, Visitor};

const CONNECTIONS: usize = 200;
const SECONDS: u64 = 60;

/// The server's resident memory in KiB, from /proc.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_connections_for_a_minute_on_members_and_the_bell_fail_nothing_and_memory_stays_flat() {
    let db = database_with_olivia(Some("Acme")).await;
    // A hundred members, so the page is a real page.
    db.count(
        "WITH people AS (
           INSERT INTO users (id, name, email, email_key, email_verified_at, password_hash)
           SELECT gen_random_uuid(), 'Person ' || n, e, e, now(), 'x'
             FROM generate_series(1, 100) n, LATERAL (SELECT 'person' || n || '@example.com') a(e)
           RETURNING id),
         joined AS (
           INSERT INTO memberships (id, organization_id, user_id, role)
           SELECT gen_random_uuid(), o.id, p.id, 'member' FROM people p, organizations o RETURNING 1)
         SELECT count(*) FROM joined",
    );
    let home = scratch_dir();
    let env = vec![("DATABASE_URL", db.url.clone()), ("RUST_LOG", "warn".to_owned())];
    let roster = Roster::start(&home, &[], &env).await;
    let pid = roster.pid();

    // A few signed-in browsers, each with many tabs open.
    let mut browsers = Vec::new();
    for _ in 0..4 {
        let olivia = Visitor::new(&roster.address);
        olivia.sign_in("olivia@example.com", common::PASSWORD).await;
        browsers.push(Arc::new(olivia));
    }
    let (stop, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|n| {
            let (browser, stop, answered, failures) =
                (browsers[n % browsers.len()].clone(), stop.clone(), answered.clone(), failures.clone());
            tokio::spawn(async move {
                let mut round = n;
                while !stop.load(Ordering::Relaxed) {
                    // Mostly the bell (every open tab polls it), and the Members page.
                    let path = if round % 5 == 0 { "/orgs/acme/members" } else { "/notifications/count" };
                    round += 1;
                    let outcome = tokio::time::timeout(Duration::from_secs(30), browser.get(path)).await;
                    match outcome {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(response) => failures.lock().unwrap().push(format!("{path}: {}", response.status())),
                        Err(_) => failures.lock().unwrap().push(format!("{path}: no answer within 30 s")),
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(SECONDS) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(resident_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }

    let answered = answered.load(Ordering::Relaxed);
    let failures = failures.lock().unwrap().clone();
    let third = samples.len() / 3;
    let (early, late) = (median(&mut samples[third..2 * third].to_vec()), median(&mut samples[2 * third..].to_vec()));
    let peak = samples.iter().max().copied().unwrap_or(0);
    eprintln!(
        "{answered} answers in {SECONDS} s ({:.0}/s) over {CONNECTIONS} connections; {} failed; \
         resident memory {} MB in the middle third, {} MB in the last, {} MB at most",
        answered as f64 / SECONDS as f64,
        failures.len(),
        early / 1024,
        late / 1024,
        peak / 1024
    );
    assert!(failures.is_empty(), "{} requests failed, e.g. {:?}", failures.len(), &failures[..failures.len().min(5)]);
    assert!(answered > 1_000, "the load ran: {answered} answers");
    assert!(late <= early + early / 10 + 2 * 1024, "memory grows: {} KiB, then {} KiB", early, late);

    let (status, output) = roster.finish().await;
    assert!(status.success(), "{output}");
    let _ = std::fs::remove_dir_all(home);
}
