//! `My access` and the Access section of a member's page: every team and project a
//! member reaches, the level, and why; and who can grant more when they reach nothing.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::team::Via;
use crate::domain::TeamRole;
use crate::error::AppError;
use crate::services::reach::{self, MemberReach};
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;

/// A project someone reaches, in words.
pub struct ProjectLine {
    pub name: String,
    pub slug: String,
    pub level: &'static str,
    /// "Write via team Platform", "Read, granted directly" — the highest first.
    pub reasons: Vec<String>,
}

/// What the Access view shows about one member.
pub struct AccessView {
    pub teams: Vec<(String, String, TeamRole)>,
    pub projects: Vec<ProjectLine>,
    /// The others (Owner and Admins) who can grant access, in words (for the empty case).
    pub granters: String,
    /// Whether the viewer may grant access themselves (then told so, not to ask).
    pub viewer_grants: bool,
}

impl AccessView {
    pub fn new(reach: MemberReach, granters: &crate::services::reach::Granters) -> Self {
        let projects = reach
            .projects
            .into_iter()
            .map(|r| ProjectLine {
                reasons: r
                    .reasons
                    .iter()
                    .map(|(level, via)| match via {
                        Via::Direct => format!("{level}, granted directly"),
                        Via::Team(team) => format!("{level} via team {team}"),
                    })
                    .collect(),
                level: r.level.label(),
                name: r.project.name,
                slug: r.project.slug,
            })
            .collect();
        AccessView {
            teams: reach.teams.into_iter().map(|(t, role)| (t.name, t.slug, role)).collect(),
            projects,
            granters: names_in_words(&granters.others),
            viewer_grants: granters.viewer_may,
        }
    }
}

/// "Ada", "Ada or Ben", "Ada, Ben or Cleo".
pub fn names_in_words(names: &[String]) -> String {
    match names {
        [] => "the Owner or an Admin".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[derive(Template)]
#[template(path = "access/mine.html")]
struct MyAccessPage {
    layout: Layout,
    slug: String,
    org_name: String,
    view: AccessView,
    /// Whose access it is ("You" here; a member's name on their page).
    me: bool,
    subject: String,
}

/// GET /orgs/{slug}/access: `My access`.
pub async fn my_access(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (viewer, access, found, granters) =
        state.db.run(move |conn| reach::my_access_page(conn, &slug, user.0)).await?;
    page(&MyAccessPage {
        slug: access.org.slug.clone(),
        org_name: access.org.name.clone(),
        view: AccessView::new(found, &granters),
        me: true,
        subject: access.name(),
        layout: frame.layout("My access", Some(viewer), Some(&access.org.slug), Nav::Access),
    })
}
