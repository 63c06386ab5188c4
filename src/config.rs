//! Settings read once from the environment (and an optional `.env`), then passed by value.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context as _};
use url::Url;

/// Everything the application can be configured with. See README.md for the table.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    /// A streaming replica of `database_url` for reads that tolerate lag
    /// (`ROSTER_READ_DATABASE_URL`); unset: every read goes to the primary.
    pub read_database_url: Option<String>,
    /// The most the replica may lag before its reads go to the primary
    /// (`ROSTER_READ_MAX_LAG`, 5 s).
    pub read_max_lag: Duration,
    pub bind: SocketAddr,
    /// Public URL every emailed link is built from (never the request's Host header).
    pub base_url: Url,
    /// True when `base_url` was derived from `bind` (it then follows the port actually bound).
    pub base_url_from_bind: bool,
    /// 64 bytes that sign and encrypt cookies.
    pub session_key: SessionKey,
    /// Unset: mail goes to the dev mailbox at `/dev/mailbox`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub invitation_ttl: Duration,
    pub support_url: Option<Url>,
    /// How often the job worker looks for due jobs when it found none.
    pub outbox_poll_interval: Duration,
    /// Pooled database connections for requests (`ROSTER_DB_POOL_SIZE`); the job
    /// worker's loops have theirs on top.
    pub db_pool_size: u32,
    /// HTTP worker threads.
    pub http_workers: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (for per-IP rate limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The nameserver verified domains are looked up at; unset: the system's.
    pub dns_server: Option<SocketAddr>,
    /// The bearer token `/metrics` asks for; unset: no metrics are served.
    pub metrics_token: Option<String>,
    /// How long a stopping server lets requests in flight finish.
    pub shutdown_grace: Duration,
    /// The longest a request may take to get its answer started; past it, 503
    /// with `Retry-After` (a database that stalls must not hang the browser).
    pub request_timeout: Duration,
    /// How long a connection that has asked nothing yet, or nothing since its last
    /// answer, is kept open for its next request (`ROSTER_KEEP_ALIVE`).
    pub keep_alive: Duration,
    /// A session not used for this long is signed out (`ROSTER_SESSION_IDLE_TIMEOUT`).
    pub session_idle_timeout: Duration,
    /// The most memory kept pages take (`ROSTER_PAGE_CACHE_MB`; 0: none are kept).
    pub page_cache_bytes: u64,
    /// Requests one API key may make a minute (`ROSTER_API_RATE_LIMIT`).
    pub api_requests_per_minute: i32,
    /// Whether webhooks may go to private, loopback and link-local addresses
    /// (`ROSTER_WEBHOOKS_ALLOW_PRIVATE`: tests, and receivers inside an operator's network).
    pub webhooks_allow_private: bool,
    /// Whether single sign-on providers may live at private and loopback addresses, and
    /// on loopback over plain http (`ROSTER_SSO_ALLOW_PRIVATE`: tests, on-premise providers).
    pub sso_allow_private: bool,
}

impl std::fmt::Debug for Settings {
    /// Everything but the secrets (and the database URL, which may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_database_url(&self.database_url))
            .field("read_database_url", &self.read_database_url.as_deref().map(redact_database_url))
            .field("read_max_lag", &self.read_max_lag)
            .field("bind", &self.bind)
            .field("base_url", &self.base_url.as_str())
            .field("session_key", &self.session_key)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "***"))
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// The server's keys (`ROSTER_SESSION_KEY`), newest first, with a note of whether
/// the key was generated for this run.
#[derive(Clone)]
pub struct SessionKey {
    /// The newest key: it signs cookies, tokens and links and seals stored secrets.
    pub bytes: Vec<u8>,
    /// Older keys, newest first: they still open what they made until it is re-sealed or ends.
    pub older: Vec<Vec<u8>>,
    pub generated: bool,
}

impl SessionKey {
    /// Every key, newest first.
    pub fn ring(&self) -> crate::domain::KeyRing {
        crate::domain::KeyRing::new(self.bytes.clone(), self.older.clone())
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey(keys: {}, generated: {})", 1 + self.older.len(), self.generated)
    }
}

/// Where the database comes from when `DATABASE_URL` is not set (DESIGN.md §7).
#[derive(Clone, Debug)]
pub struct PrivateDatabase {
    pub mode: PrivateMode,
    /// `ROSTER_DATA_DIR`: the private cluster's home.
    pub data_dir: std::path::PathBuf,
}

