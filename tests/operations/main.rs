//! The `roster` binary run as an operator runs it: a private PostgreSQL on first run,
//! and a graceful stop on SIGTERM. Each test starts real processes (slow: a binary of its own).

// A test that unwraps fails with the error as its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
#[allow(unused_imports)] // the harness's DNS server serves other test binaries
mod common;

mod faults;
mod load;
mod postgres;
mod replica;
mod scale_out;

use common::process::{scratch_dir, Roster};

use std::io::{BufRead as _, BufReader};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::cookie::{CookieStore as _, Jar};

/// A person in a browser: keeps cookies, sends the CSRF token, follows no redirects.
struct Visitor {
    base: String,
    jar: Arc<Jar>,
    client: reqwest::Client,
}

impl Visitor {
    fn new(base: &str) -> Visitor {
        let jar = Arc::new(Jar::default());
        Visitor { base: base.to_owned(), jar: jar.clone(), client: common::client_with(jar) }
    }

    /// The same browser (its cookies) sending to another address.
    fn at(&self, base: &str) -> Visitor {
        Visitor { base: base.to_owned(), jar: self.jar.clone(), client: self.client.clone() }
    }

    fn cookie_header(&self) -> String {
        let header = self.jar.cookies(&self.base.parse().unwrap()).expect("cookies");
        header.to_str().unwrap().to_owned()
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookie_header()
            .split("; ")
            .find_map(|pair| pair.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_owned()))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    /// The CSRF token a page gives this browser now (it changes with the session).
    async fn csrf_token(&self) -> String {
        let page = self.get("/help").await.text().await.unwrap();
        common::csrf_field(&page).expect("a page carries the CSRF token")
    }

    /// Posts the fields as given (a CSRF token among them, or not).
    async fn post_as_is(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut body = fields.to_vec();
        body.push(("csrf_token", &token));
        self.client.post(format!("{}{path}", self.base)).form(&body).send().await.unwrap()
    }

    async fn sign_in(&self, email: &str, password: &str) {
        let response = self.post("/sign-in", &[("email", email), ("password", password)]).await;
        let status = response.status().as_u16();
        let page = response.text().await.unwrap();
        let said = page.split("role=\"alert\"").nth(1).unwrap_or(&page).chars().take(400).collect::<String>();
        assert_eq!(status, 303, "sign-in as {email}: {said}");
    }
}

/// The TCP sockets a process listens on, from /proc (Linux).
fn tcp_listeners_of(pid: u32) -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_owned))
        .collect();
    let mut listening = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local address, state 0A = LISTEN, inode
            if fields.get(3) == Some(&"0A") && fields.get(9).is_some_and(|inode| inodes.iter().any(|i| i == inode)) {
                listening.push(fields[1].to_owned());
            }
        }
    }
    listening
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_url_roster_runs_a_private_postgres_that_keeps_its_data() {
    let home = scratch_dir();
    let data = home.join("data");
    let env = vec![("ROSTER_PRIVATE_POSTGRES", "always".to_owned()), ("ROSTER_DATA_DIR", data.display().to_string())];

    let mut roster = Roster::start(&home, &["--demo"], &env).await;
    let said = roster.output();
    assert!(
        said.contains(&format!("Using a private PostgreSQL with its data in {}", data.display()))
            && said.contains("set DATABASE_URL to use a server of your own"),
        "{said}"
    );

    // The demo sign-in works, and what we change is there after a restart.
    let ada = Visitor::new(&roster.address);
    ada.sign_in(roster::services::demo::DEMO_EMAIL, roster::services::demo::DEMO_PASSWORD).await;
    let created = ada.post("/orgs", &[("name", "Kept Across Restarts")]).await;
    assert_eq!(created.status().as_u16(), 303);

    // An operator command beside the server uses the same cluster and leaves it running.
    let created = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["create-user", "--name", "Grace", "--email", "grace@example.com"])
        .current_dir(&home)
        .env_remove("DATABASE_URL")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert_eq!(ada.get("/orgs/kept-across-restarts").await.status().as_u16(), 200, "serve still has its database");

    // The database listens on its socket in the data directory, on no TCP port.
    let pid: u32 =
        std::fs::read_to_string(data.join("postgres/postmaster.pid")).unwrap().lines().next().unwrap().parse().unwrap();
    assert_eq!(tcp_listeners_of(pid), Vec::<String>::new(), "the private PostgreSQL opened a TCP port");
    assert!(data.join("postgres/.s.PGSQL.5432").exists(), "its socket is in the data directory");

    assert!(roster.stop().success(), "{}", roster.output());
    assert!(!data.join("postgres/postmaster.pid").exists(), "PostgreSQL stopped with Roster");

    // A Roster that is killed leaves its PostgreSQL running; the next one takes it over.
    for ending in ["killed", "stopped"] {
        let mut roster = Roster::start(&home, &[], &env).await;
        let ada = Visitor::new(&roster.address);
        ada.sign_in(roster::services::demo::DEMO_EMAIL, roster::services::demo::DEMO_PASSWORD).await;
        let page = ada.get("/orgs/kept-across-restarts").await;
        assert_eq!(page.status().as_u16(), 200, "after Roster was {ending}");
        assert!(page.text().await.unwrap().contains("Kept Across Restarts"));
        if ending == "killed" {
            roster.signal(nix::sys::signal::Signal::SIGKILL);
            roster.wait(Duration::from_secs(10));
        } else {
            assert!(roster.stop().success(), "{}", roster.output());
        }
    }
    assert!(!data.join("postgres/postmaster.pid").exists(), "PostgreSQL stopped with the last Roster");
    let _ = std::fs::remove_dir_all(&home);
}

