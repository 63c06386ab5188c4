//! `/api/v1/members`: list (filters, keyset cursor), get, change role, remove.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::common::{call, call_reading, json, parse_body, parse_cursor, parse_id, parse_limit, ApiError, ApiRole};
use crate::domain::api_key::Scope;
use crate::domain::Role;
use crate::error::{AppError, FormErrors};
use crate::services::members::{self, MemberEntry, MemberFilter, MemberSort, MemberStatus, TwoFactorFilter};

/// A member of the organization (or, listed with `status=pending` or `all`, a
/// pending invitation, which holds a seat).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// The membership's id (an invitation's id for `type` `invitation`).
    pub id: Uuid,
    /// `member`, or `invitation` for a pending invitation.
    #[serde(rename = "type")]
    pub kind: String,
    /// The person's account; none for an invitation.
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: String,
    pub role: ApiRole,
    /// `active`, `suspended` (the organization is closed to them, their seat is free;
    /// role, teams and grants kept), or `pending` for an invitation.
    pub status: String,
    /// Whether the person has verified their email address.
    pub verified: bool,
    /// When they joined (when an invitation was sent).
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    /// When they last used the organization; none if never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_active_at: Option<OffsetDateTime>,
    /// Their second factor: `off`, `on` (an authenticator app) or `passkey`. None for an
    /// invitation, and for a key whose role does not manage members.
    #[schema(example = "on")]
    pub two_factor: Option<String>,
    /// When the membership ends (Roster ends it then, as `DELETE` would); none if it does not.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl From<&MemberEntry> for Member {
    fn from(entry: &MemberEntry) -> Self {
        let row = &entry.row;
        Member {
            id: row.id,
            kind: if row.is_member() { "member" } else { "invitation" }.into(),
            user_id: row.user_id,
            name: row.name.clone(),
            email: row.email.clone(),
            role: row.role.into(),
            status: match (row.is_member(), row.suspended) {
                (false, _) => "pending",
                (true, true) => "suspended",
                (true, false) => "active",
            }
            .into(),
            verified: row.verified,
            joined_at: row.joined,
            last_active_at: row.last_active,
            two_factor: entry.two_factor.map(|f| f.as_str().to_owned()),
            expires_at: row.expires_at,
        }
    }
}

/// A page of members, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberPage {
    pub data: Vec<Member>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and position of `GET /members`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// Part of a name or email address, any case.
    q: Option<String>,
    /// `owner`, `admin` or `member`.
    role: Option<String>,
    /// `active` (the default), `suspended`, `pending` (invitations) or `all` (every member and
    /// invitation); the last two also need `invitations:read`.
    status: Option<String>,
    /// `off`: members without a second factor; `on`: members with one (an app or a passkey).
    two_factor: Option<String>,
    /// Rows per page, 1 to 100 (default 50).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The members of the organization, sorted by name, a page at a time.
#[utoipa::path(
    tag = "Members",
    params(MemberParams),
    responses((status = 200, description = "A page of members.", body = MemberPage),
              (status = 422, description = "A filter is not valid; `errors` names it.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:read"]))
)]
#[get("/members")]
pub async fn list_members(req: HttpRequest, params: web::Query<MemberParams>) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (found, limit) = call_reading(
        &req,
        Scope::MembersRead,
        Box::new(move |conn, key| {
            let (filter, limit) = member_filter(params.clone())?;
            if !matches!(filter.status, MemberStatus::Active | MemberStatus::Suspended | MemberStatus::Expiring) {
                // Pending rows are invitations: listing them takes the scope that lists those.
                key.require(Scope::InvitationsRead)?;
            }
            Ok((members::list(conn, &key.actor, &key.slug, &filter, limit)?, limit))
        }),
    )
    .await?;
    let (shown, next_cursor) =
        crate::web::listing::page_and_cursor(&found, limit, |last| members::cursor_after(&last.row, MemberSort::Name));
    Ok(json(StatusCode::OK, &MemberPage { data: shown.iter().map(Member::from).collect(), next_cursor }))
}

/// The filter and page size `params` ask for; each value that is not valid is named.
fn member_filter(params: MemberParams) -> Result<(MemberFilter, i64), AppError> {
    let mut errors = FormErrors::new();
    let role = match params.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(text) => {
            let role = Role::from_db(text);
            if role.is_none() {
                errors.add("role", "One of owner, admin, member.");
            }
            role
        }
    };
    let status = match params.status.as_deref().map(str::trim).unwrap_or("") {
        "" | "active" => MemberStatus::Active,
        "suspended" => MemberStatus::Suspended,
        "pending" => MemberStatus::Pending,
        "expiring" => MemberStatus::Expiring,
        "all" => MemberStatus::All,
        _ => {
            errors.add("status", "One of active, suspended, pending, expiring, all.");
            MemberStatus::Active
        }
    };
    let two_factor = match params.two_factor.as_deref().map(str::trim).unwrap_or("") {
        "" => None,
        "off" => Some(TwoFactorFilter::Off),
        "on" => Some(TwoFactorFilter::On),
        _ => {
            errors.add("two_factor", "One of off, on.");
            None
        }
    };
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let after = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result()?;
    let search = params.q.unwrap_or_default().trim().to_owned();
    let sort = MemberSort::Name;
    Ok((MemberFilter { search, role, status, two_factor, sort, descending: false, after }, limit))
}

