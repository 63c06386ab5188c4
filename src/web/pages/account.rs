//! The signed-in user's own account: profile, password, verification email, and
//! the browsers it is signed in on (Sessions).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::account_event::AccountEvent;
use crate::domain::{EmailAddress, NewPassword};
use crate::error::{AppError, FormErrors};
use crate::services::{accounts, sessions};
use crate::web::client::ClientIp;
use crate::web::extractors::SignedIn;
use crate::web::format::When;
use crate::web::htmx::{page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::{row_id_of_request, FlashLevel};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    verified: bool,
    member_since: When,
    /// `false`: the password section offers to set one by an emailed link.
    has_password: bool,
    /// Whether two-factor authentication is on.
    two_factor: bool,
    /// When the account signs in only with single sign-on: the organization and domain.
    sso_only: Option<crate::services::sso::SsoOnly>,
    errors: FormErrors,
    email_form: EmailForm,
    email_errors: FormErrors,
    sessions: Vec<SessionRow>,
    /// `ROSTER_SESSION_IDLE_TIMEOUT` in words.
    idle_timeout: String,
}

/// One signed-in browser as the Sessions section shows it.
struct SessionRow {
    public_id: uuid::Uuid,
    device: String,
    ip_address: String,
    signed_in: When,
    last_active: When,
    current: bool,
    /// How it signed in, in words ("password").
    methods: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    email_password: String,
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// What the page's forms show again after a refused submission.
#[derive(Default)]
struct Sent {
    errors: FormErrors,
    email_form: EmailForm,
    email_errors: FormErrors,
}

async fn render_account(
    req: &HttpRequest,
    frame: Frame,
    state: &AppState,
    user: SignedIn,
    status: StatusCode,
    sent: Sent,
) -> Result<HttpResponse, AppError> {
    let current = row_id_of_request(req, state).unwrap_or_default();
    let profile = state.db.run(move |conn| accounts::profile(conn, user.0, &current)).await?;
    let (viewer, created) = (profile.viewer, profile.created_at);
    let sessions = profile
        .sessions
        .into_iter()
        .map(|d| SessionRow {
            public_id: d.public_id,
            device: d.device,
            ip_address: d.ip_address,
            signed_in: When::of(d.signed_in_at),
            last_active: When::of(d.last_seen_at),
            current: d.current,
            methods: d.methods,
        })
        .collect();
    page_with_status(
        status,
        &AccountPage {
            name: viewer.name.clone(),
            email: viewer.email.clone(),
            verified: viewer.verified,
            member_since: When::of(created),
            has_password: profile.has_password,
            two_factor: profile.two_factor,
            sso_only: profile.sso_only,
            layout: frame.layout("Account settings", Some(viewer), None, Nav::None),
            errors: sent.errors,
            email_form: EmailForm { email_password: String::new(), ..sent.email_form },
            email_errors: sent.email_errors,
            sessions,
            idle_timeout: crate::web::format::span(state.settings.session_idle_timeout),
        },
    )
}

/// GET /account
pub async fn show_account(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    render_account(&req, frame, &state, user, StatusCode::OK, Sent::default()).await
}

/// POST /account/sessions/{public_id}/sign-out: `Sign out` beside another browser.
pub async fn sign_out_session(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public_id = uuid::Uuid::parse_str(&path.into_inner()).map_err(|_| AppError::NotFound)?;
    let current = row_id_of_request(&req, &state).unwrap_or_default();
    state.db.run(move |conn| sessions::sign_out_device(conn, user.0, public_id, &current)).await?;
    frame.session.flash(FlashLevel::Success, "That session has been signed out.");
    Ok(redirect(&req, "/account#sessions"))
}

/// POST /account/sessions/sign-out-others: `Sign out all other sessions`.
pub async fn sign_out_other_sessions(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let current = row_id_of_request(&req, &state).unwrap_or_default();
    let ended = state.db.run(move |conn| sessions::sign_out_other_devices(conn, user.0, &current)).await?;
    let message = match ended {
        0 => "You were not signed in anywhere else.".to_owned(),
        1 => "1 other session has been signed out.".to_owned(),
        n => format!("{n} other sessions have been signed out."),
    };
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(&req, "/account#sessions"))
}

/// POST /account/password: checks the current password, sets the new one, and
/// signs out every other session.
pub async fn change_password(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<ChangePasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FormErrors::new();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    let new_password = match NewPassword::parse(&form.password, &form.password_confirmation) {
        Ok(p) => Some(p),
        Err(e @ crate::domain::password::PasswordError::Mismatch) => {
            errors.add("password_confirmation", e);
            None
        }
        Err(e) => {
            errors.add("password", e);
            None
        }
    };
    let (Some(new_password), true) = (new_password, errors.is_empty()) else {
        return render_account(
            &req,
            frame,
            &state,
            user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Sent { errors, ..Sent::default() },
        )
        .await;
    };

    let current = form.current_password;
    let changed =
        state.db.run_steps(move |steps| accounts::change_password(steps, &ip.0, user.0, &current, &new_password)).await;
    match changed {
        Ok(()) => {}
        Err(AppError::RateLimited { message, retry_after }) => {
            let sent = Sent { errors: FormErrors::form(message), ..Sent::default() };
            let page = render_account(&req, frame, &state, user, StatusCode::TOO_MANY_REQUESTS, sent).await?;
            return Ok(crate::web::htmx::with_retry_after(page, retry_after));
        }
        Err(AppError::Invalid(errors)) => {
            return render_account(
                &req,
                frame,
                &state,
                user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Sent { errors, ..Sent::default() },
            )
            .await
        }
        Err(other) => return Err(other),
    }
    // Every session of the account was deleted; this one continues under a new key.
    frame.session.renew();
    frame.session.flash(FlashLevel::Success, "Your password has been changed. Other devices have been signed out.");
    Ok(redirect(&req, "/account"))
}