/// An SMTP server on loopback that records each recipient it accepts a message for,
/// and, while its gate is closed, holds its answer to the end of a message's data.
struct GatedSmtp {
    port: u16,
    state: Arc<(Mutex<SmtpState>, std::sync::Condvar)>,
}

#[derive(Default)]
struct SmtpState {
    open: bool,
    /// Recipients of the messages accepted (answered 250), in order.
    delivered: Vec<String>,
    /// The recipients whose messages are held now (each worker loop delivers one at
    /// a time; several loops may be delivering at once).
    holding: Vec<String>,
}

impl GatedSmtp {
    fn start(open: bool) -> GatedSmtp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new((Mutex::new(SmtpState { open, ..SmtpState::default() }), std::sync::Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().map_while(Result::ok) {
                let state = shared.clone();
                std::thread::spawn(move || Self::session(socket, &state));
            }
        });
        GatedSmtp { port, state }
    }

    fn session(socket: std::net::TcpStream, state: &(Mutex<SmtpState>, std::sync::Condvar)) {
        use std::io::Write as _;
        let mut write = socket.try_clone().unwrap();
        let mut lines = BufReader::new(socket).lines();
        let _ = write.write_all(b"220 gated.test ESMTP\r\n");
        let (mut recipient, mut in_data) = (String::new(), false);
        while let Some(Ok(line)) = lines.next() {
            if in_data {
                if line == "." {
                    in_data = false;
                    let (lock, changed) = state;
                    let mut s = lock.lock().unwrap();
                    s.holding.push(recipient.clone());
                    changed.notify_all();
                    while !s.open {
                        s = changed.wait(s).unwrap();
                    }
                    s.holding.retain(|held| *held != recipient);
                    s.delivered.push(recipient.clone());
                    changed.notify_all();
                    drop(s);
                    let _ = write.write_all(b"250 2.0.0 queued\r\n");
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-gated.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT TO:") {
                recipient = line[8..].trim().trim_matches(['<', '>']).to_owned();
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 end with .\r\n"
            } else if upper.starts_with("QUIT") {
                let _ = write.write_all(b"221 bye\r\n");
                break;
            } else {
                b"250 OK\r\n"
            };
            let _ = write.write_all(reply);
        }
    }

    /// Waits (bounded) until a message is held, and says whose.
    fn wait_until_holding(&self) -> String {
        let (lock, changed) = &*self.state;
        let (s, timeout) = changed
            .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(30), |s| s.holding.is_empty())
            .unwrap();
        assert!(!timeout.timed_out(), "no message reached the SMTP server");
        s.holding[0].clone()
    }

    /// The recipients whose messages are held now, sorted.
    fn held(&self) -> Vec<String> {
        let mut held = self.state.0.lock().unwrap().holding.clone();
        held.sort();
        held
    }

    fn open(&self) {
        let (lock, changed) = &*self.state;
        lock.lock().unwrap().open = true;
        changed.notify_all();
    }

    fn delivered(&self) -> Vec<String> {
        self.state.0.lock().unwrap().delivered.clone()
    }
}

