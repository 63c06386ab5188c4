//! Test harness: a fresh database per test cloned from a migrated template, the
//! real application on port 0, and a cookie-keeping client with one helper per action.
#![allow(dead_code)]

pub mod process;
pub mod provider;
pub mod receiver;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use uuid::Uuid;

use roster::config::{SessionKey, Settings};
use roster::db::quote_identifier;
use roster::startup::Application;

pub const PASSWORD: &str = "correct horse battery";

fn server_url() -> String {
    std::env::var("ROSTER_TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn admin_connection() -> PgConnection {
    let url = format!("{}/postgres", server_url());
    PgConnection::establish(&url).unwrap_or_else(|e| panic!("tests need PostgreSQL at {url}: {e}"))
}

/// The template's name carries a hash of the checkout's path and one of its
/// migrations, so an edited migration gets a new template, and two checkouts
/// testing at once (a CI clone beside a working tree) never drop each other's.
fn template_name() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut migrations = DefaultHasher::new();
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    for path in entries {
        path.strip_prefix(&dir).unwrap_or(&path).to_string_lossy().hash(&mut migrations);
        std::fs::read(&path).unwrap_or_default().hash(&mut migrations);
    }
    format!("{}{:012x}", template_prefix(), migrations.finish() & 0xffff_ffff_ffff)
}

/// The start of the names of this checkout's templates.
fn template_prefix() -> String {
    let mut checkout = DefaultHasher::new();
    env!("CARGO_MANIFEST_DIR").hash(&mut checkout);
    format!("roster_test_template_{:08x}_", checkout.finish() & 0xffff_ffff)
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Creates the migrated template once (across processes, under an advisory lock).
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut admin = admin_connection();
        diesel::sql_query("SELECT pg_advisory_lock(7346512)").execute(&mut admin).unwrap();
        let exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&name)
            .get_result::<Exists>(&mut admin)
            .unwrap()
            .exists;
        if !exists {
            // This checkout's templates of older migrations are of no further use.
            let stale: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
                .bind::<Text, _>(template_prefix())
                .load(&mut admin)
                .unwrap();
            for old in stale {
                let _ = diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_identifier(&old.datname)
                ))
                .execute(&mut admin);
            }
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(&building)))
                .execute(&mut admin)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {}", quote_identifier(&building))).execute(&mut admin).unwrap();
            {
                let mut conn = PgConnection::establish(&format!("{}/{building}", server_url())).unwrap();
                roster::db::run_migrations(&mut conn).unwrap();
            }
            diesel::sql_query(format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_identifier(&building),
                quote_identifier(&name)
            ))
            .execute(&mut admin)
            .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(7346512)").execute(&mut admin).unwrap();
        name
    })
}

/// A message in the outbox, with the attempts and next attempt of the job that delivers it,
/// and its bodies opened as the dev mailbox opens them (empty once dropped after delivery).
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: time::OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: time::OffsetDateTime,
    pub sent_at: Option<time::OffsetDateTime>,
}

#[derive(QueryableByName)]
struct MessageRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    to_address: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Binary>)]
    sealed_body: Option<Vec<u8>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    text_body: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    html_body: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    next_attempt_at: time::OffsetDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    last_error: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: time::OffsetDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    sent_at: Option<time::OffsetDateTime>,
}

impl MessageRow {
    fn opened(self, key: &roster::domain::SealingKey) -> Message {
        let stored = roster::db::outbox::Message {
            id: self.id,
            to_address: self.to_address.clone(),
            to_name: None,
            subject: self.subject.clone(),
            sealed_body: self.sealed_body,
            text_body: self.text_body,
            html_body: self.html_body,
            status: self.status.clone(),
            last_error: self.last_error.clone(),
            created_at: self.created_at,
            sent_at: self.sent_at,
        };
        let bodies =
            stored.bodies(key).unwrap_or(roster::db::outbox::Bodies { text: String::new(), html: String::new() });
        Message {
            id: self.id,
            to_address: self.to_address,
            subject: self.subject,
            text_body: bodies.text,
            html_body: bodies.html,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            created_at: self.created_at,
            sent_at: self.sent_at,
        }
    }
}

