//! A private PostgreSQL cluster under `ROSTER_DATA_DIR`, for when no `DATABASE_URL` is set
//! and no server answers at the default address (DESIGN.md §7): the first run needs no set-up.
//!
//! The cluster listens on a Unix socket inside its own data directory (mode 0700) and on no
//! TCP port, so only its owner (and root) can reach it; trust authentication is safe there.
//! The server is a child of Roster in a process group of its own (a terminal's Ctrl-C reaches
//! Roster, which then stops it after draining), and is stopped when the [`Cluster`] is dropped.

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use diesel::Connection as _;

use nix::fcntl::FlockArg;

use crate::config::{PrivateDatabase, PrivateMode};

/// The role and database Roster uses in its private cluster.
const ROLE: &str = "roster";
/// The longest Unix socket path the kernel accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// How long the server may take to start (a first start includes crash recovery).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before the server is told to quit at once.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running private cluster; dropping it stops the server when no other Roster uses it.
///
/// Every Roster using the cluster holds a shared lock on `users.lock` for as long as it
/// runs; starting and stopping happen under an exclusive lock on `start.lock`. The last
/// one out (the only one that can turn its shared lock exclusive) stops the server, so
/// `roster create-user` beside `roster serve` leaves it running for `serve`.
pub struct Cluster {
    /// `ROSTER_DATA_DIR`, resolved.
    home: PathBuf,
    programs: PathBuf,
    data: PathBuf,
    owner: Option<Owner>,
    /// The shared lock that says this Roster uses the cluster.
    using: Option<nix::fcntl::Flock<fs::File>>,
    /// The server process when this Roster started it.
    child: Option<Child>,
    url: String,
}

/// The unprivileged account the cluster runs as when Roster runs as root.
#[derive(Clone, Copy, Debug)]
struct Owner {
    uid: u32,
    gid: u32,
}

impl Cluster {
    /// The `DATABASE_URL` that reaches the cluster through its socket.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `ROSTER_DATA_DIR`, resolved: the cluster, its socket, its log.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Stops the server if no other Roster uses it (fast shutdown: sessions end, nothing
    /// committed is lost; after `STOP_TIMEOUT`, an immediate one).
    fn stop(&mut self) {
        let Some(using) = self.using.take() else { return };
        let Ok(_starting) = lock(&self.home.join("start.lock"), FlockArg::LockExclusive) else {
            tracing::warn!("could not lock ROSTER_DATA_DIR/start.lock; leaving the private PostgreSQL running");
            return;
        };
        if using.relock(FlockArg::LockExclusiveNonblock).is_err() {
            tracing::info!("another Roster uses the private PostgreSQL; leaving it running");
            return;
        }
        for mode in ["fast", "immediate"] {
            let mut pg_ctl = self.command("pg_ctl");
            pg_ctl.arg("stop").arg("-D").arg(&self.data).args(["-m", mode, "-w", "-t"]);
            pg_ctl.arg(STOP_TIMEOUT.as_secs().to_string()).stdout(Stdio::null()).stderr(Stdio::piped());
            match pg_ctl.output() {
                Ok(out) if out.status.success() => break,
                Ok(out) => tracing::warn!(
                    data = %self.data.display(),
                    mode,
                    output = %String::from_utf8_lossy(&out.stderr).trim(),
                    "the private PostgreSQL did not stop"
                ),
                Err(error) => tracing::warn!(%error, "could not run pg_ctl to stop the private PostgreSQL"),
            }
        }
        if let Some(mut child) = self.child.take() {
            // Reaped if it ended; otherwise left to init rather than waited for without end.
            let _ = child.try_wait();
        }
    }

