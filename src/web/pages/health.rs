//! Liveness and readiness probes.

use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::services::health;
use crate::web::state::AppState;

/// The process is up: its version and the newest migration it brings (applied at start,
/// so the database is at least there). Touches neither the database nor the session, so
/// it answers whatever they do.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "version": crate::VERSION,
        "migration": crate::MIGRATION,
    }))
}

/// How long readiness waits for the database: a probe expects its answer in seconds.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The database answers, within [`READY_WITHIN`]; 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    match tokio::time::timeout(READY_WITHIN, state.db.run(health::ready)).await {
        Ok(answer) => answer?,
        Err(_) => return Err(AppError::Unavailable(anyhow::anyhow!("the database did not answer within 2 s"))),
    }
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
