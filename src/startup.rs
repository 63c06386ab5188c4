//! Builds the application: database, pool, job worker and HTTP server. Used by `main` and the tests.

use std::net::TcpListener;
use std::rc::Rc;

use actix_service::ServiceFactoryExt as _;
use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App};
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt as _;

use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::address::AddressPolicy;
use crate::handlers::{self, mail::Deliver};
use crate::jobs::Worker;
use crate::mail::transport::Transport;
use crate::mail::Links;
use crate::metrics::Metrics;
use crate::web as routes;
use crate::web::session::PgSessionStore;
use crate::web::state::AppState;

/// How long a stopping worker may take to finish the job it runs: longer than the SMTP
/// timeout (20 s), so a delivery in flight is recorded rather than sent again later.
const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Job worker loops per instance. An SMTP exchange waits on the network (lettre writes the
/// final `.` of a message on its own, so Nagle's algorithm and the server's delayed ACK
/// cost about 40 ms a message on Linux): eight loops deliver eight at once. Each takes a
/// pooled connection only to claim jobs and record outcomes (never across the network
/// I/O of a job); the pool keeps room for all eight at once beside the pages.
pub const WORKER_LOOPS: usize = 8;

/// A bound, ready-to-run Roster.
pub struct Application {
    port: u16,
    server: Server,
    settings: Settings,
    db: Db,
    /// Cancelled when the server begins to stop: live streams end, the worker stops.
    shutdown: CancellationToken,
    /// The job worker's loops, each of which finishes the job it is running once
    /// `shutdown` is cancelled.
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Creates and migrates the database, binds the port, starts the job worker.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Application> {
        let url = settings.database_url.clone();
        tokio::task::spawn_blocking(move || db::prepare(&url)).await??;
        // A statement may run three times as long as a request waits for its answer:
        // past that, nobody waits for it.
        let statement_timeout = settings.request_timeout * 3;
        let pool =
            db::build_pool(&settings.database_url, settings.db_pool_size + WORKER_LOOPS as u32, statement_timeout)?;
        let db = match &settings.read_database_url {
            Some(url) => {
                let replica = db::build_replica_pool(url, settings.db_pool_size, statement_timeout);
                Db::new(pool).with_replica(replica, settings.read_max_lag)
            }
            None => Db::new(pool),
        };

        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            anyhow::anyhow!(
                "Cannot listen on {}: {e}. Choose another address with --bind or ROSTER_BIND.",
                settings.bind
            )
        })?;
        let address = listener.local_addr()?;
        if settings.base_url_from_bind {
            // The port actually bound (port 0 asks for any); the host stays as configured.
            settings
                .base_url
                .set_port(Some(address.port()))
                .map_err(|()| anyhow::anyhow!("{} cannot take a port", settings.base_url))?;
        }

        let shutdown = CancellationToken::new();
        let metrics = Metrics::new();
        tokio::spawn(handlers::housekeeping::housekeeping(db.clone()));
        tokio::spawn(db.clone().watch_replica());
        tokio::spawn(crate::services::domains::schedule_rechecks_forever(db.clone()));
        // Access over time (DESIGN.md §2.12): reminders before end dates, ends at them.
        tokio::spawn(crate::services::expiry::sweep_forever(
            db.clone(),
            crate::mail::Links::with_keys(&settings.base_url, &settings.session_key.ring()),
            crate::domain::token::TokenKey::derive(&settings.session_key.ring()),
        ));
        let sealing = crate::domain::SealingKey::derive(&settings.session_key.ring());
        // Stored secrets sealed under an older key move to the newest (DESIGN.md §2.10).
        tokio::spawn(crate::services::keys::reseal_forever(db.clone(), sealing.clone()));
        let dns = crate::dns::Dns { server: settings.dns_server };
        // Webhooks follow no redirect: a receiver that moved says so in the delivery log.
        let webhooks = crate::outbound::Outbound::new(
            AddressPolicy { allow_private: settings.webhooks_allow_private, exceptions: Vec::new() },
            &dns,
            crate::outbound::Redirects::None,
        )?;
        let mut worker = Worker::new()
            .with(handlers::domains::Recheck { dns })
            .with(handlers::webhooks::DeliverWebhooks::new(sealing.clone(), webhooks));
        if settings.mail_undeliverable() {
            // Without a handler the `mail` jobs are not claimed: they wait, attempts untouched.
            tracing::warn!(
                "ROSTER_SMTP_URL is not set and {} is not a local address: mail waits in the outbox \
                 until an SMTP server is configured (the dev mailbox is only for local use)",
                settings.base_url
            );
        } else {
            let transport = Transport::from_settings(
                settings.smtp_url.as_deref(),
                &settings.mail_from,
                &crate::mail::message_id_domain(&settings.base_url),
            )?;
            worker = worker.with(Deliver::new(transport, sealing, metrics.mail.clone()));
        }
        // Several loops claim from the same queue (FOR UPDATE SKIP LOCKED, as instances do),
        // so a slow SMTP exchange holds up one message, not the outbox.
        let loops = if worker.is_empty() { 0 } else { WORKER_LOOPS };
        let workers = (0..loops)
            .map(|_| tokio::spawn(worker.clone().run(db.clone(), settings.outbox_poll_interval, shutdown.clone())))
            .collect();

        let bell = crate::web::live::BellHub::new(shutdown.clone(), metrics.live_streams.clone());
        tokio::spawn(bell.clone().listen(settings.database_url.clone()));
        let server = serve(listener, db.clone(), settings.clone(), bell, metrics)?;
        Ok(Application { port: address.port(), server, settings, db, shutdown, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A handle to stop the server from elsewhere (tests stop each instance they start).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through its handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `stop` completes (for `roster serve`: SIGTERM or SIGINT), then drains:
    /// no new connections, live streams told to reconnect and closed, requests in flight
    /// given `shutdown_grace` to finish, and the job worker stopped after its current job
    /// (the jobs it claimed and did not start are given back to the queue).
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let served = tokio::select! {
            result = &mut server => result,
            () = stop => {
                tracing::info!(grace = ?self.settings.shutdown_grace, "stopping: draining requests and the job worker");
                self.shutdown.cancel();
                // The server future carries out the stop, so it is polled alongside.
                let ((), result) = tokio::join!(handle.stop(true), server);
                result
            }
        };
        self.shutdown.cancel();
        // The jobs running now finish (mail: within the SMTP timeout); nothing new starts.
        let workers = futures_util::future::join_all(std::mem::take(&mut self.workers));
        if tokio::time::timeout(WORKER_GRACE, workers).await.is_err() {
            tracing::warn!("the job worker did not finish its jobs in time; their leases will run out");
        }
        tracing::info!("stopped");
        served
    }
}

fn serve(
    listener: TcpListener,
    db: Db,
    settings: Settings,
    bell: crate::web::live::BellHub,
    metrics: Metrics,
) -> anyhow::Result<Server> {
    let secure = settings.serves_tls();
    let ring = settings.session_key.ring();
    let cookie_keys: Vec<Key> = ring.all().map(Key::from).collect();
    let key = cookie_keys[0].clone();
    let dev_mailbox = settings.uses_dev_mailbox();
    let workers = settings.http_workers;
    // Enough for one worker to use every pooled connection, and for password hashing.
    let blocking_threads = settings.db_pool_size as usize + 2;
    let grace = settings.shutdown_grace;
    let lifetimes = crate::services::sessions::Lifetimes {
        absolute: routes::session::ABSOLUTE_LIFETIME,
        idle: settings.session_idle_timeout,
    };
    let links = Links::with_keys(&settings.base_url, &ring);
    let sso = crate::services::auth::sso::SingleSignOn::new(
        crate::domain::sso::ProviderPlaces { allow_private: settings.sso_allow_private },
        &crate::dns::Dns { server: settings.dns_server },
        &links,
        settings.request_timeout,
    )
    .map_err(|error| anyhow::anyhow!("the single sign-on client: {error}"))?;
    let state = web::Data::new(AppState {
        sso,
        links,
        tokens: crate::domain::token::TokenKey::derive(&ring),
        csrf: routes::csrf::CsrfKey::derive(&ring),
        bell,
        bell_counts: Default::default(),
        db: db.clone(),
        dns: crate::dns::Dns { server: settings.dns_server },
        metrics,
        cookie_keys: cookie_keys.clone(),
        api: routes::api::document(&settings.base_url),
        passkeys: crate::services::auth::passkeys::Passkeys::new(&settings.base_url),
        settings,
    });
    let store = PgSessionStore::new(db, lifetimes);

    let pages = (state.settings.page_cache_bytes > 0)
        .then(|| routes::page_cache::PageCache::new(state.settings.page_cache_bytes, store.clone()));
    let connections = routes::connections::Connections { state: state.clone(), store: store.clone() };
    let address = listener.local_addr()?;
    let keep_alive = state.settings.keep_alive;
    let app = move || {
        let headers = crate::web::headers::security_headers(secure)
            .into_iter()
            .fold(DefaultHeaders::new(), |headers, h| headers.add(h));
        let sessions = SessionMiddleware::builder(store.clone(), key.clone())
            .cookie_name(routes::session::cookie_name(secure).into())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(actix_web::cookie::time::Duration::seconds_f64(lifetimes.absolute.as_secs_f64()))
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
            )
            .build();

        // The JSON API first: it has its own errors (problems), no session and no CSRF.
        let (app, _) = App::new().into_utoipa_app().service(routes::api::scope()).split_for_parts();
        app.app_data(state.clone())
            .app_data(web::FormConfig::default().limit(1024 * 1024))
            // Static files, probes and metrics skip the session and CSRF layers: no
            // database work for them, and they answer whatever the sessions do.
            // Static files are compressed at build time, pages as they are made
            // (web::compression), streamed answers by actix-web's middleware. Pages
            // carry the CSRF token beside text from the request, so it is masked
            // afresh in every response (web::csrf): compression over TLS cannot leak
            // it (BREACH). The bell's event stream opts out with `Content-Encoding: identity`.
            .service(web::resource("/static/{path:.*}").route(web::get().to(routes::assets::serve_asset)))
            .configure(routes::operations)
            .configure(routes::sessionless)
            // SCIM (identity providers): bearer tokens, its own errors, no session or CSRF.
            .service(routes::scim::scope())
            .service(
                web::scope("")
                    // A browser that changes something reads from the primary for a moment.
                    .wrap(from_fn(routes::recent_writes::mark_browsers))
                    .wrap(from_fn(routes::csrf::protect))
                    // Around the CSRF layer, so its refusals become pages here, inside
                    // compression (an outer layer that rewrote a compressed answer would
                    // leave its encoding on a plain body), and inside the session layer,
                    // so error pages show who is signed in.
                    .wrap(routes::errors::handlers())
                    .wrap(sessions)
                    // Outside the session layer: a cookie made under an older key is
                    // read (and given back) under the newest.
                    .wrap(from_fn(routes::session::reseal_cookie))
                    // Outermost in the scope: what the layers inside write is what is
                    // compressed. Whole bodies (pages, fragments) here, on the worker;
                    // streamed ones (exports) by actix-web's layer around it.
                    .wrap(from_fn(routes::compression::compress_whole_bodies))
                    .wrap(actix_web::middleware::Compress::default())
                    // Around all of it: a kept page, sent again while the database has
                    // not changed, costs its session's read alone (web::page_cache).
                    .wrap(from_fn({
                        let pages = pages.clone();
                        move |req, next| routes::page_cache::serve(pages.clone(), req, next)
                    }))
                    .configure(|cfg| routes::routes(cfg, dev_mailbox)),
            )
            // Innermost of the application's layers: the 503 it answers for a stalled
            // database is a whole page of its own, headers included.
            .wrap(from_fn(routes::deadline::bounded))
            .wrap(routes::errors::handlers())
            .wrap(headers)
            .wrap(from_fn(routes::metrics::measure))
            .wrap(TracingLogger::<routes::logging::RedactingRootSpan>::new())
    };
    let server = actix_server::Server::build();
    let shutdown_signal = server.graceful_shutdown_signal();
    let server = server
        .workers(workers)
        // Each worker's requests wait for the database on threads of its own blocking
        // pool. More of them than the pool has connections only wait for one, each
        // with its own stack and allocator cache: 200 requests at once made 200 such
        // threads and 70 MB resident. Past this many, requests queue without a thread.
        .worker_max_blocking_threads(blocking_threads)
        // `Application::run_until` decides when to stop, so that live streams and the
        // worker stop with the server.
        .disable_signals()
        .shutdown_timeout(grace.as_secs())
        // The server actix-web's `HttpServer::listen` makes, with each connection going
        // first to `web::connections`, which serves live-bell streams itself.
        .listen("roster", listener, move || {
            let shutdown_signal = shutdown_signal.clone();
            let http = actix_http::HttpService::build()
                // As `HttpServer` does: keep-alive connections close at a graceful stop.
                .graceful_shutdown_signal(move || {
                    let signal = shutdown_signal.clone();
                    async move { signal.notified().await }
                })
                // An idle connection waits for its next request as long as nginx keeps
                // one (actix-web's default is 5 s): a client that reuses a connection
                // at the moment the server closes it gets no answer and, unless it
                // retries, an error (2 of 122,000 requests of 200 busy connections,
                // issue 32); and a load balancer in front must find its idle
                // connections open for as long as it keeps them (60 s at AWS's).
                .keep_alive(keep_alive)
                // actix-web's defaults for a request's head and a client going away.
                .client_request_timeout(routes::connections::HEAD_TIMEOUT)
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                // A browser that closes a tab closes its connection; by default the
                // server would take that for a half-close and keep streaming into it
                // until a write failed (a live bell's next keepalive, 25 s on).
                // Browsers never half-close HTTP/1.1.
                .h1_allow_half_closed(false)
                // A connection's write buffer fills to this before it is written out,
                // and stays as large as it grew for the connection's next answer: whole
                // bodies come in pieces of this size (web::compression), so it stays at
                // one piece. At the default (32 KiB) it grew to four pieces; an
                // uncompressed Members page as one chunk left 74 KB with each of 200
                // kept-alive connections (+15 MB resident).
                .h1_write_buffer_size(routes::compression::PIECE)
                // An answer of several pieces is several writes: with Nagle's algorithm
                // on, each write after the first waited for the client's delayed
                // acknowledgement (40 ms a page on Linux). Pieces go out as written.
                .tcp_nodelay(true)
                .local_addr(address)
                // The application's host and address are not read: links are built
                // from ROSTER_BASE_URL (DESIGN.md §5), never from the request.
                .finish(actix_service::map_config(
                    actix_service::IntoServiceFactory::into_factory(app())
                        .map_err(|error: actix_web::Error| error.error_response()),
                    |_| actix_web::dev::AppConfig::default(),
                ))
                .tcp();
            let connections = connections.clone();
            actix_service::fn_factory(move || {
                let http = actix_service::ServiceFactory::new_service(&http, ());
                let connections = connections.clone();
                async move {
                    let http = Rc::new(http.await?);
                    Ok::<_, ()>(actix_service::fn_service(move |io| connections.clone().serve(io, http.clone())))
                }
            })
        })?
        .run();
    Ok(server)
}