/// A database of its own for one test, dropped when the test ends./// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        static CREATE: Mutex<()> = Mutex::new(());
        let template = template();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let _serial = CREATE.lock().unwrap_or_else(|e| e.into_inner());
        let mut admin = admin_connection();
        diesel::sql_query(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_identifier(&name),
            quote_identifier(template)
        ))
        .execute(&mut admin)
        .expect("create test database");
        TestDb { url: format!("{}/{name}", server_url()), name }
    }

    /// A name and URL for a database nobody has made yet (what a first start-up
    /// creates and migrates); dropped afterwards like any other.
    pub fn unmade() -> TestDb {
        let name = format!("t_{}", Uuid::new_v4().simple());
        TestDb { url: format!("{}/{name}", server_url()), name }
    }

    /// One figure (a column named `count`) read with `sql`.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        diesel::sql_query(sql).get_result::<Count>(&mut self.conn()).unwrap().count
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to test database")
    }

    /// The application's way to this database (`Db::run`), over a pool of `size` connections.
    pub fn pool(&self, size: u32) -> roster::db::Db {
        let pool = roster::db::build_pool(&self.url, size, Duration::from_secs(30)).expect("a pool");
        roster::db::Db::new(pool)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut admin = admin_connection();
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(&self.name)))
            .execute(&mut admin);
    }
}

/// A running Roster with its own database.
pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub db: Arc<TestDb>,
    /// The CSRF token last read from a page, with the cookies it was read under.
    csrf: Arc<std::sync::Mutex<Option<(String, String)>>>,
    /// The server's thread and stop handle; only the original `TestApp` owns it.
    server: Option<(actix_web::dev::ServerHandle, std::thread::JoinHandle<()>)>,
}

impl Drop for TestApp {
    /// Stops the server and waits for its thread, so no connection outlives the test
    /// (libpq and OpenSSL do not like threads still running at process exit).
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.server.take() {
            drop(handle.stop(false));
            let _ = thread.join();
        }
    }
}

/// Settings for a test instance: port 0, a fresh key, the dev mailbox.
pub fn test_settings(db: &TestDb) -> Settings {
    Settings {
        database_url: db.url.clone(),
        read_database_url: None,
        read_max_lag: Duration::from_secs(5),
        bind: "127.0.0.1:0".parse().unwrap(),
        base_url: url::Url::parse("http://127.0.0.1:0").unwrap(),
        base_url_from_bind: true,
        session_key: SessionKey { bytes: vec![7u8; 64], older: Vec::new(), generated: false },
        smtp_url: None,
        mail_from: "Roster <roster@localhost>".into(),
        invitation_ttl: Duration::from_secs(7 * 86_400),
        support_url: None,
        outbox_poll_interval: Duration::from_millis(100),
        db_pool_size: 4,
        http_workers: 1,
        trusted_proxies: Vec::new(),
        dns_server: None,
        metrics_token: None,
        shutdown_grace: std::time::Duration::from_secs(5),
        request_timeout: std::time::Duration::from_secs(10),
        keep_alive: std::time::Duration::from_secs(75),
        session_idle_timeout: std::time::Duration::from_secs(24 * 3_600),
        page_cache_bytes: 16 * 1024 * 1024,
        api_requests_per_minute: 600,
        webhooks_allow_private: false,
        sso_allow_private: false,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application with settings adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        roster::telemetry::init("debug", roster::telemetry::LogFormat::from_env().unwrap());
    }
    let db = tokio::task::spawn_blocking(TestDb::new).await.unwrap();
    let mut settings = test_settings(&db);
    adjust(&mut settings);
    let jar = Arc::new(Jar::default());
    start(settings, Arc::new(db), jar).await
}

/// Starts an instance of the application on `db`, for a browser with cookies `jar`.
async fn start(settings: Settings, db: Arc<TestDb>, jar: Arc<Jar>) -> TestApp {
    // The server runs on a thread and runtime of its own, so it can be stopped and
    // joined when the test ends, whatever the test's runtime does.
    let (ready, started) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async move {
            let app = Application::build(settings).await.expect("application builds");
            ready.send((app.port(), app.settings().clone(), app.server_handle())).unwrap();
            app.run_until_stopped().await.unwrap();
        });
    });
    let (port, settings, handle) =
        tokio::task::spawn_blocking(move || started.recv().expect("server starts")).await.unwrap();
    TestApp {
        client: client_with(jar.clone()),
        jar,
        // Where the app listens: 127.0.0.1, by the name its base URL gives it when that
        // follows the bind (`localhost`, for passkeys, which need a domain name).
        address: match (settings.base_url_from_bind, settings.base_url.host_str()) {
            (true, Some(host)) => format!("http://{host}:{port}"),
            _ => format!("http://127.0.0.1:{port}"),
        },
        settings,
        db,
        csrf: Default::default(),
        server: Some((handle, thread)),
    }
}

