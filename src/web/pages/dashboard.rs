//! The Dashboard: invitations waiting for me, my organizations and my role in each.

use crate::error::AppError;
use crate::services::dashboard::{self, Dashboard, DashboardOrgs};
use crate::services::invitations::PendingForMe;
use crate::web::extractors::SignedIn;
use crate::web::format::format_date;
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;
use actix_web::{web, HttpResponse};
use askama::Template;

/// A pending invitation in the Dashboard prompt.
pub struct PromptItem {
    pub invitation: PendingForMe,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    csrf: String,
    invitations: Vec<PromptItem>,
    orgs: DashboardOrgs,
    oob: bool,
}

/// GET /: the Dashboard when signed in, the sign-in page otherwise.
pub async fn home(frame: Frame) -> HttpResponse {
    let target = if frame.session.user_id().is_some() { "/dashboard" } else { "/sign-in" };
    HttpResponse::SeeOther().insert_header(("Location", target)).finish()
}

/// GET /dashboard
pub async fn show_dashboard(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Dashboard { viewer, pending } = state.db.run(move |conn| dashboard::load(conn, user.0)).await?;
    page(&DashboardPage {
        csrf: frame.csrf().to_owned(),
        invitations: pending
            .into_iter()
            .map(|invitation| PromptItem { expires: format_date(invitation.expires_at), invitation })
            .collect(),
        orgs: DashboardOrgs { email: viewer.email.clone(), orgs: viewer.orgs.clone() },
        layout: frame.layout("Dashboard", Some(viewer), None, Nav::Dashboard),
        oob: false,
    })
}
