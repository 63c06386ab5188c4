//! The dev mailbox: with no SMTP server configured, the mail Roster would send is read here.

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::error::AppError;
use crate::services;
use crate::web::format::format_datetime;
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;

const LIMIT: i64 = 100;

pub struct Row {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub status: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "dev/mailbox.html")]
struct MailboxPage {
    layout: Layout,
    messages: Vec<Row>,
    limit: i64,
}

/// A piece of a plain-text body: text, or a link to make clickable.
pub enum Part {
    Text(String),
    Link(String),
}

#[derive(Template)]
#[template(path = "dev/message.html")]
struct MessagePage {
    layout: Layout,
    subject: String,
    to: String,
    to_name: Option<String>,
    created: String,
    body: Vec<Part>,
}

/// Splits text into plain parts and http(s) links, so links can be rendered as anchors
/// while everything stays escaped.
pub fn linkify(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("http://").into_iter().chain(rest.find("https://")).min() {
        let (before, from_link) = rest.split_at(start);
        let end =
            from_link.find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"').unwrap_or(from_link.len());
        if !before.is_empty() {
            parts.push(Part::Text(before.to_owned()));
        }
        parts.push(Part::Link(from_link[..end].to_owned()));
        rest = &from_link[end..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    parts
}

/// The dev mailbox answers only requests from this machine.
fn local_only(req: &actix_web::HttpRequest) -> Result<(), AppError> {
    match req.peer_addr() {
        Some(peer) if peer.ip().is_loopback() => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

/// GET /dev/mailbox
pub async fn list_mail(
    req: actix_web::HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    local_only(&req)?;
    // Who is looking, for the usual header (a signed-in person is offered no `Sign in`).
    let signed_in = frame.session.user_id();
    let (viewer, messages) = state.db.run(move |conn| services::mailbox::page(conn, signed_in, LIMIT)).await?;
    let messages = messages
        .into_iter()
        .map(|m| Row {
            id: m.id,
            to_address: m.to_address,
            subject: m.subject,
            status: m.status,
            created: format_datetime(m.created_at),
        })
        .collect();
    page(&MailboxPage { layout: frame.layout("Dev mailbox", viewer, None, Nav::None), messages, limit: LIMIT })
}

/// GET /dev/mailbox/{id}
/// Shown instead of a body sealed under another server key (a development key is
/// generated afresh on each run unless ROSTER_SESSION_KEY is set).
const UNREADABLE: &str = "This message was written under another server key (ROSTER_SESSION_KEY), so its body \
                          cannot be opened any more. Ask for the email again.";

pub async fn show_mail(
    req: actix_web::HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    local_only(&req)?;
    let id = Uuid::parse_str(&path.into_inner()).map_err(|_| AppError::NotFound)?;
    let links = state.links.clone();
    let signed_in = frame.session.user_id();
    let (viewer, message) = state.db.run(move |conn| services::mailbox::letter(conn, &links, signed_in, id)).await?;
    page(&MessagePage {
        layout: frame.layout(message.subject.clone(), viewer, None, Nav::None),
        body: linkify(message.text_body.as_deref().unwrap_or(UNREADABLE)),
        subject: message.subject,
        to: message.to_address,
        to_name: message.to_name,
        created: format_datetime(message.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_split_out_of_text() {
        let parts = linkify("Open http://127.0.0.1:8080/verify-email?token=abc now.\nBye");
        let rendered: Vec<String> = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => format!("T({t})"),
                Part::Link(l) => format!("L({l})"),
            })
            .collect();
        assert_eq!(rendered, vec!["T(Open )", "L(http://127.0.0.1:8080/verify-email?token=abc)", "T( now.\nBye)"]);
    }
}
