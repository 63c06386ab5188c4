//! Two-factor authentication: the second step of a sign-in, and Account settings →
//! Two-factor authentication (an authenticator app and recovery codes).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::recovery::RecoveryCode;
use crate::error::{AppError, FormErrors};
use crate::services::auth::two_factor::{self, SecondFactor};
use crate::web::client::ClientIp;
use crate::web::htmx::{page_with_status, redirect, safe_next};
use crate::web::layout::{Frame, Layout, Nav};

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct SecondStepPage {
    layout: Layout,
    next: String,
    errors: FormErrors,
    /// Which second factors the account has: an app (a code) and passkeys.
    app: bool,
    passkey: bool,
}

/// The second step's page for `user`, offering the factors their account has (an
/// app's code, a passkey where passkeys work here), with `errors` from a refused try.
async fn second_step_page(
    frame: Frame,
    state: &crate::web::state::AppState,
    user: crate::domain::UserId,
    status: StatusCode,
    errors: FormErrors,
    next: String,
) -> Result<HttpResponse, AppError> {
    let factors = state.db.run(move |conn| two_factor::status(conn, user)).await?;
    page_with_status(
        status,
        &SecondStepPage {
            layout: frame.layout("Two-factor authentication", None, None, Nav::None),
            next,
            errors,
            app: factors.app,
            passkey: state.passkeys.available() && !factors.passkeys.is_empty(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SecondStepForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
    #[serde(default)]
    next: String,
}

/// GET /sign-in/two-factor: the second step, for a browser whose password was right.
pub async fn second_step_form(
    frame: Frame,
    state: web::Data<crate::web::state::AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    let Some((user, _)) = frame.session.waiting_for_second_factor() else {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", "/sign-in")).finish());
    };
    second_step_page(frame, &state, user, StatusCode::OK, FormErrors::new(), next).await
}

/// POST /sign-in/two-factor: a code from the app, or a recovery code; then signed in.
pub async fn second_step(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<crate::web::state::AppState>,
    form: web::Form<SecondStepForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(Some(&form.next));
    let Some((user, pending)) = frame.session.waiting_for_second_factor() else {
        return Ok(redirect(&req, "/sign-in"));
    };
    let given = if form.recovery_code.trim().is_empty() {
        SecondFactor::Code(form.code)
    } else {
        SecondFactor::RecoveryCode(form.recovery_code)
    };
    let links = state.links.clone();
    let checked = state.db.run(move |conn| two_factor::check(conn, &links, &ip.0, user, &given)).await;
    match checked {
        Ok(method) => {
            frame.session.complete_sign_in(&state.db, pending.after_second_factor(method)).await?;
            Ok(redirect(&req, &next))
        }
        Err(AppError::Invalid(errors)) => {
            second_step_page(frame, &state, user, StatusCode::UNPROCESSABLE_ENTITY, errors, next).await
        }
        Err(AppError::RateLimited { message, retry_after }) => {
            let errors = FormErrors::form(message);
            let response = second_step_page(frame, &state, user, StatusCode::TOO_MANY_REQUESTS, errors, next).await?;
            Ok(crate::web::htmx::with_retry_after(response, retry_after))
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "account/two_factor.html")]
struct TwoFactorPage {
    layout: Layout,
    status: two_factor::Status,
    /// An app being set up: its QR code (SVG) and its secret as text.
    setup: Option<SetupView>,
    /// Recovery codes just made, shown this once.
    codes: Vec<String>,
    errors: FormErrors,
    /// Where the person was going (an organization that requires two-factor), to
    /// carry through the setup and offer once it is on.
    next: Option<String>,
    /// Organizations that require two-factor of this account, which has none.
    required_by: Vec<crate::services::viewer::TwoFactorDue>,
    /// Whether passkeys can be added here (not when Roster is reached by an IP address).
    passkeys_available: bool,
    unavailable: &'static str,
    /// The account's passkeys, as the table lists them.
    passkeys: Vec<PasskeyRow>,
}

/// A passkey in the table.
struct PasskeyRow {
    id: uuid::Uuid,
    name: String,
    added: crate::web::format::When,
    used: Option<crate::web::format::When>,
}

/// Where to go once two-factor is on: a local path the person came from, if any.
fn next_of(next: Option<&str>) -> Option<String> {
    next.filter(|n| !n.is_empty()).map(|n| safe_next(Some(n))).filter(|n| n != "/dashboard")
}

struct SetupView {
    qr_svg: String,
    secret: String,
}

/// The QR code of an `otpauth://` URL, as an SVG image named for screen readers.
fn qr_svg(url: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M)
        .map_err(|e| AppError::internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    let svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).trim();
    Ok(svg.replacen("<svg ", r#"<svg role="img" aria-labelledby="qr-title" class="qr" "#, 1).replacen(
        '>',
        r#"><title id="qr-title">QR code for your authenticator app</title>"#,
        1,
    ))
}

/// What the page shows besides the account's state: an app being set up, codes just
/// made, a form's errors, and where to go afterwards.
#[derive(Default)]
pub(super) struct Shown {
    pub setup: Option<two_factor::Setup>,
    pub codes: Vec<RecoveryCode>,
    pub errors: FormErrors,
    pub next: Option<String>,
}

pub(super) async fn render(
    frame: Frame,
    state: &crate::web::state::AppState,
    user: crate::web::extractors::SignedIn,
    status_code: StatusCode,
    shown: Shown,
) -> Result<HttpResponse, AppError> {
    let Shown { setup, codes, errors, next } = shown;
    let id = user.0;
    let (status, viewer) = state
        .db
        .run(move |conn| {
            let status = two_factor::status(conn, id)?;
            let viewer = crate::services::viewer::load(conn, id)?;
            Ok::<_, AppError>((status, viewer))
        })
        .await?;
    let setup = match setup {
        Some(s) => Some(SetupView { qr_svg: qr_svg(&s.url)?, secret: s.secret }),
        None => None,
    };
    let passkeys = status
        .passkeys
        .iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name.clone(),
            added: crate::web::format::When::of(p.created_at),
            used: p.last_used_at.map(crate::web::format::When::of),
        })
        .collect();
    page_with_status(
        status_code,
        &TwoFactorPage {
            required_by: viewer.two_factor_due(time::OffsetDateTime::now_utc()),
            layout: frame.layout("Two-factor authentication", Some(viewer), None, Nav::None),
            status,
            setup,
            codes: codes.iter().map(RecoveryCode::shown).collect(),
            errors,
            next,
            passkeys,
            passkeys_available: state.passkeys.available(),
            unavailable: crate::services::auth::passkeys::UNAVAILABLE,
        },
    )
}

/// GET /account/two-factor (`?next=`: where to go once it is on).
pub async fn show_two_factor(
    frame: Frame,
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = next_of(query.next.as_deref());
    render(frame, &state, user, StatusCode::OK, Shown { next, ..Shown::default() }).await
}

#[derive(Debug, Default, Deserialize)]
pub struct NextForm {
    #[serde(default)]
    next: String,
}

/// POST /account/two-factor/app: `Set up`: a new secret, shown as a QR code and as text.
pub async fn set_up_app(
    frame: Frame,
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
    form: Option<web::Form<NextForm>>,
) -> Result<HttpResponse, AppError> {
    let next = next_of(form.as_ref().map(|f| f.next.as_str()));
    let (links, id) = (state.links.clone(), user.0);
    let setup = state.db.run(move |conn| two_factor::start_app(conn, &links, id)).await?;
    render(frame, &state, user, StatusCode::OK, Shown { setup: Some(setup), next, ..Shown::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// POST /account/two-factor/app/confirm: the first code turns two-factor on and
/// shows the recovery codes once.
pub async fn confirm_app(
    frame: Frame,
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let CodeForm { code, next } = form.into_inner();
    let next = next_of(Some(&next));
    let (links, id) = (state.links.clone(), user.0);
    let request_id = frame.session.request_id();
    let confirmed = state.db.run(move |conn| two_factor::confirm_app(conn, &links, id, &code, request_id)).await;
    match confirmed {
        Ok(codes) => render(frame, &state, user, StatusCode::OK, Shown { codes, next, ..Shown::default() }).await,
        Err(AppError::Invalid(errors)) => {
            let links = state.links.clone();
            let setup = state.db.run(move |conn| two_factor::app_being_set_up(conn, &links, id)).await?;
            let shown = Shown { setup, errors, next, ..Shown::default() };
            render(frame, &state, user, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(other) => Err(other),
    }
}

/// POST /account/two-factor/off: `Turn off`, with the current password.
pub async fn turn_off(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
    form: web::Form<super::credentials::ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let (links, keys, id) = (state.links.clone(), state.passkeys.clone(), user.0);
    let request_id = frame.session.request_id();
    let turned = state
        .db
        .run_steps(move |steps| {
            let confirmation = form.into_inner().confirmation(id, &ip.0)?;
            two_factor::turn_off(steps, &links, &keys, &confirmation, request_id)
        })
        .await;
    match turned {
        Ok(still_on) => {
            let message = if still_on {
                "The authenticator app was removed. Your passkeys keep two-factor authentication on."
            } else {
                "Two-factor authentication is off."
            };
            frame.session.flash(crate::web::session::FlashLevel::Success, message);
            Ok(redirect(&req, "/account/two-factor"))
        }
        Err(AppError::Invalid(errors)) => {
            render(frame, &state, user, StatusCode::UNPROCESSABLE_ENTITY, Shown { errors, ..Shown::default() }).await
        }
        Err(other) => Err(other),
    }
}

/// POST /account/two-factor/recovery-codes: new codes, shown once; the old ones stop working.
pub async fn regenerate_codes(
    frame: Frame,
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
) -> Result<HttpResponse, AppError> {
    let (links, id) = (state.links.clone(), user.0);
    let request_id = frame.session.request_id();
    let codes = state.db.run(move |conn| two_factor::regenerate_codes(conn, &links, id, request_id)).await?;
    render(frame, &state, user, StatusCode::OK, Shown { codes, ..Shown::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct CodesForm {
    #[serde(default)]
    codes: String,
}

/// POST /account/two-factor/recovery-codes/download: the codes just shown, as a text
/// file. They are not stored readable, so the page sends them back; only lines that
/// read as recovery codes are written.
pub async fn download_codes(
    state: web::Data<crate::web::state::AppState>,
    user: crate::web::extractors::SignedIn,
    form: web::Form<CodesForm>,
) -> Result<HttpResponse, AppError> {
    let codes: Vec<String> = form
        .codes
        .lines()
        .filter_map(RecoveryCode::parse)
        .map(|c| c.shown())
        .take(crate::domain::recovery::COUNT)
        .collect();
    if codes.is_empty() {
        return Err(AppError::BadRequest("There are no recovery codes to download: make new ones.".into()));
    }
    let id = user.0;
    let account = state.db.run(move |conn| crate::services::viewer::load(conn, id)).await?;
    let text = format!(
        "Roster recovery codes for {}\nEach code signs you in once, in place of your authenticator app or passkey.\n\n{}\n",
        account.email,
        codes.join("\n")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"roster-recovery-codes.txt\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(text))
}