/// `ROSTER_PRIVATE_POSTGRES`: when Roster runs a private PostgreSQL of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateMode {
    /// When nothing answers at the default address (127.0.0.1:5432).
    Auto,
    /// Whenever `DATABASE_URL` is unset, even if a server answers at the default address
    /// (for tests on machines that run one).
    Always,
    /// Never: without `DATABASE_URL`, use the default address.
    Never,
}

impl PrivateDatabase {
    /// `None` when `DATABASE_URL` is set (in the environment or `.env`): it always wins.
    pub fn from_env() -> anyhow::Result<Option<PrivateDatabase>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if var("DATABASE_URL").is_some() {
            return Ok(None);
        }
        let mode = match var("ROSTER_PRIVATE_POSTGRES").as_deref().map(str::trim) {
            None | Some("auto") => PrivateMode::Auto,
            Some("always") => PrivateMode::Always,
            Some("never") => PrivateMode::Never,
            Some(other) => bail!("ROSTER_PRIVATE_POSTGRES must be auto, always or never, not {other:?}"),
        };
        let data_dir = var("ROSTER_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()).into();
        Ok(Some(PrivateDatabase { mode, data_dir }))
    }
}

pub const DEFAULT_DATA_DIR: &str = "./.roster";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/roster";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Settings {
    /// Reads the `ROSTER_*` variables and `DATABASE_URL`; `bind` overrides `ROSTER_BIND`.
    pub fn from_env(bind_override: Option<SocketAddr>) -> anyhow::Result<Settings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());

        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let read_database_url = var("ROSTER_READ_DATABASE_URL").map(|url| url.trim().to_owned());
        if let Some(url) = &read_database_url {
            Url::parse(url).ok().filter(|u| matches!(u.scheme(), "postgres" | "postgresql")).with_context(|| {
                format!(
                    "ROSTER_READ_DATABASE_URL must be a PostgreSQL URL like postgres://user@replica:5432/roster, not {}",
                    redact_database_url(url)
                )
            })?;
        }
        let read_max_lag = match var("ROSTER_READ_MAX_LAG") {
            Some(text) => parse_duration(&text).context("ROSTER_READ_MAX_LAG must be a duration like 5s, 30s or 2m")?,
            None => Duration::from_secs(5),
        };
        let bind = match bind_override {
            Some(bind) => bind,
            None => var("ROSTER_BIND")
                .as_deref()
                .unwrap_or(DEFAULT_BIND)
                .parse()
                .context("ROSTER_BIND must be an address like 127.0.0.1:8080")?,
        };
        let base_url_from_bind = var("ROSTER_BASE_URL").is_none();
        let base_url = match var("ROSTER_BASE_URL") {
            Some(url) => parse_base_url(&url)?,
            None => parse_base_url(&format!("http://{bind}"))?,
        };
        let session_key = match var("ROSTER_SESSION_KEY") {
            Some(key) => parse_session_keys(&key)?,
            None if is_loopback(&base_url) => SessionKey { bytes: random_key(), older: Vec::new(), generated: true },
            None => bail!(
                "ROSTER_SESSION_KEY is required when ROSTER_BASE_URL ({base_url}) is not a local \
                 address: set it to 64 random bytes, e.g. `openssl rand -base64 64`"
            ),
        };
        let smtp_url = var("ROSTER_SMTP_URL");
        if let Some(url) = &smtp_url {
            Url::parse(url).context("ROSTER_SMTP_URL must be a URL like smtp://user:pass@host:587")?;
        }
        let invitation_ttl = match var("ROSTER_INVITATION_TTL") {
            Some(text) => {
                parse_duration(&text).context("ROSTER_INVITATION_TTL must be a duration like 7d, 48h or 90m")?
            }
            None => Duration::from_secs(7 * 24 * 3600),
        };
        let support_url = var("ROSTER_SUPPORT_URL")
            .map(|u| Url::parse(&u).context("ROSTER_SUPPORT_URL must be a URL"))
            .transpose()?;
        let dns_server = var("ROSTER_DNS_SERVER")
            .map(|a| {
                a.parse::<SocketAddr>().context("ROSTER_DNS_SERVER must be an address and port, like 127.0.0.1:5353")
            })
            .transpose()?;
        let trusted_proxies = match var("ROSTER_TRUSTED_PROXIES") {
            Some(list) => parse_proxies(&list)?,
            None => Vec::new(),
        };
        let metrics_token = var("ROSTER_METRICS_TOKEN").map(|t| t.trim().to_owned());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("ROSTER_METRICS_TOKEN must be at least 16 characters, e.g. `openssl rand -hex 32`");
        }
        let shutdown_grace = match var("ROSTER_SHUTDOWN_GRACE") {
            Some(text) => parse_duration(&text).context("ROSTER_SHUTDOWN_GRACE must be a duration like 30s or 2m")?,
            None => Duration::from_secs(30),
        };
        let request_timeout = match var("ROSTER_REQUEST_TIMEOUT") {
            Some(text) => parse_duration(&text).context("ROSTER_REQUEST_TIMEOUT must be a duration like 10s")?,
            None => Duration::from_secs(10),
        };
        let keep_alive = match var("ROSTER_KEEP_ALIVE") {
            Some(text) => parse_duration(&text).context("ROSTER_KEEP_ALIVE must be a duration like 75s or 2m")?,
            None => Duration::from_secs(75),
        };
        let session_idle_timeout = match var("ROSTER_SESSION_IDLE_TIMEOUT") {
            Some(text) => {
                parse_duration(&text).context("ROSTER_SESSION_IDLE_TIMEOUT must be a duration like 24h, 8h or 30m")?
            }
            None => Duration::from_secs(24 * 3_600),
        };
        let page_cache_bytes =
            match var("ROSTER_PAGE_CACHE_MB") {
                Some(text) => text.trim().parse::<u64>().ok().filter(|mb| *mb <= 4096).context(
                    "ROSTER_PAGE_CACHE_MB must be a whole number of megabytes from 0 (keep no pages) to 4096",
                )?,
                None => 16,
            } * 1024
                * 1024;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let db_pool_size = match var("ROSTER_DB_POOL_SIZE") {
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .context("ROSTER_DB_POOL_SIZE must be a whole number of connections from 1 to 1000")?,
            None => default_pool_size(cores),
        };
        let api_requests_per_minute = match var("ROSTER_API_RATE_LIMIT") {
            Some(text) => text
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 1)
                .context("ROSTER_API_RATE_LIMIT must be a whole number of requests a minute, at least 1")?,
            None => 600,
        };
        let flag = |name: &str| match var(name).as_deref().map(str::trim) {
            None | Some("false") | Some("0") | Some("") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(anyhow::anyhow!("{name} must be true or false, not {other:?}")),
        };
        let webhooks_allow_private = flag("ROSTER_WEBHOOKS_ALLOW_PRIVATE")?;
        let sso_allow_private = flag("ROSTER_SSO_ALLOW_PRIVATE")?;
        Ok(Settings {
            database_url,
            read_database_url,
            read_max_lag,
            bind,
            base_url,
            base_url_from_bind,
            session_key,
            smtp_url,
            mail_from: var("ROSTER_MAIL_FROM").unwrap_or_else(|| "Roster <roster@localhost>".into()),
            invitation_ttl,
            support_url,
            outbox_poll_interval: Duration::from_secs(2),
            db_pool_size,
            http_workers: cores,
            trusted_proxies,
            dns_server,
            metrics_token,
            shutdown_grace,
            request_timeout,
            keep_alive,
            session_idle_timeout,
            page_cache_bytes,
            api_requests_per_minute,
            webhooks_allow_private,
            sso_allow_private,
        })
    }

    /// True when browsers reach Roster over TLS (its public URL is `https`): cookies
    /// are then `Secure` and carry the `__Host-` prefix.
    pub fn serves_tls(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// True when mail goes to the built-in dev mailbox instead of SMTP: no SMTP
    /// server is configured and Roster runs on a local address. A public Roster
    /// never shows its mail to whoever asks.
    pub fn uses_dev_mailbox(&self) -> bool {
        self.smtp_url.is_none() && is_loopback(&self.base_url)
    }

    /// True when mail can go nowhere: no SMTP server, and not local enough for the dev mailbox.
    /// Messages then wait in the outbox until ROSTER_SMTP_URL is set.
    pub fn mail_undeliverable(&self) -> bool {
        self.smtp_url.is_none() && !is_loopback(&self.base_url)
    }

    /// An absolute link under the configured public URL.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path_and_query)
    }
}

