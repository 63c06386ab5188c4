//! Single sign-on's pages: the trip to the provider and back (the sign-in form's
//! `Sign in` with the password left empty leads here), and Settings → Single sign-on.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::settings::{render, Forms, Section, SsoForm, Tested};
use crate::domain::Slug;
use crate::error::{AppError, FormErrors};
use crate::services::auth::sso::{Callback, Refused};
use crate::services::{auth, sso};
use crate::web::extractors::{Acting, OrgItem, OrgSlug};
use crate::web::htmx::{redirect, safe_next};
use crate::web::layout::{Frame, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// The cookie that ties a sign-in sent to the provider to this browser: it holds
/// the `state`, which must come back with the answer. `__Host-` when served over TLS.
fn state_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_sso_state"
    } else {
        "roster_sso_state"
    }
}

/// The answer that sends the browser to the provider, keeping `state` in a cookie
/// (lax, so it comes back with the provider's redirect; ten minutes, as the sign-in).
pub fn to_provider(url: &str, state: &str, secure: bool) -> HttpResponse {
    let cookie = Cookie::build(state_cookie_name(secure), state.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(crate::domain::sso::SIGN_IN_LIFETIME.whole_seconds()))
        .finish();
    HttpResponse::SeeOther().insert_header(("Location", url)).cookie(cookie).finish()
}

/// Records a refused sign-in (the audit log of its organization, and the log).
pub async fn record(state: &AppState, refused: Refused) {
    let recorded = state.db.run(move |conn| auth::sso::record_refusal(conn, &refused)).await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "could not record a refused single sign-on");
    }
}

/// GET /sign-in/sso/callback: the provider sends the browser back with a code (or
/// an error). Signed in, it goes where it was going (or to its second step);
/// refused, to the sign-in page, which says why beside `Email`.
pub async fn callback(
    req: HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
    query: web::Query<Callback>,
) -> Result<HttpResponse, AppError> {
    let secure = state.settings.serves_tls();
    let kept = req.cookie(state_cookie_name(secure)).map(|c| c.value().to_owned());
    let finished = state.sso.finish(&state.db, query.into_inner(), kept, frame.session.request_id()).await;
    let mut response = match finished {
        Ok(finished) => {
            let pending = finished.sign_in.signed_in_user().is_none();
            frame.session.complete_sign_in(&state.db, finished.sign_in).await?;
            let next = safe_next(Some(&finished.next));
            let target = if pending {
                let next = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
                format!("/sign-in/two-factor?next={next}")
            } else {
                next
            };
            redirect(&req, &target)
        }
        Err(refused) => {
            frame.session.remember_sso_refusal(&refused.email, &refused.sentence());
            record(&state, refused).await;
            redirect(&req, "/sign-in")
        }
    };
    // The state is used once, whatever happened.
    let mut gone = Cookie::build(state_cookie_name(secure), "").path("/").secure(secure).finish();
    gone.make_removal();
    response.add_cookie(&gone).map_err(AppError::internal)?;
    Ok(response)
}

fn to_section(req: &HttpRequest, frame: Frame, slug: &Slug, level: FlashLevel, message: String) -> HttpResponse {
    super::settings::back_to(req, frame, Section::SingleSignOn, slug, level, message)
}