/// A client that keeps cookies in `jar` and does not follow redirects.
pub fn client_with(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(Policy::none())
        // Shorter than the server's keep-alive (5 s): a connection the server is closing
        // at that moment is never reused for a request, which would fail half-sent.
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

/// The value of a `Location` header.
pub fn location(response: &Response) -> String {
    response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// The CSRF token a page gives this browser, as a person's browser would find it
    /// in its forms. It is kept while the browser's cookies stay the same: the token
    /// belongs to the CSRF cookie and the session, and changes with either.
    pub async fn csrf_token(&self) -> String {
        let cookies = || self.jar.cookies(&self.address.parse().unwrap()).map(|h| h.to_str().unwrap().to_owned());
        if let Some((seen, token)) = self.csrf.lock().unwrap().clone() {
            if Some(seen) == cookies() {
                return token;
            }
        }
        let (_, page) = self.get_text("/help").await;
        let token = csrf_field(&page).expect("every page carries the CSRF token");
        *self.csrf.lock().unwrap() = cookies().map(|seen| (seen, token.clone()));
        token
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.address.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    /// Posts a form with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        self.client.post(self.url(path)).form(&body).send().await.expect("POST")
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).form(fields).send().await.expect("POST")
    }

    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> Response {
        self.post_form(
            "/sign-up",
            &[("name", name), ("email", email), ("password", password), ("password_confirmation", password)],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_form("/sign-in", &[("email", email), ("password", password)]).await
    }

    pub async fn sign_out(&self) -> Response {
        self.post_form("/sign-out", &[]).await
    }

    pub async fn create_org(&self, name: &str) -> Response {
        self.post_form("/orgs", &[("name", name)]).await
    }

    /// Creates a verified account directly, for tests about what comes after sign-up.
    pub async fn create_verified_user(&self, name: &str, email: &str) {
        let url = self.db.url.clone();
        let (name, email) = (name.to_owned(), email.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            let password = roster::domain::NewPassword::parse(PASSWORD, PASSWORD).unwrap();
            let hash = roster::services::passwords::hash(&password).unwrap();
            let created = roster::services::demo::create_verified_user(
                &mut conn,
                &roster::domain::PersonName::parse(&name).unwrap(),
                &roster::domain::EmailAddress::parse(&email).unwrap(),
                &hash,
            )
            .unwrap();
            assert!(created, "{email} already exists");
        })
        .await
        .unwrap();
    }

    /// A verified user, signed in on this client.
    pub async fn signed_in_user(&self, name: &str, email: &str) {
        self.create_verified_user(name, email).await;
        let response = self.sign_in(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in of {email} failed");
    }

    /// Every message written to the outbox for `to`, oldest first, with its delivery's state.
    pub fn mail_to(&self, to: &str) -> Vec<Message> {
        let mut conn = self.db.conn();
        diesel::sql_query(
            "SELECT o.id, o.to_address, o.subject, o.sealed_body, o.text_body, o.html_body, o.status, j.attempts, \
                    j.run_at AS next_attempt_at, o.last_error, o.created_at, o.sent_at \
               FROM outbox o \
               JOIN jobs j ON j.kind = 'mail' AND j.payload->>'message_id' = o.id::text \
              WHERE lower(o.to_address COLLATE \"C\") = lower($1 COLLATE \"C\") \
              ORDER BY o.created_at, o.id",
        )
        .bind::<Text, _>(to)
        .load::<MessageRow>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.opened(&self.sealing_key()))
        .collect()
    }

    /// The keys this app seals outbox bodies with (the newest) and opens them with (all).
    pub fn sealing_key(&self) -> roster::domain::SealingKey {
        roster::domain::SealingKey::derive(&self.settings.session_key.ring())
    }

    /// The newest message for `to`; fails the test when there is none.
    pub fn last_mail_to(&self, to: &str) -> Message {
        self.mail_to(to).pop().unwrap_or_else(|| panic!("no mail for {to}"))
    }

    /// Runs a query against the test database.
    pub fn count(&self, sql: &str) -> i64 {
        self.db.count(sql)
    }

    /// Another instance of Roster on this one's database, as behind a load balancer,
    /// with its settings adjusted by `adjust`, reached by this same browser (cookies
    /// are kept per host, whatever the port).
    pub async fn another_instance(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = test_settings(&self.db);
        settings.webhooks_allow_private = self.settings.webhooks_allow_private;
        settings.sso_allow_private = self.settings.sso_allow_private;
        adjust(&mut settings);
        start(settings, self.db.clone(), self.jar.clone()).await
    }

    /// A second browser: same server, its own cookies.
    pub fn other_browser(&self) -> TestApp {
        let jar = Arc::new(Jar::default());
        TestApp {
            address: self.address.clone(),
            settings: self.settings.clone(),
            client: client_with(jar.clone()),
            jar,
            db: self.db.clone(),
            csrf: Default::default(),
            server: None,
        }
    }
}

