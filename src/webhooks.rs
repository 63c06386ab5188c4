//! Delivers webhooks from the job queue: one signed POST per delivery (Standard
//! Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), retried for
//! more than a day, never to a private, loopback or link-local address unless the
//! operator allows it (checked on the addresses the name resolves to, which are the
//! ones connected to), with short timeouts and no redirects followed.

use std::io::Read as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use diesel::{Connection as _, PgConnection};
use time::OffsetDateTime;

use crate::db::jobs::Job;
use crate::db::webhooks::WEBHOOK_JOB;
use crate::domain::address::is_forbidden;
use crate::domain::webhook::shown_url;
use crate::domain::SealingKey;
use crate::jobs::{Handler, Outcome};
use crate::services::webhooks::{self, Attempt};

/// The waits after each failed attempt: about 28 hours in all, as Standard Webhooks
/// suggests, so a receiver down for a day still gets every event.
const RETRY_DELAYS: [i64; 8] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600, 0];
/// Attempts in all: the first and one after each delay but the last entry.
pub const ATTEMPTS: i32 = RETRY_DELAYS.len() as i32;
/// How long a receiver may take to accept the connection, and to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a name lookup may take (the system resolver has no bound of its own).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// What the delivery log says of an attempt that could not be signed.
pub const UNREADABLE_SECRET: &str = "Not sent: Roster can no longer open this endpoint's signing secret \
     (ROSTER_SESSION_KEY changed). Roll the secret in Settings; the delivery is tried again.";
/// Bytes of an answer kept in the delivery log.
const EXCERPT: usize = 200;

/// The `webhook` job handler.
pub struct DeliverWebhooks {
    key: SealingKey,
    agent: ureq::Agent,
}

impl DeliverWebhooks {
    /// A handler that opens secrets with `key` and, unless `allow_private`, refuses
    /// to connect to the addresses [`is_forbidden`] names.
    pub fn new(key: SealingKey, allow_private: bool) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout(ANSWER_TIMEOUT)
            .redirects(0)
            .user_agent("Roster-Webhooks/1")
            .resolver(move |netloc: &str| -> std::io::Result<Vec<SocketAddr>> {
                let found = resolve(netloc, LOOKUP_TIMEOUT)?;
                if allow_private {
                    return Ok(found);
                }
                let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| !is_forbidden(a.ip())).collect();
                if allowed.is_empty() {
                    let shown = found.first().map_or_else(|| netloc.to_owned(), |a| a.ip().to_string());
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        format!(
                            "{shown} is a private, loopback or link-local address; Roster does not send webhooks there"
                        ),
                    ));
                }
                Ok(allowed)
            })
            .build();
        DeliverWebhooks { key, agent }
    }

    /// One signed POST of `body`; what it found.
    fn post(&self, url: &str, id: &str, body: &str, signature: &str, timestamp: i64) -> Attempt {
        let started = Instant::now();
        let answer = self
            .agent
            .post(url)
            .set("content-type", "application/json")
            .set("webhook-id", id)
            .set("webhook-timestamp", &timestamp.to_string())
            .set("webhook-signature", signature)
            .send_string(body);
        let (status_code, excerpt) = match answer {
            Ok(response) => (Some(i32::from(response.status())), excerpt_of(response)),
            Err(ureq::Error::Status(code, response)) => (Some(i32::from(code)), excerpt_of(response)),
            Err(ureq::Error::Transport(transport)) => (None, transport_error(&transport)),
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let delivered = status_code.is_some_and(|code| (200..300).contains(&code));
        Attempt { status_code, duration_ms, excerpt: excerpt.chars().take(EXCERPT).collect(), delivered, sent: true }
    }
}

/// The addresses of `netloc` (`host:port`), looked up by the system's resolver on a
/// thread of its own, given up after `timeout`: a slow name server holds one job for
/// that long, not the worker's lease.
fn resolve(netloc: &str, timeout: Duration) -> std::io::Result<Vec<SocketAddr>> {
    let (answer, found) = std::sync::mpsc::channel();
    let name = netloc.to_owned();
    std::thread::Builder::new().name("webhook-dns".into()).spawn(move || {
        let _ = answer.send(name.to_socket_addrs().map(|addrs| addrs.collect::<Vec<_>>()));
    })?;
    found.recv_timeout(timeout).unwrap_or_else(|_| {
        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no address for {netloc} within {timeout:?}")))
    })
}

/// Why no answer came, as the delivery log says it to a person: what happened and
/// where to look, without the URL (whose query may hold a receiver's token).
fn transport_error(transport: &ureq::Transport) -> String {
    use std::io::ErrorKind as Io;
    let io = std::error::Error::source(transport).and_then(|source| source.downcast_ref::<std::io::Error>());
    let timed_out = io.is_some_and(|e| matches!(e.kind(), Io::TimedOut | Io::WouldBlock));
    match transport.kind() {
        // Our resolver's refusal of a private address says what it refused, and why.
        ureq::ErrorKind::Dns if io.is_some_and(|e| e.kind() == Io::PermissionDenied) => {
            format!("Not sent: {}.", io.map(ToString::to_string).unwrap_or_default())
        }
        ureq::ErrorKind::Dns if timed_out => {
            format!("No address: the host's name did not resolve within {} seconds.", LOOKUP_TIMEOUT.as_secs())
        }
        ureq::ErrorKind::Dns => {
            "No address: the host's name does not resolve. Check the URL and the host's DNS records.".into()
        }
        ureq::ErrorKind::ConnectionFailed if timed_out => format!(
            "No connection: the host did not answer within {} seconds (a firewall, or the host is down).",
            CONNECT_TIMEOUT.as_secs()
        ),
        ureq::ErrorKind::ConnectionFailed => {
            "No connection: the host refused it. Is the receiver running, and listening on that port?".into()
        }
        ureq::ErrorKind::Io if timed_out => {
            format!("No answer within {} seconds: the receiver was too slow.", ANSWER_TIMEOUT.as_secs())
        }
        ureq::ErrorKind::Io => "The connection broke before the receiver answered.".into(),
        ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
            "The receiver's answer was not HTTP that Roster could read.".into()
        }
        ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme => {
            "The endpoint's URL cannot be used: change it by adding the endpoint again.".into()
        }
        other => format!("Not delivered: {other}."),
    }
}