fn parse_base_url(text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text).with_context(|| format!("ROSTER_BASE_URL is not a URL: {text}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("ROSTER_BASE_URL must start with http:// or https://");
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One or more keys, comma-separated, newest first. A single key that has commas in
/// it (64 bytes of raw text may) is still read whole, as before keys could rotate.
fn parse_session_keys(text: &str) -> anyhow::Result<SessionKey> {
    // Raw text with commas and no base64 key among its parts is one key, as it was.
    let one_raw_key = text.contains(',') && !text.split(',').any(|part| base64_key(part).is_some());
    let mut keys = if one_raw_key {
        vec![parse_session_key(text)?]
    } else {
        text.split(',').map(parse_session_key).collect::<anyhow::Result<Vec<_>>>()?
    };
    let newest = keys.remove(0);
    if keys.contains(&newest) {
        bail!("ROSTER_SESSION_KEY lists the same key twice: list each key once, newest first");
    }
    Ok(SessionKey { bytes: newest, older: keys, generated: false })
}

/// Base64 of at least 64 bytes (what `openssl rand -base64 64` prints).
fn base64_key(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let text = text.trim();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .ok()
        .filter(|bytes| bytes.len() >= 64)
}

/// A key in base64 or, failing that, at least 64 bytes of raw text.
fn parse_session_key(text: &str) -> anyhow::Result<Vec<u8>> {
    let text = text.trim();
    match base64_key(text) {
        Some(bytes) => Ok(bytes),
        None if text.len() >= 64 => Ok(text.as_bytes().to_vec()),
        None => bail!(
            "each key in ROSTER_SESSION_KEY must hold at least 64 bytes: use `openssl rand -base64 64`, \
             and separate keys with commas, newest first"
        ),
    }
}

fn random_key() -> Vec<u8> {
    let mut bytes = vec![0u8; 64];
    crate::domain::random::fill(&mut bytes);
    bytes
}

/// Parses a comma-separated list of IP addresses.
fn parse_proxies(list: &str) -> anyhow::Result<Vec<std::net::IpAddr>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().with_context(|| format!("ROSTER_TRUSTED_PROXIES: {s} is not an IP address")))
        .collect()
}