    fn command(&self, program: &str) -> Command {
        command_as(&self.programs.join(program), self.owner, &self.data)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts (or reuses) the private cluster when `DATABASE_URL` is unset and the settings
/// say so; `None` means: use the default address.
pub fn start_if_wanted(config: Option<&PrivateDatabase>) -> anyhow::Result<Option<Cluster>> {
    let Some(config) = config else {
        return Ok(None); // DATABASE_URL is set: it always wins
    };
    let reason = match config.mode {
        PrivateMode::Never => return Ok(None),
        PrivateMode::Always => "",
        // Data of its own from an earlier run wins over a server that appeared since.
        PrivateMode::Auto if config.data_dir.join("postgres/PG_VERSION").exists() => "",
        PrivateMode::Auto => match default_server() {
            DefaultServer::LetsUsIn => return Ok(None),
            DefaultServer::Absent => "",
            DefaultServer::RefusesUs => {
                " A PostgreSQL answers at 127.0.0.1:5432 but does not let user postgres in without a password."
            }
        },
    };
    let cluster = start(&config.data_dir)?;
    println!(
        "Using a private PostgreSQL with its data in {} (set DATABASE_URL to use a server of your own).{reason}",
        cluster.home.display()
    );
    Ok(Some(cluster))
}

/// What answers at the default address, 127.0.0.1:5432.
enum DefaultServer {
    Absent,
    /// Something answers, but `postgres://postgres@127.0.0.1:5432` cannot sign in (Debian's
    /// and Ubuntu's own cluster asks for a password over TCP).
    RefusesUs,
    LetsUsIn,
}

fn default_server() -> DefaultServer {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    if std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err() {
        return DefaultServer::Absent;
    }
    let postgres_db = crate::config::DEFAULT_DATABASE_URL.replace("/roster", "/postgres");
    match diesel::PgConnection::establish(&postgres_db) {
        Ok(_) => DefaultServer::LetsUsIn,
        Err(_) => DefaultServer::RefusesUs,
    }
}

/// Opens (creating it) a lock file in a directory Roster owns, following no link, and locks it.
fn lock(path: &Path, how: FlockArg) -> anyhow::Result<nix::fcntl::Flock<fs::File>> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    nix::fcntl::Flock::lock(file, how).map_err(|(_, e)| anyhow::anyhow!("could not lock {}: {e}", path.display()))
}

/// Initialises the cluster in `dir/postgres` if it is new, starts it unless it runs, and
/// waits until it takes connections; all under `start.lock`, so two Rosters starting at
/// once do it once.
fn start(dir: &Path) -> anyhow::Result<Cluster> {
    let owner = owner_when_root()?;
    let dir = prepare_dir(dir, owner)?;
    let data = dir.join("postgres");
    let socket = data.join(".s.PGSQL.5432");
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        bail!(
            "ROSTER_DATA_DIR ({}) is too deep for PostgreSQL's Unix socket ({} bytes at most): choose a shorter path",
            dir.display(),
            MAX_SOCKET_PATH - ".s.PGSQL.5432".len() - "/postgres/".len()
        );
    }
    let _starting = lock(&dir.join("start.lock"), FlockArg::LockExclusive)?;
    let using = lock(&dir.join("users.lock"), FlockArg::LockSharedNonblock)
        .context("another Roster is stopping the private PostgreSQL; try again")?;
    let existing_major = fs::read_to_string(data.join("PG_VERSION")).ok().map(|v| v.trim().to_owned());
    let programs = find_programs(existing_major.as_deref())?;
    let mut cluster = Cluster {
        home: dir.clone(),
        programs,
        data,
        owner,
        using: Some(using),
        child: None,
        url: socket_url(&dir, ROLE)?,
    };
    if existing_major.is_none() {
        init(&cluster)?;
    }
    if running(&cluster) {
        // Started by another Roster, or left running by one that was killed.
        tracing::info!(data = %cluster.data.display(), "the private PostgreSQL is already running; using it");
    } else {
        cluster.child = Some(spawn_server(&cluster, &dir)?);
    }
    wait_until_ready(&mut cluster, &dir)?;
    Ok(cluster)
}

/// `postgres://roster@localhost/<database>?host=<dir>/postgres`: libpq takes a directory in
/// `host` as the place of the Unix socket. (libpq decodes `%XX` in a URL's query, not `+`.)
fn socket_url(dir: &Path, database: &str) -> anyhow::Result<String> {
    let socket_dir = dir.join("postgres");
    let host = socket_dir.to_str().context("ROSTER_DATA_DIR must be valid UTF-8")?;
    let host = percent_encoding::utf8_percent_encode(host, percent_encoding::NON_ALPHANUMERIC);
    Ok(format!("postgres://{ROLE}@localhost/{database}?host={host}"))
}

