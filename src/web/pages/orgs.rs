//! Organizations: create one, see its overview.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::access::AccessView;
use super::audit::EventView;
use crate::domain::{OrgName, Role};
use crate::error::{AppError, FormErrors};
use crate::services::organizations::{self, Attention, NotCreated, Overview, UNVERIFIED};
use crate::services::viewer;
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::format::When;
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
    slug: String,
    org_name: String,
    org: Overview,
    created: When,
    /// For those who manage members.
    attention: Option<AttentionView>,
    /// The latest events of the audit log, for those who read it.
    recent: Vec<EventView>,
    /// The viewer's teams and projects (a Member's Overview shows them).
    view: AccessView,
    /// The Owner and Admins, in words: whom a Member asks.
    granters: String,
    csrf: String,
}

impl OverviewPage {
    /// Whether the viewer is an Owner or Admin (an overview of the organization)
    /// rather than a Member (an overview of their own access).
    pub fn manages(&self) -> bool {
        self.attention.is_some()
    }
}

/// What needs those who manage members, as the Overview says it.
pub struct AttentionView {
    pub pending: i64,
    pub expiring: i64,
    /// The oldest pending invitation: (address, when it was sent).
    pub oldest: Option<(String, When)>,
    pub unverified: i64,
    pub never_active: i64,
    /// The first steps, for an organization younger than [`NEW_FOR`]: (done, words, where).
    pub first_steps: Vec<(bool, &'static str, String)>,
}

impl AttentionView {
    fn new(attention: &Attention, slug: &str, owner: bool, new: bool) -> Self {
        let mut steps = vec![
            (attention.ever_invited, "Invite people", format!("/orgs/{slug}/invitations/new")),
            (attention.has_team, "Create a team", format!("/orgs/{slug}/teams/new")),
        ];
        if owner {
            steps.push((attention.has_verified_domain, "Verify a domain", format!("/orgs/{slug}/settings/domains")));
        }
        let first_steps = if new && steps.iter().any(|(done, ..)| !done) { steps } else { Vec::new() };
        AttentionView {
            pending: attention.pending,
            expiring: attention.expiring,
            oldest: attention.oldest_email.clone().zip(attention.oldest_sent.map(When::of)),
            unverified: attention.unverified,
            never_active: attention.never_active,
            first_steps,
        }
    }

    /// Whether nothing asks for the viewer's attention.
    pub fn all_clear(&self) -> bool {
        self.expiring == 0 && self.unverified == 0 && self.never_active == 0
    }
}

/// How long an organization counts as new: its Overview lists the first steps until done.
const NEW_FOR: time::Duration = time::Duration::days(30);

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
    let new = time::OffsetDateTime::now_utc() - org.created_at < NEW_FOR;
    let attention = org.attention.as_ref().map(|a| AttentionView::new(a, &slug, org.my_role == Role::Owner, new));
    page(&OverviewPage {
        csrf: frame.csrf().to_owned(),
        layout: frame.layout(org.name.clone(), Some(viewer), Some(&slug), Nav::Overview),
        created: When::of(org.created_at),
        attention,
        recent: org.recent.iter().map(|e| EventView::new(e, &slug)).collect(),
        view: AccessView::new(org.reach.clone(), &org.granters, &slug),
        granters: super::access::names_in_words(&org.granters.others),
        org_name: org.name.clone(),
        slug,
        org,
    })
}
