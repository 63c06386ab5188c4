//! Passkeys: `Add a passkey` and `Remove` in Account settings → Two-factor
//! authentication, `Sign in with a passkey`, and a passkey at the second step. Each
//! ceremony is two requests: its options (JSON, for static/app.js), then a plain
//! form post of the credential the browser made.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use uuid::Uuid;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::credentials::{ConfirmForm, CredentialForm};
use super::two_factor::{render, Shown};
use crate::domain::sign_in::{Method, SignIn};
use crate::error::{AppError, FormErrors};
use crate::services::auth::passkeys;
use crate::web::client::ClientIp;
use crate::web::extractors::SignedIn;
use crate::web::htmx::{page_with_status, redirect, safe_next};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

fn json<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(value)
}

/// POST /account/passkeys/options
pub async fn registration_options(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, AppError> {
    let (keys, id) = (state.passkeys.clone(), user.0);
    Ok(json(&state.db.run(move |conn| passkeys::start_registration(conn, &keys, id)).await?))
}

/// POST /account/passkeys: `Add a passkey`, with the credential the browser made.
pub async fn add_passkey(
    req: HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
    user: SignedIn,
    form: web::Form<CredentialForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let added = async {
        let credential: RegisterPublicKeyCredential = form.credential()?;
        let ceremony = form.ceremony()?;
        let (keys, links, id, name) = (state.passkeys.clone(), state.links.clone(), user.0, form.name.clone());
        let request_id = frame.session.request_id();
        state
            .db
            .run(move |conn| {
                let new = passkeys::NewPasskey { name: &name, ceremony, credential: &credential };
                passkeys::finish_registration(conn, &keys, &links, id, &new, request_id)
            })
            .await
    }
    .await;
    match added {
        Ok(codes) if codes.is_empty() => {
            frame.session.flash(FlashLevel::Success, "The passkey was added. It signs you in on its own.");
            Ok(redirect(&req, "/account/two-factor"))
        }
        Ok(codes) => render(frame, &state, user, StatusCode::OK, Shown { codes, ..Shown::default() }).await,
        Err(AppError::Invalid(errors)) => {
            render(frame, &state, user, StatusCode::UNPROCESSABLE_ENTITY, Shown { errors, ..Shown::default() }).await
        }
        Err(AppError::Conflict(message) | AppError::BadRequest(message)) => {
            let errors = FormErrors::form(message);
            render(frame, &state, user, StatusCode::CONFLICT, Shown { errors, ..Shown::default() }).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "account/remove_passkey.html")]
struct RemovePage {
    layout: Layout,
    passkey: passkeys::PasskeyView,
    errors: FormErrors,
    /// Whether a passkey may confirm it instead of the password.
    passkeys_available: bool,
}

async fn remove_page(
    frame: Frame,
    state: &AppState,
    user: SignedIn,
    id: Uuid,
    status: StatusCode,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let me = user.0;
    let (viewer, found) = state
        .db
        .run(move |conn| {
            let viewer = crate::services::viewer::load(conn, me)?;
            let found = passkeys::list(conn, me)?.into_iter().find(|p| p.id == id);
            Ok::<_, AppError>((viewer, found))
        })
        .await?;
    let passkey = found.ok_or(AppError::NotFound)?;
    page_with_status(
        status,
        &RemovePage {
            layout: frame.layout("Remove passkey", Some(viewer), None, Nav::None),
            passkey,
            errors,
            passkeys_available: state.passkeys.available(),
        },
    )
}

/// GET /account/passkeys/{id}/remove: the confirmation, with the password.
pub async fn confirm_remove_passkey(
    frame: Frame,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    remove_page(frame, &state, user, id.into_inner(), StatusCode::OK, FormErrors::new()).await
}

/// POST /account/two-factor/off/options and /account/passkeys/{id}/remove/options: a
/// passkey ceremony that confirms a change (any of the account's passkeys).
pub async fn confirm_options(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, AppError> {
    let (keys, id) = (state.passkeys.clone(), user.0);
    Ok(json(&state.db.run(move |conn| passkeys::start_second_step(conn, &keys, id)).await?))
}

/// POST /account/passkeys/{id}/remove
pub async fn remove_passkey(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    user: SignedIn,
    id: web::Path<Uuid>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let (links, keys, me, id) = (state.links.clone(), state.passkeys.clone(), user.0, id.into_inner());
    let request_id = frame.session.request_id();
    let removed = state
        .db
        .run_steps(move |steps| {
            let confirmation = form.into_inner().confirmation(me, &ip.0)?;
            passkeys::remove(steps, &links, &keys, &confirmation, id, request_id)
        })
        .await;
    match removed {
        Ok(name) => {
            frame.session.flash(FlashLevel::Success, format!("The passkey “{name}” was removed."));
            Ok(redirect(&req, "/account/two-factor"))
        }
        Err(AppError::Invalid(errors)) => {
            remove_page(frame, &state, user, id, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(other) => Err(other),
    }
}

/// POST /sign-in/passkey/options
pub async fn sign_in_options(state: web::Data<AppState>, ip: ClientIp) -> Result<HttpResponse, AppError> {
    let keys = state.passkeys.clone();
    Ok(json(&state.db.run(move |conn| passkeys::start_sign_in(conn, &keys, &ip.0)).await?))
}

/// Back to `page` (the sign-in page, or its second step) with `message`, keeping where
/// the person was going.
fn back_with(req: &HttpRequest, frame: &Frame, page: &str, next: &str, message: String) -> HttpResponse {
    frame.session.flash(FlashLevel::Error, message);
    let query = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
    redirect(req, &format!("{page}?next={query}"))
}

/// POST /sign-in/passkey: `Sign in with a passkey`: both factors at once.
pub async fn sign_in_with_passkey(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<CredentialForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(Some(&form.next));
    let checked = async {
        let credential: PublicKeyCredential = form.credential()?;
        let ceremony = form.ceremony()?;
        let keys = state.passkeys.clone();
        state.db.run(move |conn| passkeys::finish_sign_in(conn, &keys, &ip.0, ceremony, &credential)).await
    }
    .await;
    match checked {
        Ok(user) => {
            frame.session.complete_sign_in(&state.db, SignIn::after_first_factor(user, Method::Passkey, true)).await?;
            Ok(redirect(&req, &next))
        }
        Err(AppError::Conflict(message) | AppError::BadRequest(message) | AppError::RateLimited { message, .. }) => {
            Ok(back_with(&req, &frame, "/sign-in", &next, message))
        }
        Err(other) => Err(other),
    }
}

/// POST /sign-in/two-factor/passkey/options
pub async fn second_step_options(frame: Frame, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (user, _) = frame.session.waiting_for_second_factor().ok_or(AppError::Unauthenticated)?;
    let keys = state.passkeys.clone();
    Ok(json(&state.db.run(move |conn| passkeys::start_second_step(conn, &keys, user)).await?))
}

/// POST /sign-in/two-factor/passkey: a passkey as the second step after the password.
pub async fn second_step_with_passkey(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<CredentialForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(Some(&form.next));
    let Some((user, waiting)) = frame.session.waiting_for_second_factor() else {
        return Ok(redirect(&req, "/sign-in"));
    };
    let checked = async {
        let credential: PublicKeyCredential = form.credential()?;
        let ceremony = form.ceremony()?;
        let keys = state.passkeys.clone();
        state.db.run(move |conn| passkeys::finish_second_step(conn, &keys, &ip.0, user, ceremony, &credential)).await
    }
    .await;
    match checked {
        Ok(()) => {
            frame.session.complete_sign_in(&state.db, waiting.after_second_factor(Method::Passkey)).await?;
            Ok(redirect(&req, &next))
        }
        Err(AppError::Conflict(message) | AppError::BadRequest(message) | AppError::RateLimited { message, .. }) => {
            Ok(back_with(&req, &frame, "/sign-in/two-factor", &next, message))
        }
        Err(other) => Err(other),
    }
}
