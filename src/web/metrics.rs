//! `/metrics` (Prometheus text format, behind `ROSTER_METRICS_TOKEN`) and the middleware
//! that counts every request by its route pattern.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use subtle::ConstantTimeEq as _;

use crate::error::AppError;
use crate::services::health;
use crate::web::state::AppState;

/// Counts the request, its latency and its database statements under its route pattern and status class.
pub async fn measure(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = request.match_pattern();
    let method = request.method().clone();
    // One reference count, not a copy of every metric handle, on each request.
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let (response, statements) = crate::db::Db::count_statements(next.call(request)).await;
    // Inside the request's span (the logger wraps this layer): its closing line carries it.
    tracing::Span::current().record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    if let Some(metrics) = state.as_ref().map(|state| &state.metrics) {
        let status = match &response {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let seconds = started.elapsed().as_secs_f64();
        metrics.observe_request(route.as_deref(), method.as_str(), status.as_u16(), seconds, statements);
    }
    response
}

/// GET /metrics: every figure, read now. Without `ROSTER_METRICS_TOKEN` there are no
/// metrics (404); with it, only `Authorization: Bearer <token>` sees them.
pub async fn scrape(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some(expected) = state.settings.metrics_token.as_deref() else {
        return Err(AppError::NotFound);
    };
    let given = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Ok(HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body("A bearer token (ROSTER_METRICS_TOKEN) is required.\n"));
    }

    let _scraping = state.metrics.scraping.lock().await;
    let snapshot = &state.metrics.snapshot;
    let pool = state.db.pool().state();
    snapshot.pool_connections.set(i64::from(pool.connections));
    snapshot.pool_idle.set(i64::from(pool.idle_connections));
    snapshot.pool_max.set(i64::from(state.db.pool().max_size()));
    snapshot.pool_waiting.set(state.db.waiting());
    snapshot.pool_checks.inc_by(crate::db::Db::checks().saturating_sub(snapshot.pool_checks.get()));
    if let Some(replica) = state.db.replica() {
        snapshot.replica_up.set(i64::from(replica.up()));
        snapshot.replica_in_use.set(i64::from(replica.in_use()));
        snapshot.replica_lag.set(replica.lag().as_secs_f64());
        snapshot.replica_reads.inc_by(replica.reads().saturating_sub(snapshot.replica_reads.get()));
        snapshot.replica_fallbacks.inc_by(replica.fallbacks().saturating_sub(snapshot.replica_fallbacks.get()));
    }
    let key = state.links.sealing_key().clone();
    match state.db.run(move |conn| health::backlog(conn, &key)).await {
        Ok(backlog) => {
            snapshot.database_up.set(1);
            // Statuses and kinds that emptied since the last scrape read 0, not their old value.
            for status in ["pending", "failed"] {
                snapshot.outbox.with_label_values(&[status]).set(0);
            }
            for (status, count) in &backlog.outbox {
                snapshot.outbox.with_label_values(&[status.as_str()]).set(*count);
            }
            snapshot.outbox_oldest_pending.set(backlog.oldest_pending_secs.unwrap_or(0.0));
            snapshot.jobs_pending.reset();
            for (kind, count) in &backlog.jobs {
                snapshot.jobs_pending.with_label_values(&[kind.as_str()]).set(*count);
            }
            snapshot.sessions.set(backlog.sessions);
            for (what, count) in &backlog.sealed_on_older_keys {
                snapshot.sealed_on_older_keys.with_label_values(&[what]).set(*count);
            }
        }
        Err(error) => {
            tracing::warn!(%error, "metrics could not read the database");
            snapshot.database_up.set(0);
        }
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render()))
}
