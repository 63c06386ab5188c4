//! Settings: the Permissions table for everyone; Transfer ownership and Delete organization for the Owner.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{Permission, Role, Slug};
use crate::error::{AppError, FormErrors};
use crate::services::ownership;
use crate::web::extractors::{Acting, OrgSlug, SignedIn};
use crate::web::htmx::{page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// A row of the Permissions table.
pub struct PermissionRow {
    pub label: &'static str,
    pub owner: bool,
    pub admin: bool,
    pub member: bool,
}

/// A member the Owner may hand ownership to.
pub struct Candidate {
    pub id: Uuid,
    pub label: String,
}

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
    my_role: Role,
    permissions: Vec<PermissionRow>,
    candidates: Vec<Candidate>,
    transfer_errors: FormErrors,
    delete_errors: FormErrors,
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    member: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

fn permission_rows() -> Vec<PermissionRow> {
    Permission::ALL
        .iter()
        .map(|p| PermissionRow {
            label: p.label(),
            owner: Role::Owner.can(*p),
            admin: Role::Admin.can(*p),
            member: Role::Member.can(*p),
        })
        .collect()
}

async fn render(
    frame: Frame,
    state: &AppState,
    user: crate::domain::UserId,
    slug: Slug,
    status: StatusCode,
    transfer_errors: FormErrors,
    delete_errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let (viewer, access, members) = state.db.run(move |conn| ownership::settings_page(conn, &slug, user)).await?;
    let candidates = members
        .into_iter()
        .map(|r| Candidate { id: r.id, label: format!("{} ({}, {})", r.name, r.email, r.role.as_str()) })
        .collect();
    page_with_status(
        status,
        &SettingsPage {
            csrf: frame.csrf().to_owned(),
            slug: access.org.slug.clone(),
            org_name: access.org.name.clone(),
            my_role: access.role,
            permissions: permission_rows(),
            candidates,
            transfer_errors,
            delete_errors,
            layout: frame.layout("Settings", Some(viewer), Some(&access.org.slug), Nav::Settings),
        },
    )
}

/// GET /orgs/{slug}/settings
pub async fn show_settings(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    render(frame, &state, user.0, slug, StatusCode::OK, FormErrors::new(), FormErrors::new()).await
}

/// POST /orgs/{slug}/settings/transfer: `Transfer ownership`.
pub async fn transfer_ownership(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<TransferForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let Ok(member) = Uuid::parse_str(form.member.trim()) else {
        let mut errors = FormErrors::new();
        errors.add("member", "Choose a member of this organization.");
        return render(frame, &state, acting.user, slug, StatusCode::UNPROCESSABLE_ENTITY, errors, FormErrors::new())
            .await;
    };
    let actor = acting.actor();
    let lookup = slug.clone();
    let confirm = form.confirm.clone();
    match state.db.run(move |conn| ownership::transfer(conn, &actor, &lookup, member, &confirm)).await {
        Ok(email) => {
            frame.session.flash(FlashLevel::Success, format!("{email} is now the Owner. You are an Admin."));
            Ok(redirect(&req, &format!("/orgs/{slug}/settings")))
        }
        Err(AppError::Invalid(errors)) => {
            render(frame, &state, acting.user, slug, StatusCode::UNPROCESSABLE_ENTITY, errors, FormErrors::new()).await
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/settings/delete: `Delete organization`.
pub async fn delete_organization(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let lookup = slug.clone();
    let confirm = form.confirm.clone();
    match state.db.run(move |conn| ownership::delete_organization(conn, &actor, &lookup, &confirm)).await {
        Ok(name) => {
            frame.session.flash(FlashLevel::Success, format!("{name} was deleted."));
            Ok(redirect(&req, "/dashboard"))
        }
        Err(AppError::Invalid(errors)) => {
            render(frame, &state, acting.user, slug, StatusCode::UNPROCESSABLE_ENTITY, FormErrors::new(), errors).await
        }
        Err(other) => Err(other),
    }
}
