//! `/api/v1/seats`: seats used, reserved and the limit (DESIGN.md §2.2).

use actix_web::http::StatusCode;
use actix_web::{get, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::{call, json, ApiError};
use crate::domain::api_key::Scope;
use crate::services::seats;

/// The organization's seats: `used` = `members` + `reserved`, never more than `limit`
/// through an invitation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Seats {
    /// Active members, the Owner included.
    pub members: i64,
    /// Pending, unexpired invitations.
    pub reserved: i64,
    pub used: i64,
    pub limit: i64,
    /// Seats an invitation may still take.
    pub available: i64,
}

/// Seats used, reserved and the limit.
#[utoipa::path(
    tag = "Seats",
    responses((status = 200, description = "The seats.", body = Seats)),
    security(("api_key" = ["members:read"]))
)]
#[get("/seats")]
pub async fn get_seats(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let usage =
        call(&req, Scope::MembersRead, Box::new(move |conn, key| seats::usage(conn, &key.actor, &key.slug))).await?;
    let body = Seats {
        members: usage.members,
        reserved: usage.reserved,
        used: usage.used(),
        limit: usage.limit,
        available: usage.available(),
    };
    Ok(json(StatusCode::OK, &body))
}