/// One member, by membership id.
#[utoipa::path(
    tag = "Members",
    params(("id" = Uuid, Path, description = "The membership's id.")),
    responses((status = 200, description = "The member.", body = Member),
              (status = 404, description = "No member with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:read"]))
)]
#[get("/members/{id}")]
pub async fn get_member(req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let entry =
        call(&req, Scope::MembersRead, Box::new(move |conn, key| members::get(conn, &key.actor, &key.slug, id)))
            .await?;
    Ok(json(StatusCode::OK, &Member::from(&entry)))
}

/// What `PATCH /members/{id}` changes: the role, the status, or both.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberChange {
    /// `admin` or `member`. Only the Owner makes or unmakes Admins, and a key acts at most as an Admin.
    pub role: Option<ApiRole>,
    /// `suspended` closes the organization to the member and frees their seat, keeping
    /// their role, teams and grants; `active` gives them back, seats permitting. The
    /// Owner is never suspended; only the Owner suspends an Admin.
    pub status: Option<ApiMemberStatus>,
    /// When the membership ends (RFC 3339, after today, within five years); `null`
    /// removes the date; absent leaves it. Never the Owner's.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<serde_json::Value>,
}

/// A field that is there, `null` included (`Some(Value::Null)`); an absent one is `None`
/// (by `default`), so `null` can mean "remove".
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<serde_json::Value>, D::Error> {
    <serde_json::Value as serde::Deserialize>::deserialize(deserializer).map(Some)
}

impl MemberChange {
    /// The end date asked for: `None` when absent, `Some(None)` for `null`.
    fn expiry(&self) -> Result<Option<Option<OffsetDateTime>>, AppError> {
        let refused = || {
            AppError::Invalid(FormErrors::field(
                "expires_at",
                "An RFC 3339 time after today and within five years, or null to remove the date.",
            ))
        };
        match &self.expires_at {
            None => Ok(None),
            Some(serde_json::Value::Null) => Ok(Some(None)),
            Some(serde_json::Value::String(text)) => {
                let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| refused())?;
                crate::domain::expiry::within_bounds(at, OffsetDateTime::now_utc()).map_err(|_| refused())?;
                Ok(Some(Some(at)))
            }
            Some(_) => Err(refused()),
        }
    }
}

/// A member's status as `PATCH` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiMemberStatus {
    Active,
    Suspended,
}

/// Changes a member's role or status; it takes effect on their next request.
#[utoipa::path(
    tag = "Members",
    params(("id" = Uuid, Path, description = "The membership's id.")),
    request_body = MemberChange,
    responses((status = 200, description = "The member with their new role or status.", body = Member),
              (status = 404, description = "No member with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 409, description = "Reactivating needs a free seat, and none is left; `detail` says the numbers.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "Neither role nor status, or a value that is not one of them.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[patch("/members/{id}")]
pub async fn change_member_role(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let entry = call(
        &req,
        Scope::MembersWrite,
        Box::new(move |conn, key| {
            let change = parse_body::<MemberChange>(&body)?;
            let expiry = change.expiry()?;
            if change.role.is_none() && change.status.is_none() && expiry.is_none() {
                let mut errors = FormErrors::new();
                errors.add(
                    "role",
                    "Give the new role (admin or member), the new status (active or suspended), when the membership \
                     ends (expires_at), or several.",
                );
                return Err(AppError::Invalid(errors));
            }
            let suspended = change.status.map(|s| s == ApiMemberStatus::Suspended);
            crate::services::expiry::update_member(
                conn,
                &key.actor,
                &key.slug,
                id,
                change.role.map(Into::into),
                suspended,
                expiry,
            )
        }),
    )
    .await?;
    Ok(json(StatusCode::OK, &Member::from(&entry)))
}

/// What happens to what a removed member created.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveParams {
    /// `true` keeps the webhook endpoints the member added enabled (the Owner and
    /// Admins are told); by default they are disabled with the member. The API keys
    /// they created go on working: keys belong to the organization.
    keep_webhooks: Option<bool>,
}

/// Removes a member from the organization. Their account and history stay; they
/// can be invited again. The webhook endpoints they added are disabled unless
/// `keep_webhooks=true`; their API keys are revoked.
#[utoipa::path(
    tag = "Members",
    params(("id" = Uuid, Path, description = "The membership's id."), RemoveParams),
    responses((status = 204, description = "Removed."),
              (status = 404, description = "No member with this id in the key's organization.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[delete("/members/{id}")]
pub async fn remove_member(
    req: HttpRequest,
    id: web::Path<String>,
    params: web::Query<RemoveParams>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, &req)?;
    let disable = !params.keep_webhooks.unwrap_or(false);
    call(
        &req,
        Scope::MembersWrite,
        Box::new(move |conn, key| members::remove(conn, &key.actor, &key.slug, id, disable, None)),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
