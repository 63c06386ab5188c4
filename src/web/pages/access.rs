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
    pub id: uuid::Uuid,
    pub name: String,
    pub slug: String,
    pub level: &'static str,
    /// "Write via team Platform", "Read, granted directly" — the highest first.
    pub reasons: Vec<String>,
    /// Whether they have a grant of their own (which may carry an end date).
    pub direct: bool,
    /// The day their own grant ends, if it does.
    pub ends: Option<String>,
}

/// A team someone is in.
pub struct TeamLine {
    pub id: uuid::Uuid,
    pub name: String,
    pub slug: String,
    pub role: TeamRole,
    /// The day their place ends, if it does.
    pub ends: Option<String>,
}

/// A team place or grant that ended at its date.
pub struct ExpiredLine {
    /// "team Platform", "project Apollo".
    pub what: String,
    pub href: String,
    /// "Maintainer", "Write".
    pub grade: &'static str,
    pub day: String,
    /// The `on` of `Grant again`.
    pub on: String,
}

/// What the Access view shows about one member.
pub struct AccessView {
    pub teams: Vec<TeamLine>,
    pub projects: Vec<ProjectLine>,
    pub expired: Vec<ExpiredLine>,
    /// The member, when the viewer may set when their places and grants end (links to
    /// `Set expiry`, `Extend`, `Grant again` are shown).
    pub manage: Option<uuid::Uuid>,
    /// The others (Owner and Admins) who can grant access, in words (for the empty case).
    pub granters: String,
    /// Whether the viewer may grant access themselves (then told so, not to ask).
    pub viewer_grants: bool,
}

impl AccessView {
    pub fn new(reach: MemberReach, granters: &crate::services::reach::Granters, slug: &str) -> Self {
        let day = crate::domain::dates::day;
        let grant_ends = reach.grant_ends;
        let team_ends = reach.team_ends;
        let projects = reach
            .projects
            .into_iter()
            .map(|r| ProjectLine {
                id: r.project.id,
                direct: r.reasons.iter().any(|(_, via)| *via == Via::Direct),
                ends: grant_ends.get(&r.project.id).copied().map(day),
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
        let expired = reach
            .expired
            .into_iter()
            .map(|e| {
                let (what, href, grade, on) = match (e.team_id, e.project_id) {
                    (Some(team), _) => (
                        format!("team {}", e.name),
                        format!("/orgs/{slug}/teams/{}", e.slug),
                        TeamRole::from_db(&e.grade).map_or("", |r| r.label()),
                        crate::domain::expiry::On::Team(team).key(),
                    ),
                    (None, project) => (
                        format!("project {}", e.name),
                        format!("/orgs/{slug}/projects/{}", e.slug),
                        crate::domain::AccessLevel::from_db(&e.grade).map_or("", |l| l.label()),
                        crate::domain::expiry::On::Project(project.unwrap_or_default()).key(),
                    ),
                };
                ExpiredLine { what, href, grade, day: day(e.expired_at), on }
            })
            .collect();
        AccessView {
            teams: reach
                .teams
                .into_iter()
                .map(|(t, role)| TeamLine {
                    ends: team_ends.get(&t.id).copied().map(day),
                    id: t.id,
                    name: t.name,
                    slug: t.slug,
                    role,
                })
                .collect(),
            projects,
            expired,
            manage: None,
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
    csrf: String,
    slug: String,
    org_name: String,
    view: AccessView,
    /// Whose access it is ("You" here; a member's name on their page).
    me: bool,
    subject: String,
    /// The viewer's membership, whose access history the page links to.
    membership: uuid::Uuid,
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
        csrf: frame.csrf().to_owned(),
        slug: access.org.slug.clone(),
        org_name: access.org.name.clone(),
        view: AccessView::new(found, &granters, &access.org.slug),
        me: true,
        subject: access.name(),
        membership: access.person()?.membership,
        layout: frame.layout("My access", Some(viewer), Some(&access.org.slug), Nav::Access),
    })
}
