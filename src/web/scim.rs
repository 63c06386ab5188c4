//! `/scim/v2` (RFC 7644): where an identity provider provisions the organization its
//! SCIM token belongs to. Bearer tokens, no session and no CSRF; bodies and errors
//! are `application/scim+json`; each request is one use case of `services::scim`,
//! and each change or refusal is written to the provisioning log.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use serde_json::Value;

use super::state::AppState;
use crate::domain::scim::{self as scim, Page, Projection, ResourceKind, ScimError, MEDIA_TYPE};
use crate::error::AppError;
use crate::services::scim::{self as provisioning, Caller, ProviderUseCase as UseCase, Subject, Write};

/// Where SCIM lives; identity providers are given `<base URL>/scim/v2`.
pub const PREFIX: &str = "/scim/v2";

/// A SCIM failure as the response RFC 7644 §3.12 describes.
#[derive(Debug)]
pub struct ScimFailure(pub ScimError);

impl std::fmt::Display for ScimFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.detail)
    }
}

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        ScimFailure(error)
    }
}

impl From<AppError> for ScimFailure {
    fn from(error: AppError) -> Self {
        ScimFailure(error.into())
    }
}

impl ResponseError for ScimFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = scim_json(self.status_code(), &self.0.to_json());
        if self.0.status == 401 {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        if self.0.status == 429 || self.0.status == 503 {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::error::RETRY_AFTER_SECS));
        }
        response
    }
}

/// A SCIM document with `status`.
fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status).content_type(MEDIA_TYPE).body(body.to_string())
}

/// A single resource, with its version as `ETag` (and `Location` when created).
fn resource(status: StatusCode, body: &Value) -> HttpResponse {
    let mut response = scim_json(status, body);
    if let Some(version) = body["meta"]["version"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(location) = body["meta"]["location"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// Every route of SCIM, compressed; paths it does not have and methods a path does
/// not take are SCIM errors too.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    web::scope(PREFIX)
        .app_data(web::PayloadConfig::default().limit(1024 * 1024))
        .service(resource("/ServiceProviderConfig").route(web::get().to(service_provider_config)))
        .service(resource("/ResourceTypes").route(web::get().to(resource_types)))
        .service(resource("/ResourceTypes/{id}").route(web::get().to(resource_type)))
        .service(resource("/Schemas").route(web::get().to(schemas)))
        .service(resource("/Schemas/{id}").route(web::get().to(schema)))
        .service(resource("/Users").route(web::get().to(list_users)).route(web::post().to(create_user)))
        .service(resource("/Users/.search").route(web::post().to(search_users)))
        .service(
            resource("/Users/{id}")
                .route(web::get().to(get_user))
                .route(web::put().to(replace_user))
                .route(web::patch().to(patch_user))
                .route(web::delete().to(delete_user)),
        )
        .service(resource("/Groups").route(web::get().to(list_groups)).route(web::post().to(create_group)))
        .service(resource("/Groups/.search").route(web::post().to(search_groups)))
        .service(
            resource("/Groups/{id}")
                .route(web::get().to(get_group))
                .route(web::put().to(replace_group))
                .route(web::patch().to(patch_group))
                .route(web::delete().to(delete_group)),
        )
        .service(resource("/.search").route(web::post().to(search_everything)))
        .default_service(web::to(no_such_route))
        // Whole answers compressed on the worker; streamed ones by actix-web's layer.
        .wrap(actix_web::middleware::from_fn(crate::web::compression::compress_whole_bodies))
        .wrap(actix_web::middleware::Compress::default())
}

async fn no_such_route(req: HttpRequest) -> HttpResponse {
    ScimFailure(ScimError::not_found(format!("There is no SCIM endpoint at {}.", req.path()))).error_response()
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    ScimFailure(ScimError::new(405, None, format!("{} does not take {}.", req.path(), req.method()))).error_response()
}

/// The token of `Authorization: Bearer …`.
fn bearer(req: &HttpRequest) -> Result<String, ScimError> {
    let value = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match value.and_then(|v| v.trim().split_once(' ')) {
        Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() => {
            Ok(secret.trim().to_owned())
        }
        _ => Err(ScimError::unauthorized(
            "Send the SCIM token in the Authorization header: `Authorization: Bearer roster_…`. The Owner makes \
             one in Settings → Provisioning (SCIM).",
        )),
    }
}

/// The request's credentials, and the application that answers it.
fn caller(req: &HttpRequest) -> Result<(web::Data<AppState>, Caller), ScimFailure> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ScimFailure(ScimError::new(500, None, "No application state.")))?;
    let caller = Caller {
        secret: bearer(req)?,
        request_id: req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()),
        per_minute: state.settings.api_requests_per_minute,
        base: format!("{}{PREFIX}", state.settings.base_url.as_str().trim_end_matches('/')),
    };
    Ok((state, caller))
}

