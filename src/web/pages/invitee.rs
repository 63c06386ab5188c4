//! The invitee's side: the invitation link's page, and Accept / Decline from it or from the Dashboard.

use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use tracing_actix_web::RequestId;
use uuid::Uuid;

use super::message::MessagePage;
use crate::domain::{InvitationStatus, Token};
use crate::error::AppError;
use crate::services::dashboard;
use crate::services::events::Actor;
use crate::services::invitations::{self, Answer, InvitationRef, InvitationView};
use crate::web::client::ClientIp;
use crate::web::extractors::SignedIn;
use crate::web::format::{format_date, format_datetime};
use crate::web::htmx::{is_htmx, page, page_with_status, redirect, with_trigger};
use crate::web::layout::{Frame, Nav};
use crate::web::pages::dashboard::DashboardView;
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// What the invitation page offers the person looking at it.
pub enum InviteState {
    /// Signed in as the invitee: Accept and Decline.
    Open,
    /// Not signed in: Sign in or Create account.
    SignedOut,
    /// Signed in as someone else (their address): how to switch.
    OtherAccount(String),
    /// Accepted, declined, revoked or expired.
    Closed,
}

#[derive(Template)]
#[template(path = "invite/show.html")]
struct InvitationPage {
    layout: crate::web::layout::Layout,
    inv: InvitationView,
    state: InviteState,
    token: String,
    next: String,
    expires: String,
    closed_sentence: String,
    admins: String,
}

#[derive(Template)]
#[template(path = "dashboard/_answered.html")]
struct AnsweredFragment {
    csrf: String,
    view: DashboardView,
    level: FlashLevel,
    message: String,
}

/// The bell's answer: the item becomes its outcome.
#[derive(Template)]
#[template(path = "notifications/_answered.html")]
struct BellAnswered {
    id: Uuid,
    orgs: Vec<crate::services::viewer::OrgChoice>,
    /// The organization of the page the bell was answered on, marked current in the switcher.
    current: String,
    level: FlashLevel,
    message: String,
}

/// Where an invitation was answered in place: the Dashboard's prompt (the default) or the bell.
#[derive(Debug, serde::Deserialize)]
pub struct AnswerFrom {
    #[serde(default)]
    from: String,
}