/// The directory holding `initdb`, `postgres` and `pg_ctl`: on `PATH` or under the usual
/// install prefixes, preferring the major version that made an existing cluster, else the newest.
fn find_programs(existing_major: Option<&str>) -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect()).unwrap_or_default();
    for pattern in [
        "/usr/lib/postgresql", // Debian, Ubuntu: <version>/bin
        "/usr/local/opt",      // Homebrew (Intel): postgresql@<version>/bin
        "/opt/homebrew/opt",   // Homebrew (Apple silicon)
        "/usr",                // RHEL, Fedora (PGDG): pgsql-<version>/bin
        "/Applications/Postgres.app/Contents/Versions",
    ] {
        let Ok(entries) = fs::read_dir(pattern) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let versioned =
                name.starts_with("postgresql") || name.starts_with("pgsql") || name.starts_with(char::is_numeric);
            if versioned || pattern.starts_with("/Applications") {
                candidates.push(entry.path().join("bin"));
            }
        }
    }
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));

    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    for dir in candidates {
        let dir = dir.canonicalize().unwrap_or(dir);
        if found.iter().any(|(_, d)| *d == dir) {
            continue;
        }
        // On PATH these are often links into the versioned directory.
        let Ok(pg_ctl) = dir.join("pg_ctl").canonicalize() else { continue };
        let Some(bin) = pg_ctl.parent().map(Path::to_path_buf) else { continue };
        if !["initdb", "postgres"].iter().all(|p| bin.join(p).is_file()) {
            continue;
        }
        if let Some(major) = major_version(&bin) {
            if !found.iter().any(|(_, d)| *d == bin) {
                found.push((major, bin));
            }
        }
    }
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    if let Some(wanted) = existing_major {
        let wanted: u32 = wanted.parse().unwrap_or(0);
        return match found.into_iter().find(|(major, _)| *major == wanted) {
            Some((_, dir)) => Ok(dir),
            None => bail!(
                "The private database in ROSTER_DATA_DIR was made by PostgreSQL {wanted}, whose server programs \
                 are not installed here: install them (e.g. `apt-get install postgresql-{wanted}`), or upgrade the \
                 cluster with pg_upgrade, or set DATABASE_URL to a server you can reach."
            ),
        };
    }
    match found.into_iter().next() {
        Some((_, dir)) => Ok(dir),
        None => bail!(
            "No PostgreSQL answers at 127.0.0.1:5432, DATABASE_URL is not set, and PostgreSQL's server programs \
             (initdb, postgres, pg_ctl) are not installed: install them (`apt-get install postgresql`, \
             `dnf install postgresql-server` or `brew install postgresql`), or set DATABASE_URL to a server you can reach."
        ),
    }
}

/// The major version `pg_ctl --version` reports.
fn major_version(bin: &Path) -> Option<u32> {
    let out = Command::new(bin.join("pg_ctl")).arg("--version").output().ok()?;
    parse_major(&String::from_utf8_lossy(&out.stdout))
}

