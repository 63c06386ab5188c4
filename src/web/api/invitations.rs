//! `/api/v1/invitations`: list, invite one or many (the per-address answer of the
//! `Invite Members` dialog), resend, revoke.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{
    answer, call, call_idempotent, call_reading, json, parse_body, parse_cursor, parse_id, parse_limit, ApiError,
    ApiRole,
};
use crate::domain::api_key::Scope;
use crate::domain::{AccessLevel, EmailList, InvitationStatus, Role};
use crate::error::{AppError, FormErrors};
use crate::services::invitations::{
    self, Brings, InvitationFilter, InvitationRow, InviteSummary, SortKey, StatusFilter,
};
use crate::web::client::ClientIp;
use crate::web::state::AppState;

/// An invitation to join the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: ApiRole,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    pub status: String,
    /// The name of who sent it.
    pub invited_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_sent_at: OffsetDateTime,
    pub send_count: i32,
    /// The teams and projects accepting it brings, in words ("team Platform").
    pub brings: Vec<String>,
}

impl Invitation {
    fn new(row: &InvitationRow, brings: Vec<String>) -> Self {
        Invitation {
            id: row.id,
            email: row.email.clone(),
            role: row.role.into(),
            status: row.status_now().key().into(),
            invited_by: row.inviter_name.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_sent_at: row.last_sent_at,
            send_count: row.send_count,
            brings,
        }
    }
}

/// A page of invitations, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationPage {
    pub data: Vec<Invitation>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and position of `GET /invitations`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationParams {
    /// `open` (pending and expired, the default), `all`, or one status:
    /// `pending`, `accepted`, `declined`, `revoked`, `expired`.
    status: Option<String>,
    /// Part of an email address, any case.
    q: Option<String>,
    /// Rows per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The organization's invitations, newest first, a page at a time.
#[utoipa::path(
    tag = "Invitations",
    params(InvitationParams),
    responses((status = 200, description = "A page of invitations.", body = InvitationPage),
              (status = 422, description = "A filter is not valid; `errors` names it.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:read"]))
)]
#[get("/invitations")]
pub async fn list_invitations(
    req: HttpRequest,
    params: web::Query<InvitationParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (found, mut grants, limit) = call_reading(
        &req,
        Scope::InvitationsRead,
        Box::new(move |conn, key| {
            let (filter, limit) = invitation_filter(params.clone())?;
            let (found, grants) = invitations::list(conn, &key.actor, &key.slug, &filter, limit)?;
            Ok((found, grants, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) =
        crate::web::listing::page_and_cursor(&found, limit, |last| invitations::cursor_after(last, SortKey::Invited));
    let data = shown.iter().map(|(row, _)| Invitation::new(row, grants.remove(&row.id).unwrap_or_default())).collect();
    Ok(json(StatusCode::OK, &InvitationPage { data, next_cursor }))
}

/// The filter and page size `params` ask for; each value that is not valid is named.
fn invitation_filter(params: InvitationParams) -> Result<(InvitationFilter, i64), AppError> {
    let mut errors = FormErrors::new();
    let status = match params.status.as_deref().map(str::trim).unwrap_or("") {
        "" | "open" => StatusFilter::Open,
        "all" => StatusFilter::All,
        other => match InvitationStatus::from_key(other) {
            Some(status) => StatusFilter::Only(status),
            None => {
                errors.add("status", "One of open, all, pending, accepted, declined, revoked, expired.");
                StatusFilter::Open
            }
        },
    };
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let after = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result()?;
    let search = params.q.unwrap_or_default().trim().to_owned();
    Ok((InvitationFilter { status, search, sort: SortKey::Invited, descending: true, after }, limit))
}

/// The projects and levels asked for; each level that is not one is named in `errors`.
pub(super) fn project_levels(projects: &[ProjectGrant], errors: &mut FormErrors) -> Vec<(Uuid, AccessLevel)> {
    projects
        .iter()
        .filter_map(|p| match AccessLevel::from_db(p.level.trim()) {
            Some(level) => Some((p.id, level)),
            None => {
                errors.add("projects", format!("The level of project {} is one of read, write, admin.", p.id));
                None
            }
        })
        .collect()
}

/// A project an invitation brings, at a level.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProjectGrant {
    pub id: Uuid,
    /// `read`, `write` or `admin`.
    pub level: String,
}

/// Who to invite, as what.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInvitations {
    /// Addresses, each as `ada@example.com` or `Ada Lovelace <ada@example.com>`; at most 2,000.
    pub emails: Vec<String>,
    /// `member` (the default). Only the Owner invites Admins, and a key acts at most as an
    /// Admin, so `admin` is refused with 403.
    pub role: Option<ApiRole>,
    /// Teams the invitee joins on accepting, by id (with `teams` or `projects`, the key also needs `teams:write`).
    #[serde(default)]
    pub teams: Vec<Uuid>,
    /// Projects the invitee reaches on accepting.
    #[serde(default)]
    pub projects: Vec<ProjectGrant>,
    /// When the membership ends (RFC 3339, after the invitation expires, within five
    /// years); none: it does not.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub membership_expires_at: Option<time::OffsetDateTime>,
}

/// An address already invited.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlreadyPending {
    /// The pending (or expired) invitation, to resend.
    pub id: Uuid,
    pub email: String,
    pub expired: bool,
}

/// An entry that is not an address.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvalidEntry {
    pub text: String,
    pub reason: String,
}

