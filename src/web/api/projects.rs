//! `/api/v1/projects`: the projects, who has access to each, granting and revoking it.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{answer, call, call_idempotent, call_reading, json, parse_body, parse_id, ApiError};
use super::teams::{group_filter, parse_slug, GroupParams};
use crate::domain::api_key::Scope;
use crate::domain::AccessLevel;
use crate::error::{AppError, FormErrors};
use crate::services::projects::{self, Cursor, Grant as GrantRow, GranteeInput};

/// A project of the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    /// Its URL name, which names it in the routes below.
    pub slug: String,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProjectPage {
    pub data: Vec<Project>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// The organization's projects by name, a page at a time.
#[utoipa::path(
    tag = "Projects",
    params(GroupParams),
    responses((status = 200, description = "A page of projects.", body = ProjectPage)),
    security(("api_key" = ["teams:read"]))
)]
#[get("/projects")]
pub async fn list_projects(req: HttpRequest, params: web::Query<GroupParams>) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (found, limit) = call_reading(
        &req,
        Scope::TeamsRead,
        Box::new(move |conn, key| {
            let (filter, limit) = group_filter(params.clone())?;
            Ok((projects::list(conn, &key.actor, &key.slug, &filter, limit)?, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) = crate::web::listing::page_and_cursor(&found, limit, |last| {
        Cursor::Text(last.sort_key.clone(), last.project.id)
    });
    let data = shown
        .iter()
        .map(|e| Project {
            id: e.project.id,
            slug: e.project.slug.clone(),
            name: e.project.name.clone(),
            description: e.project.description.clone(),
            created_at: e.project.created_at,
        })
        .collect();
    Ok(json(StatusCode::OK, &ProjectPage { data, next_cursor }))
}

/// Access to a project, given to a team or to one member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    pub id: Uuid,
    /// `read`, `write` or `admin`.
    pub level: String,
    /// The team it is given to, by URL name; none for a member's own grant.
    pub team: Option<String>,
    /// The membership it is given to; none for a team's grant.
    pub member_id: Option<Uuid>,
    pub member_email: Option<String>,
    /// When a member's own grant ends; none if it does not (a team's grant never does).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
}

impl From<&GrantRow> for Grant {
    fn from(g: &GrantRow) -> Self {
        Grant {
            id: g.id,
            level: g.level.as_str().to_owned(),
            team: g.team_slug.clone(),
            member_id: g.membership_id,
            member_email: g.member_email.clone(),
            expires_at: g.expires_at,
        }
    }
}

/// Who has access to a project: teams first, then members.
#[utoipa::path(
    tag = "Projects",
    params(("project" = String, Path, description = "The project's URL name.")),
    responses((status = 200, description = "Its grants.", body = Vec<Grant>),
              (status = 404, description = "No such project in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:read"]))
)]
#[get("/projects/{project}/access")]
pub async fn list_project_access(req: HttpRequest, project: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let project = parse_slug(&project, &req)?;
    let (_, grants) = call(
        &req,
        Scope::TeamsRead,
        Box::new(move |conn, key| projects::grants(conn, &key.actor, &key.slug, &project)),
    )
    .await?;
    Ok(json(StatusCode::OK, &grants.iter().map(Grant::from).collect::<Vec<_>>()))
}

/// Whom to give access, at which level.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewGrant {
    /// A team's id; give this or `member`.
    pub team: Option<Uuid>,
    /// A member's email address; give this or `team`.
    pub member: Option<String>,
    /// `read`, `write` or `admin`.
    pub level: String,
    /// When a member's own grant ends (RFC 3339, after today, within five years); none:
    /// it does not. A team's grant takes no date.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
}

/// Gives a team or a member access to a project at a level (replacing the level they had).
#[utoipa::path(
    tag = "Projects",
    params(("project" = String, Path, description = "The project's URL name."),
           ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key gets the first answer.")),
    request_body = NewGrant,
    responses((status = 200, description = "The grant as it is now.", body = Grant),
              (status = 404, description = "No such project in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "No grantee, both, not a member, no such level, or a date that is not after today and within five years (or given for a team).", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:write"]))
)]
#[post("/projects/{project}/access")]
pub async fn grant_project_access(
    req: HttpRequest,
    project: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = parse_slug(&project, &req)?;
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::TeamsWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: NewGrant = parse_body(&body)?;
            let mut errors = FormErrors::new();
            let level = AccessLevel::from_db(body.level.trim());
            if level.is_none() {
                errors.add("level", "One of read, write, admin.");
            }
            let grantee = match (body.team, body.member) {
                (Some(team), None) => Some(GranteeInput::Team(team)),
                (None, Some(member)) => Some(GranteeInput::Member(member)),
                _ => {
                    errors.add("team", "Give either a team's id or a member's email address.");
                    None
                }
            };
            let until = body.expires_at.and_then(|at| {
                let checked = crate::domain::expiry::within_bounds(at, time::OffsetDateTime::now_utc());
                errors.check("expires_at", checked)
            });
            errors.into_result()?;
            let (Some(level), Some(grantee)) = (level, grantee) else {
                return Err(AppError::Invalid(FormErrors::new()));
            };
            let (_, granted) = projects::grant_until(conn, &key.actor, &key.slug, &project, &grantee, level, until)?;
            answer(StatusCode::OK, &Grant::from(&granted))
        }),
    )
    .await
}

/// Ends one grant of a project.
#[utoipa::path(
    tag = "Projects",
    params(("project" = String, Path, description = "The project's URL name."),
           ("id" = Uuid, Path, description = "The grant's id.")),
    responses((status = 204, description = "Access ended."),
              (status = 404, description = "No such project or grant in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:write"]))
)]
#[delete("/projects/{project}/access/{id}")]
pub async fn revoke_project_access(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    let (project, id) = (parse_slug(&project, &req)?, parse_id(&id, &req)?);
    call(
        &req,
        Scope::TeamsWrite,
        Box::new(move |conn, key| projects::revoke(conn, &key.actor, &key.slug, &project, id, None)),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
