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

/// The database answers.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.db.run(health::ready).await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
