//! Read-your-writes beside a read replica: whoever just changed something reads from
//! the primary for as long as the replica may lag (`ROSTER_READ_MAX_LAG`), so the
//! Audit Log they open next shows what they did.
//!
//! A browser is marked with a short-lived cookie (any instance behind a load
//! balancer reads it); an API key, which keeps no cookies, in this instance's memory.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

use super::state::AppState;

/// The mark: its presence is all that counts.
pub const COOKIE: &str = "roster_wrote";

/// Whether the request changes something; reads are GET, HEAD and OPTIONS.
fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware: marks a browser whose request changed something (a form or htmx
/// action that was not refused) for the replica's allowed lag. Without a replica,
/// nothing is marked.
pub async fn mark_browsers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let mark = writes(request.method()) && state.as_ref().is_some_and(|s| s.db.replica().is_some());
    let mut response = next.call(request).await?;
    let status = response.status();
    if let Some(state) = state.filter(|_| mark && !status.is_client_error() && !status.is_server_error()) {
        let lag = state.settings.read_max_lag.as_secs_f64().ceil();
        let cookie = Cookie::build(COOKIE, "1")
            .path("/")
            .http_only(true)
            .secure(state.settings.serves_tls())
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::seconds_f64(lag))
            .finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response)
}

/// Middleware for the JSON API: notes a key whose request changed something.
pub async fn mark_keys(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let key = writes(request.method()).then(|| key_of(request.request())).flatten();
    let response = next.call(request).await?;
    let status = response.status();
    if let (Some(state), Some(key)) = (state, key) {
        if let Some(replica) = state.db.replica().filter(|_| !status.is_client_error() && !status.is_server_error()) {
            replica.note_write(key);
        }
    }
    Ok(response)
}

/// Whether the browser behind `request` changed something within the replica's lag.
pub fn browser_wrote(request: &HttpRequest) -> bool {
    request.cookie(COOKIE).is_some()
}

/// Whether the API key of `request` changed something within the replica's lag.
pub fn key_wrote(state: &AppState, request: &HttpRequest) -> bool {
    state.db.replica().zip(key_of(request)).is_some_and(|(replica, key)| replica.wrote_recently(&key))
}

/// Who sent an API request, as far as marking goes: a digest of its bearer header
/// (the secret itself is not kept in memory).
fn key_of(request: &HttpRequest) -> Option<[u8; 32]> {
    use sha2::Digest as _;
    let header = request.headers().get(actix_web::http::header::AUTHORIZATION)?;
    Some(sha2::Sha256::digest(header.as_bytes()).into())
}
