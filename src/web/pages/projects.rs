//! The Projects page and a project's page: create, rename and delete projects, and
//! grant or revoke access for a team or a member (Owner and Admins).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::groups::{create_group, done, name_listing, new_group_form, GroupForm, GroupKind, Submitted};
use crate::domain::team::Reach;
use crate::domain::{AccessLevel, Permission};
use crate::error::{AppError, FormErrors};
use crate::services::projects::{self, Cursor, Grant, GranteeInput, Project, ProjectEntry};
use crate::services::reach::Place;
use crate::web::extractors::{Acting, OrgNamed, OrgSlug, SignedIn};
use crate::web::htmx::{is_htmx, page, page_with_status};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{row_action, FlashFragment, Listing, TableParams};
use crate::web::picker::Picker;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "projects/index.html")]
struct ProjectsPage {
    layout: Layout,
    slug: String,
    rows: Vec<ProjectEntry>,
    state: Listing,
    next_url: Option<String>,
    creates: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GrantForm {
    /// A team's id, or empty for a member.
    #[serde(default)]
    pub team: String,
    /// A member's email address (or name), when no team is chosen.
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub level: String,
    /// The day a member's own access ends (`2027-03-31`), or empty: it does not.
    #[serde(default)]
    pub expires: String,
}

#[derive(Template)]
#[template(path = "projects/show.html")]
struct ProjectPage {
    layout: Layout,
    slug: String,
    csrf: String,
    project: Project,
    grants: Vec<Grant>,
    mine: Option<Reach<Place>>,
    manages: bool,
    sees_history: bool,
    /// `Grant access`'s pickers: a team, or a member.
    team_picker: Picker,
    member_picker: Picker,
    /// The others who can grant access, in words, when the viewer has none and cannot grant it.
    granters: String,
    grant: Submitted<GrantForm>,
    settings: Submitted<GroupForm>,
}

impl ProjectPage {
    /// The project's page, which its forms post below.
    pub fn path(&self) -> String {
        format!("/orgs/{}/projects/{}", self.slug, self.project.slug)
    }
    pub fn levels(&self) -> &'static [AccessLevel] {
        &AccessLevel::ALL
    }
}

#[derive(Template)]
#[template(path = "projects/_grant_row_swap.html")]
struct GrantRowFragment {
    g: Grant,
    slug: String,
    csrf: String,
    project_path: String,
    manages: bool,
    message: String,
}

impl GrantRowFragment {
    pub fn levels(&self) -> &'static [AccessLevel] {
        &AccessLevel::ALL
    }
}

