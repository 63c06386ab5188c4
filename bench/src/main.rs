//! `cargo run --release -p roster-bench`: builds the release `roster`, fills a
//! database with a 1,000,000-member organization and a 100-member one (once; kept
//! for later runs), starts Roster on loopback, drives load from this process and
//! prints one table of the budgets of DESIGN.md §6, each against a baseline
//! measured in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures_util::StreamExt as _;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use reqwest::{redirect, Client, StatusCode};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

const PASSWORD: &str = "benchmark-password-1";
const OWNER: &str = "owner@bench.test";
const INVITER: &str = "inviter@bench.test";
const METRICS_TOKEN: &str = "bench-metrics-token";
/// Fixed, so sessions and links stay valid across the runs that reuse the data.
const SESSION_KEY: &str = "YmVuY2htYXJrLWtleS1ub3QtYS1zZWNyZXQtYmVuY2htYXJrLWtleS1ub3QtYS1zZWNyZXQtYmVuY2htYXJr";
/// Bumped when the generated data changes shape, so older databases are rebuilt.
const DATA_VERSION: &str = "9";
const SIGN_INS: usize = 12;
/// What Chromium and Firefox send with every request.
const BROWSERS_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
/// A compressed page's throughput against the same page sent as it is.
const COMPRESSED_VS_PLAIN: f64 = 0.8;
/// Live-bell streams held open at once (DESIGN.md §6: one instance holds 10,000).
const STREAMS: usize = 10_000;
/// Opened this many at a time, so the burst of connections stays within the
/// listener's backlog.
const STREAMS_OPENING: usize = 500;
/// The server's resident memory with every stream open, at most (MB).
const STREAMS_MEMORY_MB: f64 = 128.0;
const BULK: usize = 1_000;
/// `roster generate` fills one organization to a million members (the Owner and
/// 999,999 more, the most a seat limit allows) in under two minutes (issue 32).
const GENERATED: usize = 999_999;
const GENERATE_SECONDS: f64 = 120.0;

