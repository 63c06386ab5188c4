//! The JSON API under `/api/v1` (DESIGN.md §2.9): bearer API keys, no cookies and
//! no CSRF, the same use cases as the pages, errors as `application/problem+json`
//! (RFC 9457), and an OpenAPI 3.1 document collected from the handlers as they are
//! registered, so a route cannot exist without its documentation.

pub mod audit;
pub mod invitations;
pub mod members;
pub mod meta;
pub mod projects;
pub mod seats;
pub mod teams;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt as _;

use super::state::AppState;
use crate::domain::api_key::Scope;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::api_keys::{self, KeyUseCase};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";
/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Rows a list gives when the request names no `limit`, and the most it may name.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// Every route of the API. Each handler is registered through `utoipa-actix-web`,
/// which takes its path and method from the route attribute and its documentation
/// from `#[utoipa::path]`: the served API and the document come from this list.
pub fn services(cfg: &mut ServiceConfig<'_>) {
    cfg.service(meta::openapi_json)
        .service(members::list_members)
        .service(members::get_member)
        .service(members::change_member_role)
        .service(members::remove_member)
        .service(invitations::list_invitations)
        .service(invitations::create_invitations)
        .service(invitations::resend_invitation)
        .service(invitations::revoke_invitation)
        .service(teams::list_teams)
        .service(teams::list_team_members)
        .service(teams::add_team_member)
        .service(teams::remove_team_member)
        .service(projects::list_projects)
        .service(projects::list_project_access)
        .service(projects::grant_project_access)
        .service(projects::revoke_project_access)
        .service(seats::get_seats)
        .service(audit::list_audit_events);
}

/// The API's scope, as the server mounts it: compressed, with JSON and query errors
/// as problems, and a problem for any path or method it does not have.
pub fn scope() -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope(PREFIX)
        .app_data(web::PayloadConfig::default().limit(1024 * 1024))
        .app_data(web::QueryConfig::default().error_handler(|error, req| {
            ApiError::new(AppError::BadRequest(format!("The query string could not be read: {error}.")), req).into()
        }))
        .configure(services)
        .default_service(web::to(no_such_route))
        .wrap(actix_web::middleware::Compress::default())
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        version = "1",
        description = "The members, invitations, teams, projects, seats and audit log of one organization: the one the API key belongs to. \
                       Authenticate with `Authorization: Bearer roster_…`; create keys in Settings → API keys. \
                       Errors are `application/problem+json` (RFC 9457); lists are keyset-paginated: pass `next_cursor` \
                       back as `cursor`."
    ),
    modifiers(&BearerKeys),
    tags(
        (name = "Members", description = "Members of the organization, and their roles."),
        (name = "Invitations", description = "Invite people by email; resend and revoke invitations."),
        (name = "Teams", description = "Teams, their members, adding and taking out members."),
        (name = "Projects", description = "Projects, who has access, granting and ending access."),
        (name = "Seats", description = "Seats used, reserved and the limit."),
        (name = "Audit log", description = "What happened in the organization, newest first."),
        (name = "Meta", description = "This document.")
    )
)]
struct ApiDoc;

/// The bearer scheme every route but the document itself asks for.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An API key of the organization: `roster_` and 38 letters and digits.".into());
        components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
    }
}

/// The OpenAPI 3.1 document of [`services`], with the server at `base_url` and the
/// error answers every authenticated route may give.
pub fn document(base_url: &url::Url) -> OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope(PREFIX).configure(services))
        .split_for_parts();
    doc.servers = Some(vec![utoipa::openapi::server::Server::new(base_url.as_str().trim_end_matches('/'))]);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.entry("Problem".into()).or_insert_with(<Problem as utoipa::PartialSchema>::schema);
    components.schemas.entry("FieldProblem".into()).or_insert_with(<FieldProblem as utoipa::PartialSchema>::schema);
    let problem = |description: &str| -> RefOr<Response> {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    utoipa::openapi::content::Content::new(Some(utoipa::openapi::Ref::from_schema_name("Problem"))),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
            if operation.security.is_none() {
                continue;
            }
            let responses = &mut operation.responses.responses;
            for (status, description) in [
                ("400", "The request could not be read."),
                ("401", "No API key, or one that is not valid or was revoked."),
                ("403", "The key lacks the scope, or its role does not allow this."),
                ("429", "Too many requests from this key; `Retry-After` says when to try again."),
                ("503", "The database is busy or unavailable; `Retry-After` says when to try again."),
            ] {
                responses.entry(status.into()).or_insert_with(|| problem(description));
            }
        }
    }
    doc
}

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
    let fail = |error: AppError| ApiError::new(error, req);
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| fail(AppError::internal(anyhow::anyhow!("no application state"))))?;
    let secret = bearer(req).map_err(fail)?;
    let per_minute = state.settings.api_requests_per_minute;
    let request_id = request_id(req);
    state
        .db
        .run(move |conn| api_keys::run_as_key(conn, &secret, request_id, per_minute, scope, use_case))
        .await
        .map_err(fail)
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
    let parsed = super::listing::decode_cursor(text);
    if parsed.is_none() {
        errors.add("cursor", "Not a cursor this API gave. Pass `next_cursor` of the previous page as it is.");
    }
    parsed
}

/// A `{id}` of the path: anything but a UUID names nothing.
pub fn parse_id(text: &str, req: &HttpRequest) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::new(AppError::NotFound, req))
}

/// Answers a path or method the API does not have: 405 with `Allow` when the path
/// exists with other methods, 404 otherwise.
async fn no_such_route(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let path = req.path();
    let allowed: Vec<&str> = state
        .api
        .paths
        .paths
        .iter()
        .filter(|(template, _)| same_shape(template, path))
        .flat_map(|(_, item)| {
            [("GET", item.get.is_some()), ("POST", item.post.is_some()), ("PATCH", item.patch.is_some())]
                .into_iter()
                .chain([("DELETE", item.delete.is_some())])
                .filter(|(_, has)| *has)
                .map(|(method, _)| method)
        })
        .collect();
    if allowed.is_empty() {
        return problem(
            StatusCode::NOT_FOUND,
            format!("The API has no route {path}. Its routes are listed in {PREFIX}/openapi.json."),
            Vec::new(),
            None,
        );
    }
    let mut response = problem(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{path} takes {}, not {}.", allowed.join(", "), req.method()),
        Vec::new(),
        None,
    );
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Whether `path` is an instance of the documented `template` (`{id}` matches any segment).
fn same_shape(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_matches_the_template_it_is_an_instance_of() {
        assert!(same_shape("/api/v1/members/{id}", "/api/v1/members/123"));
        assert!(!same_shape("/api/v1/members/{id}", "/api/v1/members"));
        assert!(!same_shape("/api/v1/members", "/api/v1/teams"));
    }

    #[test]
    fn every_route_but_the_document_names_a_scope_and_the_document_names_its_server() {
        let doc = document(&url::Url::parse("https://roster.example.com").unwrap());
        assert_eq!(doc.servers.as_ref().unwrap()[0].url, "https://roster.example.com");
        for (path, item) in &doc.paths.paths {
            for operation in [&item.get, &item.post, &item.patch, &item.delete].into_iter().flatten() {
                // The route attributes say this, not `document`: a route added without
                // `security` would be listed as open. Whether each named scope is the
                // one its handler checks is tested against the running API.
                assert_eq!(operation.security.is_none(), path.ends_with("/openapi.json"), "{path}");
            }
        }
    }
}