/// A fresh database with a verified account olivia@example.com (password
/// `common::PASSWORD`), Owner of `org` when one is named.
async fn database_with_olivia(org: Option<&'static str>) -> common::TestDb {
    tokio::task::spawn_blocking(move || {
        let db = common::TestDb::new();
        let mut conn = db.conn();
        let email = roster::domain::EmailAddress::parse("olivia@example.com").unwrap();
        let password = roster::domain::NewPassword::parse(common::PASSWORD, common::PASSWORD).unwrap();
        let hash = roster::services::passwords::hash(&password).unwrap();
        let name = roster::domain::PersonName::parse("Olivia").unwrap();
        roster::services::demo::create_verified_user(&mut conn, &name, &email, &hash).unwrap();
        if let Some(org) = org {
            let org = roster::domain::OrgName::parse(org).unwrap();
            roster::services::demo::create_org_for(&mut conn, &email, &org, 50).unwrap();
        }
        db
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_and_the_delivery_in_flight_and_loses_nothing() {
    let db = database_with_olivia(Some("Acme")).await;
    let smtp = GatedSmtp::start(false);
    let home = scratch_dir();
    let env = vec![
        ("DATABASE_URL", db.url.clone()),
        ("ROSTER_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
        ("ROSTER_SHUTDOWN_GRACE", "20s".to_owned()),
        // Kept across the restart, as in any real deployment: mail waits in the outbox
        // sealed with a key derived from it.
        ("ROSTER_SESSION_KEY", "a-session-key-for-the-sigterm-test-".repeat(2)),
    ];
    let mut roster = Roster::start(&home, &[], &env).await;

    let olivia = Visitor::new(&roster.address);
    olivia.sign_in("olivia@example.com", common::PASSWORD).await;
    let invited = olivia
        .post(
            "/orgs/acme/invitations",
            &[("emails", "ann@example.com bob@example.com cat@example.com"), ("role", "member")],
        )
        .await;
    assert!(invited.status().is_success() || invited.status().is_redirection(), "{}", invited.status());
    let held = tokio::task::spawn_blocking({
        let smtp_state = smtp.state.clone();
        move || GatedSmtp { port: 0, state: smtp_state }.wait_until_holding()
    })
    .await
    .unwrap();

    // A request in flight: its headers and half its body are sent before SIGTERM.
    let token = olivia.csrf_token().await;
    let body = format!("emails=dan%40example.com&role=member&csrf_token={token}");
    let address = roster.address.trim_start_matches("http://").to_owned();
    let mut request = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /orgs/acme/invitations HTTP/1.1\r\nHost: {address}\r\nCookie: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        olivia.cookie_header(),
        body.len()
    );
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    request.write_all(head.as_bytes()).await.unwrap();
    request.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A live bell open on a connection of its own (served beside actix-web).
    let mut bell = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head =
        format!("GET /notifications/stream HTTP/1.1\r\nHost: {address}\r\nCookie: {}\r\n\r\n", olivia.cookie_header());
    bell.write_all(head.as_bytes()).await.unwrap();
    let mut opened = [0u8; 15];
    bell.read_exact(&mut opened).await.unwrap();
    assert_eq!(&opened, b"HTTP/1.1 200 OK", "the bell's stream is open");

    roster.signal(nix::sys::signal::Signal::SIGTERM);
    // The bell is told when to come back, and its stream ends.
    let mut told = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), bell.read_to_end(&mut told)).await.unwrap().unwrap();
    let told = String::from_utf8_lossy(&told);
    assert!(told.contains("retry: 3000") && told.ends_with("0\r\n\r\n"), "{told}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(tokio::net::TcpStream::connect(&address).await.is_err(), "a stopping Roster takes no new connection");

    request.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    request.read_to_string(&mut answer).await.unwrap();
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    assert!(status_line.starts_with("HTTP/1.1 303") || status_line.starts_with("HTTP/1.1 200"), "{status_line}");
    assert_eq!(db.count("SELECT count(*) AS count FROM invitations WHERE email = 'dan@example.com'"), 1);

    // The deliveries in flight (one per worker loop that had started one before the
    // signal) complete, then Roster exits.
    let in_flight = smtp.held();
    assert!(in_flight.contains(&held), "{in_flight:?}");
    smtp.open();
    let status = tokio::task::spawn_blocking(move || {
        let status = roster.wait(Duration::from_secs(30));
        (status, roster.output())
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{}", status.1);
    let mut delivered = smtp.delivered();
    delivered.sort();
    assert_eq!(delivered, in_flight, "only the messages in flight went out");
    let sent = in_flight.len() as i64;
    assert_eq!(db.count("SELECT count(*) AS count FROM outbox WHERE status = 'sent'"), sent);
    assert_eq!(
        db.count(
            "SELECT count(*) AS count FROM outbox o JOIN jobs j ON j.payload->>'message_id' = o.id::text \
                    WHERE o.status = 'pending' AND j.status = 'pending' AND j.attempts = 0 AND j.run_at <= now()"
        ),
        4 - sent,
        "the others wait, due now, no attempt counted"
    );

    // The next start delivers the rest, each exactly once.
    let roster = Roster::start(&home, &[], &env).await;
    for _ in 0..300 {
        if smtp.delivered().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut delivered = smtp.delivered();
    delivered.sort();
    assert_eq!(delivered, ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"]);
    let (stopped, output) = roster.finish().await;
    assert!(stopped.success(), "{output}");
    assert_eq!(db.count("SELECT count(*) AS count FROM outbox WHERE status = 'sent'"), 4);
    assert_eq!(smtp.delivered().len(), 4, "nothing was sent twice");
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_give_one_object_per_request_and_no_secret() {
    let db = database_with_olivia(None).await;
    let home = scratch_dir();
    let env = vec![("DATABASE_URL", db.url.clone()), ("ROSTER_LOG_FORMAT", "json".to_owned())];
    let roster = Roster::start(&home, &[], &env).await;
    let olivia = Visitor::new(&roster.address);
    olivia.sign_in("olivia@example.com", common::PASSWORD).await;
    assert_eq!(olivia.get("/dashboard").await.status().as_u16(), 200);
    olivia.get("/reset-password?token=a-secret-reset-token").await;
    olivia.get("/invite/a-secret-invitation-token").await;
    let session = olivia.cookie("roster_session").unwrap();
    let (stopped, output) = roster.finish().await;
    assert!(stopped.success(), "{output}");
    let events: Vec<serde_json::Value> = output
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let requests: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["span"]["name"] == "HTTP request" && e["fields"]["message"] == "close").collect();
    let dashboard = requests
        .iter()
        .find(|e| e["span"]["http.route"] == "/dashboard")
        .unwrap_or_else(|| panic!("no line for the Dashboard request:\n{output}"));
    assert_eq!(dashboard["span"]["http.status_code"], 200);
    assert!(dashboard["span"]["request_id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(dashboard["span"]["latency_ms"].as_f64().is_some());
    let user = dashboard["span"]["user_id"].as_str().unwrap_or_else(|| panic!("no user id: {dashboard}"));
    let sql = format!("SELECT count(*) AS count FROM users WHERE id::text = '{user}' AND email = 'olivia@example.com'");
    assert_eq!(db.count(&sql), 1, "the user id is Olivia's");
    for secret in ["a-secret-reset-token", "a-secret-invitation-token", common::PASSWORD, session.as_str()] {
        assert!(!output.contains(secret), "the log shows {secret:?}");
    }
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cannot_write_lines_of_its_own_into_the_log() {
    let db = database_with_olivia(None).await;
    let home = scratch_dir();
    let env = vec![("DATABASE_URL", db.url.clone())];
    let roster = Roster::start(&home, &[], &env).await;
    let visitor = Visitor::new(&roster.address);
    visitor.get("/sign-in?next=%0D%0AINFO%20roster%3A%20forged%20line&color=%1B%5B31m").await;
    let (stopped, output) = roster.finish().await;
    assert!(stopped.success(), "{output}");
    assert!(output.contains(r"next=\r\nINFO roster: forged line"), "escaped in the request's line:\n{output}");
    assert!(!output.lines().any(|line| line.starts_with("INFO roster: forged line")), "{output}");
    assert!(output.contains(r"color=\u{1b}[31m"), "{output}");
    let _ = std::fs::remove_dir_all(&home);
}
