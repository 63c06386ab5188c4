//! Database access: the pool, the blocking-pool runner, migrations, and one module per table.

pub mod api_keys;
pub mod audit;
pub mod bell_events;
pub mod bulk;
pub mod demo;
pub mod domains;
pub mod email_tokens;
pub mod expiry;
pub mod groups;
pub mod history;
pub mod invitation_grants;
pub mod invitations;
pub mod invite_links;
pub mod jobs;
pub mod join_requests;
pub mod listing;
pub mod members;
pub mod memberships;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod prepared;
pub mod projects;
pub mod rate_limits;
pub mod replica;
pub mod schema;
pub mod scim;
pub mod sealed;
pub mod sessions;
pub mod sso;
pub mod teams;
pub mod two_factor;
pub mod types;
pub mod users;
pub mod webhooks;

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use diesel::connection::InstrumentationEvent;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool, PoolError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::redact_database_url;
pub use replica::Replica;

/// Migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Arbitrary but fixed key of the advisory lock held while migrating, so that
/// several instances starting together migrate once.
const MIGRATION_LOCK_KEY: i64 = 0x524f_5354_4552; // "ROSTER"

pub type PgPool = Pool<Manager>;

diesel::define_sql_function! {
    /// SQL `lower(text)`, for case-insensitive email lookups that use the `lower(email)` indexes.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Failure to get a connection for [`Db::run`].
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no database connection available")]
    Pool(#[from] PoolError),
}

/// The pool, plus the one way to use it from async code.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    /// Tasks waiting for a connection right now (r2d2 does not count them), for `/metrics`.
    waiting: Arc<AtomicI64>,
    /// The streaming replica reads that tolerate lag may go to (`ROSTER_READ_DATABASE_URL`).
    replica: Option<Arc<ReadReplica>>,
}

/// The read replica's pool, beside what is known of it.
struct ReadReplica {
    pool: PgPool,
    state: Replica,
}