/// Connections for requests when `ROSTER_DB_POOL_SIZE` is unset: twice the cores
/// (PostgreSQL's wiki: cores × 2 plus disks, for a server whose data is in memory),
/// at least four. The work is CPU on both sides of the connection: on two cores
/// with PostgreSQL beside it, 4 against the earlier fixed 10 gave the Projects page
/// 14 % more answers a second and the bell under 200 connections a p99 of 2.6–3.0×
/// its p50 instead of 3.4–6.4× (BENCHMARKS.md).
fn default_pool_size(cores: usize) -> u32 {
    u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX).clamp(4, 1000)
}

/// Parses `7d`, `48h`, `90m` or `30s`.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().context("expected a number followed by d, h, m or s")?;
    let seconds = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" => n,
        _ => bail!("expected a unit of d, h, m or s"),
    };
    if seconds == 0 {
        bail!("must be longer than zero");
    }
    Ok(Duration::from_secs(seconds))
}

/// The database URL with any password replaced by `***`, for messages.
pub fn redact_database_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(unparseable DATABASE_URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_twice_the_cores_and_at_least_four() {
        assert_eq!(default_pool_size(1), 4);
        assert_eq!(default_pool_size(2), 4);
        assert_eq!(default_pool_size(8), 16);
        assert_eq!(default_pool_size(usize::MAX), 1000);
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("48h").unwrap(), Duration::from_secs(172_800));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("1w").is_err());
    }

    #[test]
    fn passwords_are_hidden_in_database_urls() {
        assert_eq!(redact_database_url("postgres://app:s3cret@db:5432/roster"), "postgres://app:***@db:5432/roster");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        assert_eq!(parse_proxies("10.0.0.1, ::1").unwrap().len(), 2);
        assert!(parse_proxies("proxy.local").is_err());
    }

    #[test]
    fn short_session_keys_are_refused() {
        assert!(parse_session_keys("short").is_err());
        assert_eq!(parse_session_keys(&"k".repeat(64)).unwrap().bytes.len(), 64);
        let base64_of_64_bytes = "A".repeat(86) + "==";
        assert_eq!(parse_session_keys(&base64_of_64_bytes).unwrap().bytes, vec![0u8; 64]);
    }

    #[test]
    fn several_keys_are_read_newest_first() {
        use base64::Engine as _;
        let new = base64::engine::general_purpose::STANDARD.encode([9u8; 64]);
        let old = "A".repeat(86) + "==";
        let keys = parse_session_keys(&format!("{new}, {old}")).unwrap();
        assert_eq!(keys.older, vec![vec![0u8; 64]]);
        assert_ne!(keys.bytes, vec![0u8; 64]);
        assert_eq!(keys.ring().len(), 2);
        assert!(parse_session_keys(&format!("{new},short")).is_err(), "every key is checked");
        assert!(parse_session_keys(&format!("{old},{old}")).is_err(), "a key listed twice");
        // A raw-text key that happens to hold a comma is one key, as it always was.
        let raw = format!("{},{}", "x".repeat(40), "y".repeat(40));
        assert_eq!(parse_session_keys(&raw).unwrap().bytes, raw.as_bytes());
    }
}
