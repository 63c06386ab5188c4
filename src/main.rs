//! The `roster` command: serve the console, migrate, and operator tasks.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::Connection as _;

use roster::config::{PrivateDatabase, Settings};
use roster::domain::{EmailAddress, NewPassword, OrgName, PersonName};
use roster::generate;
use roster::private_postgres::{self, Cluster};
use roster::services::{accounts, demo, passwords};
use roster::startup::Application;

const CONFIGURATION: &str = "\
Configuration (environment variables, or a .env file in the working directory):
  DATABASE_URL           PostgreSQL URL        [default: 127.0.0.1:5432 if it answers, else a private PostgreSQL]
  ROSTER_READ_DATABASE_URL  a streaming replica of DATABASE_URL for reads that tolerate lag  [default: unset, all on the primary]
  ROSTER_READ_MAX_LAG    past this lag, the replica's reads go to the primary  [default: 5s]
  ROSTER_BIND            listen address        [default: 127.0.0.1:8080]
  ROSTER_BASE_URL        public URL for links in email  [default: http://<bind address>]
  ROSTER_SESSION_KEY     64+ random bytes (base64) for cookies; several, comma-separated, newest first,
                         while a key rotates (see `roster keys status`); required unless the base URL is local
  ROSTER_SMTP_URL        smtp://user:pass@host:587   [default: unset, mail goes to /dev/mailbox]
  ROSTER_MAIL_FROM       sender address        [default: Roster <roster@localhost>]
  ROSTER_INVITATION_TTL  invitation lifetime, e.g. 7d, 48h  [default: 7d]
  ROSTER_SUPPORT_URL     where the header's Support link points  [default: unset, no link]
  ROSTER_TRUSTED_PROXIES comma-separated proxy IPs whose X-Forwarded-For is believed  [default: none]
  ROSTER_DNS_SERVER      nameserver for verified domains and webhooks, e.g. 127.0.0.1:5353  [default: the system's]
  ROSTER_METRICS_TOKEN   bearer token /metrics asks for  [default: unset, no /metrics]
  ROSTER_LOG_FORMAT      human or json         [default: human]
  ROSTER_SHUTDOWN_GRACE  time requests in flight get after SIGTERM  [default: 30s]
  ROSTER_REQUEST_TIMEOUT longest wait for an answer to start before the 503 Busy page  [default: 10s]
  ROSTER_KEEP_ALIVE      how long an idle connection waits for its next request  [default: 75s]
  ROSTER_DB_POOL_SIZE    database connections for requests (the job worker has 8 more)  [default: 2 x cores, at least 4]
  ROSTER_SESSION_IDLE_TIMEOUT  unused sessions end after this, e.g. 8h, 30m  [default: 24h]
  ROSTER_PAGE_CACHE_MB   memory for pages sent again within a second while nothing changed; 0: none  [default: 16]
  ROSTER_API_RATE_LIMIT  requests one API key may make a minute  [default: 600]
  ROSTER_WEBHOOKS_ALLOW_PRIVATE  true: webhooks may go to private and loopback addresses  [default: false]
  ROSTER_SSO_ALLOW_PRIVATE  true: single sign-on providers may be at private addresses, and on loopback over http  [default: false]
  ROSTER_DATA_DIR        home of the private PostgreSQL used when DATABASE_URL is unset  [default: ./.roster]
  ROSTER_PRIVATE_POSTGRES  auto: a private PostgreSQL when nothing answers at 127.0.0.1:5432; always; never  [default: auto]
  RUST_LOG               log filter            [default: info]";

/// Roster: a self-hostable console for an organization's members, invitations and seats.
#[derive(Parser)]
#[command(version = concat!(env!("CARGO_PKG_VERSION"), " (migration ", env!("ROSTER_MIGRATION"), ")"), about, after_help = CONFIGURATION)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and migrate the database if needed, then serve the console.
    Serve {
        /// Also seed the demo organization "Acme" and print its sign-in.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (overrides ROSTER_BIND).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Create a verified account. Reads the password from standard input
    /// with --password-stdin; otherwise generates one and prints it.
    CreateUser {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create an organization owned by an existing account.
    CreateOrg {
        /// The organization's name.
        #[arg(long)]
        name: String,
        /// Email address of the account that becomes its Owner.
        #[arg(long)]
        owner: String,
        /// Seat limit.
        #[arg(long, default_value_t = roster::services::organizations::DEFAULT_SEAT_LIMIT)]
        seats: i32,
    },
    /// Set an organization's seat limit (audited as the operator's).
    SetSeats {
        /// The organization's URL name, as in /orgs/SLUG.
        #[arg(long)]
        org: String,
        /// The new seat limit (1 to 1,000,000).
        #[arg(allow_hyphen_values = true)]
        seats: String,
    },
    /// Send one test message through the configured mail transport and say what happened.
    CheckMail {
        /// Where the test message goes.
        #[arg(long)]
        to: String,
    },
    /// Fill an organization with generated members, pending invitations, teams
    /// and projects (for benchmarks and for trying the pages at scale). The
    /// generated accounts cannot sign in. A load that at least doubles the rows
    /// held locks the tables while it runs (their indexes are made again at the end).
    Generate {
        /// The organization's URL name, as in /orgs/SLUG.
        #[arg(long)]
        org: String,
        #[arg(long, default_value_t = 0)]
        members: usize,
        #[arg(long, default_value_t = 0)]
        invitations: usize,
        #[arg(long, default_value_t = 0)]
        teams: usize,
        #[arg(long, default_value_t = 0)]
        projects: usize,
    },
    /// End every session of an account, on every device.
    SignOutEverywhere {
        #[arg(long)]
        email: String,
    },
    /// Create, list and revoke an organization's API keys (audited as the operator's).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// The server's keys (ROSTER_SESSION_KEY) and what stored still depends on each.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Which keys are configured, and how many stored secrets still need an older one.
    Status,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key; prints only its secret on standard output.
    Create {
        /// The organization's URL name, as in /orgs/SLUG.
        #[arg(long)]
        org: String,
        /// What uses the key, for example "HR sync".
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, for example members:read,invitations:write.
        #[arg(long)]
        scopes: String,
        /// The role it acts with: admin (the default) or member.
        #[arg(long)]
        role: Option<String>,
    },
    /// List the organization's keys, live ones first: name, role, scopes, state.
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke the live key called NAME: every request with it is refused from now on.
    Revoke {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let format = match roster::telemetry::LogFormat::from_env() {
        Ok(format) => format,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    roster::telemetry::init("info", format);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, bind } => serve(demo, bind),
        Command::Migrate => {
            let (settings, _cluster) = settings_with_database(None)?;
            roster::db::prepare(&settings.database_url)?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::CreateUser { name, email, password_stdin } => {
            let name = PersonName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let line = line.trim_end_matches(['\r', '\n']).to_owned();
                (line, false)
            } else {
                (roster::domain::Token::generate().as_str()[..20].to_owned(), true)
            };
            let password = NewPassword::parse(&password, &password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
            let hash = passwords::hash(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut operator = operator_connection()?;
            let conn = &mut operator.conn;
            if !demo::create_verified_user(conn, &name, &email, &hash).map_err(service_error)? {
                anyhow::bail!("an account with the address {email} already exists; nothing was changed");
            }
            println!("Created account {email} (verified).");
            if generated {
                println!("Password: {}", password.expose());
            }
            Ok(())
        }
        Command::CreateOrg { name, owner, seats } => {
            let name = OrgName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let owner = EmailAddress::parse(&owner).map_err(|e| anyhow::anyhow!("--owner: {e}"))?;
            if seats < 1 {
                anyhow::bail!("--seats must be at least 1");
            }
            let mut operator = operator_connection()?;
            let conn = &mut operator.conn;
            let slug = demo::create_org_for(conn, &owner, &name, seats).map_err(service_error)?;
            println!("Created organization {} at /orgs/{slug}, owned by {owner}.", name.as_str());
            Ok(())
        }
        Command::SetSeats { org, seats } => {
            let slug = roster::domain::Slug::parse(org.trim())
                .ok_or_else(|| anyhow::anyhow!("--org: {org:?} is not an organization's URL name (like acme-labs)"))?;
            let limit = roster::domain::parse_seat_limit(&seats).map_err(|e| anyhow::anyhow!("seats: {e}"))?;
            let mut operator = operator_connection()?;
            let conn = &mut operator.conn;
            let (org, usage) = roster::services::seats::set_by_operator(conn, &slug, limit).map_err(|e| match e {
                roster::error::AppError::NotFound => anyhow::anyhow!("no organization is at /orgs/{slug}"),
                other => service_error(other),
            })?;
            println!(
                "The seat limit of {} is now {}. {}",
                org.name,
                usage.limit,
                roster::services::seats::limit_consequence(&usage)
            );
            Ok(())
        }
        Command::CheckMail { to } => {
            let settings = Settings::from_env(None)?;
            let transport = roster::mail::transport::Transport::from_settings(
                settings.smtp_url.as_deref(),
                &settings.mail_from,
                &roster::mail::message_id_domain(&settings.base_url),
            )?;
            // lettre's SMTP client is async: one small runtime for this one command.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let report = runtime.block_on(transport.check(&to)).map_err(|problem| anyhow::anyhow!(problem))?;
            println!("{report}");
            Ok(())
        }
        Command::Generate { org, members, invitations, teams, projects } => {
            let slug = roster::domain::Slug::parse(org.trim())
                .ok_or_else(|| anyhow::anyhow!("--org: {org:?} is not an organization's URL name (like acme-labs)"))?;
            let plan = generate::Plan { members, invitations, teams, projects };
            if members + invitations + teams + projects == 0 {
                anyhow::bail!("nothing to generate: give --members, --invitations, --teams or --projects");
            }
            if teams + projects > 10_000 {
                anyhow::bail!("--teams and --projects are at most 10,000 together");
            }
            let settings = Settings::from_env(None)?;
            let tokens = roster::domain::token::TokenKey::derive(&settings.session_key.ring());
            let ttl = time::Duration::try_from(settings.invitation_ttl).unwrap_or(time::Duration::days(7));
            // One hash of a password nobody is told, shared by every generated account.
            let unknown = roster::domain::Token::generate();
            let password =
                NewPassword::parse(unknown.as_str(), unknown.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = passwords::hash(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut operator = operator_connection()?;
            let started = std::time::Instant::now();
            let made =
                generate::generate(&mut operator.conn, &slug, plan, &hash, &tokens, ttl).map_err(|e| match e {
                    roster::error::AppError::NotFound => anyhow::anyhow!("no organization is at /orgs/{slug}"),
                    other => service_error(other),
                })?;
            println!(
                "Added to /orgs/{slug} in {:.1} s: {} members, {} pending invitations, {} teams ({} places), \
                 {} projects ({} grants), {} audit events.",
                started.elapsed().as_secs_f64(),
                made.members,
                made.invitations,
                made.teams,
                made.team_places,
                made.projects,
                made.grants,
                made.audit_events
            );
            Ok(())
        }
        Command::ApiKey(command) => api_key(command),
        Command::Keys(KeysCommand::Status) => keys_status(),
        Command::SignOutEverywhere { email } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let mut operator = operator_connection()?;
            let conn = &mut operator.conn;
            let ended = accounts::sign_out_everywhere(conn, &email).map_err(|e| match e {
                roster::error::AppError::NotFound => {
                    anyhow::anyhow!("no account has the address {email}")
                }
                other => service_error(other),
            })?;
            println!("Ended {ended} session(s) of {email}.");
            Ok(())
        }
    }
}

/// `roster keys status`.
fn keys_status() -> anyhow::Result<()> {
    let (settings, _cluster) = settings_with_database(None)?;
    if settings.session_key.generated {
        anyhow::bail!(
            "ROSTER_SESSION_KEY is not set: this run would generate a key of its own, so there is no key to report on"
        );
    }
    roster::db::prepare(&settings.database_url)?;
    let mut conn = diesel::PgConnection::establish(&settings.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ring = settings.session_key.ring();
    let key = roster::domain::SealingKey::derive(&ring);
    let kinds = roster::services::keys::status(&mut conn, &key).map_err(service_error)?;
    println!("Keys in ROSTER_SESSION_KEY, newest first:");
    for (at, id) in ring.ids().iter().enumerate() {
        let role = if at == 0 { "signs and seals" } else { "opens what it made" };
        println!("  {}. {id}  {role}", at + 1);
    }
    println!("Stored secrets:");
    for kind in &kinds {
        let older: Vec<String> = kind
            .on_older
            .iter()
            .map(|(id, n)| format!("{n} on {}", id.as_deref().unwrap_or("a key not yet named")))
            .collect();
        let older = if older.is_empty() { "none on older keys".to_owned() } else { older.join(", ") };
        println!("  {:<15} {} on the newest key; {older}; {} unreadable", kind.what, kind.on_newest, kind.unreadable);
    }
    let depending: i64 = kinds.iter().map(|k| k.depending_on_older()).sum();
    if depending > 0 {
        println!(
            "{depending} stored secret(s) still depend on an older key: keep it listed. A running Roster \
             re-seals them under the newest key within a minute or two."
        );
    } else if ring.len() > 1 {
        println!(
            "Nothing stored depends on an older key. Remove the older keys once browsers signed in \
             before the rotation have come back or their sessions ended (14 days at most)."
        );
    } else {
        println!("Nothing stored depends on another key.");
    }
    Ok(())
}

/// `roster api-key …`.
fn api_key(command: ApiKeyCommand) -> anyhow::Result<()> {
    use roster::domain::api_key::Scopes;
    use roster::services::api_keys::{self, NewKey};
    let org_slug = |org: &str| {
        roster::domain::Slug::parse(org.trim())
            .ok_or_else(|| anyhow::anyhow!("--org: {org:?} is not an organization's URL name (like acme-labs)"))
    };
    let refused = |slug: &roster::domain::Slug, e: roster::error::AppError| match e {
        roster::error::AppError::NotFound => anyhow::anyhow!("no organization is at /orgs/{slug}"),
        roster::error::AppError::Invalid(errors) => {
            let said: Vec<String> = ["name", "role", "scopes", ""]
                .iter()
                .filter_map(|field| {
                    errors.get(field).map(|m| if field.is_empty() { m.to_owned() } else { format!("--{field}: {m}") })
                })
                .collect();
            anyhow::anyhow!("{}; nothing was changed", said.join(" "))
        }
        other => service_error(other),
    };
    let mut operator = operator_connection()?;
    let conn = &mut operator.conn;
    match command {
        ApiKeyCommand::Create { org, name, scopes, role } => {
            let slug = org_slug(&org)?;
            let role = match role.as_deref().map(str::trim) {
                None => None,
                Some(text) => Some(
                    roster::domain::Role::from_db(&text.to_lowercase())
                        .filter(|r| *r != roster::domain::Role::Owner)
                        .ok_or_else(|| anyhow::anyhow!("--role: {text:?} is not a key's role; use admin or member"))?,
                ),
            };
            let names: Vec<&str> = scopes.split(',').filter(|s| !s.trim().is_empty()).collect();
            let new = NewKey { name: &name, scopes: Scopes::parse(&names), role };
            let created = api_keys::create_by_operator(conn, &slug, new).map_err(|e| refused(&slug, e))?;
            // Only the secret on standard output, so a script can capture it whole.
            println!("{}", created.secret.as_str());
            eprintln!(
                "Created the API key “{}” of /orgs/{slug} ({}; {}). Its secret is shown only this once.",
                created.key.name,
                created.key.role.label(),
                created.key.scopes.join(", ")
            );
            Ok(())
        }
        ApiKeyCommand::List { org } => {
            let slug = org_slug(&org)?;
            let keys = api_keys::list_by_operator(conn, &slug).map_err(|e| refused(&slug, e))?;
            if keys.is_empty() {
                println!("/orgs/{slug} has no API keys.");
            }
            for key in keys {
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.date()),
                    None => "live".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\tcreated by {} {}",
                    key.name,
                    key.role.label(),
                    key.scopes.join(","),
                    state,
                    key.creator_name,
                    key.created_at.date()
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { org, name } => {
            let slug = org_slug(&org)?;
            let key = api_keys::revoke_by_operator(conn, &slug, &name).map_err(|e| refused(&slug, e))?;
            println!(
                "Revoked the API key “{}” of /orgs/{slug}: every request with it is refused from now on.",
                key.name
            );
            Ok(())
        }
    }
}

fn service_error(error: roster::error::AppError) -> anyhow::Error {
    match error {
        roster::error::AppError::Internal(e) | roster::error::AppError::Unavailable(e) => e,
        other => anyhow::anyhow!("{other}"),
    }
}

/// Each password hash takes a 12 MiB block. glibc's malloc raises its mmap threshold
/// after such a block is freed, so the next ones come from per-thread arenas and stay
/// resident (12 sign-ins at once left 223 MB). A fixed 1 MiB threshold keeps large
/// blocks in their own mappings, returned to the system when freed. And every thread
/// that runs database work would get an arena of its own (up to eight per core), each
/// keeping what it freed: two arenas hold the same work in less memory.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any thread starts.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1024 * 1024);
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 2);
    }
}

/// How often the server hands freed memory back to the system.
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What a burst frees (a thousand connections closing, a large page rendered) stays
/// in glibc's arenas wherever a live block above it keeps the heap from shrinking:
/// 1,000 closed connections left 35 MB resident that nothing used. `malloc_trim`
/// returns the free pages inside the heaps too; it takes a few milliseconds, on a
/// thread of its own.
fn return_freed_memory_now_and_then() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let trimmer = std::thread::Builder::new().name("malloc-trim".into()).spawn(|| loop {
            std::thread::sleep(TRIM_EVERY);
            // SAFETY: malloc_trim only gives free pages back; glibc locks each arena meanwhile.
            unsafe {
                nix::libc::malloc_trim(0);
            }
        });
        if let Err(error) = trimmer {
            tracing::warn!(%error, "could not start the thread that returns freed memory");
        }
    }
}

/// The settings, with the private PostgreSQL's URL when Roster runs one
/// (DESIGN.md §7); the cluster runs while the returned guard lives.
fn settings_with_database(bind: Option<SocketAddr>) -> anyhow::Result<(Settings, Option<Cluster>)> {
    let mut settings = Settings::from_env(bind)?;
    let cluster = private_postgres::start_if_wanted(PrivateDatabase::from_env()?.as_ref())?;
    if let Some(cluster) = &cluster {
        settings.database_url = cluster.url().to_owned();
    }
    Ok((settings, cluster))
}

/// A migrated database connection for the operator commands, and the private
/// cluster it may use (dropped after the connection: fields drop in order).
struct Operator {
    conn: diesel::PgConnection,
    _cluster: Option<Cluster>,
}

fn operator_connection() -> anyhow::Result<Operator> {
    let (settings, cluster) = settings_with_database(None)?;
    roster::db::prepare(&settings.database_url)?;
    let conn = diesel::PgConnection::establish(&settings.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Operator { conn, _cluster: cluster })
}

fn serve(seed_demo: bool, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    let (settings, _cluster) = settings_with_database(bind)?;
    return_freed_memory_now_and_then();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        // Listening from the start: a signal during start-up stops Roster once it is up.
        let stop = stop_signal()?;
        if settings.session_key.generated {
            tracing::warn!(
                "ROSTER_SESSION_KEY is not set: generated a key for this run; sessions end when it stops, \
                 mail still waiting to be sent then cannot be opened by the next run, and webhook signing \
                 secrets added now will need a new secret after a restart (Settings → Webhooks → Roll secret)"
            );
        }
        if settings.uses_dev_mailbox() {
            tracing::warn!("ROSTER_SMTP_URL is not set: mail is kept in the dev mailbox at /dev/mailbox, not sent");
        }
        let app = Application::build(settings).await?;
        let base = app.settings().base_url.as_str().trim_end_matches('/').to_owned();
        if seed_demo {
            let hash = tokio::task::spawn_blocking(|| {
                let password = NewPassword::parse(demo::DEMO_PASSWORD, demo::DEMO_PASSWORD)?;
                passwords::hash(&password).map_err(|e| anyhow::anyhow!("{e}"))
            })
            .await??;
            let ring = app.settings().session_key.ring();
            let links = roster::mail::Links::with_keys(&app.settings().base_url, &ring);
            let tokens = roster::domain::token::TokenKey::derive(&ring);
            let ttl = time::Duration::try_from(app.settings().invitation_ttl).unwrap_or(time::Duration::days(7));
            app.db()
                .run(move |conn| {
                    let ctx = roster::services::invitations::Context { links: &links, tokens: &tokens, ttl };
                    demo::seed(conn, &ctx, &hash)
                })
                .await
                .map_err(service_error)?;
            println!("Demo organization Acme is ready. Sign in at {base}/sign-in");
            println!("  email:    {}", demo::DEMO_EMAIL);
            println!("  password: {}", demo::DEMO_PASSWORD);
        }
        println!("Roster is listening on {base}");
        app.run_until(stop).await?;
        anyhow::Ok(())
    })?;
    // What still runs (housekeeping, a DNS re-check) is abandoned after a bound, and the
    // private PostgreSQL, if any, stops when `_cluster` drops after this.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}

/// A future that completes on the first SIGTERM (service managers) or SIGINT (Ctrl-C).
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received (press Ctrl-C again to quit at once)"),
        }
        // A second signal quits without waiting (a private PostgreSQL is then left running,
        // and the next Roster takes it over).
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            eprintln!("Stopping at once: requests in flight are cut off.");
            std::process::exit(130);
        });
    })
}
