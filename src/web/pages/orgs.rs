//! Organizations: create one, see its overview.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::{OrgName, Role};
use crate::error::{AppError, FormErrors};
use crate::services::organizations::{self, NotCreated, Overview, UNVERIFIED};
use crate::services::viewer;
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::format::format_date;
use crate::web::htmx::{page, page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "orgs/new.html")]
struct NewOrgPage {
    layout: Layout,
    name: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "orgs/overview.html")]
struct OverviewPage {
    layout: Layout,
    org: Overview,
    created: String,
}

#[derive(Debug, Deserialize)]
pub struct NewOrgForm {
    #[serde(default)]
    name: String,
}

/// GET /orgs/new
pub async fn new_org_form(frame: Frame, user: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let viewer = state.db.run(move |conn| viewer::load(conn, user.0)).await?;
    let errors = if viewer.verified { FormErrors::new() } else { FormErrors::form(UNVERIFIED) };
    page(&NewOrgPage {
        layout: frame.layout("Create organization", Some(viewer), None, Nav::Dashboard),
        name: String::new(),
        errors,
    })
}

/// POST /orgs: the creator becomes the Owner.
pub async fn create_org(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    form: web::Form<NewOrgForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let name = OrgName::parse(&form.name);
    let submitted = form.name.clone();
    let outcome = state.db.run(move |conn| organizations::create_as(conn, user.0, name)).await?;
    match outcome {
        Ok(slug) => {
            frame.session.flash(FlashLevel::Success, format!("{} was created. You are its Owner.", submitted.trim()));
            Ok(redirect(&req, &format!("/orgs/{slug}")))
        }
        Err(NotCreated { viewer, errors }) => page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewOrgPage {
                layout: frame.layout("Create organization", Some(viewer), None, Nav::Dashboard),
                name: submitted,
                errors,
            },
        ),
    }
}

/// GET /orgs/{slug}: 404 for anyone who is not a member.
pub async fn show_overview(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (viewer, org) = state.db.run(move |conn| organizations::overview_page(conn, &slug, user.0)).await?;
    let slug = org.slug.clone();
    page(&OverviewPage {
        layout: frame.layout(org.name.clone(), Some(viewer), Some(&slug), Nav::Overview),
        created: format_date(org.created_at),
        org,
    })
}