/// POST /account/email: `Change email address` (with the current password).
pub async fn change_email(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FormErrors::new();
    let new_email = errors.check("new_email", EmailAddress::parse(&form.new_email));
    if form.email_password.is_empty() {
        errors.add("email_password", "Enter your current password.");
    }
    let (Some(new_email), true) = (new_email, errors.is_empty()) else {
        let sent = Sent { email_form: form, email_errors: errors, ..Sent::default() };
        return render_account(&req, frame, &state, user, StatusCode::UNPROCESSABLE_ENTITY, sent).await;
    };
    let links = state.links.clone();
    let password = form.email_password.clone();
    let address = new_email.clone();
    let changed = state
        .db
        .run_steps(move |steps| accounts::change_email(steps, &links, &ip.0, user.0, &address, &password))
        .await;
    let mut wait = None;
    let (status, email_errors) = match changed {
        Ok(()) => {
            frame.session.flash(
                FlashLevel::Success,
                format!(
                    "We sent a link to {new_email}. Your address changes to it when you open the link; \
                     until then you keep signing in with your current one."
                ),
            );
            return Ok(redirect(&req, "/account"));
        }
        Err(AppError::RateLimited { message, retry_after }) => {
            wait = Some(retry_after);
            (StatusCode::TOO_MANY_REQUESTS, FormErrors::form(message))
        }
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(other) => return Err(other),
    };
    let page =
        render_account(&req, frame, &state, user, status, Sent { email_form: form, email_errors, ..Sent::default() })
            .await?;
    Ok(match wait {
        Some(seconds) => crate::web::htmx::with_retry_after(page, seconds),
        None => page,
    })
}

/// POST /account/resend-verification
pub async fn resend_verification(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    ip: ClientIp,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let links = state.links.clone();
    let result = state.db.run(move |conn| accounts::resend_verification(conn, &links, &ip.0, user.0)).await;
    match result {
        Ok(email) => frame.session.flash(
            FlashLevel::Success,
            format!("We sent a new verification link to {email}. Earlier links no longer work."),
        ),
        Err(AppError::RateLimited { message, .. } | AppError::Conflict(message)) => {
            frame.session.flash(FlashLevel::Error, message)
        }
        Err(other) => return Err(other),
    }
    let back = req
        .headers()
        .get(actix_web::http::header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|r| Some(r.origin()) == Some(state.settings.base_url.origin()))
        .map(|r| r.path().to_owned())
        .unwrap_or_else(|| "/dashboard".to_owned());
    Ok(redirect(&req, &back))
}

/// Events shown per page of the Security log.
const LOG_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "account/security_log.html")]
struct SecurityLogPage {
    layout: Layout,
    events: Vec<LogEntry>,
    next_url: Option<String>,
    later_page: bool,
}

/// One line of the Security log.
struct LogEntry {
    sentence: String,
    at: When,
}

#[derive(Debug, Deserialize)]
pub struct LogParams {
    #[serde(default)]
    before: String,
}

/// GET /account/security-log: the account's own events (sign-ins with their methods,
/// second factors added and removed), newest first.
pub async fn show_security_log(
    frame: Frame,
    state: web::Data<AppState>,
    user: SignedIn,
    params: web::Query<LogParams>,
) -> Result<HttpResponse, AppError> {
    let before = super::audit::parse_cursor(&params.before);
    let id = user.0;
    let (viewer, events) =
        state.db.run(move |conn| crate::services::auth::record::security_log(conn, id, before, LOG_PAGE)).await?;
    let (shown, has_more) = crate::web::listing::split_page(&events, LOG_PAGE);
    let next_url = has_more
        .then(|| shown.last())
        .flatten()
        .map(|last| format!("/account/security-log?before={}", super::audit::cursor_after(last)));
    let events = shown
        .iter()
        .map(|event| LogEntry {
            sentence: AccountEvent::from_key(&event.action)
                .map_or_else(|| event.action.clone(), |known| known.sentence(event.after.as_ref())),
            at: When::of(event.created_at),
        })
        .collect();
    page_with_status(
        StatusCode::OK,
        &SecurityLogPage {
            layout: frame.layout("Security log", Some(viewer), None, Nav::None),
            events,
            next_url,
            later_page: !params.before.is_empty(),
        },
    )
}