struct Options {
    seconds: u64,
    connections: usize,
    fresh: bool,
    database_url: String,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        seconds: 5,
        connections: 16,
        fresh: false,
        database_url: std::env::var("ROSTER_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/roster_bench".into()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fresh" => options.fresh = true,
            "--seconds" => options.seconds = args.next().context("--seconds N")?.parse()?,
            "--connections" => options.connections = args.next().context("--connections N")?.parse()?,
            "-h" | "--help" => {
                println!(
                    "roster-bench [--seconds N (5)] [--connections N (16)] [--fresh]\n\
                     Database: ROSTER_BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/roster_bench);\n\
                     its data is generated once and reused; --fresh generates it again."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

impl Options {
    /// The same timing, from one connection: the time one person waits.
    fn one_asking(&self) -> Options {
        Options { seconds: self.seconds, connections: 1, fresh: false, database_url: String::new() }
    }
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    // Each live stream is a socket in this process and one in the server, which
    // inherits the limit: raise the soft limit on open files to the hard one.
    let files = rlimit::increase_nofile_limit(u64::MAX)?;
    let needed = STREAMS as u64 + 1_024;
    if files < needed {
        bail!("{STREAMS} live streams need {needed} open files; the hard limit is {files} (raise it: ulimit -Hn)");
    }
    eprintln!("bench: open files limit raised to {files}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("workspace root")?.to_owned();
    eprintln!("bench: building the release binary");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo).args(["build", "--release", "--bin", "roster"]).current_dir(&root).status()?;
    if !built.success() {
        bail!("cargo build --release failed");
    }
    let binary = root.join("target/release/roster");
    prepare_data(&binary, &options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(binary, options))
}

/// Runs `roster` with the benchmark database.
fn roster(binary: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    let mut child = Command::new(binary)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ROSTER_SESSION_KEY", SESSION_KEY)
        // Generated invitations live a year: the data is kept for later runs, and
        // with a week's lifetime its million invitations would all expire within the
        // week, each run's server then telling their inviter of thousands of them.
        .env("ROSTER_INVITATION_TTL", "365d")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        use std::io::Write as _;
        writeln!(input, "{text}")?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("roster {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Generates the organizations once: `big` (1,000,000 members) and `invited`
/// (1,000,000 pending invitations), `small` (100 of each), `big` and `small` with
/// 100 teams and 100 projects so that they differ in members only; `many-teams` (5,000 teams
/// and 5,000 projects) for the Teams and Projects pages; and `streams`, whose
/// invitations light the Owner's bell; `few-teams` (5 teams and 5 projects) to
/// compare the Invitations page, whose invite form chooses among them, with
/// `many-teams`'; plus the accounts that sign in.
fn prepare_data(binary: &Path, options: &Options) -> anyhow::Result<()> {
    let url = &options.database_url;
    let (server, name) = url.rsplit_once('/').context("the database URL names a database")?;
    let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .with_context(|| format!("cannot reach PostgreSQL at {server}"))?;
    let ready = !options.fresh
        && postgres::Client::connect(url, postgres::NoTls).ok().and_then(|mut db| {
            let same = db
                .query_one(
                    "SELECT obj_description('organizations'::regclass) = $1",
                    &[&format!("roster-bench {DATA_VERSION}")],
                )
                .ok()
                .and_then(|row| row.get::<_, Option<bool>>(0));
            // Each run starts with no rate-limit counts left by earlier runs (1,010
            // invitations a run from one address would soon be refused).
            db.batch_execute("DELETE FROM rate_limits").ok()?;
            same
        }) == Some(true);
    if ready {
        eprintln!("bench: reusing the data in {name} (--fresh to generate it again)");
        return Ok(());
    }
    eprintln!("bench: generating the data in {name} (once; about a minute)");
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
    drop(admin);
    roster(binary, url, &["migrate"], None)?;
    let signers: Vec<String> = (1..=SIGN_INS).map(|n| format!("signer{n}@bench.test")).collect();
    for (who, email) in [("Olivia Owner", OWNER), ("Ivan Inviter", INVITER)]
        .into_iter()
        .chain(signers.iter().map(|e| ("Sam Signer", e.as_str())))
    {
        roster(binary, url, &["create-user", "--name", who, "--email", email, "--password-stdin"], Some(PASSWORD))?;
    }
    for (org, owner) in [
        ("Big", OWNER),
        ("Invited", OWNER),
        ("Small", OWNER),
        ("Many Teams", OWNER),
        ("Few Teams", OWNER),
        ("Streams", INVITER),
        ("Reach", OWNER),
        ("Reach Small", OWNER),
    ] {
        roster(binary, url, &["create-org", "--name", org, "--owner", owner, "--seats", "1000000"], None)?;
    }
    let started = Instant::now();
    // A million each (the Owner and 999,999 more: the most one seat limit allows,
    // members and pending invitations counted together, hence two organizations).
    let big = ["generate", "--org", "big", "--members", "999999"];
    print!("{}", roster(binary, url, &[&big[..], &["--teams", "100", "--projects", "100"]].concat(), None)?);
    print!("{}", roster(binary, url, &["generate", "--org", "invited", "--invitations", "999999"], None)?);
    let small = ["generate", "--org", "small", "--members", "100", "--invitations", "100"];
    print!("{}", roster(binary, url, &[&small[..], &["--teams", "100", "--projects", "100"]].concat(), None)?);
    let many = ["generate", "--org", "many-teams", "--members", "100", "--teams", "5000", "--projects", "5000"];
    print!("{}", roster(binary, url, &many, None)?);
    let few = ["generate", "--org", "few-teams", "--members", "100", "--teams", "5", "--projects", "5"];
    print!("{}", roster(binary, url, &few, None)?);
    for (org, members) in [("reach", "100000"), ("reach-small", "100")] {
        print!("{}", roster(binary, url, &["generate", "--org", org, "--members", members], None)?);
    }
    let mut db = postgres::Client::connect(url, postgres::NoTls)?;
    // A project every active member reaches, through team Everyone, for thirty days:
    // the access history of a project at 100,000 people, today and on a past day.
    for org in ["reach", "reach-small"] {
        db.execute(
            "WITH org AS (SELECT id FROM organizations WHERE slug = $1), \
                  t AS (INSERT INTO teams (id, organization_id, name, slug, description, created_at) \
                        SELECT gen_random_uuid(), id, 'Everyone', 'everyone', '', now() - interval '30 days' FROM org \
                        RETURNING id, organization_id), \
                  p AS (INSERT INTO projects (id, organization_id, name, slug, description, created_at) \
                        SELECT gen_random_uuid(), id, 'Handbook', 'handbook', '', now() - interval '30 days' FROM org \
                        RETURNING id, organization_id), \
                  g AS (INSERT INTO project_grants (id, organization_id, project_id, team_id, level, created_at) \
                        SELECT gen_random_uuid(), p.organization_id, p.id, t.id, 'read', now() - interval '30 days' \
                          FROM p, t) \
             INSERT INTO team_members (organization_id, team_id, membership_id, role, created_at) \
             SELECT m.organization_id, t.id, m.id, 'member', now() - interval '30 days' \
               FROM memberships m JOIN t ON t.organization_id = m.organization_id WHERE m.suspended_at IS NULL",
            &[&org],
        )?;
    }
    // No reminder mail from the benchmark's organizations: as their year passes, the
    // job queue would otherwise remind thousands of generated invitations a day, in
    // the background of whatever row is being measured (the first run at a million met it).
    db.batch_execute("UPDATE organizations SET invitation_reminders = false")?;
    // Statistics, and the visibility map a live table's autovacuum keeps (index-only
    // scans, such as the member search's, read the table where it is not set).
    db.batch_execute("VACUUM ANALYZE")?;
    eprintln!("bench: generated in {:.0} s", started.elapsed().as_secs_f64());
    db.batch_execute(&format!("COMMENT ON TABLE organizations IS 'roster-bench {DATA_VERSION}'"))?;
    Ok(())
}

/// `roster generate` of a million members into one organization, in a database
/// made for it and dropped after (the other rows' data is made once and reused):
/// the whole command, timed from here, on the same binary.
fn generate_row(binary: &Path, url: &str) -> anyhow::Result<Row> {
    let (server, _) = url.rsplit_once('/').context("the database URL names a database")?;
    let name = "roster_bench_generate";
    let target = format!("{server}/{name}");
    let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    roster(binary, &target, &["migrate"], None)?;
    roster(
        binary,
        &target,
        &["create-user", "--name", "Olivia Owner", "--email", OWNER, "--password-stdin"],
        Some(PASSWORD),
    )?;
    roster(binary, &target, &["create-org", "--name", "Million", "--owner", OWNER, "--seats", "1000000"], None)?;
    let members = GENERATED.to_string();
    let started = Instant::now();
    let said = roster(binary, &target, &["generate", "--org", "million", "--members", &members], None)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut db = postgres::Client::connect(&target, postgres::NoTls)?;
    let counted: i64 = db.query_one("SELECT count(*) FROM memberships", &[])?.get(0);
    drop(db);
    admin.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))?;
    Ok(Row {
        scenario: "`roster generate`: one organization of 1,000,000 members".into(),
        measured: format!("{counted} members counted after, {seconds:.1} s in all; the command said: {}", said.trim()),
        baseline: "–".into(),
        result: format!("{seconds:.1} s"),
        budget: format!("< {GENERATE_SECONDS:.0} s, all made"),
        holds: seconds < GENERATE_SECONDS && counted == i64::try_from(GENERATED + 1)?,
    })
}

/// An SMTP server that accepts everything and counts the messages.
async fn smtp_sink() -> anyhow::Result<(u16, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(AtomicU64::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        count.fetch_add(1, Ordering::Relaxed);
                        b"250 queued\r\n"
                    } else {
                        match line.split_whitespace().next().unwrap_or("").to_ascii_uppercase().as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok((port, received))
}

/// The Roster under test; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(binary: &Path, database_url: &str, smtp_port: u16) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let base = format!("http://127.0.0.1:{port}");
        // Reached as a deployment on the same host would reach it: without TLS, which
        // libpq otherwise negotiates over loopback whenever the server offers it.
        let database_url = if database_url.contains("sslmode=") {
            database_url.to_owned()
        } else {
            let join = if database_url.contains('?') { '&' } else { '?' };
            format!("{database_url}{join}sslmode=disable")
        };
        let child = Command::new(binary)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("ROSTER_SESSION_KEY", SESSION_KEY)
            .env("ROSTER_BASE_URL", &base)
            .env("ROSTER_METRICS_TOKEN", METRICS_TOKEN)
            .env("ROSTER_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            // The sign-in burst comes from twelve clients, named by X-Forwarded-For.
            .env("ROSTER_TRUSTED_PROXIES", "127.0.0.1")
            // The SCIM row measures provisioning, not the per-key limit (600 requests
            // a minute unless raised, as an operator raises it for a directory's first sync).
            .env("ROSTER_API_RATE_LIMIT", "100000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?;
        Ok(Server { child, base })
    }

    /// [`Server::start`], then waits until it answers `/healthz`.
    async fn up(binary: &Path, database_url: &str, smtp_port: u16) -> anyhow::Result<Server> {
        let server = Server::start(binary, database_url, smtp_port)?;
        let probe = client();
        let up = Instant::now();
        while !probe.get(server.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            if up.elapsed() > Duration::from_secs(60) {
                bail!("Roster did not start within a minute");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Says on stderr what the benchmark does next, with the server's memory so far.
    fn progress(&self, what: &str) {
        let (now, peak) = self.memory();
        eprintln!("bench: {what} (server resident: {now:.0} MB, highest {peak:.0} MB)");
    }

    /// Resident memory now and at its peak, in MB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(f64::NAN, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().expect("HTTP client")
}

/// The hidden CSRF field of a page.
fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(page[at..].split('"').next()?.to_owned())
}

async fn sign_in(server: &Server, email: &str, forwarded_for: Option<&str>) -> anyhow::Result<Client> {
    let client = client();
    let page = client.get(server.url("/sign-in")).send().await?.text().await?;
    let token = csrf_of(&page).context("sign-in form has a CSRF field")?;
    let mut request =
        client.post(server.url("/sign-in")).form(&[("email", email), ("password", PASSWORD), ("csrf_token", &token)]);
    if let Some(ip) = forwarded_for {
        request = request.header("X-Forwarded-For", ip);
    }
    let response = request.send().await?;
    if response.status() != StatusCode::SEE_OTHER {
        bail!("signing in as {email}: {}", response.status());
    }
    Ok(client)
}

/// Posts a form of a signed-in client, with the CSRF token of the page at `form_page`.
async fn post(
    server: &Server,
    client: &Client,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<reqwest::Response> {
    let page = client.get(server.url(form_page)).send().await?.text().await?;
    let token = csrf_of(&page).context("the page has a CSRF field")?;
    let mut body: Vec<(&str, &str)> = fields.to_vec();
    body.push(("csrf_token", &token));
    Ok(client.post(server.url(path)).form(&body).send().await?)
}

/// The highest resident memory of a process while it runs, sampled every 5 ms.
struct PeakSampler {
    peak: Arc<std::sync::Mutex<f64>>,
    sampling: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakSampler {
    fn start(pid: u32) -> PeakSampler {
        let peak = Arc::new(std::sync::Mutex::new(0f64));
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let task = {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            tokio::spawn(async move {
                while sampling.load(Ordering::Relaxed) {
                    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                    if let Some(kb) = status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                    {
                        let mut peak = peak.lock().expect("peak");
                        *peak = peak.max(kb / 1024.0);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        PeakSampler { peak, sampling, task }
    }

    /// Stops sampling; the highest resident memory seen, in MB.
    async fn stop(self) -> anyhow::Result<f64> {
        self.sampling.store(false, Ordering::Relaxed);
        self.task.await?;
        Ok(*self.peak.lock().expect("peak"))
    }
}

/// Previews `action` on the members `ids` of `big` (`team` for a team action), then
/// confirms it: the confirmation's server time and its statements.
async fn bulk_action(
    server: &Server,
    client: &Client,
    ids: &[String],
    action: &str,
    team: &str,
) -> anyhow::Result<(f64, f64)> {
    let path = "/orgs/big/members/bulk";
    let page = client.get(server.url("/orgs/big/members?q=nobody-matches-this")).send().await?.text().await?;
    let token = csrf_of(&page).context("the Members page has a CSRF field")?;
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|id| ("member", id.as_str())).collect();
    fields.extend([("action", action), ("team", team), ("csrf_token", token.as_str())]);
    let preview = client.post(server.url(path)).form(&fields).send().await?;
    if preview.status() != StatusCode::OK {
        bail!("previewing {action} on {} members: {}", ids.len(), preview.status());
    }
    let page = preview.text().await?;
    let at = page.find("name=\"digest\" value=\"").context("the preview carries a digest")? + 21;
    let digest = page.get(at..at + 32).context("a digest of 32 characters")?.to_owned();
    fields.push(("digest", digest.as_str()));
    let before = metrics(server).await?;
    let started = Instant::now();
    let response = client.post(server.url(path)).form(&fields).send().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if response.status() != StatusCode::SEE_OTHER {
        bail!("confirming {action} on {} members: {}", ids.len(), response.status());
    }
    let after = metrics(server).await?;
    Ok((ms, statements_per_request(&before, &after, "/orgs/{slug}/members/bulk", "POST", "3xx")))
}

#[derive(Default, Clone)]
struct Load {
    errors: u64,
    /// What each failed request was: its status, or the client's error.
    error_kinds: BTreeMap<String, u64>,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Load {
    /// The errors in words for a table's cell: "" when none, else ", 2 errors (503 ×1, ...)".
    fn errors_said(&self) -> String {
        if self.errors == 0 {
            return String::new();
        }
        format!(", {} errors{}", self.errors, self.kinds_said())
    }

    /// What the errors were: "" when none, else " (503 ×1, ...)".
    fn kinds_said(&self) -> String {
        if self.error_kinds.is_empty() {
            return String::new();
        }
        let kinds: Vec<String> = self.error_kinds.iter().map(|(kind, n)| format!("{kind} ×{n}")).collect();
        format!(" ({})", kinds.join(", "))
    }
}

/// GETs `path` from `connections` concurrent loops for `seconds`.
/// A request acting on 1,000 things (`unit`: "address", "member"): its server time, and
/// its statements against the same request for 10, which they may not exceed.
fn bulk_row(scenario: &str, unit: &str, ms: f64, statements: f64, statements_ten: f64) -> Row {
    Row {
        scenario: scenario.into(),
        measured: format!("{ms:.0} ms, {} statements", format_statements(statements)),
        baseline: format!(
            "10 {unit}{}: {} statements",
            if unit.ends_with('s') { "es" } else { "s" },
            format_statements(statements_ten)
        ),
        result: format!("{ms:.0} ms; statements ×{:.2}", statements / statements_ten),
        budget: format!("< 1,000 ms, statements do not grow per {unit}"),
        holds: ms < 1000.0 && statements <= statements_ten,
    }
}

/// A new organization each run (its Owner the benchmark's), provisioning turned on in
/// Settings and a SCIM token made by the operator's command; then `POST /scim/v2/Users`
/// for 1,000 new people from the run's concurrent connections, as an identity
/// provider's first sync sends them: Users a second against 200.
async fn scim_row(server: &Server, binary: &Path, options: &Options, owner: &Client, tag: u128) -> anyhow::Result<Row> {
    let (name, slug) = (format!("Scim {tag}"), format!("scim-{tag}"));
    let url = &options.database_url;
    roster(binary, url, &["create-org", "--name", &name, "--owner", OWNER, "--seats", "2000"], None)?;
    let settings = format!("/orgs/{slug}/settings");
    let response = post(server, owner, &settings, &format!("{settings}/provisioning"), &[("enabled", "on")]).await?;
    if status_class(response.status()).is_none() {
        bail!("turning provisioning on: {}", response.status());
    }
    let create = ["api-key", "create", "--org", &slug, "--name", "Bench directory", "--scopes", "scim"];
    let token = roster(binary, url, &create, None)?.trim().to_owned();
    let users = Arc::new(AtomicU64::new(0));
    let (created, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let before = metrics(server).await?;
    let started = Instant::now();
    let senders = (0..options.connections).map(|_| {
        let (users, created, refused) = (users.clone(), created.clone(), refused.clone());
        let (http, endpoint, token) = (Client::new(), server.url("/scim/v2/Users"), token.clone());
        tokio::spawn(async move {
            loop {
                let n = users.fetch_add(1, Ordering::Relaxed);
                if n >= BULK as u64 {
                    break;
                }
                let email = format!("p{tag}-{n}@scim.example.com");
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": email,
                    "externalId": format!("00u{tag}{n}"),
                    "name": { "givenName": "Pat", "familyName": format!("Person {n}") },
                    "emails": [{ "value": email, "type": "work", "primary": true }],
                    "active": true,
                });
                let sent = http
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(body.to_string())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == StatusCode::CREATED => created.fetch_add(1, Ordering::Relaxed),
                    _ => refused.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    });
    futures_util::future::join_all(senders).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = metrics(server).await?;
    let statements = statements_per_request(&before, &after, "/scim/v2/Users", "POST", "2xx");
    let (created, refused) = (created.load(Ordering::Relaxed), refused.load(Ordering::Relaxed));
    let per_second = created as f64 / seconds;
    Ok(Row {
        scenario: format!("SCIM: an identity provider creates {BULK} Users"),
        measured: format!(
            "{created} created in {seconds:.2} s from {} connections, {} statements/request{}",
            options.connections,
            format_statements(statements),
            if refused > 0 { format!(", {refused} refused") } else { String::new() }
        ),
        baseline: "–".into(),
        result: format!("{per_second:.0} Users/s"),
        budget: "≥ 200 Users/s, all created".into(),
        holds: created == BULK as u64 && per_second >= 200.0,
    })
}

/// A project's `Access history` in `big` (the project that reaches the most people),
/// today and on `day` (`YYYY-MM-DD`), asked by one person at a time for the run's
/// seconds each: the slower day's p99 against 50 ms, with the organization's audit
/// events counted (the history is kept as periods of access, not read from them).
async fn history_row(server: &Server, client: &Client, options: &Options, day: &str) -> anyhow::Result<Row> {
    let url = options.database_url.clone();
    let (project, events, people) = tokio::task::spawn_blocking(move || -> anyhow::Result<(String, i64, i64)> {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        let row = db.query_one(
            "SELECT p.slug, count(tm.membership_id) FROM projects p \
               JOIN organizations o ON o.id = p.organization_id \
               JOIN project_grants g ON g.project_id = p.id \
               LEFT JOIN team_members tm ON tm.team_id = g.team_id \
              WHERE o.slug = 'big' GROUP BY p.slug ORDER BY count(tm.membership_id) DESC, p.slug LIMIT 1",
            &[],
        )?;
        let events: i64 = db
            .query_one(
                "SELECT count(*) FROM audit_events a JOIN organizations o ON o.id = a.organization_id \
                  WHERE o.slug = 'big'",
                &[],
            )?
            .get(0);
        Ok((row.get(0), events, row.get(1)))
    })
    .await??;
    let one = options.one_asking();
    let today = format!("/orgs/big/projects/{project}/access-history");
    let before = metrics(server).await?;
    let now = load(server, client, &today, &one).await;
    let then = load(server, client, &format!("{today}?on={day}"), &one).await;
    let after = metrics(server).await?;
    let route = "/orgs/{slug}/projects/{name}/access-history";
    let statements = statements_per_request(&before, &after, route, "GET", "2xx");
    let worst = now.p99_ms.max(then.p99_ms);
    Ok(Row {
        scenario: "Access history of a project, its organization's audit log at 1,000,000 events".into(),
        measured: format!(
            "project {project} ({people} team places granted), {events} audit events; today p50 {:.1} ms, p99 {:.1} ms; \
             a week ago p50 {:.1} ms, p99 {:.1} ms; {} statements/request{}{}",
            now.p50_ms,
            now.p99_ms,
            then.p50_ms,
            then.p99_ms,
            format_statements(statements),
            now.errors_said(),
            then.errors_said()
        ),
        baseline: "–".into(),
        result: format!("p99 {worst:.1} ms"),
        budget: "p99 < 50 ms, one person asking".into(),
        holds: now.errors + then.errors == 0 && events >= 1_000_000 && worst < 50.0,
    })
}

/// An export streamed to its end: rows a second, and the server's highest memory while
/// it streams against its memory before.
async fn export_row(server: &Server, client: &Client, scenario: &str, path: &str) -> anyhow::Result<Row> {
    let before = server.memory().0;
    let sampler = PeakSampler::start(server.child.id());
    let started = Instant::now();
    let mut export = client.get(server.url(path)).send().await?;
    if export.status() != StatusCode::OK {
        bail!("{scenario}: {}", export.status());
    }
    let mut lines = 0u64;
    while let Some(chunk) = export.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let peak = sampler.stop().await?;
    let exported = lines.saturating_sub(1);
    let per_second = exported as f64 / seconds;
    let growth = peak - before;
    Ok(Row {
        scenario: scenario.into(),
        measured: format!("{exported} rows in {seconds:.2} s; resident {before:.0} → {peak:.0} MB"),
        baseline: "–".into(),
        result: format!("{per_second:.0} rows/s, +{growth:.1} MB"),
        budget: "≥ 50,000 rows/s, < 8 MB more memory".into(),
        holds: exported > 0 && per_second >= 50_000.0 && growth < 8.0,
    })
}

/// How the load asks for pages.
#[derive(Clone, Copy, PartialEq)]
enum Asking {
    /// With `Cache-Control: no-cache`, as a hard reload does: every page is made
    /// anew, so that what is measured is what making it costs (rows, statements,
    /// rendering, compression), not a kept page sent again.
    Anew,
    /// As a browser asks when it goes back to a page or reloads it: a page asked
    /// for again while nothing changed is sent as it was made (`web::page_cache`).
    AsBrowsers,
}

/// Loads `path` from `options.connections` connections for `options.seconds`, each
/// page made anew ([`Asking::Anew`]).
async fn load(server: &Server, client: &Client, path: &str, options: &Options) -> Load {
    load_encoded(server, client, path, options, None, Asking::Anew).await
}

/// [`load`], asking for the answers in `encoding` (`Accept-Encoding`) when given,
/// and `asking` as said.
async fn load_encoded(
    server: &Server,
    client: &Client,
    path: &str,
    options: &Options,
    encoding: Option<&'static str>,
    asking: Asking,
) -> Load {
    let url = server.url(path);
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let loops = (0..options.connections).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), BTreeMap::<String, u64>::new());
            while Instant::now() < deadline {
                let sent = Instant::now();
                let request = client.get(&url);
                let request = match encoding {
                    Some(encoding) => request.header(ACCEPT_ENCODING, encoding),
                    None => request,
                };
                let request = match asking {
                    Asking::Anew => request.header(reqwest::header::CACHE_CONTROL, "no-cache"),
                    Asking::AsBrowsers => request,
                };
                match request.send().await {
                    Ok(response) if response.status().is_success() => match response.bytes().await {
                        Ok(_) => latencies.push(sent.elapsed()),
                        Err(error) => *errors.entry(format!("body: {error}")).or_default() += 1,
                    },
                    Ok(response) => *errors.entry(response.status().as_u16().to_string()).or_default() += 1,
                    Err(error) => *errors.entry(format!("{error:?}")).or_default() += 1,
                }
            }
            (latencies, errors)
        })
    });
    let mut all = Vec::new();
    let mut error_kinds = BTreeMap::<String, u64>::new();
    for (latencies, errors) in futures_util::future::join_all(loops).await.into_iter().flatten() {
        all.extend(latencies);
        for (kind, n) in errors {
            *error_kinds.entry(kind).or_default() += n;
        }
    }
    let errors = error_kinds.values().sum();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Load { errors, error_kinds, per_second: all.len() as f64 / elapsed, p50_ms: at(0.50), p99_ms: at(0.99) }
}

/// `/metrics` as a map from series (name and labels) to value.
async fn metrics(server: &Server) -> anyhow::Result<BTreeMap<String, f64>> {
    let text = client().get(server.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(k, v)| Some((k.to_owned(), v.parse().ok()?))))
        .collect())
}

/// Statements per request of `route` (method, status class) between two scrapes.
fn statements_per_request(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    route: &str,
    method: &str,
    class: &str,
) -> f64 {
    let series = |name: &str| format!(r#"{name}{{method="{method}",route="{route}",status="{class}"}}"#);
    let delta = |name: &str| {
        let key = series(name);
        after.get(&key).copied().unwrap_or(0.0) - before.get(&key).copied().unwrap_or(0.0)
    };
    delta("roster_http_request_database_statements_total") / delta("roster_http_requests_total")
}

/// The status class label of a successful form post (a redirect, or a page of results).
fn status_class(status: StatusCode) -> Option<&'static str> {
    if status.is_success() {
        Some("2xx")
    } else if status.is_redirection() {
        Some("3xx")
    } else {
        None
    }
}

/// One line of the table.
struct Row {
    scenario: String,
    measured: String,
    baseline: String,
    result: String,
    budget: String,
    holds: bool,
}

fn ratio_row(
    scenario: &str,
    measured: &Load,
    baseline: &Load,
    baseline_name: &str,
    statements: f64,
    budget: f64,
    higher_is_better: bool,
) -> Row {
    let ratio = if higher_is_better {
        measured.per_second / baseline.per_second
    } else {
        baseline.per_second / measured.per_second
    };
    let holds = if higher_is_better { ratio >= budget } else { ratio <= budget } && measured.errors == 0;
    Row {
        scenario: scenario.into(),
        measured: format!(
            "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} statements/request{}",
            measured.per_second,
            measured.p50_ms,
            measured.p99_ms,
            format_statements(statements),
            measured.errors_said()
        ),
        baseline: format!(
            "{baseline_name}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms",
            baseline.per_second, baseline.p50_ms, baseline.p99_ms
        ),
        result: format!("{ratio:.2}×"),
        budget: format!("{} {budget}×", if higher_is_better { "≥" } else { "≤" }),
        holds,
    }
}

fn format_statements(n: f64) -> String {
    if n.is_finite() {
        format!("{n:.1}").trim_end_matches(".0").to_owned()
    } else {
        "–".into()
    }
}

/// The crowd of the tail-latency scenario: connections, and how long they ask.
const CROWD: usize = 200;
const CROWD_SECONDS: u64 = 60;

/// A signed-in page's throughput against `SELECT 1` through the pool, at least; and
/// its statements, at most (DESIGN.md §6).
const PAGE_VS_SELECT_1: f64 = 0.3;
const STATEMENTS_PER_PAGE: f64 = 4.0;
/// What a page's statements per request may carry above [`STATEMENTS_PER_PAGE`] on
/// average: the occasional write of a use (a session marked used once a minute, a
/// member's `Last active` once every few minutes: one statement, once), never a
/// fifth statement in every page (+1.0).
const OCCASIONAL_WRITES: f64 = 0.01;

async fn run(binary: PathBuf, options: Options) -> anyhow::Result<()> {
    let (smtp_port, delivered) = smtp_sink().await?;
    let server = Server::up(&binary, &options.database_url, smtp_port).await?;
    let idle = server.memory().0;
    let owner = sign_in(&server, OWNER, None).await?;
    let mut rows = Vec::new();

    // Bell count against SELECT 1 through the same pool (/readyz).
    server.progress("bell and baseline");
    let before = metrics(&server).await?;
    // Both from the same signed-in client, so that the client's work (its cookie jar)
    // is the same for both and the ratio compares the server's.
    let ping = load(&server, &owner, "/readyz", &options).await;
    let bell = load(&server, &owner, "/notifications/count", &options).await;
    let after = metrics(&server).await?;
    let statements = statements_per_request(&before, &after, "/notifications/count", "GET", "2xx");
    rows.push(ratio_row("Bell count vs `SELECT 1` (`/readyz`)", &bell, &ping, "SELECT 1", statements, 0.7, true));

    // Each main page of the console (the 100-member organization) against SELECT 1:
    // a page costs what its data costs, in at most four statements (the session, the
    // viewer with the organization, the page's rows, one count or summary).
    let console: [(&str, &str, &str); 7] = [
        ("Dashboard", "/dashboard", "/dashboard"),
        ("Overview", "/orgs/small", "/orgs/{slug}"),
        ("Members", "/orgs/small/members", "/orgs/{slug}/members"),
        ("Invitations", "/orgs/small/invitations", "/orgs/{slug}/invitations"),
        ("Teams", "/orgs/small/teams", "/orgs/{slug}/teams"),
        ("Projects", "/orgs/small/projects", "/orgs/{slug}/projects"),
        ("Audit Log", "/orgs/small/audit", "/orgs/{slug}/audit"),
    ];
    // Each is asked for as browsers ask when they come back to a page (a page asked
    // for again while nothing changed is sent as it was made, after its session's
    // read), and made anew each time, whose statements the budget counts; both shown.
    for (name, path, route) in console {
        server.progress(name);
        let before = metrics(&server).await?;
        let anew = load(&server, &owner, path, &options).await;
        let between = metrics(&server).await?;
        let page = load_encoded(&server, &owner, path, &options, None, Asking::AsBrowsers).await;
        let after = metrics(&server).await?;
        let made = statements_per_request(&before, &between, route, "GET", "2xx");
        let statements = statements_per_request(&between, &after, route, "GET", "2xx");
        let scenario = format!("{name} page (100 members) vs `SELECT 1`");
        let mut row = ratio_row(&scenario, &page, &ping, "SELECT 1", statements, PAGE_VS_SELECT_1, true);
        row.measured = format!(
            "{}; made anew each time: {:.0} req/s ({:.2}×), p50 {:.1} ms, {} statements/request{}",
            row.measured,
            anew.per_second,
            anew.per_second / ping.per_second,
            anew.p50_ms,
            format_statements(made),
            anew.errors_said()
        );
        row.holds &= made <= STATEMENTS_PER_PAGE + OCCASIONAL_WRITES && anew.errors == 0;
        row.budget = format!("≥ {PAGE_VS_SELECT_1}×, ≤ {STATEMENTS_PER_PAGE} statements made anew");
        rows.push(row);
    }

    // Each listing: the 1,000,000-row organization against the 100-row one.
    // (name, path with {} for the organization, route pattern, the large organization)
    let week_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(7))
        .date()
        .format(time::macros::format_description!("[year]-[month]-[day]"))?;
    let past = format!("/orgs/{{}}/projects/handbook/access-history?on={week_ago}");
    let pages: [(&str, &str, &str, &str); 13] = [
        ("Members, first page", "/orgs/{}/members", "/orgs/{slug}/members", "big"),
        ("Members by email, descending", "/orgs/{}/members?sort=email&dir=desc", "/orgs/{slug}/members", "big"),
        ("Members by last active", "/orgs/{}/members?sort=last_active&dir=desc", "/orgs/{slug}/members", "big"),
        ("Members search, a page of matches", "/orgs/{}/members?q=son", "/orgs/{slug}/members", "big"),
        ("Invitations", "/orgs/{}/invitations", "/orgs/{slug}/invitations", "invited"),
        ("Audit Log", "/orgs/{}/audit", "/orgs/{slug}/audit", "big"),
        ("Overview", "/orgs/{}", "/orgs/{slug}", "big"),
        ("Seat Usage", "/orgs/{}/seats", "/orgs/{slug}/seats", "big"),
        ("Teams", "/orgs/{}/teams", "/orgs/{slug}/teams", "many-teams"),
        ("Projects", "/orgs/{}/projects", "/orgs/{slug}/projects", "many-teams"),
        ("Access view (My access)", "/orgs/{}/access", "/orgs/{slug}/access", "big"),
        (
            "Access history of a project everyone reaches, today",
            "/orgs/{}/projects/handbook/access-history",
            "/orgs/{slug}/projects/{name}/access-history",
            "reach",
        ),
        (
            "Access history of a project everyone reaches, a week ago",
            &past,
            "/orgs/{slug}/projects/{name}/access-history",
            "reach",
        ),
    ];
    for (name, path, route, large) in pages {
        server.progress(name);
        // The Members rows weigh a page of members against a page of members: in
        // `small` a name-sorted first page is its hundred invitations (no name sorts
        // first), rows of half the markup, and "son" matches a dozen of its people
        // where it fills a page at a million. `reach-small` has a hundred members
        // and no invitation, and "example" (in every address) fills its page.
        let small_path = match (name, large) {
            ("Members search, a page of matches", _) => "/orgs/reach-small/members?q=example".to_owned(),
            (_, "reach") => path.replace("{}", "reach-small"),
            _ if route == "/orgs/{slug}/members" => path.replace("{}", "reach-small"),
            _ => path.replace("{}", "small"),
        };
        let small = load(&server, &owner, &small_path, &options).await;
        let before = metrics(&server).await?;
        let big = load(&server, &owner, &path.replace("{}", large), &options).await;
        let after = metrics(&server).await?;
        let statements = statements_per_request(&before, &after, route, "GET", "2xx");
        let size = match large {
            "many-teams" => "5,000",
            "reach" => "100,000",
            _ => "1,000,000",
        };
        let scenario = match name {
            "Members search, a page of matches" => {
                format!("{name} (\"son\", 3% of members, at {size}; \"example\", all, at 100)")
            }
            _ => format!("{name}: {size} vs 100 rows"),
        };
        // The Overview and Seat Usage show counts (kept, not computed): within 2×.
        let budget = if matches!(name, "Overview" | "Seat Usage") { 2.0 } else { 1.5 };
        rows.push(ratio_row(&scenario, &big, &small, "100 rows", statements, budget, false));
    }
    // The Invitations page, whose invite dialog chooses teams and projects: nothing
    // on it may grow with their number (pickers ask as one types), in time or bytes.
    server.progress("Invitations page at 5,000 teams");
    let (few_page, many_page) = (
        owner.get(server.url("/orgs/few-teams/invitations")).send().await?.text().await?,
        owner.get(server.url("/orgs/many-teams/invitations")).send().await?.text().await?,
    );
    let few = load(&server, &owner, "/orgs/few-teams/invitations", &options).await;
    let before = metrics(&server).await?;
    let many = load(&server, &owner, "/orgs/many-teams/invitations", &options).await;
    let after = metrics(&server).await?;
    let statements = statements_per_request(&before, &after, "/orgs/{slug}/invitations", "GET", "2xx");
    let mut row = ratio_row("Invitations page: 5,000 teams vs 5", &many, &few, "5 teams", statements, 1.5, false);
    let bytes = many_page.len() as f64 / few_page.len() as f64;
    row.measured = format!("{}, {} bytes of HTML", row.measured, many_page.len());
    row.baseline = format!("{}, {} bytes", row.baseline, few_page.len());
    row.result = format!("{} time, {bytes:.2}× bytes", row.result);
    row.budget = "≤ 1.5× in time and in bytes".into();
    row.holds = row.holds && bytes <= 1.5;
    rows.push(row);

    // The access history of a project of `big`, whose audit log holds a million events:
    // the time one person waits for it, today and a week ago (issue 32: under 50 ms).
    server.progress("Access history at a million audit events");
    rows.push(history_row(&server, &owner, &options, &week_ago).await?);

    // A page deep in the listing: five "Next" links in.
    let mut deep = "/orgs/big/members".to_owned();
    for _ in 0..5 {
        let page = owner.get(server.url(&deep)).send().await?.text().await?;
        let next = page
            .split("href=\"")
            .filter_map(|rest| rest.split('"').next())
            .find(|href| href.contains("after=") && href.contains("/members"))
            .context("a Next link on the Members page")?;
        deep = next.replace("&amp;", "&").replace("&#38;", "&");
    }
    let small = load(&server, &owner, "/orgs/reach-small/members", &options).await;
    let before = metrics(&server).await?;
    let big = load(&server, &owner, &deep, &options).await;
    let after = metrics(&server).await?;
    let statements = statements_per_request(&before, &after, "/orgs/{slug}/members", "GET", "2xx");
    rows.push(ratio_row(
        "Members, sixth page (keyset cursor): 1,000,000 vs 100",
        &big,
        &small,
        "100 rows",
        statements,
        1.5,
        false,
    ));

    // A search for one person by their address, as one looks someone up: one row
    // found among a million against one among a hundred (the person halfway down
    // each organization by name, so nothing favours either end of an index).
    server.progress("Members search for one person");
    let url = options.database_url.clone();
    let sought = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        let mut sought = Vec::new();
        for org in ["big", "reach-small"] {
            let row = db.query_one(
                "WITH org AS (SELECT id FROM organizations WHERE slug = $1) \
                 SELECT split_part(m.member_email, '@', 1) FROM memberships m \
                  WHERE m.organization_id = (SELECT id FROM org) AND m.role <> 'owner' \
                  ORDER BY lower(m.member_name), m.id \
                 OFFSET (SELECT count(*) / 2 FROM memberships WHERE organization_id = (SELECT id FROM org)) LIMIT 1",
                &[&org],
            );
            sought.push(row?.get(0));
        }
        Ok(sought)
    })
    .await??;
    // Not a ratio: at a hundred members the whole organization is walked in less
    // time than any index lookup takes, so the budget is the time one person waits,
    // as for the access history (it was 1.2 s at p50 under load before the trigram index).
    let (one_big, one_small) = (&sought[0], &sought[1]);
    let one = options.one_asking();
    let small = load(&server, &owner, &format!("/orgs/reach-small/members?q={one_small}"), &one).await;
    let before = metrics(&server).await?;
    let big = load(&server, &owner, &format!("/orgs/big/members?q={one_big}"), &one).await;
    let after = metrics(&server).await?;
    let statements = statements_per_request(&before, &after, "/orgs/{slug}/members", "GET", "2xx");
    rows.push(Row {
        scenario: "Members search for one person (their address before the @), one person asking".into(),
        measured: format!(
            "at 1,000,000: p50 {:.1} ms, p99 {:.1} ms, {} statements/request{}",
            big.p50_ms,
            big.p99_ms,
            format_statements(statements),
            big.errors_said()
        ),
        baseline: format!("at 100: p50 {:.1} ms, p99 {:.1} ms", small.p50_ms, small.p99_ms),
        result: format!("p99 {:.1} ms ({:.1}× the p50 at 100)", big.p99_ms, big.p50_ms / small.p50_ms),
        budget: "p99 < 50 ms, one person asking".into(),
        holds: big.errors + small.errors == 0
            && big.p99_ms < 50.0
            && statements <= STATEMENTS_PER_PAGE + OCCASIONAL_WRITES,
    });

    // Bulk invitation of 1,000 addresses, then their delivery through SMTP.
    server.progress("bulk invitation and outbox");
    // A new account and organization each run: invitations are rate-limited per account.
    let tag = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let (bulk_owner, bulk_org) = (format!("bulk{tag}@bench.test"), format!("Bulk {tag}"));
    let url = &options.database_url;
    roster(
        &binary,
        url,
        &["create-user", "--name", "Bea Bulk", "--email", &bulk_owner, "--password-stdin"],
        Some(PASSWORD),
    )?;
    roster(&binary, url, &["create-org", "--name", &bulk_org, "--owner", &bulk_owner, "--seats", "2000"], None)?;
    let bulk = sign_in(&server, &bulk_owner, Some("203.0.113.9")).await?;
    let (new_form, invite) = (format!("/orgs/bulk-{tag}/invitations/new"), format!("/orgs/bulk-{tag}/invitations"));
    let ten: Vec<String> = (0..10).map(|i| format!("t{tag}-{i}@bulk.example.com")).collect();
    let before = metrics(&server).await?;
    let response = post(&server, &bulk, &new_form, &invite, &[("emails", &ten.join("\n")), ("role", "member")]).await?;
    let class = status_class(response.status()).with_context(|| format!("inviting 10: {}", response.status()))?;
    let after = metrics(&server).await?;
    let statements_ten = statements_per_request(&before, &after, "/orgs/{slug}/invitations", "POST", class);
    let waited = Instant::now();
    while delivered.load(Ordering::Relaxed) < 10 {
        if waited.elapsed() > Duration::from_secs(30) {
            bail!("the 10 invitations were not delivered within 30 s (is another Roster using this database?)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let thousand: Vec<String> = (0..BULK).map(|i| format!("b{tag}-{i}@bulk.example.com")).collect();
    let page = bulk.get(server.url(&new_form)).send().await?.text().await?;
    let token = csrf_of(&page).context("the invite form has a CSRF field")?;
    let emails = thousand.join("\n");
    let form = [("emails", emails.as_str()), ("role", "member"), ("csrf_token", token.as_str())];
    let (sent_before, before) = (delivered.load(Ordering::Relaxed), metrics(&server).await?);
    let started = Instant::now();
    let response = bulk.post(server.url(&invite)).form(&form).send().await?;
    let bulk_ms = started.elapsed().as_secs_f64() * 1000.0;
    let class = status_class(response.status()).with_context(|| format!("inviting 1,000: {}", response.status()))?;
    let page = response.text().await?;
    if !page.contains("1,000") && !page.contains("1000") {
        eprintln!("bench: the answer to inviting 1,000 does not say 1,000");
    }
    let after = metrics(&server).await?;
    let statements_thousand = statements_per_request(&before, &after, "/orgs/{slug}/invitations", "POST", class);
    rows.push(bulk_row("Bulk invitation of 1,000 addresses", "address", bulk_ms, statements_thousand, statements_ten));
    while delivered.load(Ordering::Relaxed) < sent_before + BULK as u64 && started.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outbox_s = started.elapsed().as_secs_f64();
    let got = delivered.load(Ordering::Relaxed) - sent_before;
    rows.push(Row {
        scenario: "Outbox: the 1,000 invitations delivered to a loopback SMTP server".into(),
        measured: format!("{got} messages in {outbox_s:.1} s ({:.0}/s)", got as f64 / outbox_s),
        baseline: "–".into(),
        result: format!("{outbox_s:.1} s"),
        budget: "< 10 s".into(),
        holds: got >= BULK as u64 && outbox_s < 10.0,
    });

    // An identity provider's first sync: 1,000 Users created through SCIM.
    server.progress("SCIM provisioning of 1,000 users");
    rows.push(scim_row(&server, &binary, &options, &owner, tag).await?);

    // Twelve people signing in at once, from twelve addresses.
    server.progress("sign-in burst");
    let sampler = PeakSampler::start(server.child.id());
    let burst = (1..=SIGN_INS).map(|n| {
        let server = &server;
        async move { sign_in(server, &format!("signer{n}@bench.test"), Some(&format!("192.0.2.{n}"))).await }
    });
    let started = Instant::now();
    let signed: Vec<_> = futures_util::future::join_all(burst).await;
    let burst_s = started.elapsed().as_secs_f64();
    let failed = signed.iter().filter(|r| r.is_err()).count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let burst_peak = sampler.stop().await?;
    let (after_burst, high_water) = server.memory();
    rows.push(Row {
        scenario: format!("Resident memory, {SIGN_INS} concurrent sign-ins"),
        measured: format!(
            "peak {burst_peak:.0} MB, {after_burst:.0} MB after; {SIGN_INS} sign-ins in {burst_s:.2} s{}",
            if failed > 0 { format!(", {failed} failed") } else { String::new() }
        ),
        baseline: format!("idle at start: {idle:.0} MB"),
        result: format!("{burst_peak:.0} MB"),
        budget: "< 64 MB".into(),
        holds: burst_peak < 64.0 && failed == 0,
    });

    // First load of a page: HTML, CSS, app.js and htmx, as a browser asks for them.
    server.progress("page weight");
    let fetch = |path: String| {
        let owner = owner.clone();
        let url = server.url(&path);
        async move {
            let response = owner.get(url).header(ACCEPT_ENCODING, BROWSERS_ACCEPT_ENCODING).send().await?;
            let encoding =
                response.headers().get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
            let body = response.bytes().await?;
            anyhow::Ok((path, encoding, body))
        }
    };
    let (_, page_encoding, page) = fetch("/orgs/small/members".into()).await?;
    // The links, read from the page as sent without compression.
    let html = owner.get(server.url("/orgs/small/members")).send().await?.text().await?;
    let assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/static/") && (s.ends_with(".css") || s.ends_with(".js")))
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut total = page.len();
    let mut parts = vec![format!("page {:.1} KB ({page_encoding})", page.len() as f64 / 1024.0)];
    for asset in assets {
        let (path, encoding, body) = fetch(asset).await?;
        total += body.len();
        let file = path.rsplit('/').next().unwrap_or(&path).to_owned();
        parts.push(format!("{file} {:.1} KB ({encoding})", body.len() as f64 / 1024.0));
    }
    rows.push(Row {
        scenario: "First load of the Members page with its CSS and scripts (bodies on the wire)".into(),
        measured: parts.join(", "),
        baseline: "–".into(),
        result: format!("{:.1} KB", total as f64 / 1024.0),
        budget: "< 60 KB".into(),
        holds: total < 60 * 1024,
    });

    // Compression of a page (DESIGN.md §6: it must cost less than it saves): the
    // Members page asked in each encoding the console offers and in none. The page as
    // browsers ask for it is a budget; the others are reported beside the table, with
    // each encoder's levels timed on the same page in this process.
    server.progress("page compression");
    let mut compression = Vec::new();
    for encoding in ["identity", "gzip", "br", "zstd"] {
        let response = owner.get(server.url("/orgs/small/members")).header(ACCEPT_ENCODING, encoding).send().await?;
        let sent = response.headers().get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
        if sent != encoding {
            bail!("asked for the Members page in {encoding}, got {sent}");
        }
        let bytes = response.bytes().await?.len();
        let measured =
            load_encoded(&server, &owner, "/orgs/small/members", &options, Some(encoding), Asking::Anew).await;
        compression.push((encoding, bytes, measured));
    }
    let browsers =
        load_encoded(&server, &owner, "/orgs/small/members", &options, Some(BROWSERS_ACCEPT_ENCODING), Asking::Anew)
            .await;
    let plain = &compression[0].2;
    let ratio = browsers.per_second / plain.per_second;
    rows.push(Row {
        scenario: format!("Members page as browsers ask for it (`{BROWSERS_ACCEPT_ENCODING}`) vs sent as it is"),
        measured: format!(
            "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {page_encoding}, {} bytes",
            browsers.per_second,
            browsers.p50_ms,
            browsers.p99_ms,
            page.len()
        ),
        baseline: format!(
            "as it is: {:.0} req/s, p50 {:.1} ms, {} bytes",
            plain.per_second, plain.p50_ms, compression[0].1
        ),
        result: format!("{ratio:.2}×"),
        budget: format!("≥ {COMPRESSED_VS_PLAIN}×"),
        holds: ratio >= COMPRESSED_VS_PLAIN && browsers.errors == 0,
    });
    let levels = compression_levels(html.as_bytes());

    // 1,000 open live-bell streams, and how fast a change reaches all of them.
    server.progress(&format!("{STREAMS} live streams"));
    let before_streams = server.memory().0;
    let armed: Arc<std::sync::OnceLock<Instant>> = Arc::default();
    let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel();
    let opening = Arc::new(tokio::sync::Semaphore::new(STREAMS_OPENING));
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        let (owner, url, armed, opened) =
            (owner.clone(), server.url("/notifications/stream"), armed.clone(), opened_tx.clone());
        let permit = opening.clone().acquire_owned().await?;
        streams.push(tokio::spawn(async move {
            let response = owner.get(url).send().await;
            drop(permit);
            let response = match response {
                Ok(response) => response,
                Err(_) => {
                    let _ = opened.send(false);
                    return None;
                }
            };
            let _ = opened.send(response.status().is_success());
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                if let Some(at) = armed.get() {
                    if chunk.windows(11).any(|w| w == b"event: bell") {
                        return Some(at.elapsed());
                    }
                }
            }
            None
        }));
    }
    let mut open = 0;
    for _ in 0..STREAMS {
        if opened_rx.recv().await == Some(true) {
            open += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with_streams = server.memory().0;
    // The inviter of another organization invites the Owner, or revokes that invitation:
    // either changes what the Owner's bell counts.
    let inviter = sign_in(&server, INVITER, Some("198.51.100.7")).await?;
    let page = inviter.get(server.url("/orgs/streams/invitations")).send().await?.text().await?;
    let pending = page
        .split("/orgs/streams/invitations/")
        .filter_map(|rest| rest.split('/').next())
        .find(|id| id.len() == 36)
        .map(str::to_owned);
    let _ = armed.set(Instant::now());
    let response = match &pending {
        Some(id) => {
            post(&server, &inviter, "/orgs/streams/invitations", &format!("/orgs/streams/invitations/{id}/revoke"), &[])
                .await?
        }
        None => {
            post(
                &server,
                &inviter,
                "/orgs/streams/invitations/new",
                "/orgs/streams/invitations",
                &[("emails", OWNER), ("role", "member")],
            )
            .await?
        }
    };
    if status_class(response.status()).is_none() {
        bail!("changing the Owner's invitation: {}", response.status());
    }
    let mut latencies = Vec::new();
    for stream in streams {
        if let Ok(Ok(Some(latency))) = tokio::time::timeout(Duration::from_secs(10), stream).await {
            latencies.push(latency.as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let per_stream_kb = (with_streams - before_streams) * 1024.0 / STREAMS as f64;
    let p99 = at(0.99);
    rows.push(Row {
        scenario: format!("{STREAMS} open live-bell streams: badge latency and memory"),
        measured: format!(
            "{open} open, {} told; p50 {:.0} ms, p99 {p99:.0} ms, max {:.0} ms; {per_stream_kb:.1} KB per stream ({before_streams:.0} → {with_streams:.0} MB)",
            latencies.len(),
            at(0.5),
            latencies.last().copied().unwrap_or(f64::NAN)
        ),
        baseline: "–".into(),
        result: format!("p99 {p99:.0} ms, {with_streams:.0} MB"),
        budget: format!("p99 < 1,000 ms, all told, < {STREAMS_MEMORY_MB:.0} MB"),
        holds: open == STREAMS && latencies.len() == STREAMS && p99 < 1000.0 && with_streams < STREAMS_MEMORY_MB,
    });
    // Bulk actions come after the streams are closed: each scenario's memory is its
    // own, and the run's highest is what one of them needed.
    // A bulk action on 1,000 members of `big`: previewed, then confirmed, into a team
    // and out of it again (so the data stays as generated), against the same on 10.
    server.progress("bulk action on 1,000 members");
    let url = options.database_url.clone();
    let (team, chosen) = tokio::task::spawn_blocking(move || -> anyhow::Result<(String, Vec<String>)> {
        let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
        let team: String = db
            .query_one(
                "SELECT t.name FROM teams t JOIN organizations o ON o.id = t.organization_id \
                  WHERE o.slug = 'big' ORDER BY lower(t.name) LIMIT 1",
                &[],
            )?
            .get(0);
        let rows = db.query(
            "SELECT m.id::text FROM memberships m JOIN organizations o ON o.id = m.organization_id \
              WHERE o.slug = 'big' AND m.role = 'member' AND m.suspended_at IS NULL AND NOT EXISTS ( \
                    SELECT 1 FROM team_members tm JOIN teams t ON t.id = tm.team_id \
                     WHERE tm.membership_id = m.id AND t.name = $1 AND t.organization_id = o.id) \
              ORDER BY m.id LIMIT $2",
            &[&team, &((BULK + 10) as i64)],
        )?;
        Ok((team, rows.iter().map(|row| row.get(0)).collect()))
    })
    .await??;
    if chosen.len() < BULK + 10 {
        bail!("`big` has fewer than {} members outside team {team}", BULK + 10);
    }
    let (ten, thousand) = chosen.split_at(10);
    let (_, statements_ten) = bulk_action(&server, &owner, ten, "add_to_team", &team).await?;
    let (bulk_ms, statements_thousand) = bulk_action(&server, &owner, thousand, "add_to_team", &team).await?;
    // Out again, in the same two batches (an action takes at most 1,000 members).
    bulk_action(&server, &owner, ten, "remove_from_team", &team).await?;
    let (out_ms, statements_out) = bulk_action(&server, &owner, thousand, "remove_from_team", &team).await?;
    let scenario = "Bulk action: 1,000 members into a team (previewed, confirmed)";
    rows.push(bulk_row(scenario, "member", bulk_ms, statements_thousand, statements_ten));
    rows.push(Row {
        scenario: "Bulk action: the 1,000 out of the team again".into(),
        measured: format!("{out_ms:.0} ms, {} statements", format_statements(statements_out)),
        baseline: format!("into it, 10 members: {} statements", format_statements(statements_ten)),
        result: format!("{out_ms:.0} ms"),
        budget: "< 1,000 ms, statements do not grow per member".into(),
        holds: out_ms < 1000.0 && statements_out <= statements_ten,
    });

    // The exports run last, on a server of their own; their rows go here in the table.
    let exports_at = rows.len();

    // The run's largest memory budget is the live streams' (DESIGN.md §6), so the run
    // as a whole is held to it.
    let (_, high_water_end) = server.memory();
    let whole_run = Row {
        scenario: "Resident memory, highest over the whole run (before the 200 connections)".into(),
        measured: format!("{high_water_end:.0} MB (after the sign-ins: {high_water:.0} MB)"),
        baseline: format!("idle at start: {idle:.0} MB"),
        result: format!("{high_water_end:.0} MB"),
        budget: format!("< {STREAMS_MEMORY_MB:.0} MB"),
        holds: high_water_end < STREAMS_MEMORY_MB,
    };

    // Tail latency: 200 connections for a minute on the Members page and on the bell,
    // with the server's resident memory sampled throughout and twelve accounts signing
    // in at once halfway through the Members minute. On a server started afresh: the
    // heap the 10,000 streams grew, which the allocator keeps, is the streams' budget.
    drop(server);
    let server = Server::up(&binary, &options.database_url, smtp_port).await?;
    let owner = sign_in(&server, OWNER, None).await?;
    let crowd = Options { seconds: CROWD_SECONDS, connections: CROWD, fresh: false, database_url: String::new() };
    for (name, path) in [("Members page", "/orgs/small/members"), ("Bell count", "/notifications/count")] {
        server.progress(&format!("{name} under {CROWD} connections"));
        let sampler = PeakSampler::start(server.child.id());
        let burst = async {
            if name != "Members page" {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(CROWD_SECONDS / 2)).await;
            let burst = (1..=SIGN_INS).map(|n| {
                let server = &server;
                async move { sign_in(server, &format!("signer{n}@bench.test"), Some(&format!("198.51.100.{n}"))).await }
            });
            Some(futures_util::future::join_all(burst).await.iter().filter(|r| r.is_err()).count())
        };
        let (measured, failed) = tokio::join!(load(&server, &owner, path, &crowd), burst);
        let peak = sampler.stop().await?;
        let spread = measured.p99_ms / measured.p50_ms;
        let sign_ins = match failed {
            Some(0) => format!("; {SIGN_INS} sign-ins halfway"),
            Some(failed) => format!("; {SIGN_INS} sign-ins halfway, {failed} failed"),
            None => String::new(),
        };
        rows.push(Row {
            scenario: format!("{name} under {CROWD} connections for {CROWD_SECONDS} s"),
            measured: format!(
                "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} errors{}{sign_ins}; resident memory up to {peak:.0} MB",
                measured.per_second,
                measured.p50_ms,
                measured.p99_ms,
                measured.errors,
                measured.kinds_said(),
            ),
            baseline: "–".into(),
            result: format!("p99 {spread:.1}× p50, {peak:.0} MB"),
            budget: "no error, p99 ≤ 5× p50, < 64 MB".into(),
            holds: measured.errors == 0 && failed.unwrap_or(0) == 0 && spread <= 5.0 && peak < 64.0,
        });
    }
    rows.push(whole_run);

    // The Members view of `reach` exported: 100,000 members streamed as CSV, with each
    // one's teams and projects, against the budget of 50,000 rows a second in flat memory;
    // and who can reach a project every one of `reach`'s 100,000 members reaches. On a
    // server started afresh, as for the crowd: after the 10,000 streams, the same export
    // three times in a row grew the server by 17, 11 and 0.7 MB (by hand), the
    // allocator taking back the pages the streams' heap had given up.
    drop(server);
    let server = Server::up(&binary, &options.database_url, smtp_port).await?;
    let owner = sign_in(&server, OWNER, None).await?;
    let mut exports = Vec::new();
    for (scenario, path) in [
        ("Export: the Members view of 100,000 members as CSV", "/orgs/reach/members.csv?status=active"),
        ("Export: who can reach a project, 100,000 people, as CSV", "/orgs/reach/projects/handbook/access.csv"),
    ] {
        server.progress(scenario);
        exports.push(export_row(&server, &owner, scenario, path).await?);
    }
    rows.splice(exports_at..exports_at, exports);

    drop(server);
    eprintln!("bench: roster generate, {GENERATED} members into a database of its own");
    let (binary, url) = (binary.clone(), options.database_url.clone());
    rows.push(tokio::task::spawn_blocking(move || generate_row(&binary, &url)).await??);
    print_table(&rows, &options);
    print_compression(&compression);
    print_levels(html.len(), &levels);
    if rows.iter().any(|r| !r.holds) {
        bail!("a budget does not hold");
    }
    Ok(())
}

/// The Members page in each encoding: its size on the wire and its throughput,
/// against the page sent as it is.
fn print_compression(measured: &[(&str, usize, Load)]) {
    let Some((_, plain_bytes, plain)) = measured.first() else { return };
    println!();
    println!("Compression of the Members page (100 members), same run:");
    println!();
    println!("| encoding | bytes on the wire | vs none | req/s | vs none | p50 |");
    println!("|---|---|---|---|---|---|");
    for (encoding, bytes, load) in measured {
        println!(
            "| {encoding} | {bytes} | {:.2}× | {:.0} | {:.2}× | {:.1} ms |",
            *bytes as f64 / *plain_bytes as f64,
            load.per_second,
            load.per_second / plain.per_second,
            load.p50_ms
        );
    }
}

/// Each encoder at the levels a page might use, timed on `page` here (one core,
/// median of a few hundred runs): bytes and microseconds per page.
fn compression_levels(page: &[u8]) -> Vec<(String, usize, f64)> {
    use std::io::Write as _;
    fn timed(mut encode: impl FnMut() -> usize) -> (usize, f64) {
        let mut bytes = 0;
        let mut times: Vec<f64> = (0..300)
            .map(|_| {
                let start = Instant::now();
                bytes = encode();
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        (bytes, times[times.len() / 2])
    }
    let mut levels = Vec::new();
    for level in [1, 3, 6] {
        let (bytes, us) = timed(|| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            gz.write_all(page).map_or(0, |_| gz.finish().map_or(0, |v| v.len()))
        });
        levels.push((format!("gzip {level}"), bytes, us));
    }
    for quality in [1, 2, 3, 4, 5] {
        let (bytes, us) = timed(|| {
            let mut out = Vec::new();
            {
                let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 18);
                let _ = writer.write_all(page);
            }
            out.len()
        });
        levels.push((format!("brotli {quality}"), bytes, us));
    }
    for level in [1, 3] {
        let (bytes, us) = timed(|| zstd::bulk::compress(page, level).map_or(0, |v| v.len()));
        levels.push((format!("zstd {level}"), bytes, us));
    }
    levels
}

fn print_levels(plain_bytes: usize, levels: &[(String, usize, f64)]) {
    println!();
    println!("Each encoder's levels on the same page ({plain_bytes} bytes), timed in the benchmark's process:");
    println!();
    println!("| encoder, level | bytes | vs none | µs per page |");
    println!("|---|---|---|---|");
    for (name, bytes, us) in levels {
        println!("| {name} | {bytes} | {:.3}× | {us:.0} |", *bytes as f64 / plain_bytes as f64);
    }
}

fn print_table(rows: &[Row], options: &Options) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "Machine: {cores} cores ({cpu}); load: {} connections for {} s per scenario, over loopback.",
        options.connections, options.seconds
    );
    println!();
    println!("| scenario | measured | baseline (same run) | result | budget | holds |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.measured,
            row.baseline,
            row.result,
            row.budget,
            if row.holds { "yes" } else { "**no**" }
        );
    }
}