/// What became of each address: the answer of the `Invite Members` dialog.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteResult {
    /// Invited now; each gets an email.
    pub sent: Vec<String>,
    /// Members already: skipped.
    pub already_members: Vec<String>,
    /// Invited already: resend those instead.
    pub already_pending: Vec<AlreadyPending>,
    /// Entries that are not addresses.
    pub invalid: Vec<InvalidEntry>,
    /// Addresses given more than once (counted once).
    pub duplicates: usize,
    /// Addresses sent too many invitations in the last hour, from any organization: not invited now.
    pub too_often: Vec<String>,
}

impl From<InviteSummary> for InviteResult {
    fn from(s: InviteSummary) -> Self {
        InviteResult {
            sent: s.sent,
            already_members: s.already_members,
            already_pending: s
                .already_pending
                .into_iter()
                .map(|p| AlreadyPending { id: p.id, email: p.email, expired: p.expired })
                .collect(),
            invalid: s.invalid.into_iter().map(|e| InvalidEntry { text: e.text, reason: e.reason }).collect(),
            duplicates: s.duplicates,
            too_often: s.too_often,
        }
    }
}

/// Invites every valid address in one go: all fit the free seats and are sent, or
/// none is (422 with the seat numbers). Each address's outcome is in the answer.
#[utoipa::path(
    tag = "Invitations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Any unique text, such as a UUID: a retry with the same key and body gets the first answer, and nobody is invited twice. Kept 24 hours.")),
    request_body = NewInvitations,
    responses((status = 201, description = "Some were invited; the answer says what became of each address.", body = InviteResult),
              (status = 200, description = "Nobody new was invited (all members or pending already); the answer says why.", body = InviteResult),
              (status = 422, description = "No valid address, too many, a role or grant that is not valid, or not enough free seats.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:write"]))
)]
#[post("/invitations")]
pub async fn create_invitations(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let ip = ClientIp::of(&req).0;
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::InvitationsWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: NewInvitations = parse_body(&body)?;
            if !body.teams.is_empty() || !body.projects.is_empty() {
                // Accepting gives access to teams and projects: the scope that grants those.
                key.require(Scope::TeamsWrite)?;
            }
            let mut errors = FormErrors::new();
            let projects = project_levels(&body.projects, &mut errors);
            // Nobody is invited as Owner: the use case says so, as for the page.
            let role: Role = body.role.unwrap_or(ApiRole::Member).into();
            let access_until = body.membership_expires_at.and_then(|at| {
                let checked = crate::domain::expiry::within_bounds(at, time::OffsetDateTime::now_utc());
                errors.check("membership_expires_at", checked)
            });
            errors.into_result()?;
            let list = EmailList::parse(&body.emails.join("\n"));
            let brings = Brings { teams: body.teams, projects, access_until };
            let summary = invitations::invite_charged(
                conn,
                &state.invitation_context(),
                &key.actor,
                &ip,
                &key.slug,
                list,
                role,
                &brings,
            )?;
            let status = if summary.sent.is_empty() { StatusCode::OK } else { StatusCode::CREATED };
            answer(status, &InviteResult::from(summary))
        }),
    )
    .await
}

/// Sends an invitation again with a new link and a new expiry; the old link stops working.
#[utoipa::path(
    tag = "Invitations",
    params(("id" = Uuid, Path, description = "The invitation's id."),
           ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key gets the first answer, and the email goes once.")),
    responses((status = 200, description = "Sent again.", body = Invitation),
              (status = 404, description = "No invitation with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 409, description = "It was accepted, declined or revoked meanwhile.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:write"]))
)]
#[post("/invitations/{id}/resend")]
pub async fn resend_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    call_idempotent(
        &req,
        Scope::InvitationsWrite,
        &[],
        Box::new(move |conn, key| {
            let (row, _, brings) = invitations::resend(conn, &state.invitation_context(), &key.actor, &key.slug, id)?;
            answer(StatusCode::OK, &Invitation::new(&row, brings))
        }),
    )
    .await
}

/// Revokes an invitation: its link stops working and its seat is free again.
#[utoipa::path(
    tag = "Invitations",
    params(("id" = Uuid, Path, description = "The invitation's id.")),
    responses((status = 200, description = "Revoked.", body = Invitation),
              (status = 404, description = "No invitation with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 409, description = "It was accepted, declined or revoked meanwhile.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["invitations:write"]))
)]
#[delete("/invitations/{id}")]
pub async fn revoke_invitation(req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let (row, _, brings) = call(
        &req,
        Scope::InvitationsWrite,
        Box::new(move |conn, key| invitations::revoke(conn, &key.actor, &key.slug, id)),
    )
    .await?;
    Ok(json(StatusCode::OK, &Invitation::new(&row, brings)))
}
