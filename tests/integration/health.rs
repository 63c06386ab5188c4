use crate::common::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!(status.as_u16(), 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    // The newest migration directory's version, as `__diesel_schema_migrations` records it.
    let applied = app.count("SELECT max(version)::bigint AS count FROM __diesel_schema_migrations");
    assert_eq!(health["migration"], applied.to_string());
    let (status, body) = app.get_text("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ready"));
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/sign-in").await;
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    let csp = header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let cookie = header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn pages_have_no_inline_scripts_or_styles_and_htmx_is_locked_down() {
    let app = spawn_app().await;
    let (_, body) = app.get_text("/sign-in").await;
    assert!(!body.contains("<script>") && !body.contains("style="), "inline code found");
    assert!(body.contains(r#""allowEval":false"#));
    assert!(body.contains(r#""allowScriptTags":false"#));
    assert!(body.contains(r#""historyCacheSize":0"#));
    let htmx = app.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status().as_u16(), 200);
    assert_eq!(htmx.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(htmx.text().await.unwrap().contains("htmx"));
}

#[tokio::test]
async fn unknown_pages_get_the_error_page() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/no-such-page").await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Not found"), "{body}");
    assert!(body.contains("<html"), "a full page for a browser");
}

#[tokio::test]
async fn htmx_requests_get_a_fragment_aimed_at_the_alert_region() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/no-such-page")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["hx-retarget"], "#flash");
    let body = response.text().await.unwrap();
    assert!(!body.contains("<html") && body.contains("role=\"alert\""), "{body}");
}

#[tokio::test]
async fn the_support_link_shows_only_when_configured() {
    let app = spawn_app().await;
    let (_, body) = app.get_text("/help").await;
    assert!(!body.contains(">Support<"));
    let app =
        crate::common::spawn_app_with(|s| s.support_url = Some("https://support.example.com/roster".parse().unwrap()))
            .await;
    let (status, body) = app.get_text("/help").await;
    assert_eq!(status.as_u16(), 200);
    assert!(body.contains(r#"<a href="https://support.example.com/roster" rel="noopener">Support</a>"#), "{body}");
}

#[tokio::test]
async fn error_pages_keep_the_signed_in_header() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (status, body) = app.get_text("/orgs/no-such-org").await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Account menu for Ada Lovelace"), "{body}");
    assert!(!body.contains(">Create account<"));
}

#[tokio::test]
async fn head_requests_answer_like_get() {
    let app = spawn_app().await;
    for (path, status) in [("/", 303), ("/healthz", 200), ("/readyz", 200)] {
        let response = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "HEAD {path}");
    }
}

pub(crate) const METRICS_TOKEN: &str = "a-metrics-token-for-tests";

/// Scrapes `/metrics` with the token and returns its text.
async fn scrape(app: &crate::common::TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

/// The value of the series whose line starts with `series` (name and labels as printed).
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits (bounded) until the scraped figure `series` satisfies `check`.
pub(crate) async fn eventually_metric(
    app: &crate::common::TestApp,
    series: &str,
    check: impl Fn(f64) -> bool,
) -> String {
    for _ in 0..100 {
        let text = scrape(app).await;
        if value(&text, series).is_some_and(&check) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{series} never held:\n{}", scrape(app).await);
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status().as_u16(), 404, "no token configured: no metrics");

    let app = crate::common::spawn_app_with(|s| s.metrics_token = Some(METRICS_TOKEN.into())).await;
    assert_eq!(app.get("/metrics").await.status().as_u16(), 401);
    let wrong = app.client.get(app.url("/metrics")).bearer_auth("not-the-token-at-all").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(scrape(&app).await.contains("roster_http_requests_total"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_show_pool_sessions_and_streams() {
    let app = crate::common::spawn_app_with(|s| s.metrics_token = Some(METRICS_TOKEN.into())).await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let slug_page = app.create_org("Acme").await;
    assert_eq!(slug_page.status().as_u16(), 303);
    for _ in 0..3 {
        assert_eq!(app.get("/orgs/acme/members").await.status().as_u16(), 200);
    }
    assert_eq!(app.get("/no-such-page/123").await.status().as_u16(), 404);
    // A live bell stream, held open while scraping.
    let stream = app.get("/notifications/stream").await;
    assert_eq!(stream.status().as_u16(), 200);

    let text = eventually_metric(&app, "roster_live_bell_streams", |open| open == 1.0).await;
    let members = r#"roster_http_requests_total{method="GET",route="/orgs/{slug}/members",status="2xx"}"#;
    assert_eq!(value(&text, members), Some(3.0), "{text}");
    assert_eq!(value(&text, r#"roster_http_requests_total{method="POST",route="/orgs",status="3xx"}"#), Some(1.0));
    assert_eq!(value(&text, r#"roster_http_requests_total{method="GET",route="unmatched",status="4xx"}"#), Some(1.0));
    assert!(!text.contains("/orgs/acme"), "raw paths never become labels");
    let latency =
        r#"roster_http_request_duration_seconds_count{method="GET",route="/orgs/{slug}/members",status="2xx"}"#;
    assert_eq!(value(&text, latency), Some(3.0));
    assert_eq!(value(&text, "roster_database_up"), Some(1.0));
    let pool = app.settings.db_pool_size as usize + roster::startup::WORKER_LOOPS;
    assert_eq!(value(&text, "roster_db_pool_max_connections"), Some(pool as f64), "the pages' and the worker's");
    assert!(value(&text, "roster_db_pool_connections").is_some_and(|n| n >= 1.0));
    // Tasks the pool keeps waiting: none but a worker loop that caught the pool
    // opening a connection, so the figure is only known to be there and not negative.
    assert!(value(&text, "roster_db_pool_waiting").is_some_and(|n| n >= 0.0), "{text}");
    assert_eq!(value(&text, "roster_sessions"), Some(1.0), "Ada's session");
    drop(stream);
}

#[tokio::test]
async fn metrics_show_mail_delivered_and_mail_waiting() {
    // The dev mailbox delivers at once.
    let app = crate::common::spawn_app_with(|s| s.metrics_token = Some(METRICS_TOKEN.into())).await;
    app.sign_up("Ada", "ada@example.com", crate::common::PASSWORD).await;
    eventually_metric(&app, r#"roster_mail_deliveries_total{outcome="sent"}"#, |n| n == 1.0).await;
    // A scrape reads the outbox a moment before it renders the counters, so the two
    // agree from the next scrape on.
    let text = eventually_metric(&app, r#"roster_outbox_messages{status="pending"}"#, |n| n == 0.0).await;
    assert_eq!(value(&text, "roster_outbox_oldest_pending_age_seconds"), Some(0.0));

    // An SMTP server that is down: the attempt fails and the message waits.
    let app = crate::common::spawn_app_with(|s| {
        s.metrics_token = Some(METRICS_TOKEN.into());
        s.smtp_url = Some("smtp://127.0.0.1:9".into());
    })
    .await;
    app.sign_up("Ada", "ada@example.com", crate::common::PASSWORD).await;
    let text = eventually_metric(&app, r#"roster_mail_deliveries_total{outcome="retrying"}"#, |n| n == 1.0).await;
    assert_eq!(value(&text, r#"roster_outbox_messages{status="pending"}"#), Some(1.0), "{text}");
    assert!(value(&text, "roster_outbox_oldest_pending_age_seconds").is_some_and(|age| age > 0.0));
    assert_eq!(value(&text, r#"roster_jobs_pending{kind="mail"}"#), Some(1.0), "its job waits for a retry");
}

#[tokio::test]
async fn pages_link_assets_by_content_hash_which_are_compressed_and_cached_for_good() {
    let app = spawn_app().await;
    let (_, page) = app.get_text("/sign-in").await;
    let css = page
        .split('"')
        .find(|part| part.starts_with("/static/app.") && part.ends_with(".css"))
        .unwrap_or_else(|| panic!("no stylesheet link in {page}"))
        .to_owned();
    assert_eq!(css.len(), "/static/app.0123456789.css".len(), "{css}");

    let original = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css")).unwrap();
    // Compressed once, at build time: the smallest encoding the browser takes.
    for (accepted, encoding) in [("gzip, deflate, br, zstd", "br"), ("br", "br"), ("gzip", "gzip")] {
        let response = app.client.get(app.url(&css)).header("Accept-Encoding", accepted).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding, "Accept-Encoding: {accepted}");
        assert_eq!(response.headers()["vary"], "accept-encoding");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        let sent = response.bytes().await.unwrap().len();
        assert!(sent * 2 < original.len(), "{encoding}: {sent} bytes for {} bytes of CSS", original.len());
    }
    // Without Accept-Encoding, the file as it is.
    let plain = app.client.get(app.url(&css)).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), original.len());
    // The plain name still answers (a page from before a deploy), for a short time only.
    let old_link = app.get("/static/app.css").await;
    assert_eq!(old_link.headers()["cache-control"], "public, max-age=3600");
}

/// A TCP relay to PostgreSQL that the test can freeze: while frozen, what either
/// side sends is held, as a stopped or hung server would hold it.
struct StallingRelay {
    port: u16,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl StallingRelay {
    async fn start(upstream: u16) -> StallingRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (frozen, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let (from_client, to_client) = inbound.into_split();
                    let (from_server, to_server) = outbound.into_split();
                    tokio::spawn(pump(from_client, to_server, watch.clone()));
                    pump(from_server, to_client, watch).await;
                });
            }
        });
        StallingRelay { port, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while *frozen.borrow_and_update() {
            if frozen.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_gets_the_busy_page_within_the_bound_and_the_pool_recovers() {
    let relay = StallingRelay::start(5432).await;
    let port = relay.port;
    let app = crate::common::spawn_app_with(move |s| {
        let mut url = url::Url::parse(&s.database_url).unwrap();
        url.set_port(Some(port)).unwrap();
        s.database_url = url.to_string();
        s.request_timeout = std::time::Duration::from_secs(2);
    })
    .await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let members = format!("/orgs/{slug}/members");
    assert_eq!(app.get(&members).await.status().as_u16(), 200);

    relay.freeze(true);
    // Without a bound these would wait for as long as the database does; the client
    // gives up after 15 s, which fails the test.
    let get = |path: String, htmx: bool| {
        let mut request = app.client.get(app.url(&path)).timeout(std::time::Duration::from_secs(15));
        if htmx {
            request = request.header("HX-Request", "true");
        }
        request.send()
    };
    let response = get(members.clone(), false).await.expect("an answer, not a hang");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let page = response.text().await.unwrap();
    assert!(page.contains("Busy right now") && page.contains("Try again in a moment"), "{page}");
    let response = get(members.clone(), true).await.expect("an answer, not a hang");
    assert_eq!(response.status().as_u16(), 503, "htmx gets a fragment with the same status");
    assert_eq!(response.headers()["hx-retarget"], "#flash");
    assert_eq!(get("/healthz".into(), false).await.expect("liveness answers").status().as_u16(), 200);
    assert_eq!(get("/readyz".into(), false).await.expect("readiness answers").status().as_u16(), 503);

    // The database comes back, and so does Roster, without a restart.
    relay.freeze(false);
    let mut status = 0;
    for _ in 0..100 {
        status = get(members.clone(), false).await.map_or(0, |r| r.status().as_u16());
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the pool recovered");
}

/// A statement that waits (here on a row another transaction holds) is given up by
/// the server after three request timeouts: the person got the 503 page long before,
/// and the connection goes back to the pool instead of waiting with them.
#[tokio::test]
async fn a_statement_nobody_waits_for_any_more_is_given_up_and_its_connection_freed() {
    use diesel::{Connection as _, RunQueryDsl as _};
    let app = crate::common::spawn_app_with(|s| s.request_timeout = std::time::Duration::from_secs(1)).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let token = app.csrf_token().await;

    // Another session holds the organization's row, which inviting locks.
    let mut holder = app.db.conn();
    holder.begin_test_transaction().unwrap();
    diesel::sql_query("SELECT id FROM organizations FOR UPDATE").execute(&mut holder).unwrap();

    let started = std::time::Instant::now();
    let response = app
        .client
        .post(app.url(&format!("/orgs/{slug}/invitations")))
        .form(&[("emails", "ada@example.com"), ("role", "member"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "answered within the bound");

    // At 3 s the server cancels the waiting statement: no Roster backend waits on the lock.
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                   AND wait_event_type = 'Lock'";
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    assert_eq!(app.count(waiting), 0, "the waiting statement was given up");
    drop(holder); // the lock goes with the rolled-back transaction
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0, "nothing was half-done");
    assert_eq!(app.get(&format!("/orgs/{slug}/members")).await.status(), reqwest::StatusCode::OK);
}
