//! What every route of the JSON API shares: problems (RFC 9457), running a use case
//! as the request's API key, and reading lists' limits, cursors and ids.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::api_key::Scope;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::api_keys::{self, KeyRead, KeyUseCase};
use crate::web::state::AppState;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";
/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Rows a list gives when the request names no `limit`, and the most it may name.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// An error as RFC 9457 describes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's name ("Unprocessable Entity").
    pub title: String,
    pub status: u16,
    /// What went wrong, in the sentence the console shows.
    pub detail: String,
    /// For 422: each field that was refused, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For 5xx: the id to look the request up in the server's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A refused field of a request body or query.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// A problem response with `status` and `detail`.
pub fn problem(
    status: StatusCode,
    detail: String,
    errors: Vec<FieldProblem>,
    request_id: Option<String>,
) -> HttpResponse {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail,
        errors,
        request_id: status.is_server_error().then_some(request_id).flatten(),
    };
    HttpResponse::build(status).content_type(PROBLEM_JSON).json(body)
}

/// A use case's failure, answered as a problem.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(error: AppError, req: &HttpRequest) -> Self {
        ApiError { error, request_id: request_id(req) }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.error {
            // The key names its organization: a renamed one is still the same.
            AppError::Moved(_) => StatusCode::NOT_FOUND,
            other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.error {
            AppError::Unavailable(e) => tracing::warn!(error = ?e, "service unavailable"),
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            _ => {}
        }
        let (detail, errors) = match &self.error {
            AppError::NotFound | AppError::Moved(_) => {
                ("Nothing with this id exists in the API key's organization.".to_owned(), Vec::new())
            }
            AppError::Invalid(form) => (
                form.to_string(),
                form.0
                    .iter()
                    .map(|e| FieldProblem {
                        field: if e.field.is_empty() { "body".into() } else { e.field.into() },
                        message: e.message.clone(),
                    })
                    .collect(),
            ),
            other => (other.to_string(), Vec::new()),
        };
        let mut response = problem(self.status_code(), detail, errors, self.request_id.clone());
        if let Some(seconds) = self.error.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if response.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"roster\""));
        }
        response
    }
}

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string())
}

/// The secret of the request's `Authorization: Bearer` header. A request without one
/// is refused with what to send; one that carries a browser's cookies instead is told
/// that sessions do not sign in here.
fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some((scheme, secret)) = value.and_then(|v| v.trim().split_once(' ')) {
        if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() {
            return Ok(secret.trim().to_owned());
        }
    }
    Err(AppError::KeyRefused(if req.headers().contains_key(header::COOKIE) && value.is_none() {
        "The API does not sign in with a browser session. Send an API key: `Authorization: Bearer roster_…`.".into()
    } else {
        "Send an API key in the Authorization header: `Authorization: Bearer roster_…`. Owners and Admins create keys in Settings → API keys.".into()
    }))
}

/// Runs one API request: authenticates its key, checks the key has `scope`, and runs
/// `use_case` as the key, all on one pooled connection on the blocking pool.
pub async fn call<T: Send + 'static>(req: &HttpRequest, scope: Scope, use_case: KeyUseCase<T>) -> Result<T, ApiError> {
    let (state, secret, request_id) = key_request(req)?;
    let per_minute = state.settings.api_requests_per_minute;
    state
        .db
        .run(move |conn| api_keys::run_as_key(conn, &secret, request_id, per_minute, scope, use_case))
        .await
        .map_err(|error| ApiError::new(error, req))
}

/// Runs one API read that tolerates lag (a list): authenticates its key on the
/// primary, then runs `read` on the read replica when there is one that keeps up
/// and the key changed nothing a moment ago; else on the primary, as [`call`].
pub async fn call_reading<T: Send + 'static>(req: &HttpRequest, scope: Scope, read: KeyRead<T>) -> Result<T, ApiError> {
    let (state, secret, request_id) = key_request(req)?;
    let per_minute = state.settings.api_requests_per_minute;
    state
        .db
        .run_then_read(
            crate::web::recent_writes::key_wrote(&state, req),
            move |conn| api_keys::authorize(conn, &secret, request_id, per_minute, scope),
            move |conn, key| read(conn, key),
        )
        .await
        .map(|(_, answer)| answer)
        .map_err(|error| ApiError::new(error, req))
}

