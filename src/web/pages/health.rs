//! Liveness and readiness probes.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;

use crate::error::AppError;
use crate::web::state::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db
        .run(|conn| -> Result<(), AppError> {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1")).get_result::<i32>(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