fn no_referrer(mut response: HttpResponse) -> HttpResponse {
    // The link's token must not leak to other sites through the Referer header.
    response.headers_mut().insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn not_valid(frame: Frame, viewer: Option<crate::services::viewer::Viewer>) -> Result<HttpResponse, AppError> {
    let response = page_with_status(
        StatusCode::NOT_FOUND,
        &MessagePage {
            layout: frame.layout("Invitation link not valid", viewer, None, Nav::None),
            heading: "This invitation link is not valid".into(),
            paragraphs: vec![
                "Check that you opened the whole link from the email. If it was sent again, only the newest link works."
                    .into(),
                "If it still does not work, ask whoever invited you to send a new invitation.".into(),
            ],
            action: Some(("/help".into(), "Help".into())),
        },
    )?;
    Ok(no_referrer(response))
}

fn closed_sentence(inv: &InvitationView) -> String {
    let when = inv.responded_at.map(format_date).unwrap_or_default();
    let ask = format!("Ask an admin of {} to send a new invitation.", inv.org_name);
    match inv.status {
        InvitationStatus::Accepted => {
            format!("It was accepted on {when}. Members find {} on their Dashboard.", inv.org_name)
        }
        InvitationStatus::Declined => {
            format!("It was declined on {when}. Declined by mistake? {ask}")
        }
        InvitationStatus::Revoked => {
            format!("An admin of {} revoked it on {when}. {ask}", inv.org_name)
        }
        InvitationStatus::Expired => format!("It expired on {}. {ask}", format_date(inv.expires_at)),
        InvitationStatus::Pending => String::new(),
    }
}

/// GET /invite/{token}: shows the invitation; changes nothing.
pub async fn show_invitation(
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let signed_in = frame.session.user_id();
    let token = Token::parse(&path);
    let lookup = token.clone();
    let (viewer, found) =
        state.db.run(move |conn| invitations::link_page(conn, &ip.network(), signed_in, lookup.as_ref())).await?;
    let (Some(token), Some(inv)) = (token, found) else {
        return not_valid(frame, viewer);
    };
    let state = match (&viewer, inv.status) {
        (_, status) if status != InvitationStatus::Pending => InviteState::Closed,
        (None, _) => InviteState::SignedOut,
        (Some(v), _) if crate::domain::email_address::same_address(&v.email, &inv.email) => InviteState::Open,
        (Some(v), _) => InviteState::OtherAccount(v.email.clone()),
    };
    let title = format!("Invitation to {}", inv.org_name);
    let mut layout = frame.layout(title, viewer, None, Nav::None);
    layout.offers_sign_in = matches!(state, InviteState::SignedOut);
    let response = page(&InvitationPage {
        next: format!("/invite/{}", token.as_str()),
        token: token.as_str().to_owned(),
        expires: format_datetime(inv.expires_at),
        closed_sentence: closed_sentence(&inv),
        admins: inv.admins.join(", "),
        state,
        inv,
        layout,
    })?;
    Ok(no_referrer(response))
}

fn answer_of(path: &str) -> Result<Answer, AppError> {
    match path {
        "accept" => Ok(Answer::Accept),
        "decline" => Ok(Answer::Decline),
        _ => Err(AppError::NotFound),
    }
}

/// POST /invite/{token}/{accept|decline}. Accepting needs the invitee's account;
/// declining works with the link alone.
pub async fn answer_by_link(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    user: Option<SignedIn>,
    request_id: RequestId,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (token_text, action) = path.into_inner();
    let answer = answer_of(&action)?;
    let token = Token::parse(&token_text).ok_or(AppError::NotFound)?;
    let back = format!("/invite/{}", token.as_str());
    let request_id = Some(request_id.to_string());
    let result = match (user, answer) {
        (Some(user), _) => {
            let actor = Actor::new(user.0, request_id);
            state.db.run(move |conn| invitations::respond_by_link(conn, &ip.network(), &actor, token, answer)).await
        }
        (None, Answer::Decline) => {
            state.db.run(move |conn| invitations::decline_by_link(conn, &ip.network(), &token, request_id)).await
        }
        (None, Answer::Accept) => return Err(AppError::Unauthenticated),
    };
    let signed_in = frame.session.user_id().is_some();
    match result {
        Ok(done) => {
            let (message, target) = match answer {
                Answer::Accept => (joined_message(&done), format!("/orgs/{}", done.org_slug)),
                Answer::Decline if signed_in => {
                    (format!("You declined the invitation to {}.", done.org_name), "/dashboard".into())
                }
                // Without an account there is no Dashboard: the link's page says what happened.
                Answer::Decline => (format!("You declined the invitation to {}.", done.org_name), back),
            };
            frame.session.flash(FlashLevel::Success, message);
            Ok(no_referrer(redirect(&req, &target)))
        }
        Err(AppError::Conflict(message) | AppError::Forbidden(message)) => {
            frame.session.flash(FlashLevel::Error, message);
            Ok(no_referrer(redirect(&req, &back)))
        }
        Err(other) => Err(other),
    }
}

/// POST /invitations/{id}/{accept|decline}: from the Dashboard prompt or the bell
/// (`from=bell`), each of which gets its own answer in place.
pub async fn answer_from_dashboard(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    request_id: RequestId,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, String)>,
    form: Option<web::Form<AnswerFrom>>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let answer = answer_of(&action)?;
    let actor = Actor::new(user.0, Some(request_id.to_string()));
    let (result, after) =
        state.db.run(move |conn| dashboard::answer(conn, &actor, &InvitationRef::Id(id), answer)).await?;
    let (level, message) = match result {
        Ok(done) => (
            FlashLevel::Success,
            match answer {
                Answer::Accept => joined_message(&done),
                Answer::Decline => format!("You declined the invitation to {}.", done.org_name),
            },
        ),
        Err(AppError::Conflict(message) | AppError::Forbidden(message)) => (FlashLevel::Error, message),
        Err(other) => return Err(other),
    };
    if is_htmx(&req) && form.is_some_and(|f| f.from == "bell") {
        // The bell's count changes with every answer, and an open Dashboard follows.
        let fragment = BellAnswered { id, orgs: after.viewer.orgs, current: org_of_current_page(&req), level, message };
        return Ok(with_trigger(page(&fragment)?, "bellChanged, bellStream"));
    }
    if is_htmx(&req) {
        let fragment =
            AnsweredFragment { csrf: frame.csrf().to_owned(), view: DashboardView::new(&after), level, message };
        return Ok(with_trigger(page(&fragment)?, "bellChanged"));
    }
    frame.session.flash(level, message);
    Ok(redirect(&req, "/dashboard"))
}

/// The organization whose page htmx says the request came from (`HX-Current-URL`), if any.
fn org_of_current_page(req: &HttpRequest) -> String {
    req.headers()
        .get("HX-Current-URL")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok())
        .and_then(|url| url.path().strip_prefix("/orgs/").and_then(|p| p.split('/').next()).map(str::to_owned))
        .unwrap_or_default()
}

/// "You joined Acme as Member, with team Platform." and what was skipped, if anything.
pub fn joined_message(done: &crate::services::invitations::Answered) -> String {
    let mut message = format!("You joined {} as {}", done.org_name, done.role.label());
    if !done.joined.is_empty() {
        message.push_str(&format!(", with {}", done.joined.join(", ")));
    }
    message.push('.');
    if !done.skipped.is_empty() {
        message.push_str(&format!(" Skipped, deleted since you were invited: {}.", done.skipped.join(", ")));
    }
    message
}