/// Authenticates the request's SCIM token and runs `use_case` as its provider, on
/// one pooled connection on the blocking pool.
async fn run<T: Send + 'static>(req: &HttpRequest, use_case: UseCase<T>) -> Result<T, ScimFailure> {
    let (state, caller) = caller(req)?;
    Ok(state.db.run(move |conn| provisioning::run_as_provider(conn, caller, use_case)).await?)
}

/// Runs a change, and writes it (or its refusal) to the provisioning log as
/// `operation` on `subject`, which `subject` reads before the change.
async fn change<T: Send + 'static>(
    req: &HttpRequest,
    operation: &'static str,
    subject: Subject,
    use_case: UseCase<T>,
) -> Result<T, ScimFailure> {
    let (state, caller) = caller(req)?;
    Ok(state.db.run(move |conn| provisioning::change_as_provider(conn, caller, operation, subject, use_case)).await?)
}

/// A request body as JSON; anything else is SCIM's `invalidSyntax`.
fn json_body(body: &[u8]) -> Result<Value, ScimError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ScimError::invalid_syntax(format!("The body is not JSON: {e}. Send application/scim+json.")))?;
    if holds_nul(&value) {
        return Err(nul_refused());
    }
    Ok(value)
}

/// Whether any text in `value` holds a NUL character, which no stored text may.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

fn nul_refused() -> ScimError {
    ScimError::invalid_value("Text with a NUL character (\\u0000) is not accepted.")
}

/// `If-Match`, when sent.
fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// The parameters of a list, from its query string or a `.search` body (where the
/// attribute lists are arrays and numbers are numbers).
struct Listing {
    filter: Option<String>,
    page: Page,
    attributes: Option<String>,
    excluded: Option<String>,
}

impl Listing {
    fn from_query(query: &str) -> Result<Listing, ScimError> {
        let query: ListQuery = serde_urlencoded::from_str(query)
            .map_err(|e| ScimError::invalid_syntax(format!("The query string could not be read: {e}.")))?;
        if [&query.filter, &query.attributes, &query.excluded_attributes]
            .iter()
            .any(|t| t.as_ref().is_some_and(|t| t.contains('\0')))
        {
            return Err(nul_refused());
        }
        Ok(Listing {
            page: Page::parse(query.start_index.as_deref(), query.count.as_deref())?,
            filter: query.filter,
            attributes: query.attributes,
            excluded: query.excluded_attributes,
        })
    }

    fn from_search(body: &[u8]) -> Result<Listing, ScimError> {
        let body = json_body(body)?;
        let text = |key: &str| -> Option<String> {
            match &body[key] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Array(items) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
                _ => None,
            }
        };
        Ok(Listing {
            page: Page::parse(text("startIndex").as_deref(), text("count").as_deref())?,
            filter: text("filter"),
            attributes: text("attributes"),
            excluded: text("excludedAttributes"),
        })
    }

    fn projection(&self, kind: ResourceKind) -> Projection {
        Projection::parse(self.attributes.as_deref(), self.excluded.as_deref(), kind)
    }
}

/// The `attributes` and `excludedAttributes` of a single resource's request.
fn projection(req: &HttpRequest, kind: ResourceKind) -> Result<Projection, ScimError> {
    Ok(Listing::from_query(req.query_string())?.projection(kind))
}

fn id_of(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_owned()
}

async fn service_provider_config(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let body = run(&req, Box::new(|_, provider| Ok(scim::service_provider_config(&provider.base)))).await?;
    Ok(scim_json(StatusCode::OK, &body))
}

