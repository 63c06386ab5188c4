//! Delivers webhooks from the job queue: one signed POST per delivery (Standard
//! Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), retried for
//! more than a day, through the outbound client ([`crate::outbound`]): never to a
//! private, loopback or link-local address unless the operator allows it (as typed
//! and on the addresses the name resolves to), short timeouts, no redirects followed.

use std::time::Instant;

use diesel::{Connection as _, PgConnection};
use reqwest::Method;
use time::OffsetDateTime;

use crate::db::jobs::Job;
use crate::db::webhooks::WEBHOOK_JOB;
use crate::db::{Db, RunError};
use crate::domain::webhook::shown_url;
use crate::domain::SealingKey;
use crate::jobs::{Handler, Outcome};
use crate::outbound::Outbound;
use crate::services::webhooks::{self, Attempt};

/// The waits after each failed attempt: about 28 hours in all, as Standard Webhooks
/// suggests, so a receiver down for a day still gets every event.
const RETRY_DELAYS: [i64; 8] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600, 0];
/// Attempts in all: the first and one after each delay but the last entry.
pub const ATTEMPTS: i32 = RETRY_DELAYS.len() as i32;
/// What the delivery log says of an attempt that could not be signed.
pub const UNREADABLE_SECRET: &str = "Not sent: Roster can no longer open this endpoint's signing secret \
     (ROSTER_SESSION_KEY changed). Roll the secret in Settings; the delivery is tried again.";
/// Bytes of an answer kept in the delivery log.
const EXCERPT: usize = 200;
/// The user agent receivers have always seen from Roster's webhooks.
const USER_AGENT: &str = "Roster-Webhooks/1";

/// The `webhook` job handler.
pub struct DeliverWebhooks {
    key: SealingKey,
    client: Outbound,
}

impl DeliverWebhooks {
    /// A handler that opens secrets with `key` and posts through `client` (built with
    /// [`crate::outbound::Redirects::None`]: a receiver's redirect is its answer).
    pub fn new(key: SealingKey, client: Outbound) -> Self {
        DeliverWebhooks { key, client }
    }

    /// One signed POST of `body`; what it found. No database connection is held.
    async fn post(&self, url: &str, id: &str, body: &str, signature: &str, timestamp: i64) -> Attempt {
        let started = Instant::now();
        let answer = async {
            let request = self
                .client
                .request(Method::POST, url)?
                .header("content-type", "application/json")
                .header("user-agent", USER_AGENT)
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body.to_owned());
            self.client.send(request).await
        }
        .await;
        let (status_code, excerpt) = match answer {
            Ok(answer) => (Some(i32::from(answer.status().as_u16())), answer.excerpt(EXCERPT).await),
            Err(error) => (None, error.to_string()),
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let delivered = status_code.is_some_and(|code| (200..300).contains(&code));
        Attempt { status_code, duration_ms, excerpt: excerpt.chars().take(EXCERPT).collect(), delivered, sent: true }
    }
}

/// When a delivery that failed its `attempts`-th attempt is tried again.
fn retry_at(attempts: i32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let delay = *RETRY_DELAYS.get(usize::try_from(attempts.max(1) - 1).ok()?)?;
    (attempts < ATTEMPTS).then(|| now + time::Duration::seconds(delay))
}

/// A failure to read or write a delivery.
#[derive(Debug, thiserror::Error)]
enum StoreError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// The delivery a job names.
fn delivery_id(job: &Job) -> Result<uuid::Uuid, String> {
    job.payload
        .get("delivery")
        .and_then(|v| v.as_str())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .ok_or_else(|| format!("job {} names no delivery", job.id))
}

#[async_trait::async_trait]
impl Handler for DeliverWebhooks {
    fn kind(&self) -> &'static str {
        WEBHOOK_JOB
    }

    /// Reads the delivery, posts it holding no connection, then records the attempt.
    async fn handle(&self, db: &Db, job: &Job) -> Result<(), String> {
        let id = delivery_id(job)?;
        let read = move |e: StoreError| format!("could not read delivery {id}: {e}");
        let found = db.run(move |conn| -> Result<_, StoreError> { Ok(webhooks::to_send(conn, id)?) }).await;
        let Some((delivery, endpoint)) = found.map_err(read)? else {
            return Ok(()); // its endpoint was deleted: nothing to send
        };
        let redeliver = job.payload.get("redeliver").and_then(|v| v.as_bool()).unwrap_or(false);
        if delivery.delivered_at.is_some() && !redeliver {
            return Ok(()); // a retry left over from before a Redeliver that got through
        }
        // When the job worker will try a failure again (the same schedule it uses).
        let next = self.retry_at(job.attempts, OffsetDateTime::now_utc());
        let mut unreadable = false;
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
            self.post(&endpoint.url, &delivery.id.to_string(), &delivery.body, &signature, timestamp).await
        } else {
            // Sealed under a key this Roster no longer has: nothing can be signed until
            // the secret is rolled, which the Owner is told once. The delivery waits
            // its retries, so what is rolled in time still goes out.
            unreadable = true;
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
        let (delivered, enabled, status_code, excerpt) =
            (attempt.delivered, endpoint.enabled, attempt.status_code, attempt.excerpt.clone());
        let url = endpoint.url.clone();
        db.run(move |conn: &mut PgConnection| -> Result<(), StoreError> {
            if unreadable {
                if let Err(error) = conn.transaction(|conn| webhooks::secret_unreadable(conn, &endpoint)) {
                    tracing::warn!(%error, endpoint = %endpoint.id, "could not record the unreadable webhook secret");
                }
            }
            Ok(webhooks::record_attempt(conn, &delivery, &attempt, next)?)
        })
        .await
        .map_err(read)?;
        match (delivered, enabled) {
            (true, _) | (false, false) => Ok(()),
            (false, true) => Err(match status_code {
                Some(code) => format!("{} answered {code}", shown_url(&url)),
                None => format!("{}: {}", shown_url(&url), excerpt),
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
        retry_at(attempts, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_retried_for_more_than_a_day() {
        let now = OffsetDateTime::now_utc();
        let mut total = 0;
        let mut attempt = 1;
        while let Some(at) = retry_at(attempt, now) {
            total += (at - now).whole_seconds();
            attempt += 1;
        }
        assert_eq!(attempt, ATTEMPTS, "the last attempt is not retried");
        assert!(total > 24 * 3600, "retried for {total} s");
    }
}
