//! The Seat Usage page (Owner and Admins): seats used against the limit, and at the
//! limit what frees seats, each actionable in place.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::invitations::RowView;
use super::members::MemberView;
use crate::domain::{Role, SeatUsage};
use crate::error::AppError;
use crate::services::seats;
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::recent_writes::browser_wrote;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "seats/index.html")]
struct SeatsPage {
    layout: Layout,
    slug: String,
    csrf: String,
    usage: SeatUsage,
    /// Suspended members, who hold no seat.
    suspended: i64,
    rows: Vec<RowView>,
    /// Members inactive for 90 days or more.
    members: Vec<MemberView>,
    is_owner: bool,
    owner_name: String,
}

/// GET /orgs/{slug}/seats
pub async fn show_seats(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    // The figures from the read replica, unless this browser just changed something.
    let ((viewer, access), found) = state
        .db
        .run_then_read(
            browser_wrote(&req),
            move |conn| seats::page_access(conn, &slug, user.0),
            |conn, (_, access)| seats::figures(conn, access),
        )
        .await?;
    let role = access.role;
    page(&SeatsPage {
        rows: found.oldest.iter().map(|i| RowView::new(i, role, &[])).collect(),
        members: found.inactive.into_iter().map(MemberView::new).collect(),
        slug: access.org.slug.clone(),
        csrf: frame.csrf().to_owned(),
        usage: found.usage,
        suspended: found.suspended,
        is_owner: role == Role::Owner,
        owner_name: found.owner_name,
        layout: frame.layout("Seat Usage", Some(viewer), Some(&access.org.slug), Nav::Seats),
    })
}
