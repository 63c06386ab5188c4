//! What the Teams and Projects pages share: the name and description form, the
//! `Create team` / `Create project` page, the delete confirmation, the list's URL
//! state, and the answer to a successful action.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::{Description, GroupName, Permission};
use crate::error::{AppError, FormErrors};
use crate::services::groups::GroupFilter;
use crate::services::{projects, teams};
use crate::web::extractors::{Acting, OrgSlug, SignedIn};
use crate::web::htmx::{page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, Listing, TableParams};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// Which of the two a page is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Team,
    Project,
}

impl GroupKind {
    /// "team", as in `Create team` and `/orgs/acme/teams`.
    pub fn noun(self) -> &'static str {
        match self {
            GroupKind::Team => "team",
            GroupKind::Project => "project",
        }
    }
    /// "Teams", the list's heading.
    pub fn plural(self) -> &'static str {
        match self {
            GroupKind::Team => "Teams",
            GroupKind::Project => "Projects",
        }
    }
    fn nav(self) -> Nav {
        match self {
            GroupKind::Team => Nav::Teams,
            GroupKind::Project => Nav::Projects,
        }
    }
}

/// The name and description fields of a team or project form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl GroupForm {
    pub fn parsed(
        &self,
    ) -> (Result<GroupName, crate::domain::names::NameError>, Result<Description, crate::domain::team::DescriptionError>)
    {
        (GroupName::parse(&self.name), Description::parse(&self.description))
    }
}

/// A form as submitted, with its errors, to show again.
#[derive(Debug, Clone, Default)]
pub struct Submitted<F> {
    pub form: F,
    pub errors: FormErrors,
}

/// The state of a list sorted by name only (Teams, Projects), from its URL, and
/// the filter that loads its page.
pub fn name_listing(path: String, params: &TableParams) -> (Listing, GroupFilter) {
    let list = Listing {
        path,
        filters: vec![("q", params.q.trim().to_owned())],
        sort: "name",
        descending: listing::descending(&params.dir, "name", &[]),
        descending_first: &[],
        later_page: !params.after.is_empty(),
    };
    let filter = GroupFilter {
        search: list.filter("q").to_owned(),
        descending: list.descending,
        after: listing::decode_cursor(&params.after),
    };
    (list, filter)
}

#[derive(Template)]
#[template(path = "groups/new.html")]
struct NewGroupPage {
    layout: Layout,
    slug: String,
    kind: &'static str,
    plural: &'static str,
    submitted: Submitted<GroupForm>,
}

/// The `Create team` or `Create project` page, for the Owner and Admins, with what
/// was submitted and its errors.
async fn new_group_page(
    kind: GroupKind,
    frame: Frame,
    state: &web::Data<AppState>,
    user: crate::domain::UserId,
    slug: crate::domain::Slug,
    submitted: Submitted<GroupForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, access) = state.db.run(move |conn| crate::services::access::page(conn, &slug, user)).await?;
    access.require(Permission::ManageTeamsAndProjects)?;
    let status = if submitted.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let title = format!("Create {}", kind.noun());
    page_with_status(
        status,
        &NewGroupPage {
            slug: access.org.slug.clone(),
            kind: kind.noun(),
            plural: kind.plural(),
            submitted,
            layout: frame.layout(title, Some(viewer), Some(&access.org.slug), kind.nav()),
        },
    )
}

/// GET /orgs/{slug}/teams/new and /projects/new.
pub async fn new_group_form(
    kind: GroupKind,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    new_group_page(kind, frame, &state, user.0, slug.0, Submitted::default()).await
}

/// POST /orgs/{slug}/teams and /projects: creates one and opens its page.
pub async fn create_group(
    kind: GroupKind,
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: GroupForm,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (name, description) = form.parsed();
    let actor = acting.actor();
    let org = slug.clone();
    let created = state
        .db
        .run(move |conn| match kind {
            GroupKind::Team => teams::create(conn, &actor, &org, name, description).map(|t| (t.name, t.slug)),
            GroupKind::Project => projects::create(conn, &actor, &org, name, description).map(|p| (p.name, p.slug)),
        })
        .await;
    match created {
        Ok((name, new_slug)) => {
            let message = match kind {
                GroupKind::Team => format!("Team {name} was created. Add its members below."),
                GroupKind::Project => format!("Project {name} was created. Grant access to teams or people below."),
            };
            Ok(done(&req, frame, &format!("/orgs/{slug}/{}s/{new_slug}", kind.noun()), message))
        }
        Err(AppError::Invalid(errors)) => {
            new_group_page(kind, frame, &state, acting.user, slug, Submitted { form, errors }).await
        }
        Err(other) => Err(other),
    }
}

/// Answers a successful action: `message` for the next page, and a redirect to `to`.
pub fn done(req: &HttpRequest, frame: Frame, to: &str, message: String) -> HttpResponse {
    frame.session.flash(FlashLevel::Success, message);
    redirect(req, to)
}
