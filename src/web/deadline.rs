//! A bound on every request: when the database stalls, the browser gets the 503
//! page with `Retry-After` instead of waiting until it gives up (DESIGN.md §7).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage as _};
use tracing_actix_web::RequestId;

use super::errors::busy_page;
use super::htmx::is_htmx;
use crate::web::state::AppState;

/// Middleware: answers 503 once a request has waited `request_timeout` for its answer
/// to start, or when the session store (PostgreSQL) failed, which actix-session would
/// answer with a bare 500. What the request waited for (a statement on a stalled
/// database) finishes on its own thread; a streamed body, once started, is not bounded.
///
/// The 503 is built here, whole, and returned as an error: the request itself is held
/// by the layers inside until they finish, so no response can be made from it.
pub async fn bounded(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let bound = state.as_ref().map_or(std::time::Duration::from_secs(10), |s| s.settings.request_timeout);
    let htmx = is_htmx(request.request());
    let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string());
    let busy = |cause: String| -> actix_web::Error {
        tracing::warn!(%cause, "answered 503: the database is slow or gone");
        InternalError::from_response(cause, busy_page(htmx, request_id.clone(), state.as_ref().map(|s| s.get_ref())))
            .into()
    };
    match tokio::time::timeout(bound, next.call(request)).await {
        Ok(Err(error)) if is_session_store_failure(&error) => Err(busy(format!("session store: {error:?}"))),
        Ok(answer) => answer,
        Err(_) => Err(busy(format!("no answer within {bound:?}"))),
    }
}

/// Whether actix-session failed to read or write the session (our store is PostgreSQL).
/// It wraps a failed save or update as is, and the cause inside a failed load or
/// delete (our store's `anyhow::Error`, always a database failure): nothing else in
/// Roster makes an `InternalError` of an `anyhow::Error`.
fn is_session_store_failure(error: &actix_web::Error) -> bool {
    use actix_session::storage::{LoadError, SaveError, UpdateError};
    error.as_error::<InternalError<LoadError>>().is_some()
        || error.as_error::<InternalError<anyhow::Error>>().is_some()
        || error.as_error::<InternalError<SaveError>>().is_some()
        || error.as_error::<InternalError<UpdateError>>().is_some()
}