impl Db {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, waiting: Arc::default(), replica: None }
    }

    /// This database, with the replica reached through `pool` for the reads that
    /// tolerate up to `max_lag` ([`Db::run_then_read`]).
    pub fn with_replica(self, pool: PgPool, max_lag: Duration) -> Self {
        Self { replica: Some(Arc::new(ReadReplica { pool, state: Replica::new(max_lag) })), ..self }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn replica(&self) -> Option<&Replica> {
        self.replica.as_deref().map(|r| &r.state)
    }

    /// Measures the replica's lag every second, for as long as the process runs;
    /// returns at once when there is no replica.
    pub async fn watch_replica(self) {
        let Some(replica) = self.replica.clone() else { return };
        let positions = Arc::new(std::sync::Mutex::new(replica::Positions::default()));
        let mut every = tokio::time::interval(replica::WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let (pool, replica, positions) = (self.pool.clone(), replica.clone(), positions.clone());
            let looked = tokio::task::spawn_blocking(move || {
                let mut positions = positions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let at = Instant::now();
                let written = pool.get().ok().and_then(|mut conn| replica::written(&mut conn).ok().flatten());
                let replayed = match written {
                    Some(_) => replica.pool.get().ok().and_then(|mut conn| replica::replayed(&mut conn).ok()),
                    None => None,
                };
                replica.state.look(at, written, replayed, &mut positions);
            });
            if let Err(error) = looked.await {
                tracing::error!(%error, "measuring the read replica's lag failed");
            }
        }
    }

    /// Runs a read that tolerates lag on the replica when there is one that keeps up
    /// and the reader did not write a moment ago (`after_write`); else on the
    /// primary, as [`Db::run`]. For reads whose access was checked on the primary
    /// already (the pages of an export after its first).
    pub async fn read<T, E, F>(&self, after_write: bool, f: F) -> Result<T, E>
    where
        F: Fn(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<RunError> + Send + 'static,
    {
        self.run_steps(move |steps| steps.read(after_write, f)).await
    }

    /// Runs `check` on the primary (who may read what), then `read` with its answer
    /// on the replica when there is one that keeps up and the reader did not write a
    /// moment ago (`after_write`); else on the primary. A read the replica fails
    /// because it went away runs again on the primary. One blocking task, a
    /// connection per step; returns both answers.
    pub async fn run_then_read<C, T, E, F, G>(&self, after_write: bool, check: F, read: G) -> Result<(C, T), E>
    where
        F: FnOnce(&mut PgConnection) -> Result<C, E> + Send + 'static,
        G: Fn(&mut PgConnection, &C) -> Result<T, E> + Send + 'static,
        C: Send + 'static,
        T: Send + 'static,
        E: From<RunError> + Send + 'static,
    {
        self.run_steps(move |steps| {
            let checked = steps.run(check)?;
            let rows = steps.read(after_write, |conn| read(conn, &checked))?;
            Ok((checked, rows))
        })
        .await
    }

    /// How many times the pool checked a connection on checkout (see [`Manager`]).
    pub fn checks() -> u64 {
        CHECKS.load(Ordering::Relaxed)
    }

    /// How many tasks wait for a pooled connection at this moment.
    pub fn waiting(&self) -> i64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Runs `future` (a request) and returns, with its output, how many statements its
    /// [`Db::run`] calls sent: `/metrics` and the benchmark report them per route, and
    /// the tests check that a page costs the same number whatever its number of rows.
    pub async fn count_statements<F: std::future::Future>(future: F) -> (F::Output, u64) {
        let tally = Arc::new(AtomicU64::new(0));
        let output = STATEMENTS.scope(tally.clone(), future).await;
        (output, tally.load(Ordering::Relaxed))
    }

    /// Runs `future` (a request) and returns, with its output, how many of its reads
    /// the read replica answered: what was read there may be behind the primary, so
    /// the page it made is not kept (`web::page_cache`).
    pub async fn count_replica_reads<F: std::future::Future>(future: F) -> (F::Output, u64) {
        let tally = Arc::new(AtomicU64::new(0));
        let output = REPLICA_READS.scope(tally.clone(), future).await;
        (output, tally.load(Ordering::Relaxed))
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. The
    /// connection is taken inside the closure, because waiting for one blocks too.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<RunError> + Send + 'static,
    {
        self.run_steps(move |steps| steps.run(f)).await
    }

    /// Runs `f` on the blocking thread pool with [`Steps`]: it takes a connection
    /// for each step and none while it works between them.
    pub async fn run_steps<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Steps<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<RunError> + Send + 'static,
    {
        let (pool, waiting, replica) = (self.pool.clone(), self.waiting.clone(), self.replica.clone());
        let tally = STATEMENTS.try_with(Arc::clone).ok();
        let replica_tally = REPLICA_READS.try_with(Arc::clone).ok();
        let task = tokio::task::spawn_blocking(move || {
            let before = ON_THIS_THREAD.with(Cell::get);
            let replica_before = REPLICA_READS_ON_THIS_THREAD.with(Cell::get);
            let result = f(&Steps { pool: &pool, waiting: &waiting, replica: replica.as_deref() });
            if let Some(tally) = tally {
                tally.fetch_add(ON_THIS_THREAD.with(Cell::get) - before, Ordering::Relaxed);
            }
            if let Some(tally) = replica_tally {
                tally.fetch_add(REPLICA_READS_ON_THIS_THREAD.with(Cell::get) - replica_before, Ordering::Relaxed);
            }
            result
        });
        match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => panic!("blocking database task was cancelled: {join}"),
        }
    }
}

tokio::task_local! {
    /// The statement count of the request being served, if it is counted.
    static STATEMENTS: Arc<AtomicU64>;
    /// The replica reads of the request being served, if they are counted.
    static REPLICA_READS: Arc<AtomicU64>;
}

thread_local! {
    /// Statements sent by the connections used on this thread, ever.
    static ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
    /// Reads the replica answered on this thread, ever.
    static REPLICA_READS_ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
    /// Whether the connection in use on this thread lost its server (set by its
    /// statements, read when it goes back to the pool).
    static LOST_ON_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// How long the pool may go without a statement before it checks a connection on
/// checkout again; and, once a connection was found cut, how long every checkout is
/// checked.
const QUIET_BEFORE_CHECKS: Duration = Duration::from_secs(1);
const CHECKS_AFTER_A_LOSS: Duration = Duration::from_secs(10);

/// Diesel's connection manager, with a check on checkout (`SELECT 1`) only where one
/// can find something: after the pool was quiet for a moment (the server may have
/// restarted meanwhile), and for a while after a statement found its connection cut
/// (the others went with it). A connection in steady use proves itself with every
/// statement; checking it before each use doubled the round trips of a cheap page.
/// A connection whose statement found the server gone is discarded when it comes back.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    health: Arc<Health>,
}

/// What the pool's connections tell [`Manager`] about the server.
#[derive(Debug)]
struct Health {
    started: Instant,
    /// Milliseconds after `started` of the last statement sent, and until when
    /// every checkout is checked.
    last_statement: AtomicU64,
    checked_until: AtomicU64,
}

/// Checks the pools made on checkout, for `/metrics`.
static CHECKS: AtomicU64 = AtomicU64::new(0);

impl Health {
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn needs_check(&self) -> bool {
        let now = self.now();
        now < self.checked_until.load(Ordering::Relaxed)
            || now.saturating_sub(self.last_statement.load(Ordering::Relaxed)) > QUIET_BEFORE_CHECKS.as_millis() as u64
    }

    /// Notes a statement: sent, or failed because the connection is gone.
    fn saw(&self, event: &InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.last_statement.store(self.now(), Ordering::Relaxed),
            InstrumentationEvent::FinishQuery { error: Some(error), .. } if is_connection_lost(error) => {
                LOST_ON_THIS_THREAD.with(|lost| lost.set(true));
                self.checked_until.store(self.now() + CHECKS_AFTER_A_LOSS.as_millis() as u64, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.inner.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        LOST_ON_THIS_THREAD.with(|lost| lost.set(false));
        if !self.health.needs_check() {
            return Ok(());
        }
        // The pool's own check is not a statement of the request that waits for it.
        CHECKS.fetch_add(1, Ordering::Relaxed);
        let counted = ON_THIS_THREAD.with(Cell::get);
        let checked = self.inner.is_valid(conn);
        ON_THIS_THREAD.with(|count| count.set(counted));
        checked
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        LOST_ON_THIS_THREAD.with(|lost| lost.replace(false)) || self.inner.has_broken(conn)
    }
}

/// Sets each new pooled connection up: a server-side `statement_timeout`, so that a
/// statement nobody waits for any more (its request got the 503 page) does not hold
/// the connection and its locks for long; then counts every statement it sends (the
/// pool's own check on checkout included), for [`Db::count_statements`].
#[derive(Debug)]
struct PrepareConnection {
    statement_timeout: Duration,
    health: Arc<Health>,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PrepareConnection {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        let millis = self.statement_timeout.as_millis();
        diesel::sql_query(format!("SET statement_timeout = {millis}"))
            .execute(conn)
            .map_err(diesel::r2d2::Error::QueryError)?;
        let health = self.health.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                ON_THIS_THREAD.with(|count| count.set(count.get() + 1));
            }
            health.saw(&event);
        });
        Ok(())
    }
}

