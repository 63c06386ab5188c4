//! Logging: one line per event on stderr, human-readable or JSON (`ROSTER_LOG_FORMAT`),
//! filtered by `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For people: `INFO HTTP request{…}: close time.busy=…`.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// `ROSTER_LOG_FORMAT`: `human` (the default) or `json`.
    pub fn from_env() -> anyhow::Result<LogFormat> {
        match std::env::var("ROSTER_LOG_FORMAT").ok().as_deref().map(str::trim) {
            None | Some("") | Some("human") => Ok(LogFormat::Human),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => anyhow::bail!("ROSTER_LOG_FORMAT must be human or json, not {other:?}"),
        }
    }
}

/// Installs the global subscriber once; later calls do nothing. Each request ends with
/// one line (its span closing) carrying its request id, route, status, latency and user id.
pub fn init(default_filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE);
    let _ = match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}
