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
use super::session::STORE_UNAVAILABLE;
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
    let api = request.path().starts_with(super::api::PREFIX);
    let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string());
    let busy = |cause: String| -> actix_web::Error {
        tracing::warn!(%cause, "answered 503: the database is slow or gone");
        let answer = if api {
            let error = crate::error::AppError::Unavailable(anyhow::anyhow!("busy"));
            actix_web::ResponseError::error_response(&super::api::ApiError { error, request_id: request_id.clone() })
        } else {
            busy_page(htmx, request_id.clone(), state.as_ref().map(|s| s.get_ref()))
        };
        InternalError::from_response(cause, answer).into()
    };
    match tokio::time::timeout(bound, next.call(request)).await {
        Ok(Err(error)) if is_session_store_failure(&error) => Err(busy(format!("session store: {error:?}"))),
        Ok(answer) => answer,
        Err(_) => Err(busy(format!("no answer within {bound:?}"))),
    }
}

/// Whether actix-session failed to read or write the session because the database
/// is unavailable. It hides the store's error inside an `InternalError` of its own
/// (of the error itself, or of its cause), so the store marks those failures with
/// [`STORE_UNAVAILABLE`] in their message; any other failure stays a 500.
fn is_session_store_failure(error: &actix_web::Error) -> bool {
    use actix_session::storage::{LoadError, SaveError, UpdateError};
    let marked = |debug: String| debug.contains(STORE_UNAVAILABLE);
    error.as_error::<InternalError<anyhow::Error>>().is_some_and(|e| marked(format!("{e:?}")))
        || error.as_error::<InternalError<LoadError>>().is_some_and(|e| marked(format!("{e:?}")))
        || error.as_error::<InternalError<SaveError>>().is_some_and(|e| marked(format!("{e:?}")))
        || error.as_error::<InternalError<UpdateError>>().is_some_and(|e| marked(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::HttpResponse;

    /// What actix-session makes of a store failure: its own 500 around the cause.
    fn as_actix_session_wraps_it(cause: anyhow::Error) -> actix_web::Error {
        InternalError::from_response(cause, HttpResponse::InternalServerError().finish()).into()
    }

    #[test]
    fn only_a_store_failure_for_want_of_the_database_is_the_busy_page() {
        let unavailable = anyhow::anyhow!("{STORE_UNAVAILABLE}: no database connection available");
        assert!(is_session_store_failure(&as_actix_session_wraps_it(unavailable)));
        let update = actix_session::storage::UpdateError::Other(anyhow::anyhow!("{STORE_UNAVAILABLE}: gone"));
        let update: actix_web::Error =
            InternalError::from_response(update, HttpResponse::InternalServerError().finish()).into();
        assert!(is_session_store_failure(&update));
        let bug = anyhow::anyhow!("column \"state\" does not exist");
        assert!(!is_session_store_failure(&as_actix_session_wraps_it(bug)), "a bug stays a 500");
    }
}
