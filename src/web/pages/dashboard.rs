//! The Dashboard: invitations waiting for me, my organizations and my role in each.

use crate::error::AppError;
use crate::services::dashboard::{self, Dashboard};
use crate::services::invitations::PendingForMe;
use crate::services::viewer::OrgChoice;
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

/// What the Dashboard shows below its heading, refreshed in place whenever the
/// bell changes, so an invitation answered elsewhere (the bell, a link) goes here too.
pub struct DashboardView {
    pub invitations: Vec<PromptItem>,
    pub email: String,
    pub orgs: Vec<OrgChoice>,
}

impl DashboardView {
    pub fn new(dashboard: &Dashboard) -> Self {
        DashboardView {
            invitations: dashboard
                .pending
                .iter()
                .map(|invitation| PromptItem {
                    expires: format_date(invitation.expires_at),
                    invitation: invitation.clone(),
                })
                .collect(),
            email: dashboard.viewer.email.clone(),
            orgs: dashboard.viewer.orgs.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    csrf: String,
    view: DashboardView,
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
    let dashboard = state.db.run(move |conn| dashboard::load(conn, user.0)).await?;
    page(&DashboardPage {
        csrf: frame.csrf().to_owned(),
        view: DashboardView::new(&dashboard),
        layout: frame.layout("Dashboard", Some(dashboard.viewer), None, Nav::Dashboard),
    })
}
