//! `/api/v1/invite-links`: list, create and disable shareable invite links, through
//! the same use cases as Invitations → `Invite links`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{
    answer, call, call_idempotent, json, parse_body, parse_cursor, parse_id, parse_limit, ApiError, ApiRole, PageParams,
};
use super::invitations::{project_levels, ProjectGrant};
use crate::domain::api_key::Scope;
use crate::domain::invite_link::{parse_domains, parse_label, parse_lifetime, parse_max_uses};
use crate::domain::Role;
use crate::error::FormErrors;
use crate::services::invitations::Brings;
use crate::services::invite_links::{self, LinkRequest, LinkView};
use crate::web::listing::{time_cursor, time_position, TimeCursor};
use crate::web::state::AppState;

/// A shareable invite link.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteLink {
    pub id: Uuid,
    pub label: String,
    /// The link to share, for keys with `invitations:write` and links the key may hand
    /// out (empty otherwise); it works while `status` is `active`.
    pub url: String,
    pub role: ApiRole,
    /// `active`, `disabled`, `expired` or `used_up`.
    pub status: String,
    /// What joining brings, in words ("team Platform", "project Apollo (Write)").
    pub brings: Vec<String>,
    pub uses: i32,
    /// None: no limit but the seats.
    pub max_uses: Option<i32>,
    /// Empty: any address.
    pub allowed_domains: Vec<String>,
    pub requires_approval: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl From<&LinkView> for InviteLink {
    fn from(view: &LinkView) -> Self {
        let link = &view.link;
        InviteLink {
            id: link.id,
            label: link.label.clone(),
            url: view.url.clone(),
            role: link.role.into(),
            status: view.state.label().to_lowercase().replace(' ', "_"),
            brings: view.brings.clone(),
            uses: link.uses,
            max_uses: link.max_uses,
            allowed_domains: link.allowed_domains.clone(),
            requires_approval: link.requires_approval,
            created_at: link.created_at,
            expires_at: link.expires_at,
        }
    }
}

/// A page of invite links, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteLinkPage {
    pub data: Vec<InviteLink>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// The organization's invite links, newest first, a page at a time.
#[utoipa::path(
    tag = "Invitations",
    params(PageParams),
    responses((status = 200, description = "A page of invite links.", body = InviteLinkPage),
              (status = 422, description = "`limit` or `cursor` is not valid.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:read"]))
)]
#[get("/invite-links")]
pub async fn list_invite_links(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let found = call(
        &req,
        Scope::InvitationsRead,
        Box::new(move |conn, key| {
            let mut errors = FormErrors::new();
            let limit = parse_limit(params.limit.as_deref(), &mut errors);
            let cursor: Option<TimeCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
            errors.into_result()?;
            let after = cursor.and_then(time_position);
            let ctx = state.invitation_context();
            // The links themselves are for keys that may invite.
            let may_share = key.require(Scope::InvitationsWrite).is_ok();
            Ok((invite_links::list(conn, &ctx, &key.actor, &key.slug, after, limit)?, limit, may_share))
        }),
    )
    .await?;
    let (found, limit, may_share) = found;
    let (shown, next_cursor) =
        crate::web::listing::page_and_cursor(&found, limit, |last| time_cursor(last.link.created_at, last.link.id));
    let data = shown
        .iter()
        .map(InviteLink::from)
        .map(|link| if may_share { link } else { InviteLink { url: String::new(), ..link } })
        .collect();
    Ok(json(StatusCode::OK, &InviteLinkPage { data, next_cursor }))
}

/// A new invite link's settings.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInviteLink {
    /// For admins, at most 80 characters.
    #[serde(default)]
    pub label: String,
    /// `member` (the default). Only the Owner makes `admin` links, so a key gets 403.
    pub role: Option<ApiRole>,
    /// Teams joined as Member, by id (with `teams` or `projects`, the key also needs `teams:write`).
    #[serde(default)]
    pub teams: Vec<Uuid>,
    #[serde(default)]
    pub projects: Vec<ProjectGrant>,
    /// How long it works: 1, 7 (the default), 30 or 90 days.
    pub expires_in_days: Option<i64>,
    /// 1 to 10,000; none: no limit but the seats.
    pub max_uses: Option<i32>,
    /// Only addresses at exactly these domains may use it; empty: any.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Each use becomes a request to approve.
    #[serde(default)]
    pub requires_approval: bool,
}

/// Creates an invite link; the answer has its `url`.
#[utoipa::path(
    tag = "Invitations",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer, and one link.")),
    request_body = NewInviteLink,
    responses((status = 201, description = "Created.", body = InviteLink),
              (status = 422, description = "A setting is not valid; `errors` names it.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:write"]))
)]
#[post("/invite-links")]
pub async fn create_invite_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::InvitationsWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: NewInviteLink = parse_body(&body)?;
            if !body.teams.is_empty() || !body.projects.is_empty() {
                key.require(Scope::TeamsWrite)?;
            }
            let mut errors = FormErrors::new();
            let projects = project_levels(&body.projects, &mut errors);
            let role: Role = body.role.unwrap_or(ApiRole::Member).into();
            if role == Role::Owner {
                errors.add("role", "One of member, admin.");
            }
            errors.into_result()?;
            let days = body.expires_in_days.unwrap_or(7).to_string();
            let max_uses = body.max_uses.map(|n| n.to_string()).unwrap_or_default();
            let request = LinkRequest {
                label: parse_label(&body.label),
                role,
                brings: Brings { teams: body.teams, projects, access_until: None },
                lifetime: parse_lifetime(&days),
                max_uses: parse_max_uses(&max_uses),
                allowed_domains: parse_domains(&body.allowed_domains.join(",")),
                requires_approval: body.requires_approval,
            };
            let link = invite_links::create(conn, &state.invitation_context(), &key.actor, &key.slug, request)?;
            answer(StatusCode::CREATED, &InviteLink::from(&link))
        }),
    )
    .await
}

/// Disables an invite link: it stops working at once.
#[utoipa::path(
    tag = "Invitations",
    params(("id" = Uuid, Path, description = "The invite link's id.")),
    responses((status = 200, description = "Disabled.", body = InviteLink),
              (status = 404, description = "No invite link with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:write"]))
)]
#[delete("/invite-links/{id}")]
pub async fn disable_invite_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let link = call(
        &req,
        Scope::InvitationsWrite,
        Box::new(move |conn, key| invite_links::disable(conn, &state.invitation_context(), &key.actor, &key.slug, id)),
    )
    .await?;
    Ok(json(StatusCode::OK, &InviteLink::from(&link)))
}