async fn resource_types(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let types = run(&req, Box::new(|_, provider| Ok(scim::resource_types(&provider.base)))).await?;
    let total = types.len() as i64;
    Ok(scim_json(StatusCode::OK, &scim::list_response(types, total, 1)))
}

async fn resource_type(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let id = id_of(&req);
    let body = run(
        &req,
        Box::new(move |_, provider| {
            ResourceKind::ALL
                .into_iter()
                .find(|kind| kind.name().eq_ignore_ascii_case(&id))
                .map(|kind| scim::resource_type(&provider.base, kind))
                .ok_or_else(|| {
                    ScimError::not_found(format!("There is no resource type “{id}”: there are User and Group."))
                })
        }),
    )
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

async fn schemas(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let all = run(&req, Box::new(|_, provider| Ok(scim::schemas(&provider.base)))).await?;
    let total = all.len() as i64;
    Ok(scim_json(StatusCode::OK, &scim::list_response(all, total, 1)))
}

async fn schema(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let id = id_of(&req);
    let body = run(
        &req,
        Box::new(move |_, provider| {
            scim::schema(&provider.base, &id)
                .ok_or_else(|| ScimError::not_found(format!("There is no schema “{id}” here.")))
        }),
    )
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

/// Lists one kind of resource as `listing` asks.
async fn list(req: &HttpRequest, kind: ResourceKind, listing: Listing) -> Result<HttpResponse, ScimFailure> {
    let body = run(
        req,
        Box::new(move |conn, provider| {
            let projection = listing.projection(kind);
            match kind {
                ResourceKind::User => {
                    provisioning::list_users(conn, provider, listing.filter.as_deref(), listing.page, &projection)
                }
                ResourceKind::Group => {
                    provisioning::list_groups(conn, provider, listing.filter.as_deref(), listing.page, &projection)
                }
            }
        }),
    )
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

async fn list_users(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let listing = Listing::from_query(req.query_string())?;
    list(&req, ResourceKind::User, listing).await
}

async fn search_users(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    let listing = Listing::from_search(&body)?;
    list(&req, ResourceKind::User, listing).await
}

async fn list_groups(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let listing = Listing::from_query(req.query_string())?;
    list(&req, ResourceKind::Group, listing).await
}

async fn search_groups(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    let listing = Listing::from_search(&body)?;
    list(&req, ResourceKind::Group, listing).await
}

/// `POST /.search`: Users and Groups together, Users first.
async fn search_everything(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    let listing = Listing::from_search(&body)?;
    let body = run(
        &req,
        Box::new(move |conn, provider| {
            let filter = listing.filter.as_deref();
            let (users, groups) = (listing.projection(ResourceKind::User), listing.projection(ResourceKind::Group));
            provisioning::search_everything(conn, provider, filter, listing.page, &users, &groups)
        }),
    )
    .await?;
    Ok(scim_json(StatusCode::OK, &body))
}

async fn get_user(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let (id, projection) = (id_of(&req), projection(&req, ResourceKind::User)?);
    let body = run(&req, Box::new(move |conn, provider| provisioning::get_user(conn, provider, &id))).await?;
    Ok(answer(&req, StatusCode::OK, &body, &projection))
}

/// A single resource as asked: `304` when `If-None-Match` names its version, else
/// the resource as `projection` trims it.
fn answer(req: &HttpRequest, status: StatusCode, body: &Value, projection: &Projection) -> HttpResponse {
    let version = body["meta"]["version"].as_str().unwrap_or_default();
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|header| !version.is_empty() && scim::if_none_match_hit(header, version));
    if unchanged && status == StatusCode::OK && req.method() == actix_web::http::Method::GET {
        let mut response = HttpResponse::NotModified().finish();
        if let Ok(value) = HeaderValue::from_str(version) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return response;
    }
    let trimmed = projection.apply(body.clone());
    let mut response = resource(status, &trimmed);
    // The version is the whole resource's, even when only part of it is shown.
    if let Ok(value) = HeaderValue::from_str(version) {
        if !version.is_empty() {
            response.headers_mut().insert(header::ETAG, value);
        }
    }
    response
}

async fn create_user(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    let json = json_body(&body)?;
    let projection = projection(&req, ResourceKind::User)?;
    let links = req.app_data::<web::Data<AppState>>().map(|s| s.links.clone());
    let subject = json["userName"].as_str().unwrap_or_default().to_owned();
    let created = change(
        &req,
        "Create user",
        Box::new(move |_, _| subject),
        Box::new(move |conn, provider| {
            let links = links.ok_or_else(|| ScimError::new(500, None, "No application state."))?;
            provisioning::create_user(conn, provider, &links, &json)
        }),
    )
    .await?;
    Ok(answer(&req, StatusCode::CREATED, &created, &projection))
}

/// What a change of a User is called in the log: deactivating and reactivating
/// are the changes people look for.
fn user_operation(body: &Value) -> &'static str {
    let said_active = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    let mut active = said_active(&body["active"]);
    for op in body["Operations"].as_array().into_iter().flatten() {
        let path = op["path"].as_str().unwrap_or_default();
        if path.eq_ignore_ascii_case("active") {
            active = said_active(&op["value"]);
        } else if path.is_empty() {
            if let Some(found) = op["value"].as_object().and_then(|v| {
                v.iter().find(|(k, _)| k.eq_ignore_ascii_case("active")).and_then(|(_, v)| said_active(v))
            }) {
                active = Some(found);
            }
        }
    }
    match active {
        Some(false) => "Deactivate user",
        Some(true) if body.get("Operations").is_some() => "Reactivate user",
        _ => "Update user",
    }
}

async fn get_group(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    let (id, projection) = (id_of(&req), projection(&req, ResourceKind::Group)?);
    let reads = projection.clone();
    let body = run(&req, Box::new(move |conn, provider| provisioning::get_group(conn, provider, &id, &reads))).await?;
    Ok(answer(&req, StatusCode::OK, &body, &projection))
}

async fn create_group(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    let json = json_body(&body)?;
    let projection = projection(&req, ResourceKind::Group)?;
    let subject = json["displayName"].as_str().unwrap_or_default().to_owned();
    let created = change(
        &req,
        "Create group",
        Box::new(move |_, _| subject),
        Box::new(move |conn, provider| provisioning::create_group(conn, provider, &json)),
    )
    .await?;
    Ok(answer(&req, StatusCode::CREATED, &created, &projection))
}

/// `PUT` or `PATCH` of a User or Group, logged as `operation`.
async fn update(
    req: HttpRequest,
    body: web::Bytes,
    kind: ResourceKind,
    how: Write,
) -> Result<HttpResponse, ScimFailure> {
    let (id, json, if_match) = (id_of(&req), json_body(&body)?, if_match(&req));
    let projection = projection(&req, kind)?;
    let operation = match kind {
        ResourceKind::User => user_operation(&json),
        ResourceKind::Group => "Update group",
    };
    let named = id.clone();
    let updated = change(
        &req,
        operation,
        Box::new(move |conn, provider| provisioning::subject(conn, provider, kind, &named)),
        Box::new(move |conn, provider| provisioning::write(conn, provider, kind, how, &id, &json, if_match.as_deref())),
    )
    .await?;
    Ok(answer(&req, StatusCode::OK, &updated, &projection))
}

/// `DELETE` of a User or Group.
async fn delete(req: HttpRequest, kind: ResourceKind) -> Result<HttpResponse, ScimFailure> {
    let (id, if_match) = (id_of(&req), if_match(&req));
    let named = id.clone();
    let operation = match kind {
        ResourceKind::User => "Delete user",
        ResourceKind::Group => "Delete group",
    };
    change(
        &req,
        operation,
        Box::new(move |conn, provider| provisioning::subject(conn, provider, kind, &named)),
        Box::new(move |conn, provider| provisioning::delete(conn, provider, kind, &id, if_match.as_deref())),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn replace_user(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    update(req, body, ResourceKind::User, Write::Replace).await
}

async fn patch_user(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    update(req, body, ResourceKind::User, Write::Patch).await
}

async fn delete_user(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    delete(req, ResourceKind::User).await
}

async fn replace_group(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    update(req, body, ResourceKind::Group, Write::Replace).await
}

async fn patch_group(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ScimFailure> {
    update(req, body, ResourceKind::Group, Write::Patch).await
}

async fn delete_group(req: HttpRequest) -> Result<HttpResponse, ScimFailure> {
    delete(req, ResourceKind::Group).await
}
