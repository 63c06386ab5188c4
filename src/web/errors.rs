//! Renders error responses: a full page for browsers, a small fragment for htmx.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpMessage as _, HttpResponse, ResponseError};
use askama::Template;
use tracing_actix_web::RequestId;

use super::htmx::is_htmx;
use crate::error::AppError;

/// Attached to every error response so the error-page middleware can render it
/// as a full page or as an htmx fragment, knowing the request.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
    pub unauthenticated: bool,
    /// A renamed organization's URL name, for the redirect from its old one.
    pub moved_to: Option<String>,
    /// A refused form (expired, or sent from another site): the page says so in its
    /// heading and leads back to the form instead of saying "Not allowed".
    pub refused_form: Option<RefusedForm>,
    /// The organization (its URL name) that is closed until the person sets up two-factor.
    pub two_factor_for: Option<String>,
    /// The member is suspended in the organization they asked for.
    pub suspended: bool,
    /// The person has not accepted what the identity provider made of them.
    pub awaiting_consent: bool,
}

/// Why a form was refused before it reached its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedForm {
    Expired,
    FromAnotherSite,
}

/// The one mapping of use-case failures to HTTP (STYLE.md habit 4).
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::KeyRefused(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_)
            | AppError::Csrf
            | AppError::CrossSite
            | AppError::TwoFactorRequired { .. }
            | AppError::Suspended { .. }
            | AppError::AwaitingConsent { .. } => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Moved(_) => StatusCode::PERMANENT_REDIRECT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unavailable(e) => tracing::warn!(error = ?e, "service unavailable"),
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            _ => {}
        }
        let mut response =
            HttpResponse::build(self.status_code()).content_type("text/plain; charset=utf-8").body(self.to_string());
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorInfo {
            message: self.to_string(),
            unauthenticated: matches!(self, AppError::Unauthenticated),
            moved_to: match self {
                AppError::Moved(slug) => Some(slug.clone()),
                _ => None,
            },
            refused_form: match self {
                AppError::Csrf => Some(RefusedForm::Expired),
                AppError::CrossSite => Some(RefusedForm::FromAnotherSite),
                _ => None,
            },
            two_factor_for: match self {
                AppError::TwoFactorRequired { slug, .. } => Some(slug.clone()),
                _ => None,
            },
            suspended: matches!(self, AppError::Suspended { .. }),
            awaiting_consent: matches!(self, AppError::AwaitingConsent { .. }),
        });
        response
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: super::layout::Layout,
    status: u16,
    heading: &'static str,
    message: String,
    /// What else a person should know, below the message.
    detail: Option<&'static str>,
    /// The main way on: (link, label), else the Dashboard.
    way_on: Option<(String, &'static str)>,
    request_id: Option<String>,
}

/// What an error page says and where it leads.
struct ErrorText {
    heading: &'static str,
    message: String,
    detail: Option<&'static str>,
    way_on: Option<(String, &'static str)>,
}

impl ErrorText {
    fn plain(status: StatusCode, message: String) -> Self {
        Self { heading: heading(status), message, detail: None, way_on: None }
    }

    /// An organization closed until the person sets up two-factor: the way on is
    /// setting it up, which leads back to the organization.
    fn two_factor_required(message: String, slug: &str) -> Self {
        Self {
            heading: "Two-factor authentication required",
            message,
            detail: Some(
                "Nothing else changed: your role, teams and seat are kept, and the organization opens \
                 the moment you have an authenticator app.",
            ),
            way_on: Some((format!("/account/two-factor?next=/orgs/{slug}"), "Set up two-factor authentication")),
        }
    }

    /// An organization closed to a suspended member: what stays, and who can lift it.
    fn suspended(message: String) -> Self {
        Self {
            heading: "Access suspended",
            message,
            detail: Some(
                "You are still a member: your role, teams and project access are kept for when an Owner or \
                 Admin reactivates you.",
            ),
            way_on: Some(("/dashboard".into(), "Go to your Dashboard")),
        }
    }

    /// An organization waiting for the person's Accept.
    fn awaiting_consent(message: String) -> Self {
        Self {
            heading: "Waiting for you to accept",
            message,
            detail: Some(
                "Until you accept, the organization sees only what its identity provider sent, not your account.",
            ),
            way_on: Some(("/dashboard".into(), "Go to your Dashboard")),
        }
    }

