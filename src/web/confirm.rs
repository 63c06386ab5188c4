//! The one confirmation of destructive actions (DESIGN.md §4): a dialog that opens on
//! `Cancel`, with the destructive button last in tab order; without JavaScript, a page
//! with the same form. Large losses (an organization) use a typed name instead.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::htmx::{is_htmx, page};
use super::layout::{Frame, Layout, Nav};
use crate::error::AppError;
use crate::services::viewer::Viewer;

/// What a confirmation asks and where it posts.
pub struct Confirm {
    /// The heading: "Delete team", "Revoke API key".
    pub title: String,
    /// The words before what goes: "Delete team".
    pub question: String,
    /// What goes, in bold: "Platform".
    pub subject: String,
    /// What follows from it, in a sentence or two.
    pub consequence: String,
    /// The destructive button: "Delete team", "Revoke".
    pub button: String,
    /// Where the form posts.
    pub action: String,
    /// Where `Cancel` leads without JavaScript.
    pub back: String,
}

#[derive(Template)]
#[template(path = "confirm/page.html")]
struct ConfirmPage {
    layout: Layout,
    csrf: String,
    confirm: Confirm,
}

#[derive(Template)]
#[template(path = "confirm/_dialog.html")]
struct ConfirmDialog {
    csrf: String,
    confirm: Confirm,
}

/// Answers the GET of a confirmation on a page of organization `org` (a slug) under
/// `nav`, seen by `viewer`: a dialog for htmx, else a page.
pub fn ask(
    req: &HttpRequest,
    frame: Frame,
    viewer: Viewer,
    org: &str,
    nav: Nav,
    confirm: Confirm,
) -> Result<HttpResponse, AppError> {
    let csrf = frame.csrf().to_owned();
    if is_htmx(req) {
        return page(&ConfirmDialog { csrf, confirm });
    }
    let layout = frame.layout(confirm.title.clone(), Some(viewer), Some(org), nav);
    page(&ConfirmPage { layout, csrf, confirm })
}
