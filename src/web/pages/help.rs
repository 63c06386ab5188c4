//! The Help page: answers in Roster's own words (DESIGN.md §2.8).

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::services::viewer;
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "help/index.html")]
struct HelpPage {
    layout: Layout,
    dev_mailbox: bool,
    support_url: Option<String>,
    /// When unused sessions end (`ROSTER_SESSION_IDLE_TIMEOUT`), in words.
    idle_timeout: String,
    /// When every session ends, in words.
    absolute_lifetime: String,
}

/// GET /help: open to everyone; signed-in users get their usual header.
pub async fn show_help(frame: Frame, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let signed_in = frame.session.user_id();
    let viewer = state.db.run(move |conn| viewer::optional(conn, signed_in)).await?;
    page(&HelpPage {
        layout: frame.layout("Help", viewer, None, Nav::None),
        dev_mailbox: state.settings.uses_dev_mailbox(),
        support_url: state.settings.support_url.as_ref().map(|u| u.to_string()),
        idle_timeout: crate::web::format::span(state.settings.session_idle_timeout),
        absolute_lifetime: crate::web::format::span(crate::web::session::ABSOLUTE_LIFETIME),
    })
}
