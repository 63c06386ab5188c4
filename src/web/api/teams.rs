//! `/api/v1/teams`: the teams, their members, and adding or taking out members.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{
    answer, call, call_idempotent, call_reading, json, parse_body, parse_cursor, parse_id, parse_limit, ApiError,
    ApiRole, PageParams,
};
use crate::domain::api_key::Scope;
use crate::domain::{Slug, TeamRole};
use crate::error::{AppError, FormErrors};
use crate::services::teams::{self, Cursor, GroupFilter, TeamMember as MemberRow};

/// A team of the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    /// Its URL name, which names it in the routes below.
    pub slug: String,
    pub name: String,
    pub description: String,
    pub members: i64,
    /// The names of its Maintainers.
    pub maintainers: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamPage {
    pub data: Vec<Team>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and position of a list of teams or projects.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupParams {
    /// Part of the name, any case.
    q: Option<String>,
    /// Rows per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The filter and page size `params` ask for (teams and projects alike).
pub fn group_filter(params: GroupParams) -> Result<(GroupFilter, i64), AppError> {
    let mut errors = FormErrors::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let after = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result()?;
    Ok((GroupFilter { search: params.q.unwrap_or_default().trim().to_owned(), descending: false, after }, limit))
}

/// A `{team}` or `{project}` of the path: its URL name; anything else names nothing.
pub fn parse_slug(text: &str, req: &HttpRequest) -> Result<Slug, ApiError> {
    Slug::parse(text).ok_or_else(|| ApiError::new(AppError::NotFound, req))
}

/// The organization's teams by name, a page at a time.
#[utoipa::path(
    tag = "Teams",
    params(GroupParams),
    responses((status = 200, description = "A page of teams.", body = TeamPage)),
    security(("api_key" = ["teams:read"]))
)]
#[get("/teams")]
pub async fn list_teams(req: HttpRequest, params: web::Query<GroupParams>) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (found, limit) = call_reading(
        &req,
        Scope::TeamsRead,
        Box::new(move |conn, key| {
            let (filter, limit) = group_filter(params.clone())?;
            Ok((teams::list(conn, &key.actor, &key.slug, &filter, limit)?, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) =
        crate::web::listing::page_and_cursor(&found, limit, |last| Cursor::Text(last.sort_key.clone(), last.team.id));
    let data = shown
        .iter()
        .map(|e| Team {
            id: e.team.id,
            slug: e.team.slug.clone(),
            name: e.team.name.clone(),
            description: e.team.description.clone(),
            members: e.members,
            maintainers: e.maintainers.clone(),
            created_at: e.team.created_at,
        })
        .collect();
    Ok(json(StatusCode::OK, &TeamPage { data, next_cursor }))
}

/// A member of a team.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamMember {
    /// The membership's id (as in `/members`).
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// Their role in the organization.
    pub org_role: ApiRole,
    /// `maintainer` or `member`.
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// When their place in the team ends; none if it does not.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl From<&MemberRow> for TeamMember {
    fn from(m: &MemberRow) -> Self {
        TeamMember {
            id: m.membership_id,
            user_id: m.user_id,
            name: m.name.clone(),
            email: m.email.clone(),
            org_role: m.org_role.into(),
            role: m.role.as_str().to_owned(),
            expires_at: m.expires_at,
            added_at: m.added_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeamMemberPage {
    pub data: Vec<TeamMember>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// A team's members by name, a page at a time.
#[utoipa::path(
    tag = "Teams",
    params(("team" = String, Path, description = "The team's URL name."), PageParams),
    responses((status = 200, description = "A page of the team's members.", body = TeamMemberPage),
              (status = 404, description = "No such team in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:read"]))
)]
#[get("/teams/{team}/members")]
pub async fn list_team_members(
    req: HttpRequest,
    team: web::Path<String>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let team = parse_slug(&team, &req)?;
    let params = params.into_inner();
    let (found, limit) = call(
        &req,
        Scope::TeamsRead,
        Box::new(move |conn, key| {
            let mut errors = FormErrors::new();
            let limit = parse_limit(params.limit.as_deref(), &mut errors);
            let after: Option<Cursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
            errors.into_result()?;
            let (_, members) = teams::members_of(conn, &key.actor, &key.slug, &team, after.as_ref(), limit)?;
            Ok((members, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) = crate::web::listing::page_and_cursor(&found, limit, |last| {
        Cursor::Text(last.sort_key.clone(), last.membership_id)
    });
    Ok(json(StatusCode::OK, &TeamMemberPage { data: shown.iter().map(TeamMember::from).collect(), next_cursor }))
}

/// Who to add to a team.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeamMember {
    /// The email address of a member of the organization.
    pub member: String,
    /// `member` (the default) or `maintainer`.
    pub role: Option<String>,
    /// When their place in the team ends (RFC 3339, after today, within five years);
    /// none: it does not.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// Adds a member of the organization to a team.
#[utoipa::path(
    tag = "Teams",
    params(("team" = String, Path, description = "The team's URL name."),
           ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key gets the first answer.")),
    request_body = NewTeamMember,
    responses((status = 201, description = "Added.", body = TeamMember),
              (status = 404, description = "No such team in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not a member of the organization, in the team already, or no such role.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:write"]))
)]
#[post("/teams/{team}/members")]
pub async fn add_team_member(
    req: HttpRequest,
    team: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let team = parse_slug(&team, &req)?;
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::TeamsWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: NewTeamMember = parse_body(&body)?;
            let role = match body.role.as_deref().map(str::trim) {
                None | Some("") => TeamRole::Member,
                Some(text) => TeamRole::from_db(text).ok_or_else(|| {
                    let mut errors = FormErrors::new();
                    errors.add("role", "One of member, maintainer.");
                    AppError::Invalid(errors)
                })?,
            };
            let until = body
                .expires_at
                .map(|at| crate::domain::expiry::within_bounds(at, OffsetDateTime::now_utc()))
                .transpose()
                .map_err(|error| AppError::Invalid(FormErrors::field("expires_at", error)))?;
            let added = teams::add_member(conn, &key.actor, &key.slug, &team, &body.member, role, until)?;
            answer(StatusCode::CREATED, &TeamMember::from(&added))
        }),
    )
    .await
}

/// Takes a member out of a team (they stay in the organization).
#[utoipa::path(
    tag = "Teams",
    params(("team" = String, Path, description = "The team's URL name."),
           ("id" = Uuid, Path, description = "The membership's id.")),
    responses((status = 204, description = "Taken out of the team."),
              (status = 404, description = "No such team, or they are not in it.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["teams:write"]))
)]
#[delete("/teams/{team}/members/{id}")]
pub async fn remove_team_member(req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (team, id) = path.into_inner();
    let (team, id) = (parse_slug(&team, &req)?, parse_id(&id, &req)?);
    call(
        &req,
        Scope::TeamsWrite,
        Box::new(move |conn, key| teams::remove_member(conn, &key.actor, &key.slug, &team, id, None)),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
