//! Two Roster processes on different ports over one database, started together on a
//! database that does not exist yet: they serve as one (DESIGN.md §3, the process
//! holds no state of its own between requests).

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::{common, scratch_dir, GatedSmtp, Roster, Visitor};

/// The verified accounts the test signs in as, and Acme with Olivia as its Owner.
fn seed(url: &str) {
    use diesel::Connection as _;
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    let password = roster::domain::NewPassword::parse(common::PASSWORD, common::PASSWORD).unwrap();
    let hash = roster::services::passwords::hash(&password).unwrap();
    for (name, email) in [("Olivia", "olivia@example.com"), ("Bob", "bob@example.com")] {
        let email = roster::domain::EmailAddress::parse(email).unwrap();
        let name = roster::domain::PersonName::parse(name).unwrap();
        roster::services::demo::create_verified_user(&mut conn, &name, &email, &hash).unwrap();
    }
    let olivia = roster::domain::EmailAddress::parse("olivia@example.com").unwrap();
    let acme = roster::domain::OrgName::parse("Acme").unwrap();
    roster::services::demo::create_org_for(&mut conn, &olivia, &acme, 100).unwrap();
}

/// Reads a live bell stream until it says the bell changed, within `limit`.
async fn bell_changes(stream: &mut reqwest::Response, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut seen = String::new();
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline.into(), stream.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("event: bell\ndata: changed") {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_over_one_database_share_sessions_bell_jobs_migrations_and_limits() {
    let db = common::TestDb::unmade();
    let smtp = GatedSmtp::start(true);
    let env = vec![
        ("DATABASE_URL", db.url.clone()),
        ("ROSTER_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
        // One key for every instance, as a deployment shares it: cookies and CSRF
        // tokens made by one are good at the other.
        ("ROSTER_SESSION_KEY", "a-session-key-shared-by-both-instances-".repeat(2)),
    ];
    let (home_a, home_b) = (scratch_dir(), scratch_dir());
    let (a, b) = tokio::join!(Roster::start(&home_a, &[], &env), Roster::start(&home_b, &[], &env));

    // Both made the database and migrated it together: once.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap().count() as i64;
    assert_eq!(db.count("SELECT count(*) FROM __diesel_schema_migrations"), migrations);
    let applied = [a.output(), b.output()].iter().filter(|out| out.contains("applied database migrations")).count();
    assert_eq!(applied, 1, "one instance migrates, the other finds nothing to do");
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || seed(&url)).await.unwrap();

    // A session made on one works on the other.
    let olivia_a = Visitor::new(&a.address);
    olivia_a.sign_in("olivia@example.com", common::PASSWORD).await;
    let olivia_b = olivia_a.at(&b.address);
    assert_eq!(olivia_b.get("/orgs/acme/members").await.status(), StatusCode::OK, "signed in at B too");

    // An event on one reaches the bell on the other, live.
    let bob_b = Visitor::new(&b.address);
    bob_b.sign_in("bob@example.com", common::PASSWORD).await;
    let mut stream = bob_b.get("/notifications/stream").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let invited = olivia_a.post("/orgs/acme/invitations", &[("emails", "bob@example.com"), ("role", "member")]).await;
    assert_eq!(invited.status(), StatusCode::OK);
    assert!(bell_changes(&mut stream, Duration::from_secs(10)).await, "B's stream heard of A's invitation");
    drop(stream);

    // Both workers run: each message is delivered once.
    let addresses: Vec<String> = (1..=30).map(|n| format!("person{n}@example.com")).collect();
    let (first, second) = addresses.split_at(15);
    let (first, second) = (first.join(" "), second.join(" "));
    let (at_a, at_b) =
        ([("emails", first.as_str()), ("role", "member")], [("emails", second.as_str()), ("role", "member")]);
    let (one, two) =
        tokio::join!(olivia_a.post("/orgs/acme/invitations", &at_a), olivia_b.post("/orgs/acme/invitations", &at_b),);
    assert_eq!((one.status(), two.status()), (StatusCode::OK, StatusCode::OK));
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.delivered().len() < 31 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // room for a duplicate to show
    let mut delivered = smtp.delivered();
    delivered.sort();
    let mut expected: Vec<String> = addresses.iter().cloned().chain(["bob@example.com".to_owned()]).collect();
    expected.sort();
    assert_eq!(delivered, expected, "every message once");
    assert_eq!(db.count("SELECT count(*) FROM outbox WHERE status = 'sent'"), 31);

    // Rate limits are shared: wrong passwords at A and at B count together.
    let guesser = Visitor::new(&a.address);
    for attempt in 0..10 {
        let at = guesser.at(if attempt % 2 == 0 { &a.address } else { &b.address });
        let response = at.post("/sign-in", &[("email", "bob@example.com"), ("password", "wrong password")]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "attempt {attempt}");
    }
    for instance in [&a.address, &b.address] {
        let response = guesser.at(instance).post("/sign-in", &[("email", "bob@example.com"), ("password", "x")]).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "the 11th, at {instance}");
        assert!(response.text().await.unwrap().contains("Too many attempts."));
    }

    for (roster, home) in [(a, home_a), (b, home_b)] {
        let (status, output) = roster.finish().await;
        assert!(status.success(), "{output}");
        let _ = std::fs::remove_dir_all(home);
    }
}
