//! The Dashboard: invitations waiting for me, my organizations and my role in each.

use crate::error::AppError;
use crate::services::dashboard::{self, Dashboard};
use crate::services::invitations::PendingForMe;
use crate::services::viewer::OrgChoice;
use crate::web::extractors::SignedIn;
use crate::web::format::When;
use crate::web::htmx::page_with_status;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;
use actix_web::{web, HttpResponse};
use askama::Template;

/// A pending invitation in the Dashboard prompt.
pub struct PromptItem {
    pub invitation: PendingForMe,
    pub expires: When,
}

/// What the Dashboard shows below its heading, refreshed in place whenever the
/// bell changes, so an invitation answered elsewhere (the bell, a link) goes here too.
pub struct DashboardView {
    pub invitations: Vec<PromptItem>,
    /// An organization that verified the domain of the viewer's address offers `Join`.
    pub suggestion: Option<crate::services::domains::Suggestion>,
    /// `Ask to join`, through the domain of the viewer's address (policy Request).
    pub ask: Option<crate::services::domains::Suggestion>,
    /// The viewer's requests to join that wait for an answer, and when each was sent.
    pub my_requests: Vec<(crate::services::join_requests::Mine, When)>,
    pub email: String,
    pub orgs: Vec<OrgChoice>,
    /// Organizations that require two-factor of the viewer, who has none.
    pub two_factor_due: Vec<crate::services::viewer::TwoFactorDue>,
}

impl DashboardView {
    /// Whether the organization `slug` is closed to the viewer until they set up two-factor.
    pub fn closed_to_me(&self, slug: &str) -> bool {
        self.two_factor_due.iter().any(|n| n.closed && n.slug == slug)
    }

    pub fn new(dashboard: &Dashboard) -> Self {
        DashboardView {
            invitations: dashboard
                .pending
                .iter()
                .map(|invitation| PromptItem {
                    expires: When::of(invitation.expires_at),
                    invitation: invitation.clone(),
                })
                .collect(),
            suggestion: dashboard.suggestion.clone(),
            ask: dashboard.ask.clone(),
            my_requests: dashboard.my_requests.iter().map(|r| (r.clone(), When::of(r.asked_at))).collect(),
            email: dashboard.viewer.email.clone(),
            orgs: dashboard.viewer.orgs.clone(),
            two_factor_due: dashboard.viewer.two_factor_due(time::OffsetDateTime::now_utc()),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct DashboardPage {
    layout: Layout,
    csrf: String,
    view: DashboardView,
    /// `Ask to join` as sent, and why it was refused (shown beside the note).
    ask_note: String,
    ask_error: Option<String>,
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
    render(frame, &state, user.0, actix_web::http::StatusCode::OK, String::new(), None).await
}

/// The Dashboard with `status`, and `Ask to join` as sent with why it was refused.
pub async fn render(
    frame: Frame,
    state: &AppState,
    user: crate::domain::UserId,
    status: actix_web::http::StatusCode,
    ask_note: String,
    ask_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let dashboard = state.db.run(move |conn| dashboard::load(conn, user)).await?;
    page_with_status(
        status,
        &DashboardPage {
            csrf: frame.csrf().to_owned(),
            view: DashboardView::new(&dashboard),
            layout: frame.layout("Dashboard", Some(dashboard.viewer), None, Nav::Dashboard),
            ask_note,
            ask_error,
        },
    )
}

/// POST /domains/{id}/join: `Join` an organization that suggests it through the
/// verified domain of the viewer's address.
pub async fn join_by_suggestion(
    req: actix_web::HttpRequest,
    frame: Frame,
    acting: crate::web::extractors::Acting,
    state: web::Data<AppState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, AppError> {
    let (user, id) = (acting.user, id.into_inner());
    let (name, slug) = state.db.run(move |conn| crate::services::domains::join_suggested(conn, user, id)).await?;
    frame.session.flash(crate::web::session::FlashLevel::Success, format!("You joined {name} as Member."));
    Ok(crate::web::htmx::redirect(&req, &format!("/orgs/{slug}")))
}
