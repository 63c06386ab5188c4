//! The Dashboard: my organizations and my role in each.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::extractors::SignedIn;
use super::htmx::page;
use super::layout::{Frame, Layout, Nav};
use super::AppState;
use crate::error::AppError;
use crate::services::viewer::{self, OrgChoice};

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    email: String,
    orgs: Vec<OrgChoice>,
}

/// GET /: the Dashboard when signed in, the sign-in page otherwise.
pub async fn home(frame: Frame) -> HttpResponse {
    let target = if frame.session.user_id().is_some() {
        "/dashboard"
    } else {
        "/sign-in"
    };
    HttpResponse::SeeOther()
        .insert_header(("Location", target))
        .finish()
}

/// GET /dashboard
pub async fn show_dashboard(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let viewer = state.db.run(move |conn| viewer::load(conn, user.0)).await?;
    page(&DashboardPage {
        email: viewer.email.clone(),
        orgs: viewer.orgs.clone(),
        layout: frame.layout("Dashboard", Some(viewer), None, Nav::Dashboard),
    })
}