/// POST /orgs/{slug}/settings/sso: `Save` (the Owner): the provider and the domains it covers.
pub async fn save_sso(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (sent, secret) = SsoForm::from_fields(form.into_inner());
    let mut errors = FormErrors::new();
    let issuer = errors.check("issuer", state.sso.places().parse_issuer(&sent.issuer));
    let (client_id, secret) = sso::parse_client(&sent.client_id, &secret, &mut errors);
    let domains: Vec<Uuid> = sent.domains.iter().filter_map(|d| Uuid::parse_str(d).ok()).collect();
    if domains.len() != sent.domains.len() {
        errors.add("domains", "Choose among the verified domains listed.");
    }
    let user = acting.user;
    let refused = |errors: FormErrors, sent: SsoForm, slug: Slug, frame: Frame, state: web::Data<AppState>| async move {
        let forms = Forms { sso: Some(sent), sso_errors: errors, ..Forms::default() };
        render(frame, &state, user, slug, Section::SingleSignOn, StatusCode::UNPROCESSABLE_ENTITY, forms).await
    };
    let (Some(issuer), true) = (issuer, errors.is_empty()) else {
        return refused(errors, sent, slug, frame, state).await;
    };
    let actor = acting.actor();
    let (lookup, links) = (slug.clone(), state.links.clone());
    let input = sso::ProviderInput { issuer, client_id, secret, domains };
    match state.db.run(move |conn| sso::save(conn, &links, &actor, &lookup, input)).await {
        Ok(()) => Ok(to_section(
            &req,
            frame,
            &slug,
            FlashLevel::Success,
            "Single sign-on is saved. Use Test connection to check Roster reaches the provider.".into(),
        )),
        Err(AppError::Invalid(errors)) => refused(errors, sent, slug, frame, state).await,
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/settings/sso/test: `Test connection` with the issuer as typed:
/// discovery now, and the endpoints it found (nothing is saved but, for the saved
/// issuer, what was discovered).
pub async fn test_sso(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (sent, _) = SsoForm::from_fields(form.into_inner());
    let actor = acting.actor();
    let lookup = slug.clone();
    // Only the Owner may look: the section's own check, before any request goes out.
    let org = state
        .db
        .run(move |conn| {
            let access = crate::services::access::acting(conn, &lookup, &actor)?;
            sso::view(conn, &access).map(|view| (access.org.org_id(), view.provider.map(|p| p.issuer)))
        })
        .await?;
    let (org, saved_issuer) = org;
    let tested = match state.sso.places().parse_issuer(&sent.issuer) {
        Err(error) => Tested::Failed(error.to_string()),
        Ok(issuer) => match state.sso.discover(&issuer).await {
            Err(reason) => Tested::Failed(format!("Roster could not use {issuer}: {reason}")),
            Ok(metadata) => {
                if saved_issuer.as_deref() == Some(issuer.as_str()) {
                    let kept =
                        serde_json::to_value(&metadata).and_then(|m| Ok((m, serde_json::to_value(metadata.jwks())?)));
                    if let Ok((as_json, jwks)) = kept {
                        let issuer = issuer.to_string();
                        let stored =
                            state.db.run(move |conn| sso::keep_discovered(conn, org, &issuer, &as_json, &jwks)).await;
                        if let Err(error) = stored {
                            tracing::warn!(%error, "could not keep what Test connection discovered");
                        }
                    }
                }
                let mut found = vec![
                    ("Issuer", metadata.issuer().to_string()),
                    ("Authorization endpoint", metadata.authorization_endpoint().to_string()),
                ];
                if let Some(token) = metadata.token_endpoint() {
                    found.push(("Token endpoint", token.to_string()));
                }
                if let Some(userinfo) = metadata.userinfo_endpoint() {
                    found.push(("Userinfo endpoint", userinfo.to_string()));
                }
                found.push((
                    "Signing keys",
                    format!("{} ({} published)", metadata.jwks_uri(), metadata.jwks().keys().len()),
                ));
                Tested::Found(found)
            }
        },
    };
    let forms = Forms { sso: Some(sent), sso_tested: Some(tested), ..Forms::default() };
    render(frame, &state, acting.user, slug, Section::SingleSignOn, StatusCode::OK, forms).await
}

#[derive(Debug, Deserialize)]
pub struct RequireForm {
    #[serde(default)]
    sso_required: String,
}

/// POST /orgs/{slug}/settings/sso/domains/{id}: `Require SSO` ticked or not, and
/// `Save`. Turning it on asks for confirmation first; turning it off applies.
pub async fn set_required(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<RequireForm>,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    if form.sso_required == "on" {
        let (lookup, user) = (slug.clone(), acting.user);
        let (viewer, domain) = state
            .db
            .run(move |conn| {
                let (viewer, access) = crate::services::access::page(conn, &lookup, user)?;
                let view = sso::view(conn, &access)?;
                let domain = view.domains.into_iter().find(|d| d.id == id).ok_or(AppError::NotFound)?;
                Ok::<_, AppError>((viewer, domain.domain))
            })
            .await?;
        let confirm = crate::web::confirm::Confirm {
            title: "Require SSO".into(),
            question: "Require single sign-on for addresses at".into(),
            subject: domain,
            consequence: "Their passwords, reset links and password sign-in stop working, and their sessions that \
                          did not sign in through the provider end now. You, the Owner, keep your password for when \
                          the provider is down."
                .into(),
            button: "Require SSO".into(),
            action: format!("/orgs/{slug}/settings/sso/domains/{id}/require"),
            back: Section::SingleSignOn.path(slug.as_str()),
            impact: None,
            stale: false,
        };
        return crate::web::confirm::ask(&req, frame, viewer, slug.as_str(), Nav::Settings, confirm);
    }
    apply_required(&req, frame, acting, &state, slug, id, false).await
}

/// POST /orgs/{slug}/settings/sso/domains/{id}/require: the confirmed `Require SSO`.
pub async fn require(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    apply_required(&req, frame, acting, &state, slug, id, true).await
}

async fn apply_required(
    req: &HttpRequest,
    frame: Frame,
    acting: Acting,
    state: &AppState,
    slug: Slug,
    id: Uuid,
    required: bool,
) -> Result<HttpResponse, AppError> {
    let actor = acting.actor();
    let lookup = slug.clone();
    let (domain, ended) = state.db.run(move |conn| sso::set_required(conn, &actor, &lookup, id, required)).await?;
    let message = if required {
        let sessions = match ended {
            0 => "No session had to end.".to_owned(),
            1 => "1 session signed in otherwise ended.".to_owned(),
            n => format!("{n} sessions signed in otherwise ended."),
        };
        format!("Addresses at {domain} now sign in only with single sign-on. {sessions}")
    } else {
        format!("Addresses at {domain} may sign in with a password again.")
    };
    Ok(to_section(req, frame, &slug, FlashLevel::Success, message))
}