/// Connections taken one step at a time, on the blocking pool, for use cases that
/// do slow work between steps (password hashing) and must hold no connection meanwhile.
pub struct Steps<'a> {
    pool: &'a PgPool,
    waiting: &'a AtomicI64,
    replica: Option<&'a ReadReplica>,
}

impl Steps<'_> {
    /// Runs one step with a pooled connection, returned to the pool afterwards.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<RunError>,
    {
        // Only a task that finds no idle connection waits; one that takes an idle
        // connection (and checks it) is not counted.
        let mut conn = match self.pool.try_get() {
            Some(conn) => conn,
            None => {
                self.waiting.fetch_add(1, Ordering::Relaxed);
                let conn = self.pool.get();
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                conn.map_err(|e| E::from(RunError::Pool(e)))?
            }
        };
        f(&mut conn)
    }

    /// Runs a read that tolerates lag: on the replica when there is one in use and
    /// the reader did not just write (`after_write`), else as [`Steps::run`]. When
    /// the replica fails it because it went away, the read runs again on the primary.
    pub fn read<T, E>(&self, after_write: bool, f: impl Fn(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<RunError>,
    {
        if let Some(ReadReplica { pool, state }) = self.replica.filter(|_| !after_write) {
            if state.in_use() {
                match pool.get() {
                    Ok(mut conn) => {
                        let answer = f(&mut conn);
                        if answer.is_ok() || !LOST_ON_THIS_THREAD.with(Cell::get) {
                            state.served();
                            REPLICA_READS_ON_THIS_THREAD.with(|reads| reads.set(reads.get() + 1));
                            return answer;
                        }
                        drop(conn);
                        state.lost();
                    }
                    Err(_) => state.lost(),
                }
            }
            state.fell_back();
        }
        self.run(f)
    }
}

/// Whether a statement failed because its connection is gone (the server stopped,
/// restarted or ended the session): the connection cannot serve again.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    const SAID_WHEN_THE_CONNECTION_GOES: [&str; 4] = [
        "terminating connection",       // 57P01-57P03: shutdown, crash of another backend
        "server closed the connection", // libpq: the socket closed mid-query
        "no connection to the server",  // libpq, after the above
        "could not receive data from server",
    ];
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => SAID_WHEN_THE_CONNECTION_GOES.iter().any(|said| info.message().contains(said)),
        _ => false,
    }
}

/// Whether a statement failed on a unique constraint (e.g. a URL name already taken).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

/// `SELECT 1`: whether the database answers.
pub fn ping(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1")).get_result::<i32>(conn).map(|_| ())
}