/// The first link in a message's text that starts with `prefix` (a path like "/verify-email").
pub fn link_in(message: &Message, path_prefix: &str) -> String {
    message
        .text_body
        .split_whitespace()
        .find(|word| word.starts_with("http") && word.contains(path_prefix))
        .unwrap_or_else(|| panic!("no {path_prefix} link in {:?}", message.text_body))
        .to_owned()
}

/// The path and query of an absolute link.
pub fn path_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

impl TestApp {
    /// A verified, signed-in Owner of a new organization; returns its slug.
    pub async fn owner_of(&self, org: &str, name: &str, email: &str) -> String {
        self.signed_in_user(name, email).await;
        let response = self.create_org(org).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating {org}");
        location(&response).trim_start_matches("/orgs/").to_owned()
    }

    /// `Send Invitations` as a plain form post.
    pub async fn invite(&self, slug: &str, emails: &str, role: &str) -> Response {
        self.post_form(&format!("/orgs/{slug}/invitations"), &[("emails", emails), ("role", role)]).await
    }

    /// The path of the newest invitation link mailed to `email`.
    pub fn invitation_link(&self, email: &str) -> String {
        path_of(&link_in(&self.last_mail_to(email), "/invite/"))
    }

    /// The id of the newest invitation to `email`.
    pub fn invitation_id(&self, email: &str) -> Uuid {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        let mut conn = self.db.conn();
        diesel::sql_query("SELECT id FROM invitations WHERE email_key = $1 ORDER BY created_at DESC LIMIT 1")
            .bind::<Text, _>(roster::domain::email_address::canonical(email))
            .get_result::<Row>(&mut conn)
            .unwrap_or_else(|_| panic!("no invitation for {email}"))
            .id
    }

    /// The id of the organization domain named `domain`.
    pub fn domain_id(&self, domain: &str) -> String {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        diesel::sql_query("SELECT id FROM organization_domains WHERE domain = $1")
            .bind::<Text, _>(domain)
            .get_result::<Row>(&mut self.db.conn())
            .unwrap_or_else(|_| panic!("no domain {domain}"))
            .id
            .to_string()
    }

    /// Runs a statement against the test database (to arrange a situation, e.g. an expired invitation).
    /// Runs one round of Roster's access sweep as if the clock said `now` (reminders
    /// before end dates, ends at them, invitation reminders), with this app's keys.
    pub fn sweep_at(&self, now: time::OffsetDateTime) -> roster::services::expiry::Swept {
        let ring = self.settings.session_key.ring();
        let links = roster::mail::Links::with_keys(&self.settings.base_url, &ring);
        let tokens = roster::domain::token::TokenKey::derive(&ring);
        let ctx =
            roster::services::invitations::Context { links: &links, tokens: &tokens, ttl: time::Duration::days(7) };
        roster::services::expiry::sweep(&mut self.db.conn(), &ctx, now).expect("the sweep runs")
    }

    /// Runs `sql`, returning the database's refusal instead of failing.
    pub fn try_execute(&self, sql: &str) -> diesel::QueryResult<usize> {
        let mut conn = self.db.conn();
        diesel::sql_query(sql).execute(&mut conn)
    }

    /// The text of the one row `sql` returns, from a column named `value`.
    pub fn scalar(&self, sql: &str) -> String {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut conn = self.db.conn();
        diesel::sql_query(sql).get_result::<Row>(&mut conn).unwrap().value
    }

    pub fn execute(&self, sql: &str) {
        let mut conn = self.db.conn();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
}

/// Asserts a response's status and that its body contains `text`; returns the body.
pub async fn expect_page(response: Response, status: StatusCode, text: &str) -> String {
    let actual = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body:\n{body}");
    assert!(unescape(&body).contains(text), "expected {text:?} in:\n{body}");
    body
}

/// The text a person reads: HTML character references of the escaper undone.
pub fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl TestApp {
    /// A new signed-in browser for `email`, invited by this (Owner's) client as `role` and joined.
    pub async fn member(&self, slug: &str, name: &str, email: &str, role: &str) -> TestApp {
        let response = self.invite(slug, email, role).await;
        assert_eq!(response.status(), StatusCode::OK, "inviting {email}");
        let person = self.other_browser();
        person.signed_in_user(name, email).await;
        let link = self.invitation_link(email);
        let response = person.post_form(&format!("{link}/accept"), &[]).await;
        assert_eq!(location(&response), format!("/orgs/{slug}"), "{email} joins");
        person
    }

    /// The membership id of `email` in the organization `slug`.
    pub fn membership_id(&self, slug: &str, email: &str) -> Uuid {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        let mut conn = self.db.conn();
        diesel::sql_query(
            "SELECT m.id FROM memberships m JOIN organizations o ON o.id = m.organization_id \
             JOIN users u ON u.id = m.user_id WHERE o.slug = $1 AND lower(u.email) = lower($2)",
        )
        .bind::<Text, _>(slug)
        .bind::<Text, _>(email)
        .get_result::<Row>(&mut conn)
        .unwrap_or_else(|_| panic!("{email} is not a member of {slug}"))
        .id
    }
}

/// A real DNS server for verified-domain tests.
pub mod dns_server {
    use std::collections::BTreeMap;
    use std::str::FromStr;
    use std::sync::Arc;
    use std::time::Duration;

