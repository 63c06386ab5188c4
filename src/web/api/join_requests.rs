//! `/api/v1/join-requests`: the queue of requests to join (DESIGN.md §2.12), and
//! approving or denying one, through the same use cases as `Members → Requests`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{
    answer, call, call_idempotent, json, parse_body, parse_cursor, parse_id, parse_limit, ApiError, ApiRole, PageParams,
};
use crate::domain::api_key::Scope;
use crate::domain::join_request::parse_text;
use crate::domain::{EmailAddress, Role};
use crate::error::{AppError, FormErrors};
use crate::services::join_requests::{self, QueuedRequest};
use crate::web::listing::{time_cursor, time_position, TimeCursor};

/// A request to join the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JoinRequest {
    pub id: Uuid,
    /// The account that asked.
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// What they wrote, if anything.
    pub note: Option<String>,
    /// `open`, `approved`, `denied` or `withdrawn`.
    pub status: String,
    /// Whether it waits for a seat: no seat is free for it, the older requests first.
    pub waits_for_seat: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&QueuedRequest> for JoinRequest {
    fn from(q: &QueuedRequest) -> Self {
        let r = &q.request;
        JoinRequest {
            id: r.id,
            user_id: r.user_id,
            name: q.name.clone(),
            email: r.email.clone(),
            note: r.note.clone(),
            status: r.status.as_str().into(),
            waits_for_seat: q.waits_for_seat,
            created_at: r.created_at,
        }
    }
}

/// A page of open requests, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JoinRequestPage {
    pub data: Vec<JoinRequest>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// The requests waiting for an answer, oldest first, a page at a time.
#[utoipa::path(
    tag = "Join requests",
    params(PageParams),
    responses((status = 200, description = "A page of open requests.", body = JoinRequestPage),
              (status = 422, description = "`limit` or `cursor` is not valid.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:read"]))
)]
#[get("/join-requests")]
pub async fn list_join_requests(req: HttpRequest, params: web::Query<PageParams>) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (found, limit) = call(
        &req,
        Scope::MembersRead,
        Box::new(move |conn, key| {
            let mut errors = FormErrors::new();
            let limit = parse_limit(params.limit.as_deref(), &mut errors);
            let cursor: Option<TimeCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
            errors.into_result()?;
            let after = cursor.and_then(time_position);
            Ok((join_requests::list(conn, &key.actor, &key.slug, after, limit)?, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) = crate::web::listing::page_and_cursor(&found, limit, |last| {
        time_cursor(last.request.created_at, last.request.id)
    });
    Ok(json(StatusCode::OK, &JoinRequestPage { data: shown.iter().map(JoinRequest::from).collect(), next_cursor }))
}

/// A request to put in the queue for someone.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewJoinRequest {
    /// The verified address of the person's Roster account.
    pub email: String,
    /// Why they need access, at most 500 characters.
    pub note: Option<String>,
}

/// What `POST /join-requests` says, whoever the address belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub message: String,
}

/// Puts a request into the queue for the person with this address (from an intake
/// form, say), if they could ask themselves: their verified address is at a verified
/// domain of the organization whose policy is `Request`, and they are not a member.
/// The answer is the same whether or not such a person exists (addresses' accounts
/// stay private); the queue (`GET /join-requests`) shows the request, and the person
/// sees it on their Dashboard, where they may withdraw it.
#[utoipa::path(
    tag = "Join requests",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body gets the first answer.")),
    request_body = NewJoinRequest,
    responses((status = 202, description = "Taken: a request waits in the queue if such a person exists.", body = Accepted),
              (status = 422, description = "The address or the note is not valid.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[post("/join-requests")]
pub async fn create_join_request(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::MembersWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: NewJoinRequest = parse_body(&body)?;
            let email = EmailAddress::parse(&body.email)
                .map_err(|e| AppError::Invalid(FormErrors::field("email", e.to_string())))?;
            let note = parse_text(body.note.as_deref().unwrap_or_default(), "note");
            join_requests::create_for(conn, &key.actor, &key.slug, &email, note)?;
            let message =
                "If a person at a verified domain of the organization whose policy is Request has this address, \
                           and is not a member, their request now waits in the queue."
                    .to_owned();
            answer(StatusCode::ACCEPTED, &Accepted { message })
        }),
    )
    .await
}

/// How to let the person in.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Approval {
    /// `member` (the default); only the Owner lets someone in as `admin`, so a key gets 422.
    pub role: Option<ApiRole>,
    /// Teams they join as Member, by id.
    #[serde(default)]
    pub teams: Vec<Uuid>,
}

/// Who joined by an approval.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Approved {
    pub request_id: Uuid,
    /// The new membership (the member's id in `/members`).
    pub member_id: Uuid,
    pub email: String,
    pub role: ApiRole,
    /// The teams they joined, by name.
    pub teams: Vec<String>,
}

/// Approves a request: the person joins with the role and teams given, if a seat is free.
#[utoipa::path(
    tag = "Join requests",
    params(("id" = Uuid, Path, description = "The request's id."),
           ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key gets the first answer.")),
    request_body = Approval,
    responses((status = 200, description = "They are a member now.", body = Approved),
              (status = 404, description = "No request with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 409, description = "No seat is free (the request waits), or it was answered or withdrawn meanwhile.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "A role or team that is not valid.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[post("/join-requests/{id}/approve")]
pub async fn approve_join_request(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::MembersWrite,
        &bytes,
        Box::new(move |conn, key| {
            let body: Approval = if body.is_empty() { Approval::default() } else { parse_body(&body)? };
            if !body.teams.is_empty() {
                key.require(Scope::TeamsWrite)?;
            }
            let role: Role = body.role.unwrap_or(ApiRole::Member).into();
            if role == Role::Owner {
                return Err(AppError::Invalid(FormErrors::field("role", "One of member, admin.")));
            }
            let done = join_requests::approve(conn, &key.actor, &key.slug, id, role, &body.teams)?;
            answer(
                StatusCode::OK,
                &Approved {
                    request_id: done.request,
                    member_id: done.membership,
                    email: done.email,
                    role: done.role.into(),
                    teams: done.teams,
                },
            )
        }),
    )
    .await
}

/// Why a request is denied.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Denial {
    /// Told to the person, at most 500 characters.
    pub reason: Option<String>,
}

/// Denies a request; the person is told, with the reason if one is given.
#[utoipa::path(
    tag = "Join requests",
    params(("id" = Uuid, Path, description = "The request's id.")),
    request_body = Denial,
    responses((status = 204, description = "Denied."),
              (status = 404, description = "No request with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 409, description = "It was answered or withdrawn meanwhile.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "The reason is too long.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[post("/join-requests/{id}/deny")]
pub async fn deny_join_request(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    call(
        &req,
        Scope::MembersWrite,
        Box::new(move |conn, key| {
            let body: Denial = if body.is_empty() { Denial::default() } else { parse_body(&body)? };
            let reason = parse_text(body.reason.as_deref().unwrap_or_default(), "reason");
            join_requests::deny(conn, &key.actor, &key.slug, id, reason)
        }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