/// Builds the pool. A short connection timeout turns an exhausted pool into a quick 503.
/// The pool: `max_size` connections, each giving up on a statement after
/// `statement_timeout`; a new connection gives up after 5 s (libpq's
/// `connect_timeout`, unless the URL sets one) rather than waiting forever on a
/// server that accepts the TCP connection and never answers.
pub fn build_pool(database_url: &str, max_size: u32, statement_timeout: Duration) -> anyhow::Result<PgPool> {
    let (builder, manager) = pool_parts(database_url, max_size, statement_timeout);
    builder
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(3))
        .build(manager)
        .map_err(|e| unreachable_database(database_url, &e.to_string()))
}

/// The pool of a read replica: like [`build_pool`], but made without connecting
/// (a replica that is down at start-up only sends its reads to the primary), and
/// quick to give up on a connection, since the primary can serve instead.
pub fn build_replica_pool(database_url: &str, max_size: u32, statement_timeout: Duration) -> PgPool {
    let (builder, manager) = pool_parts(database_url, max_size, statement_timeout);
    builder.min_idle(Some(0)).connection_timeout(Duration::from_secs(1)).build_unchecked(manager)
}

/// What every pool shares: the size, the connection set-up and the manager.
fn pool_parts(
    database_url: &str,
    max_size: u32,
    statement_timeout: Duration,
) -> (diesel::r2d2::Builder<Manager>, Manager) {
    let url = with_connect_timeout(database_url);
    let health = Arc::new(Health { started: Instant::now(), last_statement: 0.into(), checked_until: 0.into() });
    let builder = Pool::builder()
        .max_size(max_size)
        .connection_customizer(Box::new(PrepareConnection { statement_timeout, health: health.clone() }));
    (builder, Manager { inner: ConnectionManager::new(&url), health })
}

/// `database_url` with `connect_timeout=5` added when it names none.
fn with_connect_timeout(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) if !url.query_pairs().any(|(name, _)| name == "connect_timeout") => {
            url.query_pairs_mut().append_pair("connect_timeout", "5");
            url.to_string()
        }
        _ => database_url.to_owned(),
    }
}

fn unreachable_database(database_url: &str, detail: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "Cannot reach PostgreSQL at {} ({}): start PostgreSQL there, or set DATABASE_URL to a server you can reach.",
        redact_database_url(database_url),
        detail.lines().next().unwrap_or("no answer").trim()
    )
}

/// Creates the database named in `database_url` if it does not exist yet.
pub fn ensure_database_exists(database_url: &str) -> anyhow::Result<()> {
    if PgConnection::establish(database_url).is_ok() {
        return Ok(());
    }
    let mut url = url::Url::parse(database_url)
        .with_context(|| format!("DATABASE_URL is not a URL: {}", redact_database_url(database_url)))?;
    let name = url.path().trim_start_matches('/').to_owned();
    if name.is_empty() {
        anyhow::bail!("DATABASE_URL names no database: {}", redact_database_url(database_url));
    }
    url.set_path("/postgres");
    let mut admin =
        PgConnection::establish(url.as_str()).map_err(|e| unreachable_database(database_url, &e.to_string()))?;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = {})",
        quote_literal(&name)
    )))
    .get_result(&mut admin)?;
    if !exists {
        match diesel::sql_query(format!("CREATE DATABASE {}", quote_identifier(&name))).execute(&mut admin) {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another instance starting at the same moment created it first: 42P04 when
            // it had finished, or a unique violation of pg_database's name index when
            // both were creating it at once.
            Err(diesel::result::Error::DatabaseError(kind, info))
                if info.message().contains("already exists")
                    || matches!(kind, diesel::result::DatabaseErrorKind::UniqueViolation) => {}
            Err(error) => return Err(error).with_context(|| format!("could not create database {name}")),
        }
    }
    Ok(())
}

/// Runs pending migrations under a Postgres advisory lock; does nothing when none are
/// pending. The lock is taken before the migration state is even read: reading it
/// creates Diesel's bookkeeping table on a new database, and two instances starting
/// together on one would both create it.
pub fn run_migrations(conn: &mut PgConnection) -> anyhow::Result<()> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    let result = conn
        .has_pending_migration(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("could not read migration state: {e}"))
        .and_then(|pending| match pending {
            true => conn
                .run_pending_migrations(MIGRATIONS)
                .map(|done| done.len())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}")),
            false => Ok(0),
        });
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    let applied = result?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    Ok(())
}

/// Creates the database if needed and migrates it: what `serve` and `migrate` do first.
pub fn prepare(database_url: &str) -> anyhow::Result<()> {
    ensure_database_exists(database_url)?;
    let mut conn =
        PgConnection::establish(database_url).map_err(|e| unreachable_database(database_url, &e.to_string()))?;
    run_migrations(&mut conn)
}

/// Quotes an SQL identifier (for the few statements that cannot take parameters).
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