    /// A refused form: what happened in the heading, and the way back to the form
    /// (`back`, the page it was sent from when that is Roster's).
    fn refused(why: RefusedForm, message: String, back: Option<String>) -> Self {
        match why {
            // The heading says what the message would: the page explains instead.
            RefusedForm::Expired => Self {
                heading: "This form has expired",
                message: "Forms stop working when you sign in or out, here or in another tab, and when \
                          your other sessions are signed out. Nothing was saved: reload the form and send it again."
                    .into(),
                detail: None,
                way_on: Some((back.unwrap_or_else(|| "/".into()), "Reload the form")),
            },
            RefusedForm::FromAnotherSite => Self {
                heading: "Sent from another site",
                message,
                detail: Some("Roster only takes forms from its own pages, so another site cannot act in your name."),
                way_on: Some(("/".into(), "Open Roster")),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "errors/_fragment.html")]
struct ErrorFragment {
    message: String,
    request_id: Option<String>,
}

/// The error page (or, for htmx, the fragment aimed at the page's alert region)
/// with `status`, saying `text`.
fn error_page(
    status: StatusCode,
    text: ErrorText,
    request_id: Option<String>,
    htmx: bool,
    viewer: Option<crate::services::viewer::Viewer>,
    csrf: String,
    state: Option<&super::state::AppState>,
) -> HttpResponse {
    let body = if htmx {
        ErrorFragment { message: text.message, request_id }.render()
    } else {
        ErrorPage {
            layout: super::layout::Layout {
                title: text.heading.into(),
                csrf,
                flashes: Vec::new(),
                viewer,
                // A 503 skips the lookup of who is signed in (it needs the database).
                viewer_known: status != StatusCode::SERVICE_UNAVAILABLE,
                org: None,
                nav: super::layout::Nav::None,
                support_url: state.and_then(|s| s.settings.support_url.as_ref().map(|u| u.to_string())),
                dev_mailbox: state.is_some_and(|s| s.settings.uses_dev_mailbox()),
                offers_sign_in: false,
            },
            status: status.as_u16(),
            heading: text.heading,
            message: text.message,
            detail: text.detail,
            way_on: text.way_on,
            request_id,
        }
        .render()
    }
    .unwrap_or_else(|_| "Something went wrong.".into());
    let mut response = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body);
    if htmx {
        // Show the message in the page's alert region instead of the swap target.
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-retarget"),
            HeaderValue::from_static("#flash"),
        );
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("hx-reswap"),
            HeaderValue::from_static("innerHTML"),
        );
    }
    response
}

/// The 503 page for a request the database kept waiting, built without the request
/// (which the layers inside still hold), with the headers every page carries.
pub fn busy_page(htmx: bool, request_id: Option<String>, state: Option<&super::state::AppState>) -> HttpResponse {
    let message = AppError::Unavailable(anyhow::anyhow!("busy")).to_string();
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let mut response =
        error_page(status, ErrorText::plain(status, message), request_id, htmx, None, String::new(), state);
    let secure = state.is_some_and(|s| s.settings.serves_tls());
    for (name, value) in super::headers::security_headers(secure) {
        response
            .headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

pub use crate::error::RETRY_AFTER_SECS;

/// The middleware that applies [`render`] to every 4xx and 5xx response, and
/// points the redirect from a renamed organization's old URL name at the new one.
pub fn handlers<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render).handler(StatusCode::PERMANENT_REDIRECT, moved)
}

/// `/orgs/{old}/rest?query` → `/orgs/{new}/rest?query`, keeping the method (308).
fn moved<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let Some(slug) = res.response().extensions().get::<ErrorInfo>().and_then(|i| i.moved_to.clone()) else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let (req, _) = res.into_parts();
    let rest = req.path().strip_prefix("/orgs/").and_then(|p| p.find('/').map(|i| &p[i..])).unwrap_or("");
    let query = if req.query_string().is_empty() { String::new() } else { format!("?{}", req.query_string()) };
    let response = HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, format!("/orgs/{slug}{rest}{query}")))
        .finish();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// The page of the invitation an answer was posted from (`/invite/{token}/accept` →
/// `/invite/{token}`): invitation pages send no Referer, so that their token never
/// leaks, and the way back from an expired Accept cannot come from it.
fn invitation_page_of(path: &str) -> Option<String> {
    let token = path.strip_prefix("/invite/")?.split('/').next().filter(|t| !t.is_empty())?;
    Some(format!("/invite/{token}"))
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 | 422 => "That did not work",
        401 => "Sign in to continue",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Already changed",
        429 => "Too many attempts",
        503 => "Busy right now",
        500..=599 => "Something went wrong",
        _ => "That did not work",
    }
}

