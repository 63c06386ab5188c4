//! A short page with a heading, some sentences and at most one button: what sign-in,
//! sign-up and invitation links answer with when there is no form to show.

use askama::Template;

use crate::web::layout::Layout;

/// A short page with a heading, some sentences and at most one button.
#[derive(Template)]
#[template(path = "auth/message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub action: Option<(String, String)>,
}
