//! `/api/v1/audit-events`: the audit log, newest first (DESIGN.md §2.7).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{call_reading, json, parse_cursor, parse_limit, ApiError};
use crate::domain::api_key::Scope;
use crate::error::{AppError, FormErrors};
use crate::services::audit::{self, AuditFilter};
use crate::services::events::EventKind;

/// Something that happened in the organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    /// The event's name, e.g. `invitation.created`, `member.role_changed`.
    pub action: String,
    /// Who did it: "Name <email>", `API key “HR sync”`, `Roster`, or the operator.
    pub actor: String,
    /// What it was done to: an email address, a team's name, …
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A page of the audit log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub data: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; none on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and position of `GET /audit-events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// One event name, e.g. `invitation.accepted`.
    action: Option<String>,
    /// Part of the actor's name or email address, any case.
    actor: Option<String>,
    /// Events at or after this moment (RFC 3339).
    since: Option<String>,
    /// Events before this moment (RFC 3339).
    until: Option<String>,
    /// Rows per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn moment(field: &'static str, text: Option<&str>, errors: &mut FormErrors) -> Option<OffsetDateTime> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    let parsed = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok();
    if parsed.is_none() {
        errors.add(field, "A moment in RFC 3339 form, e.g. 2026-12-01T00:00:00Z.");
    }
    parsed
}

/// The filter and page size `params` ask for; each value that is not valid is named.
fn audit_filter(params: AuditParams) -> Result<(AuditFilter, i64), AppError> {
    let mut errors = FormErrors::new();
    let action = match params.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => {
            let kind = EventKind::from_key(text);
            if kind.is_none() {
                errors.add("action", format!("“{text}” is not an event name, such as invitation.created."));
            }
            kind
        }
    };
    let since = moment("since", params.since.as_deref(), &mut errors);
    let until = moment("until", params.until.as_deref(), &mut errors);
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let before: Option<(i128, i64)> = parse_cursor(params.cursor.as_deref(), &mut errors);
    let before = before.and_then(|(nanos, seq)| Some((OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?, seq)));
    errors.into_result()?;
    let actor = params.actor.unwrap_or_default().trim().to_owned();
    Ok((AuditFilter { action, actor, since, until, before, batch: None }, limit))
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    tag = "Audit log",
    params(AuditParams),
    responses((status = 200, description = "A page of events.", body = AuditPage),
              (status = 422, description = "A filter is not valid; `errors` names it.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["audit:read"]))
)]
#[get("/audit-events")]
pub async fn list_audit_events(req: HttpRequest, params: web::Query<AuditParams>) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (events, limit) = call_reading(
        &req,
        Scope::AuditRead,
        Box::new(move |conn, key| {
            let (filter, limit) = audit_filter(params.clone())?;
            Ok((audit::list_for(conn, &key.actor, &key.slug, &filter, limit)?, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) =
        crate::web::listing::page_and_cursor(&events, limit, |e| (e.created_at.unix_timestamp_nanos(), e.seq));
    let data = shown
        .iter()
        .map(|e| AuditEvent {
            id: e.id,
            action: e.action.clone(),
            actor: e.actor_label.clone(),
            target: e.target_label.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            request_id: e.request_id.clone(),
            created_at: e.created_at,
        })
        .collect();
    Ok(json(StatusCode::OK, &AuditPage { data, next_cursor }))
}
