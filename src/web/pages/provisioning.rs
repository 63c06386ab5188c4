//! Settings → Provisioning (SCIM), the Owner's: turn it on or off, create SCIM tokens
//! (each shown once), and stop SCIM managing a member.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::settings::{back_to, render, CreatedKeyView, Forms, Section};
use crate::error::AppError;
use crate::services::{api_keys, scim};
use crate::web::extractors::{Acting, OrgItem, OrgSlug};
use crate::web::htmx::redirect;
use crate::web::layout::Frame;
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    #[serde(default)]
    enabled: String,
}

/// POST /orgs/{slug}/settings/provisioning: `Turn on provisioning` / `Turn off provisioning`.
pub async fn set_provisioning(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let enabled = match form.enabled.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::Invalid(crate::error::FormErrors::form("Choose to turn provisioning on or off."))),
    };
    let (actor, lookup) = (acting.actor(), slug.clone());
    state.db.run(move |conn| scim::set_enabled(conn, &actor, &lookup, enabled)).await?;
    let message = if enabled {
        "Provisioning is on: your identity provider can now use its SCIM token."
    } else {
        "Provisioning is off: SCIM tokens are refused. Members and teams it made stay as they are."
    };
    Ok(back_to(&req, frame, Section::Provisioning, &slug, FlashLevel::Success, message.into()))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// POST /orgs/{slug}/settings/provisioning/tokens: `Create SCIM token`. The answer is
/// the Settings page with the secret, never a redirect (see `create_api_key`).
pub async fn create_scim_token(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (actor, lookup, name) = (acting.actor(), slug.clone(), form.name.clone());
    let created = state.db.run(move |conn| api_keys::create_scim_token(conn, &actor, &lookup, &name)).await;
    let section = Section::Provisioning;
    match created {
        Ok(created) => {
            let token = CreatedKeyView { name: created.key.name.clone(), secret: created.secret.as_str().to_owned() };
            let forms = Forms { created_scim_token: Some(token), ..Forms::default() };
            render(frame, &state, acting.user, slug, section, StatusCode::CREATED, forms).await
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { scim_token_name: form.name.clone(), scim_token_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, section, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/provisioning/accept: the person accepts what the organization's
/// identity provider made of them.
pub async fn accept_provisioning(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    answer(req, frame, acting, state, slug, true).await
}

/// POST /orgs/{slug}/provisioning/decline
pub async fn decline_provisioning(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    answer(req, frame, acting, state, slug, false).await
}

async fn answer(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    accept: bool,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (actor, lookup) = (acting.actor(), slug.clone());
    let name =
        state.db.run(move |conn| crate::services::members::answer_provisioning(conn, &actor, &lookup, accept)).await?;
    if accept {
        frame.session.flash(FlashLevel::Success, format!("You joined {name}."));
        Ok(redirect(&req, &format!("/orgs/{slug}")))
    } else {
        frame.session.flash(FlashLevel::Success, format!("You declined {name}: you are not a member."));
        Ok(redirect(&req, "/dashboard"))
    }
}

/// POST /orgs/{slug}/members/{id}/stop-scim: `Stop managing by SCIM` (the Owner's).
pub async fn stop_managing(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (actor, lookup) = (acting.actor(), slug.clone());
    let email = state.db.run(move |conn| scim::stop_managing(conn, &actor, &lookup, id)).await?;
    frame.session.flash(
        FlashLevel::Success,
        format!("{email} is no longer managed by SCIM: change them here. Your identity provider takes them back if it writes to them again."),
    );
    Ok(redirect(&req, &format!("/orgs/{slug}/members/{id}")))
}