/// What every API request needs first: the application, the key's secret, the request id.
fn key_request(req: &HttpRequest) -> Result<(web::Data<AppState>, String, Option<String>), ApiError> {
    let fail = |error: AppError| ApiError::new(error, req);
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| fail(AppError::internal(anyhow::anyhow!("no application state"))))?;
    let secret = bearer(req).map_err(fail)?;
    Ok((state, secret, request_id(req)))
}

/// Runs a POST as [`call`] does, honouring its `Idempotency-Key` header: a retry
/// with the same key and request gets the first answer, and nothing runs twice.
/// `use_case` answers a status and a JSON body, which is what is kept.
pub async fn call_idempotent(
    req: &HttpRequest,
    scope: Scope,
    body: &[u8],
    use_case: KeyUseCase<api_keys::Answer>,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(text)) if (1..=255).contains(&text.trim().len()) => Some(text.trim().to_owned()),
        Some(_) => {
            let mut errors = crate::error::FormErrors::new();
            errors.add("Idempotency-Key", "An Idempotency-Key is 1 to 255 visible ASCII characters, such as a UUID.");
            return Err(ApiError::new(AppError::Invalid(errors), req));
        }
    };
    let request_hash = {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        hash.update(req.method().as_str().as_bytes());
        hash.update(b" ");
        hash.update(req.path().as_bytes());
        hash.update(b"\n");
        hash.update(body);
        hash.finalize().to_vec()
    };
    let (status, body) = call(
        req,
        scope,
        Box::new(move |conn, key| match idempotency_key {
            None => use_case(conn, key),
            Some(idempotency_key) => {
                api_keys::idempotent(conn, key, &idempotency_key, &request_hash, |conn| use_case(conn, key))
            }
        }),
    )
    .await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok(HttpResponse::build(status).content_type("application/json").body(body))
}

/// A JSON answer as an Idempotency-Key keeps it.
pub fn answer<T: Serialize>(status: StatusCode, body: &T) -> Result<api_keys::Answer, AppError> {
    Ok((status.as_u16(), serde_json::to_string(body).map_err(AppError::internal)?))
}

/// A request body read as `T`, once the key is known: a request without a valid key
/// learns nothing about its body.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("The body is not JSON this route takes: {e}.")))
}

/// A JSON answer with `status`.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// A role as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiRole {
    Owner,
    Admin,
    Member,
}

impl From<Role> for ApiRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => ApiRole::Owner,
            Role::Admin => ApiRole::Admin,
            Role::Member => ApiRole::Member,
        }
    }
}

impl From<ApiRole> for Role {
    fn from(role: ApiRole) -> Self {
        match role {
            ApiRole::Owner => Role::Owner,
            ApiRole::Admin => Role::Admin,
            ApiRole::Member => Role::Member,
        }
    }
}

/// `limit` of a list: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn parse_limit(limit: Option<&str>, errors: &mut crate::error::FormErrors) -> i64 {
    match limit.map(str::trim).filter(|l| !l.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.add("limit", format!("A whole number from 1 to {MAX_LIMIT}."));
                DEFAULT_LIMIT
            }
        },
    }
}

/// `cursor` of a list: a `next_cursor` this API gave; anything else is refused.
pub fn parse_cursor<C: serde::de::DeserializeOwned>(
    cursor: Option<&str>,
    errors: &mut crate::error::FormErrors,
) -> Option<C> {
    let text = cursor.map(str::trim).filter(|c| !c.is_empty())?;
    let parsed = crate::web::listing::decode_cursor(text);
    if parsed.is_none() {
        errors.add("cursor", "Not a cursor this API gave. Pass `next_cursor` of the previous page as it is.");
    }
    parsed
}

/// A `{id}` of the path: anything but a UUID names nothing.
pub fn parse_id(text: &str, req: &HttpRequest) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::new(AppError::NotFound, req))
}

/// Position of a list with no filter (a team's members, requests, invite links).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1 to 100 (default 50).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
