//! The notification bell: its live count, its dropdown, and the full Notifications page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::AppError;
use crate::services::notifications::{self as bell, Item, Panel};
use crate::web::extractors::SignedIn;
use crate::web::format::{format_date, When};
use crate::web::htmx::{is_htmx, page, redirect, with_trigger};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;

const PANEL_ITEMS: i64 = 8;
const PAGE_SIZE: i64 = 30;

#[derive(Template)]
#[template(path = "notifications/_count.html")]
struct CountFragment {
    unread: i64,
}

#[derive(Template)]
#[template(path = "notifications/_panel.html")]
struct PanelFragment {
    csrf: String,
    panel: Panel,
}

/// An item with its time as people read it.
pub struct ItemView {
    pub item: Item,
    pub when: When,
}

/// The items of one day (UTC, as every time on the pages), newest first.
pub struct Day {
    /// "Today", "Yesterday", or the date.
    pub label: String,
    pub items: Vec<ItemView>,
}

/// `items` (newest first) grouped by the day they arrived, as of `now`.
fn by_day(items: &[Item], now: time::OffsetDateTime) -> Vec<Day> {
    let today = now.to_offset(time::UtcOffset::UTC).date();
    let mut days: Vec<(time::Date, Day)> = Vec::new();
    for item in items {
        let date = item.created_at.to_offset(time::UtcOffset::UTC).date();
        let view = ItemView { when: When::of(item.created_at), item: item.clone() };
        match days.last_mut() {
            Some((last, day)) if *last == date => day.items.push(view),
            _ => {
                let label = match (today - date).whole_days() {
                    0 => "Today".to_owned(),
                    1 => "Yesterday".to_owned(),
                    _ => format_date(item.created_at),
                };
                days.push((date, Day { label, items: vec![view] }));
            }
        }
    }
    days.into_iter().map(|(_, day)| day).collect()
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct NotificationsPage {
    layout: Layout,
    csrf: String,
    days: Vec<Day>,
    unread_only: bool,
    next_url: Option<String>,
}

/// Tells htmx to stop polling (status 286): nobody is signed in any more.
fn stop_polling() -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(286).unwrap_or(StatusCode::OK)).finish()
}

/// GET /notifications/count: the badge and the button's accessible name, swapped
/// out of band so an open dropdown is never re-rendered.
pub async fn bell_count(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // Served outside the session layer: polled by every open tab, it checks the
    // session in the statement that counts, one round trip instead of two.
    let Some(session) = crate::web::session::row_id_of_request(&request, &state) else {
        return Ok(stop_polling());
    };
    let app = state.clone();
    let found = state.db.run(move |conn| bell::unread_count_by_session(conn, &app.bell_counts, &session)).await?;
    let Some((user, unread)) = found else {
        return Ok(stop_polling());
    };
    crate::web::extractors::record_user(&request, user);
    page(&CountFragment { unread })
}

/// GET /notifications/panel: the dropdown's content.
pub async fn bell_panel(frame: Frame, user: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let panel = state.db.run(move |conn| bell::panel(conn, user.0, PANEL_ITEMS)).await?;
    page(&PanelFragment { csrf: frame.csrf().to_owned(), panel })
}

#[derive(Debug, Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    before: String,
}

/// GET /notifications: every notification, newest first.
pub async fn list_notifications(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let unread_only = params.filter == "unread";
    let before = params.before.split_once('_').and_then(|(nanos, seq)| {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
        Some((at, seq.parse().ok()?))
    });
    let (viewer, rows) = state.db.run(move |conn| bell::page(conn, user.0, unread_only, before, PAGE_SIZE)).await?;
    let (shown, has_more) = crate::web::listing::split_page(&rows, PAGE_SIZE);
    let next_url = has_more.then(|| shown.last()).flatten().map(|last| {
        let filter = if unread_only { "filter=unread&" } else { "" };
        format!("/notifications?{filter}before={}_{}", last.created_at.unix_timestamp_nanos(), last.seq)
    });
    page(&NotificationsPage {
        csrf: frame.csrf().to_owned(),
        days: by_day(shown, time::OffsetDateTime::now_utc()),
        unread_only,
        next_url,
        layout: frame.layout("Notifications", Some(viewer), None, Nav::None),
    })
}

/// POST /notifications/{id}/open: its reader pressed it; marks it read and goes
/// where it is about.
pub async fn open_notification(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let href = state.db.run(move |conn| bell::open(conn, user.0, id)).await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", href)).finish())
}

/// GET /notifications/{id}: goes where it is about and changes nothing (mail
/// scanners and prefetchers open links too); only pressing it marks it read.
pub async fn follow_notification(
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let href = state.db.run(move |conn| bell::target(conn, user.0, id)).await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", href)).finish())
}

/// POST /notifications/read-all: `Mark all as read`.
pub async fn mark_all_read(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let panel = state.db.run(move |conn| bell::mark_all_read(conn, user.0, PANEL_ITEMS)).await?;
    if is_htmx(&req) {
        return Ok(with_trigger(page(&PanelFragment { csrf: frame.csrf().to_owned(), panel })?, "bellChanged"));
    }
    frame.session.flash(crate::web::session::FlashLevel::Success, "All notifications are marked as read.");
    Ok(redirect(&req, "/notifications"))
}

/// GET /notifications/stream: server-sent events, one `bell` event each time the
/// signed-in user's bell changes; the page then fetches the count.
/// A stream asked for on a new connection is served by `web::connections`; this
/// route answers one asked for on a connection kept alive from an earlier request.
pub async fn bell_stream(user: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for header in crate::web::live::STREAM_HEADERS {
        response.insert_header(header);
    }
    response.streaming(state.bell.events_for(user.0 .0))
}
