//! `/api/v1/openapi.json`: the API's OpenAPI 3.1 document, readable without a key.

use actix_web::{get, web, HttpResponse};

use crate::web::state::AppState;

/// This document.
#[utoipa::path(tag = "Meta", responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.api)
}