fn generic_message(status: StatusCode) -> String {
    match status.as_u16() {
        400 => "The request could not be read. Go back and try again.".into(),
        404 => "This page does not exist, or you do not have access to it.".into(),
        405 => "That action is not available here.".into(),
        413 => "The form or request body is too large.".into(),
        _ => status.canonical_reason().unwrap_or("Error").to_owned() + ".",
    }
}

fn render<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let info = res.response().extensions().get::<ErrorInfo>().cloned();
    let is_html =
        res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    let is_problem = res.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes() == super::api::PROBLEM_JSON.as_bytes()
            || v.as_bytes() == crate::domain::scim::MEDIA_TYPE.as_bytes()
    });
    // Pages a handler rendered itself (a form with errors), the JSON API's problems
    // and SCIM's errors, are left as they are.
    if info.is_none() && (is_html || is_problem) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    // What actix answers by itself under SCIM is a SCIM error.
    if res.request().path().starts_with(super::scim::PREFIX) {
        let status = res.status();
        let (req, _) = res.into_parts();
        let error = crate::domain::scim::ScimError::new(status.as_u16(), None, generic_message(status));
        let response = super::scim::ScimFailure(error).error_response();
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()));
    }
    // What actix answers by itself under the JSON API (a body too large, say) is a problem too.
    if res.request().path().starts_with(super::api::PREFIX) {
        let status = res.status();
        let (req, _) = res.into_parts();
        let response = super::api::problem(status, generic_message(status), Vec::new(), None);
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()));
    }
    let status = res.status();
    let (req, original) = res.into_parts();
    let htmx = is_htmx(&req);

    if info.as_ref().is_some_and(|i| i.unauthenticated) {
        let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        let target = format!("/sign-in?next={next}");
        let response = if htmx {
            HttpResponse::Ok().insert_header(("HX-Redirect", target)).finish()
        } else {
            HttpResponse::SeeOther().insert_header(("Location", target)).finish()
        };
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()));
    }

    let state = req.app_data::<actix_web::web::Data<super::state::AppState>>().cloned();
    let text = match info {
        // An htmx refusal is one sentence in the alert region; a page explains more.
        Some(ErrorInfo { message, refused_form: Some(why), .. }) if !htmx => {
            let back = state
                .as_ref()
                .and_then(|s| super::csrf::sent_from(req.headers(), &s.settings.base_url))
                .or_else(|| invitation_page_of(req.path()));
            ErrorText::refused(why, message, back)
        }
        Some(ErrorInfo { message, two_factor_for: Some(slug), .. }) if !htmx => {
            ErrorText::two_factor_required(message, &slug)
        }
        Some(ErrorInfo { message, suspended: true, .. }) if !htmx => ErrorText::suspended(message),
        Some(ErrorInfo { message, awaiting_consent: true, .. }) if !htmx => ErrorText::awaiting_consent(message),
        Some(info) => ErrorText::plain(status, info.message),
        None => ErrorText::plain(status, generic_message(status)),
    };
    let request_id =
        status.is_server_error().then(|| req.extensions().get::<RequestId>().map(|id| id.to_string())).flatten();
    // Who is looking, for the page's usual header (inside the session layer only).
    let user = {
        use actix_session::SessionExt as _;
        super::session::signed_in_user(&req.get_session())
    };
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let viewer = match (htmx, user, state.as_ref()) {
            // Not when the database is what failed: the page must come back at once.
            (false, Some(id), Some(state)) if status != StatusCode::SERVICE_UNAVAILABLE => {
                state.db.run(move |conn| crate::services::viewer::load(conn, id)).await.ok()
            }
            _ => None,
        };
        let csrf = req.extensions().get::<super::csrf::CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let mut response =
            error_page(status, text, request_id, htmx, viewer, csrf, state.as_ref().map(|s| s.get_ref()));
        // Keep headers that other middleware or the handler set (cookies, Retry-After, ...),
        // but none that describe the body this page replaces: its type, length and encoding.
        for (name, value) in original.headers() {
            if ![CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING].contains(name) {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
        Ok(ServiceResponse::new(req, response).map_into_right_body())
    })))
}