/// "pg_ctl (PostgreSQL) 15.19" → 15; also "… 14.5 (Homebrew)" and "… 17beta1".
fn parse_major(version: &str) -> Option<u32> {
    let number = version.split("(PostgreSQL)").nth(1)?.trim_start();
    number.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` account.
fn owner_when_root() -> anyhow::Result<Option<Owner>> {
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(Owner { uid: user.uid.as_raw(), gid: user.gid.as_raw() })),
        _ => bail!(
            "Roster runs as root, and PostgreSQL refuses to: create an unprivileged account for it \
             (`useradd --system postgres`), or run Roster as a normal user, or set DATABASE_URL."
        ),
    }
}

/// Creates `ROSTER_DATA_DIR` private to the cluster's owner (mode 0700) and returns it
/// resolved. It must not be a symbolic link; as root, an existing directory is taken over
/// only if it is empty or already the owner's, and the owner must be able to reach it.
fn prepare_dir(dir: &Path, owner: Option<Owner>) -> anyhow::Result<PathBuf> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!("ROSTER_DATA_DIR ({}) is a symbolic link: give the directory itself", dir.display());
    }
    let created = match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(_) => {
            fs::create_dir_all(dir).with_context(|| format!("could not create ROSTER_DATA_DIR {}", dir.display()))?;
            true
        }
    };
    let dir = dir.canonicalize().with_context(|| format!("could not resolve ROSTER_DATA_DIR {}", dir.display()))?;
    let meta = fs::metadata(&dir)?;
    if !meta.is_dir() {
        bail!("ROSTER_DATA_DIR ({}) is not a directory", dir.display());
    }
    if let Some(owner) = owner.filter(|owner| meta.uid() != owner.uid) {
        let empty = fs::read_dir(&dir).map(|mut entries| entries.next().is_none()).unwrap_or(false);
        if !created && !empty {
            bail!(
                "ROSTER_DATA_DIR ({}) already holds files of another account: choose a new or empty directory",
                dir.display()
            );
        }
        std::os::unix::fs::chown(&dir, Some(owner.uid), Some(owner.gid))
            .with_context(|| format!("could not give {} to the postgres account", dir.display()))?;
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("could not make {} private", dir.display()))?;
    let Some(owner) = owner else { return Ok(dir) };
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor)?;
        let mode = meta.permissions().mode();
        let reachable = mode & 0o001 != 0
            || (meta.uid() == owner.uid && mode & 0o100 != 0)
            || (meta.gid() == owner.gid && mode & 0o010 != 0);
        if !reachable {
            bail!(
                "Roster runs as root, so its private PostgreSQL runs as the postgres account, which cannot reach \
                 {} (inside {}): set ROSTER_DATA_DIR to a directory it can reach, e.g. /var/lib/roster, or run \
                 Roster as a normal user, or set DATABASE_URL.",
                dir.display(),
                ancestor.display()
            );
        }
    }
    Ok(dir)
}

/// A command run as the cluster's owner, in a directory the owner can enter.
fn command_as(program: &Path, owner: Option<Owner>, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(cwd.parent().unwrap_or(cwd)).env("LC_MESSAGES", "C");
    if let Some(owner) = owner {
        command.uid(owner.uid).gid(owner.gid);
    }
    command
}

/// `initdb`: UTF-8, trust on the socket (only the owner can open the directory it is in),
/// every TCP connection refused, and no TCP listener even when started by hand.
fn init(cluster: &Cluster) -> anyhow::Result<()> {
    tracing::info!(data = %cluster.data.display(), "initialising a private PostgreSQL cluster");
    let attempt = |locale: &[&str]| {
        cluster
            .command("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args(["-U", ROLE, "--auth-local=trust", "--auth-host=reject", "-E", "UTF8"])
            .args(locale)
            .output()
    };
    // C.UTF-8 case-folds non-ASCII letters as the usual servers do; not every system has it.
    // initdb removes what it created when it fails, so the second attempt starts clean.
    let mut out = attempt(&["--locale=C.UTF-8"]).context("could not run initdb")?;
    if !out.status.success() {
        out = attempt(&["--no-locale"]).context("could not run initdb")?;
    }
    if !out.status.success() {
        bail!(
            "initdb could not create the private database in {}: {}",
            cluster.data.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let conf = cluster.data.join("postgresql.conf");
    let mut file = fs::OpenOptions::new().append(true).custom_flags(nix::libc::O_NOFOLLOW).open(&conf)?;
    std::io::Write::write_all(
        &mut file,
        b"\n# Written by Roster: reachable only through the Unix socket in this directory.\n\
          listen_addresses = ''\nunix_socket_permissions = 0700\n",
    )?;
    Ok(())
}

/// Whether a server already runs on this data directory (a Roster that was killed leaves it).
fn running(cluster: &Cluster) -> bool {
    cluster.data.join("postmaster.pid").exists()
        && cluster
            .command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&cluster.data)
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Starts `postgres` with no TCP listener and its socket in the data directory; its
/// output goes to `postgres.log` beside the data.
fn spawn_server(cluster: &Cluster, dir: &Path) -> anyhow::Result<Child> {
    let log_path = dir.join("postgres.log");
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&log_path)
        .with_context(|| format!("could not open {}", log_path.display()))?;
    let meta = log.metadata()?;
    // The directory is the owner's: never give away a file that was linked into it.
    if !meta.is_file() || meta.nlink() != 1 {
        bail!("{} is not a plain file of its own: remove it", log_path.display());
    }
    if let Some(owner) = cluster.owner.filter(|o| o.uid != meta.uid()) {
        std::os::unix::fs::fchown(&log, Some(owner.uid), Some(owner.gid))?;
    }
    let mut server = cluster.command("postgres");
    server
        .arg("-D")
        .arg(&cluster.data)
        .args(["-c", "listen_addresses="])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", cluster.data.display()))
        .args(["-c", "unix_socket_permissions=0700"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a terminal's Ctrl-C goes to Roster, which drains and then stops it.
        .process_group(0);
    server.spawn().context("could not start the private PostgreSQL")
}

/// Waits until the server takes connections, or says why it did not.
fn wait_until_ready(cluster: &mut Cluster, dir: &Path) -> anyhow::Result<()> {
    let postgres_db = socket_url(dir, "postgres")?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if diesel::PgConnection::establish(&postgres_db).is_ok() {
            return Ok(());
        }
        let exited = match cluster.child.as_mut() {
            Some(child) => child.try_wait()?.is_some(),
            None => false,
        };
        if exited || Instant::now() > deadline {
            cluster.child = None;
            bail!(
                "The private PostgreSQL in {} did not start. The end of its log ({}):\n{}",
                cluster.data.display(),
                dir.join("postgres.log").display(),
                log_tail(&dir.join("postgres.log"))
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read_from_what_pg_ctl_prints() {
        assert_eq!(parse_major("pg_ctl (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)\n"), Some(15));
        assert_eq!(parse_major("pg_ctl (PostgreSQL) 14.5 (Homebrew)\n"), Some(14));
        assert_eq!(parse_major("pg_ctl (PostgreSQL) 17beta1\n"), Some(17));
        assert_eq!(parse_major("pg_ctl 9\n"), None);
    }

    #[test]
    fn the_socket_url_names_the_directory_as_host() {
        let url = socket_url(Path::new("/srv/roster data"), "roster").unwrap();
        assert_eq!(url, "postgres://roster@localhost/roster?host=%2Fsrv%2Froster%20data%2Fpostgres");
    }
}
