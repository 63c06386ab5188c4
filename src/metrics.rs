//! Prometheus metrics served at `/metrics`: requests, the pool, the job queue and outbox,
//! mail, live streams and sessions. One registry per application, no global state.

use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds: a page takes a few milliseconds, a sign-in a few tens.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Every figure `/metrics` shows. Cheap to clone (the parts are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route pattern (`/orgs/{slug}/members`, never a raw path), method and status class.
    pub requests: IntCounterVec,
    /// Request latency by the same labels.
    pub latency: HistogramVec,
    /// Database statements sent while serving requests, by the same labels: divided by
    /// the request count, what a page costs (a page whose cost grows with its rows has an N+1).
    pub statements: IntCounterVec,
    /// Mail delivery attempts by outcome: `sent`, `retrying`, `failed` (gave up).
    pub mail: IntCounterVec,
    /// Open live-bell streams on this instance.
    pub live_streams: IntGauge,
    /// Kept pages (`web::page_cache`) by outcome: `hit` (sent again), `changed` (the
    /// database had changed: made anew), `kept` (made and kept).
    pub page_cache: IntCounterVec,
    /// The figures read when scraped.
    pub snapshot: Snapshot,
    /// Held from reading the figures to rendering them, so that two scrapes at once
    /// (a pair of Prometheus servers) never show each other's half-updated gauges.
    pub scraping: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Gauges set from the database and the pool at each scrape.
#[derive(Clone)]
pub struct Snapshot {
    pub database_up: IntGauge,
    pub pool_connections: IntGauge,
    pub pool_idle: IntGauge,
    pub pool_waiting: IntGauge,
    pub pool_max: IntGauge,
    /// Connections the pool checked (`SELECT 1`) before handing them out.
    pub pool_checks: prometheus::IntCounter,
    pub outbox: IntGaugeVec,
    pub outbox_oldest_pending: Gauge,
    pub jobs_pending: IntGaugeVec,
    pub sessions: IntGauge,
    /// Stored secrets that still depend on an older server key, by kind: 0 everywhere
    /// means the older keys can be dropped from `ROSTER_SESSION_KEY`.
    pub sealed_on_older_keys: IntGaugeVec,
    /// The read replica (`ROSTER_READ_DATABASE_URL`); all zero when there is none.
    pub replica_up: IntGauge,
    pub replica_in_use: IntGauge,
    pub replica_lag: Gauge,
    pub replica_reads: prometheus::IntCounter,
    pub replica_fallbacks: prometheus::IntCounter,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    #[allow(clippy::expect_used)] // start-up, with fixed and valid names and labels
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("roster".into()), None).unwrap_or_default();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route pattern, method and status class"),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let statements = IntCounterVec::new(
            Opts::new(
                "http_request_database_statements_total",
                "Database statements sent while serving requests, by route pattern, method and status class",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route pattern, method and status class",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let mail = IntCounterVec::new(
            Opts::new("mail_deliveries_total", "Mail delivery attempts by outcome (sent, retrying, failed)"),
            &["outcome"],
        )
        .expect("valid metric");
        let page_cache = IntCounterVec::new(
            Opts::new("page_cache_total", "Kept pages by outcome (hit, changed, kept)"),
            &["outcome"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let snapshot = Snapshot {
            database_up: gauge("database_up", "1 when the database answered the last scrape"),
            pool_connections: gauge("db_pool_connections", "Open connections in the database pool"),
            pool_idle: gauge("db_pool_idle_connections", "Idle connections in the database pool"),
            pool_waiting: gauge("db_pool_waiting", "Tasks waiting for a pooled connection"),
            pool_max: gauge("db_pool_max_connections", "Largest size of the database pool"),
            pool_checks: prometheus::IntCounter::new(
                "db_pool_checks_total",
                "Connections checked with SELECT 1 on checkout (after a quiet moment, or after one was found cut)",
            )
            .expect("valid metric"),
            outbox: IntGaugeVec::new(
                Opts::new("outbox_messages", "Outbox messages not yet sent, by status"),
                &["status"],
            )
            .expect("valid metric"),
            outbox_oldest_pending: Gauge::new(
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest message waiting to be sent (0 when none waits)",
            )
            .expect("valid metric"),
            jobs_pending: IntGaugeVec::new(
                Opts::new("jobs_pending", "Background jobs waiting to run, by kind"),
                &["kind"],
            )
            .expect("valid metric"),
            sessions: gauge("sessions", "Signed-in sessions that have not expired"),
            sealed_on_older_keys: IntGaugeVec::new(
                Opts::new(
                    "sealed_values_on_older_keys",
                    "Stored secrets (outbox bodies, webhook secrets) that still need an older key of ROSTER_SESSION_KEY",
                ),
                &["what"],
            )
            .expect("valid metric"),
            replica_up: gauge("read_replica_up", "1 when the read replica answered its last lag check"),
            replica_in_use: gauge(
                "read_replica_in_use",
                "1 when reads that tolerate lag go to the read replica; 0 when they fall back to the primary",
            ),
            replica_lag: Gauge::new("read_replica_lag_seconds", "How far the read replica was behind at its last check")
                .expect("valid metric"),
            replica_reads: prometheus::IntCounter::new("read_replica_reads_total", "Reads served by the read replica")
                .expect("valid metric"),
            replica_fallbacks: prometheus::IntCounter::new(
                "read_replica_fallbacks_total",
                "Reads meant for the read replica that went to the primary (it lagged, was down, or failed mid-read)",
            )
            .expect("valid metric"),
        };
        let metrics = Metrics {
            requests,
            latency,
            statements,
            mail,
            page_cache,
            live_streams: gauge("live_bell_streams", "Open live-bell streams on this instance"),
            snapshot,
            registry,
            scraping: std::sync::Arc::default(),
        };
        metrics.register();
        metrics
    }

    // Names are fixed and unique, so registering cannot fail; a failure would show as a missing series.
    fn register(&self) {
        let s = &self.snapshot;
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.requests.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.statements.clone()),
            Box::new(self.mail.clone()),
            Box::new(self.page_cache.clone()),
            Box::new(self.live_streams.clone()),
            Box::new(s.database_up.clone()),
            Box::new(s.pool_connections.clone()),
            Box::new(s.pool_idle.clone()),
            Box::new(s.pool_waiting.clone()),
            Box::new(s.pool_max.clone()),
            Box::new(s.pool_checks.clone()),
            Box::new(s.outbox.clone()),
            Box::new(s.outbox_oldest_pending.clone()),
            Box::new(s.jobs_pending.clone()),
            Box::new(s.sessions.clone()),
            Box::new(s.sealed_on_older_keys.clone()),
            Box::new(s.replica_up.clone()),
            Box::new(s.replica_in_use.clone()),
            Box::new(s.replica_lag.clone()),
            Box::new(s.replica_reads.clone()),
            Box::new(s.replica_fallbacks.clone()),
        ];
        for collector in collectors {
            if let Err(error) = self.registry.register(collector) {
                tracing::warn!(%error, "metric not registered");
            }
        }
    }

    /// Counts one finished request. `route` is the matched pattern, `None` for no route.
    pub fn observe_request(&self, route: Option<&str>, method: &str, status: u16, seconds: f64, statements: u64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        // Unmatched paths and unknown methods share one label each, so no client can grow
        // the series without bound.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "OTHER",
        };
        let labels = [route.unwrap_or("unmatched"), method, class];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
        self.statements.with_label_values(&labels).inc_by(statements);
    }

    /// Counts one use of the kept pages, by `outcome`.
    pub fn page_cache(&self, outcome: &str) {
        self.page_cache.with_label_values(&[outcome]).inc();
    }

    /// The Prometheus text format of every metric.
    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_pattern_and_status_class() {
        let metrics = Metrics::new();
        metrics.observe_request(Some("/orgs/{slug}/members"), "GET", 200, 0.003, 2);
        metrics.observe_request(Some("/orgs/{slug}/members"), "GET", 204, 0.004, 2);
        metrics.observe_request(None, "GET", 404, 0.001, 2);
        metrics.observe_request(None, "FOO1", 405, 0.001, 2);
        metrics.observe_request(None, "FOO2", 405, 0.001, 2);
        let text = metrics.render();
        assert!(
            text.contains(r#"roster_http_requests_total{method="GET",route="/orgs/{slug}/members",status="2xx"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"roster_http_requests_total{method="GET",route="unmatched",status="4xx"} 1"#),
            "{text}"
        );
        assert!(text.contains("roster_http_request_duration_seconds_bucket"), "{text}");
        assert!(
            text.contains(r#"roster_http_requests_total{method="OTHER",route="unmatched",status="4xx"} 2"#),
            "{text}"
        );
    }
}
