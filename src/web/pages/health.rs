//! Liveness and readiness probes.

use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::services::health;
use crate::web::state::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.db.run(health::ready).await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
