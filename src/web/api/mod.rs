//! The JSON API under `/api/v1` (DESIGN.md §2.9): bearer API keys, no cookies and
//! no CSRF, the same use cases as the pages, errors as `application/problem+json`
//! (RFC 9457), and an OpenAPI 3.1 document collected from the handlers as they are
//! registered, so a route cannot exist without its documentation.

pub mod audit;
pub mod bulk;
pub mod common;
pub mod invitations;
pub mod invite_links;
pub mod join_requests;
pub mod members;
pub mod meta;
pub mod projects;
pub mod seats;
pub mod teams;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt as _;

use super::state::AppState;
use crate::error::AppError;
pub use common::{problem, ApiError, FieldProblem, Problem, PREFIX, PROBLEM_JSON};

/// Every route of the API. Each handler is registered through `utoipa-actix-web`,
/// which takes its path and method from the route attribute and its documentation
/// from `#[utoipa::path]`: the served API and the document come from this list.
pub fn services(cfg: &mut ServiceConfig<'_>) {
    cfg.service(meta::openapi_json)
        .service(members::list_members)
        .service(bulk::bulk_members)
        .service(members::get_member)
        .service(members::change_member_role)
        .service(members::remove_member)
        .service(invitations::list_invitations)
        .service(invitations::create_invitations)
        .service(invitations::resend_invitation)
        .service(invitations::revoke_invitation)
        .service(invite_links::list_invite_links)
        .service(invite_links::create_invite_link)
        .service(invite_links::disable_invite_link)
        .service(join_requests::list_join_requests)
        .service(join_requests::create_join_request)
        .service(join_requests::approve_join_request)
        .service(join_requests::deny_join_request)
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
        // A key that changes something reads from the primary for a moment.
        .wrap(actix_web::middleware::from_fn(crate::web::recent_writes::mark_keys))
        // Whole answers compressed on the worker; streamed ones by actix-web's layer.
        .wrap(actix_web::middleware::from_fn(crate::web::compression::compress_whole_bodies))
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
        (name = "Join requests", description = "People asking to join; approve or deny them."),
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
