//! A private PostgreSQL cluster under `ROSTER_DATA_DIR`, for when no `DATABASE_URL` is set
//! and no server answers at the default address (DESIGN.md §7): the first run needs no set-up.
//!
//! The cluster listens on a Unix socket inside its own data directory (mode 0700) and on no
//! TCP port, so only its owner (and root) can reach it; trust authentication is safe there.
//! The server is a child of Roster in a process group of its own (a terminal's Ctrl-C reaches
//! Roster, which then stops it after draining), and is stopped when the [`Cluster`] is dropped.

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use diesel::Connection as _;

use crate::config::{PrivateDatabase, PrivateMode};

/// The role and database Roster uses in its private cluster.
const ROLE: &str = "roster";
/// The longest Unix socket path the kernel accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// How long the server may take to start (a first start includes crash recovery).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before the server is told to quit at once.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running private cluster; dropping it stops the server if this Roster is the one in
/// charge of it. One Roster at a time is (it holds `roster.lock`); others started meanwhile,
/// like `roster create-user` beside `roster serve`, use the cluster and leave it running.
pub struct Cluster {
    /// `ROSTER_DATA_DIR`, resolved.
    home: PathBuf,
    programs: PathBuf,
    data: PathBuf,
    owner: Option<Owner>,
    /// Held while this Roster is in charge of the server.
    in_charge: Option<nix::fcntl::Flock<fs::File>>,
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

    /// Stops the server (fast shutdown: sessions end, nothing committed is lost).
    fn stop(&mut self) {
        if self.in_charge.is_none() {
            return;
        }
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg("stop").arg("-D").arg(&self.data).args(["-m", "fast", "-w", "-t"]);
        pg_ctl.arg(STOP_TIMEOUT.as_secs().to_string()).stdout(Stdio::null()).stderr(Stdio::piped());
        match pg_ctl.output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => tracing::warn!(
                data = %self.data.display(),
                output = %String::from_utf8_lossy(&out.stderr).trim(),
                "the private PostgreSQL did not stop cleanly"
            ),
            Err(error) => tracing::warn!(%error, "could not run pg_ctl to stop the private PostgreSQL"),
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        self.in_charge = None;
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
/// say so; `None` means: use `DATABASE_URL` or the default address as before.
pub fn start_if_wanted(config: Option<&PrivateDatabase>) -> anyhow::Result<Option<Cluster>> {
    let Some(config) = config else {
        return Ok(None); // DATABASE_URL is set: it always wins
    };
    match config.mode {
        PrivateMode::Never => return Ok(None),
        PrivateMode::Auto if default_server_answers() => return Ok(None),
        PrivateMode::Auto | PrivateMode::Always => {}
    }
    let cluster = start(&config.data_dir)?;
    println!(
        "Using a private PostgreSQL with its data in {} (set DATABASE_URL to use a server of your own).",
        cluster.home.display()
    );
    Ok(Some(cluster))
}

/// Whether anything accepts connections at the default address, 127.0.0.1:5432.
fn default_server_answers() -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

/// Initialises the cluster in `dir/postgres` if it is new, starts it unless it runs, and
/// waits until it takes connections.
fn start(dir: &Path) -> anyhow::Result<Cluster> {
    let dir = absolute(dir)?;
    let data = dir.join("postgres");
    let socket = data.join(".s.PGSQL.5432");
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        bail!(
            "ROSTER_DATA_DIR ({}) is too deep for PostgreSQL's Unix socket ({} bytes at most): choose a shorter path",
            dir.display(),
            MAX_SOCKET_PATH - ".s.PGSQL.5432".len() - "/postgres/".len()
        );
    }
    let existing_major = fs::read_to_string(data.join("PG_VERSION")).ok().map(|v| v.trim().to_owned());
    let programs = find_programs(existing_major.as_deref())?;
    let owner = owner_when_root()?;
    prepare_dir(&dir, owner)?;

    let lock = fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("roster.lock"))?;
    let in_charge = match nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Some(lock),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => None, // another Roster runs it; it may still be starting
        Err((_, error)) => return Err(error).context("could not lock ROSTER_DATA_DIR/roster.lock"),
    };
    let mut cluster =
        Cluster { home: dir.clone(), programs, data, owner, in_charge, child: None, url: socket_url(&dir, ROLE)? };
    if cluster.in_charge.is_some() {
        if existing_major.is_none() {
            init(&cluster)?;
        }
        if running(&cluster) {
            // Left running by a Roster that was killed: this one takes charge of it.
            tracing::info!(data = %cluster.data.display(), "the private PostgreSQL is already running; using it");
        } else {
            cluster.child = Some(spawn_server(&cluster, &dir)?);
        }
    }
    wait_until_ready(&mut cluster, &dir)?;
    Ok(cluster)
}

fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("could not create ROSTER_DATA_DIR {}", dir.display()))?;
    dir.canonicalize().with_context(|| format!("could not resolve ROSTER_DATA_DIR {}", dir.display()))
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

/// The major version `pg_ctl --version` reports ("pg_ctl (PostgreSQL) 15.19" → 15).
fn major_version(bin: &Path) -> Option<u32> {
    let out = Command::new(bin.join("pg_ctl")).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last()?;
    version.split(['.', 'b', 'r']).next()?.parse().ok()
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

/// Creates the data directory's parent, private to the cluster's owner, and checks that
/// the owner can reach it when Roster runs as root.
fn prepare_dir(dir: &Path, owner: Option<Owner>) -> anyhow::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("could not make {} private", dir.display()))?;
    let Some(owner) = owner else { return Ok(()) };
    std::os::unix::fs::chown(dir, Some(owner.uid), Some(owner.gid))
        .with_context(|| format!("could not give {} to the postgres account", dir.display()))?;
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
    Ok(())
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

/// `initdb`: UTF-8, trust on the socket (only the owner can open the directory it is in).
fn init(cluster: &Cluster) -> anyhow::Result<()> {
    tracing::info!(data = %cluster.data.display(), "initialising a private PostgreSQL cluster");
    let attempt = |locale: &[&str]| {
        cluster
            .command("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args(["-U", ROLE, "--auth=trust", "-E", "UTF8"])
            .args(locale)
            .output()
    };
    // C.UTF-8 case-folds non-ASCII letters as the usual servers do; not every system has it.
    let mut out = attempt(&["--locale=C.UTF-8"]).context("could not run initdb")?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&cluster.data);
        out = attempt(&["--no-locale"]).context("could not run initdb")?;
    }
    if !out.status.success() {
        let _ = fs::remove_dir_all(&cluster.data);
        bail!(
            "initdb could not create the private database in {}: {}",
            cluster.data.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
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
    let log = fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    if let Some(owner) = cluster.owner {
        std::os::unix::fs::chown(&log_path, Some(owner.uid), Some(owner.gid))?;
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
    fn the_socket_url_names_the_directory_as_host() {
        let url = socket_url(Path::new("/srv/roster data"), "roster").unwrap();
        assert_eq!(url, "postgres://roster@localhost/roster?host=%2Fsrv%2Froster%20data%2Fpostgres");
    }
}