/// The hidden field that names a grant's grantee when its level changes: what
/// `Grant access` takes (`team`, an id; `member`, an address).
trait GranteeField {
    fn grantee_field(&self) -> (&'static str, String);
}

impl GranteeField for Grant {
    fn grantee_field(&self) -> (&'static str, String) {
        match self.team_id {
            Some(team) => ("team", team.to_string()),
            None => ("member", self.member_email.clone().unwrap_or_default()),
        }
    }
}

/// GET /orgs/{slug}/projects
pub async fn list_projects(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<TableParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (list, filter) = name_listing(format!("/orgs/{slug}/projects"), &params);
    let (viewer, access, found) =
        state.db.run(move |conn| projects::list_page(conn, &slug, user.0, &filter, PAGE_SIZE)).await?;
    let (shown, next_url) = list.page(&found, PAGE_SIZE, |last| Cursor::Text(last.sort_key.clone(), last.project.id));
    page(&ProjectsPage {
        rows: shown.to_vec(),
        slug: access.org.slug.clone(),
        creates: access.role.can(Permission::ManageTeamsAndProjects),
        state: list,
        next_url,
        layout: frame.layout("Projects", Some(viewer), Some(&access.org.slug), Nav::Projects),
    })
}

/// GET /orgs/{slug}/projects/new: the `Create project` form.
pub async fn new_project_form(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    new_group_form(GroupKind::Project, frame, user, state, slug).await
}

/// POST /orgs/{slug}/projects: `Create project`.
pub async fn create_project(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<GroupForm>,
) -> Result<HttpResponse, AppError> {
    create_group(GroupKind::Project, req, frame, acting, state, slug, form.into_inner()).await
}

/// Renders a project's page, with a form's errors if one was refused.
async fn render_project(
    frame: Frame,
    state: &web::Data<AppState>,
    user: crate::domain::UserId,
    named: OrgNamed,
    grant: Submitted<GrantForm>,
    settings: Option<Submitted<GroupForm>>,
) -> Result<HttpResponse, AppError> {
    let OrgNamed { slug, name, .. } = named;
    let found = state.db.run(move |conn| projects::project_page(conn, &slug, user, &name)).await?;
    let failed = !grant.errors.is_empty() || settings.as_ref().is_some_and(|s| !s.errors.is_empty());
    let settings = settings.unwrap_or_else(|| Submitted {
        form: GroupForm { name: found.project.name.clone(), description: found.project.description.clone() },
        errors: FormErrors::new(),
    });
    let org_slug = found.access.org.slug.clone();
    let view = ProjectPage {
        csrf: frame.csrf().to_owned(),
        grants: found.grants,
        mine: found.mine,
        manages: found.manages,
        sees_history: found.sees_history,
        team_picker: Picker {
            placeholder: "Type a team's name",
            ..Picker::single("grant-team", "Team", "team", format!("/orgs/{org_slug}/choices/teams"), &grant.form.team)
        },
        member_picker: Picker {
            placeholder: "Or a member's name or email",
            ..Picker::single(
                "grant-member",
                "Member",
                "member",
                format!("/orgs/{org_slug}/choices/members"),
                &grant.form.member,
            )
        },
        granters: found.granters.map(|g| super::access::names_in_words(&g.others)).unwrap_or_default(),
        grant,
        settings,
        slug: org_slug.clone(),
        layout: frame.layout(found.project.name.clone(), Some(found.viewer), Some(&org_slug), Nav::Projects),
        project: found.project,
    };
    page_with_status(if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &view)
}

/// GET /orgs/{slug}/projects/{name}
pub async fn show_project(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    render_project(frame, &state, user.0, named, Submitted::default(), None).await
}

fn project_url(named: &OrgNamed) -> String {
    format!("/orgs/{}/projects/{}", named.slug, named.name)
}

/// POST /orgs/{slug}/projects/{name}/access: `Grant access` (also changes a level).
pub async fn grant_access(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FormErrors::new();
    let level = AccessLevel::from_db(form.level.trim());
    if level.is_none() {
        errors.add("level", "Choose Read, Write or Admin.");
    }
    let grantee = match form.team.trim() {
        "" => Some(GranteeInput::Member(form.member.clone())),
        _ if !form.member.trim().is_empty() => {
            errors.add("grantee", "Choose a team or type a member's email address, not both.");
            None
        }
        team => Some(match uuid::Uuid::parse_str(team) {
            Ok(id) => GranteeInput::Team(id),
            Err(_) => GranteeInput::TeamNamed(team.to_owned()),
        }),
    };
    let until = errors
        .check("expires", crate::domain::expiry::parse_optional_date(&form.expires, time::OffsetDateTime::now_utc()))
        .flatten();
    let (Some(level), Some(grantee), true) = (level, grantee, errors.get("expires").is_none()) else {
        if is_htmx(&req) {
            // From a row's Change level: the error goes where htmx shows errors, not into the row.
            return Err(AppError::Invalid(errors));
        }
        return render_project(frame, &state, acting.user, named, Submitted { form, errors }, None).await;
    };
    let actor = acting.actor();
    let (slug, project) = (named.slug.clone(), named.name.clone());
    match state.db.run(move |conn| projects::grant_until(conn, &actor, &slug, &project, &grantee, level, until)).await {
        Ok((project, grant)) => {
            let message =
                format!("{} now has {} access to {}.", capitalized(&grant.grantee()), level.label(), project.name);
            let project_path = project_url(&named);
            row_action(&req, frame, &project_path.clone(), message, |csrf, message| GrantRowFragment {
                g: grant,
                slug: named.slug.to_string(),
                csrf,
                project_path,
                manages: true,
                message,
            })
        }
        Err(AppError::Invalid(errors)) if !is_htmx(&req) => {
            render_project(frame, &state, acting.user, named, Submitted { form, errors }, None).await
        }
        Err(other) => Err(other),
    }
}

/// How a sentence starts with a grantee: "Team Platform", or an email address as it is.
fn capitalized(grantee: &str) -> String {
    match grantee.strip_prefix("team ") {
        Some(team) => format!("Team {team}"),
        None => grantee.to_owned(),
    }
}

/// GET /orgs/{slug}/projects/{name}/access/{id}/revoke: the confirmation, with who
/// would lose what.
pub async fn confirm_revoke_access(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    revocation_page(req, frame, user, state, named, false).await
}

/// Revoking a grant, asked first (`stale`: again, because what it does changed).
async fn revocation_page(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    stale: bool,
) -> Result<HttpResponse, AppError> {
    let grant = named.id.ok_or(AppError::NotFound)?;
    let (slug, project) = (named.slug.clone(), named.name.clone());
    let (viewer, project, grantee, seen) =
        state.db.run(move |conn| projects::revocation(conn, &slug, user.0, &project, grant)).await?;
    let confirm = crate::web::confirm::Confirm {
        title: "Revoke access".into(),
        question: "Revoke the access of".into(),
        subject: grantee,
        consequence: format!("to {}?", project.name),
        button: "Revoke".into(),
        action: format!("{}/access/{grant}/revoke", project_url(&named)),
        back: project_url(&named),
        impact: Some(seen),
        stale,
    };
    crate::web::confirm::ask(&req, frame, viewer, named.slug.as_str(), Nav::Projects, confirm)
}

/// POST /orgs/{slug}/projects/{name}/access/{id}/revoke: ends one grant.
pub async fn revoke_access(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: Option<web::Form<crate::web::confirm::SeenForm>>,
) -> Result<HttpResponse, AppError> {
    let grant = named.id.ok_or(AppError::NotFound)?;
    let actor = acting.actor();
    let (slug, project) = (named.slug.clone(), named.name.clone());
    let seen = form.and_then(|f| f.into_inner().digest);
    let revoked =
        state.db.run(move |conn| projects::revoke(conn, &actor, &slug, &project, grant, seen.as_deref())).await;
    let (project, grantee) = match revoked {
        Err(error) if crate::services::impact::is_stale(&error) => {
            let shown = revocation_page(req.clone(), frame, SignedIn(acting.user), state, named, true).await?;
            return Ok(crate::web::confirm::asked_again(&req, shown));
        }
        other => other?,
    };
    let message = format!("{} no longer has access to {}.", capitalized(&grantee), project.name);
    // The row goes (hx-swap="delete"); the message goes to the alert region.
    row_action(&req, frame, &project_url(&named), message, |_, message| FlashFragment { message })
}

/// POST /orgs/{slug}/projects/{name}/settings: rename, change the description.
pub async fn rename_project(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: web::Form<GroupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (name, description) = form.parsed();
    let actor = acting.actor();
    let (slug, project) = (named.slug.clone(), named.name.clone());
    match state.db.run(move |conn| projects::rename(conn, &actor, &slug, &project, name, description)).await {
        Ok(project) => {
            let to = format!("/orgs/{}/projects/{}", named.slug, project.slug);
            Ok(done(&req, frame, &to, format!("Project {} was saved.", project.name)))
        }
        Err(AppError::Invalid(errors)) => {
            let settings = Some(Submitted { form, errors });
            render_project(frame, &state, acting.user, named, Submitted::default(), settings).await
        }
        Err(other) => Err(other),
    }
}

/// GET /orgs/{slug}/projects/{name}/delete: the `Delete project` confirmation.
pub async fn confirm_delete_project(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    let (slug, name) = (named.slug.clone(), named.name.clone());
    let found = state.db.run(move |conn| projects::project_page(conn, &slug, user.0, &name)).await?;
    found.access.require(Permission::ManageTeamsAndProjects)?;
    let confirm = crate::web::confirm::Confirm {
        title: "Delete project".into(),
        question: "Delete project".into(),
        button: "Delete project".into(),
        consequence: format!("Its {} access grant(s) end with it.", found.grants.len()),
        subject: found.project.name.clone(),
        action: format!("{}/delete", project_url(&named)),
        back: project_url(&named),
        impact: None,
        stale: false,
    };
    crate::web::confirm::ask(&req, frame, found.viewer, named.slug.as_str(), Nav::Projects, confirm)
}

/// POST /orgs/{slug}/projects/{name}/delete: `Delete project`.
pub async fn delete_project(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    let actor = acting.actor();
    let (slug, project) = (named.slug.clone(), named.name.clone());
    let name = state.db.run(move |conn| projects::delete(conn, &actor, &slug, &project)).await?;
    Ok(done(&req, frame, &format!("/orgs/{}/projects", named.slug), format!("Project {name} was deleted.")))
}