    use hickory_server::proto::rr::rdata::{A, AAAA, SOA, TXT};
    use hickory_server::proto::rr::{LowerName, RData, Record, RecordSet, RecordType, RrKey};
    use hickory_server::store::in_memory::InMemoryZoneHandler;
    use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

    /// An authoritative server for the zone `test.` on 127.0.0.1 (UDP and TCP, one port),
    /// with the TXT records `txts`; it answers until dropped.
    pub async fn start_dns(txts: &[(&str, &str)]) -> (std::net::SocketAddr, hickory_server::Server<Catalog>) {
        start_dns_with(txts, &[]).await
    }

    /// [`start_dns`], with address records too: each `(name, address)` an A or AAAA record.
    pub async fn start_dns_with(
        txts: &[(&str, &str)],
        addresses: &[(&str, &str)],
    ) -> (std::net::SocketAddr, hickory_server::Server<Catalog>) {
        let origin = hickory_server::proto::rr::Name::from_str("test.").unwrap();
        let mut records = BTreeMap::new();
        let soa = SOA::new(
            hickory_server::proto::rr::Name::from_str("ns.test.").unwrap(),
            hickory_server::proto::rr::Name::from_str("admin.test.").unwrap(),
            1,
            3600,
            600,
            86400,
            0,
        );
        let mut soa_set = RecordSet::new(origin.clone(), RecordType::SOA, 1);
        soa_set.insert(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1);
        records.insert(RrKey::new(LowerName::new(&origin), RecordType::SOA), soa_set);
        for (host, value) in txts {
            let name = hickory_server::proto::rr::Name::from_str(host).unwrap();
            records
                .entry(RrKey::new(LowerName::new(&name), RecordType::TXT))
                .or_insert_with(|| RecordSet::new(name.clone(), RecordType::TXT, 1))
                .insert(Record::from_rdata(name.clone(), 60, RData::TXT(TXT::new(vec![value.to_string()]))), 1);
        }
        for (host, address) in addresses {
            let name = hickory_server::proto::rr::Name::from_str(host).unwrap();
            let (kind, data) = match address.parse::<std::net::IpAddr>().unwrap() {
                std::net::IpAddr::V4(v4) => (RecordType::A, RData::A(A::from(v4))),
                std::net::IpAddr::V6(v6) => (RecordType::AAAA, RData::AAAA(AAAA::from(v6))),
            };
            records
                .entry(RrKey::new(LowerName::new(&name), kind))
                .or_insert_with(|| RecordSet::new(name.clone(), kind, 1))
                .insert(Record::from_rdata(name.clone(), 60, data), 1);
        }
        let zone: InMemoryZoneHandler =
            InMemoryZoneHandler::new(origin.clone(), records, ZoneType::Primary, AxfrPolicy::Deny).unwrap();
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let mut server = hickory_server::Server::new(catalog);
        server.register_socket(udp);
        if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
            server.register_listener(tcp, Duration::from_secs(5), 1024);
        }
        (addr, server)
    }
}

pub use dns_server::start_dns;

/// The CSRF token a page carries (in its forms, or in the htmx headers of its body).
pub fn csrf_field(page: &str) -> Option<String> {
    ["name=\"csrf_token\" value=\"", "\"X-CSRF-Token\": \""].iter().find_map(|prefix| {
        let at = page.find(prefix)? + prefix.len();
        page[at..].split('"').next().map(str::to_owned)
    })
}

/// A page with its CSRF token (masked afresh in every response) replaced by `TOKEN`,
/// to compare two answers that must be the same page.
pub fn unmasked(page: &str) -> String {
    match csrf_field(page) {
        Some(token) if !token.is_empty() => page.replace(&token, "TOKEN"),
        _ => page.to_owned(),
    }
}