/// The first bytes of an answer's body.
fn excerpt_of(response: ureq::Response) -> String {
    let mut bytes = Vec::new();
    let _ = response.into_reader().take(EXCERPT as u64).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The delivery a job names.
fn delivery_id(job: &Job) -> Result<uuid::Uuid, String> {
    job.payload
        .get("delivery")
        .and_then(|v| v.as_str())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .ok_or_else(|| format!("job {} names no delivery", job.id))
}

impl Handler for DeliverWebhooks {
    fn kind(&self) -> &'static str {
        WEBHOOK_JOB
    }

    fn handle(&self, conn: &mut PgConnection, job: &Job) -> Result<(), String> {
        let id = delivery_id(job)?;
        let read = |e: diesel::result::Error| format!("could not read delivery {id}: {e}");
        let Some((delivery, endpoint)) = webhooks::to_send(conn, id).map_err(read)? else {
            return Ok(()); // its endpoint was deleted: nothing to send
        };
        let redeliver = job.payload.get("redeliver").and_then(|v| v.as_bool()).unwrap_or(false);
        if delivery.delivered_at.is_some() && !redeliver {
            return Ok(()); // a retry left over from before a Redeliver that got through
        }
        // When the job worker will try a failure again (the same schedule it uses).
        let next = self.retry_at(job.attempts, OffsetDateTime::now_utc());
        let attempt = if !endpoint.enabled {
            Attempt {
                status_code: None,
                duration_ms: 0,
                excerpt: "Not sent: the endpoint is disabled.".into(),
                delivered: false,
                sent: false,
            }
        } else if let Some(secret) = webhooks::secret_of(&self.key, &endpoint) {
            let timestamp = OffsetDateTime::now_utc().unix_timestamp();
            let signature = standardwebhooks::Webhook::new(secret.as_str())
                .and_then(|hook| hook.sign(&delivery.id.to_string(), timestamp, delivery.body.as_bytes()))
                .map_err(|e| format!("could not sign delivery {id}: {e}"))?;
            self.post(&endpoint.url, &delivery.id.to_string(), &delivery.body, &signature, timestamp)
        } else {
            // Sealed under a key this Roster no longer has: nothing can be signed until
            // the secret is rolled, which the Owner is told once. The delivery waits
            // its retries, so what is rolled in time still goes out.
            if let Err(error) = conn.transaction(|conn| webhooks::secret_unreadable(conn, &endpoint)) {
                tracing::warn!(%error, endpoint = %endpoint.id, "could not record the unreadable webhook secret");
            }
            Attempt {
                status_code: None,
                duration_ms: 0,
                excerpt: UNREADABLE_SECRET.into(),
                delivered: false,
                sent: false,
            }
        };
        // A disabled endpoint's delivery is not retried: Redeliver sends it once enabled.
        let next = next.filter(|_| endpoint.enabled);
        webhooks::record_attempt(conn, &delivery, &attempt, next).map_err(read)?;
        match (attempt.delivered, endpoint.enabled) {
            (true, _) | (false, false) => Ok(()),
            (false, true) => Err(match attempt.status_code {
                Some(code) => format!("{} answered {code}", shown_url(&endpoint.url)),
                None => format!("{}: {}", shown_url(&endpoint.url), attempt.excerpt),
            }),
        }
    }

    /// After the last attempt failed, an endpoint that has accepted nothing for days is disabled.
    fn record(&self, conn: &mut PgConnection, job: &Job, outcome: Outcome<'_>) -> diesel::QueryResult<()> {
        if let (Outcome::GaveUp { .. }, Ok(id)) = (outcome, delivery_id(job)) {
            // In a savepoint: a failure here must not abort the transaction that
            // records the job's own outcome.
            if let Err(error) = conn.transaction(|conn| webhooks::after_giving_up(conn, id)) {
                tracing::warn!(%error, delivery = %id, "could not check whether to disable the webhook");
            }
        }
        Ok(())
    }

    fn retry_at(&self, attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let delay = *RETRY_DELAYS.get(usize::try_from(attempts.max(1) - 1).ok()?)?;
        (attempts < ATTEMPTS).then(|| now + time::Duration::seconds(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_retried_for_more_than_a_day() {
        let handler = DeliverWebhooks::new(SealingKey::derive_from(&[1; 64]), false);
        let now = OffsetDateTime::now_utc();
        let mut total = 0;
        let mut attempt = 1;
        while let Some(at) = handler.retry_at(attempt, now) {
            total += (at - now).whole_seconds();
            attempt += 1;
        }
        assert_eq!(attempt, ATTEMPTS, "the last attempt is not retried");
        assert!(total > 24 * 3600, "retried for {total} s");
    }
}
