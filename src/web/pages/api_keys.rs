//! Settings → API keys: `Create API key` (its secret shown once) and `Revoke`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::settings::{render, text_and_choices, CreatedKeyView, Forms, Section};
use crate::domain::api_key::Scopes;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::api_keys;
use crate::web::extractors::{Acting, OrgItem, OrgSlug};
use crate::web::htmx::redirect;
use crate::web::layout::Frame;
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// POST /orgs/{slug}/settings/api-keys: `Create API key`. The answer is the Settings
/// page itself with the secret, not a redirect: the secret never goes into the
/// session (which is stored) or a URL.
pub async fn create_api_key(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let fields = form.into_inner();
    let role_text = fields.iter().find(|(k, _)| k == "role").map(|(_, v)| v.clone()).unwrap_or_default();
    let (name, chosen) = text_and_choices(fields, "name", "scopes");
    // No role chosen: the highest the creator may give. Anything but a role's name asks
    // for more than a key may have, and is refused as such.
    let role = (!role_text.is_empty()).then(|| Role::from_db(&role_text).unwrap_or(Role::Owner));
    let scopes = Scopes::parse(&chosen);
    let actor = acting.actor();
    let (lookup, typed) = (slug.clone(), name.clone());
    let created = state
        .db
        .run(move |conn| api_keys::create(conn, &actor, &lookup, api_keys::NewKey { name: &typed, scopes, role }))
        .await;
    match created {
        Ok(created) => {
            let forms = Forms {
                created_key: Some(CreatedKeyView {
                    name: created.key.name.clone(),
                    secret: created.secret.as_str().to_owned(),
                }),
                ..Forms::default()
            };
            render(frame, &state, acting.user, slug, Section::ApiKeys, StatusCode::CREATED, forms).await
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms {
                key_name: name,
                key_scopes: chosen,
                key_role: role_text,
                key_errors: errors,
                ..Forms::default()
            };
            render(frame, &state, acting.user, slug, Section::ApiKeys, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

/// GET /orgs/{slug}/settings/api-keys/{id}/revoke: the `Revoke` confirmation.
pub async fn confirm_revoke_api_key(
    req: HttpRequest,
    frame: Frame,
    user: crate::web::extractors::SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let lookup = slug.clone();
    let (viewer, key) = state.db.run(move |conn| api_keys::revocation(conn, &lookup, user.0, id)).await?;
    let (what, section, users) = if api_keys::is_scim_token(&key) {
        ("SCIM token", Section::Provisioning, "the identity provider stops provisioning")
    } else {
        ("API key", Section::ApiKeys, "scripts that use it stop working")
    };
    let settings = section.path(slug.as_str());
    let confirm = crate::web::confirm::Confirm {
        title: format!("Revoke {what}"),
        question: format!("Revoke the {what}"),
        subject: key.name,
        consequence: format!(
            "Every request with it is refused from now on; {users}. A revoked {what} cannot be turned back on: \
             create a new one to replace it."
        ),
        button: "Revoke".into(),
        action: format!("/orgs/{slug}/settings/api-keys/{id}/revoke"),
        back: settings,
        impact: None,
        stale: false,
    };
    crate::web::confirm::ask(&req, frame, viewer, slug.as_str(), crate::web::layout::Nav::Settings, confirm)
}

/// POST /orgs/{slug}/settings/api-keys/{id}/revoke: `Revoke`.
pub async fn revoke_api_key(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let actor = acting.actor();
    let lookup = slug.clone();
    let key = state.db.run(move |conn| api_keys::revoke(conn, &actor, &lookup, id)).await?;
    let (what, section) = if api_keys::is_scim_token(&key) {
        ("SCIM token", Section::Provisioning)
    } else {
        ("API key", Section::ApiKeys)
    };
    frame.session.flash(
        FlashLevel::Success,
        format!("The {what} “{}” was revoked. Requests with it are refused from now on.", key.name),
    );
    Ok(redirect(&req, &section.path(slug.as_str())))
}
