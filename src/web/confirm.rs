//! The one confirmation of destructive actions (DESIGN.md §4): a dialog that opens on
//! `Cancel`, with the destructive button last in tab order; without JavaScript, a page
//! with the same form. Large losses (an organization) use a typed name instead.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use actix_web::http::header::{HeaderName, HeaderValue};

use super::htmx::{is_htmx, page};
use super::layout::{Frame, Layout, Nav};
use crate::error::AppError;
use crate::services::impact::Seen;
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
    /// Who loses which project, for a change that moves access (DESIGN.md §2.13);
    /// the form carries its digest back.
    pub impact: Option<Seen>,
    /// Asked again: what the change does changed since the person looked.
    pub stale: bool,
}

/// A confirmation's form that carries only its preview's digest.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SeenForm {
    #[serde(default)]
    pub digest: Option<String>,
}

/// A confirmation answered again, with status 409: what the change does now and why it
/// is asked again. With htmx, its dialog replaces the one that was open.
pub fn asked_again(req: &HttpRequest, mut page: HttpResponse) -> HttpResponse {
    *page.status_mut() = actix_web::http::StatusCode::CONFLICT;
    if is_htmx(req) {
        let headers = page.headers_mut();
        headers.insert(HeaderName::from_static("hx-retarget"), HeaderValue::from_static("#dialog-slot"));
        headers.insert(HeaderName::from_static("hx-reswap"), HeaderValue::from_static("innerHTML"));
    }
    page
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
