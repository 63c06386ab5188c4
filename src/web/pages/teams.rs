//! The Teams page and a team's page: create, rename and delete teams; add, remove
//! and change the role of team members. Plain forms that answer with a redirect
//! and a message; the `Add member` field asks for suggestions as one types.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::groups::{create_group, done, name_listing, new_group_form, GroupForm, GroupKind, Submitted};
use crate::domain::{Permission, TeamRole};
use crate::error::{AppError, FormErrors};
use crate::services::teams::{self, Cursor, Team, TeamEntry, TeamMember, TeamMemberEntry, TeamRights};
use crate::web::export::{next_page, Exported};
use crate::web::extractors::{Acting, OrgNamed, OrgSlug, SignedIn};
use crate::web::format::{machine_time, When};
use crate::web::htmx::{page, page_with_status};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, row_action, FlashFragment, Listing, TableParams};
use crate::web::picker::{self, ChoiceParams, Picker};
use crate::web::recent_writes::browser_wrote;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

/// One team of the list, ready to show.
pub struct TeamRow {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub members: i64,
    pub maintainers: String,
}

impl TeamRow {
    fn new(entry: &TeamEntry) -> Self {
        TeamRow {
            name: entry.team.name.clone(),
            slug: entry.team.slug.clone(),
            description: entry.team.description.clone(),
            members: entry.members,
            maintainers: entry.maintainers.join(", "),
        }
    }
}

#[derive(Template)]
#[template(path = "teams/index.html")]
struct TeamsPage {
    layout: Layout,
    slug: String,
    rows: Vec<TeamRow>,
    state: Listing,
    next_url: Option<String>,
    creates: bool,
}

/// A team member, ready to show.
pub struct MemberRow {
    pub membership_id: Uuid,
    pub name: String,
    pub email: String,
    pub initials: String,
    pub role: TeamRole,
    pub org_role: &'static str,
    pub added: When,
    pub manageable: bool,
    pub is_me: bool,
    /// The day their place ends, if it does.
    pub ends: Option<String>,
    /// The `on` of the page that sets when their place ends (`team:<id>`).
    pub expiry_on: String,
}

impl MemberRow {
    fn new(entry: &TeamMemberEntry, team: Uuid) -> Self {
        let m = &entry.member;
        MemberRow {
            ends: m.ends(),
            expiry_on: crate::domain::expiry::On::Team(team).key(),
            membership_id: m.membership_id,
            name: m.name.clone(),
            email: m.email.clone(),
            initials: super::members::initials(&m.name),
            role: m.role,
            org_role: m.org_role.label(),
            added: When::of(m.added_at),
            manageable: entry.manageable,
            is_me: entry.is_me,
        }
    }
}

#[derive(Template)]
#[template(path = "teams/show.html")]
struct TeamPage {
    layout: Layout,
    slug: String,
    csrf: String,
    team: Team,
    rights: TeamRights,
    members: Vec<MemberRow>,
    next_url: Option<String>,
    later_page: bool,
    projects: Vec<(String, String, crate::domain::AccessLevel)>,
    /// `Add member`'s picker, for those who may add.
    add_picker: Picker,
    add: Submitted<AddMemberForm>,
    settings: Submitted<GroupForm>,
    seats: Option<crate::domain::SeatUsage>,
}

impl TeamPage {
    /// The team's page, which its forms post below.
    pub fn path(&self) -> String {
        format!("/orgs/{}/teams/{}", self.slug, self.team.slug)
    }
    pub fn team_roles(&self) -> &'static [TeamRole] {
        &TeamRole::ALL
    }
}

#[derive(Template)]
#[template(path = "teams/_member_row_swap.html")]
struct MemberRowFragment {
    row: MemberRow,
    slug: String,
    csrf: String,
    team_path: String,
    manages: bool,
    message: String,
}

impl MemberRowFragment {
    pub fn team_roles(&self) -> &'static [TeamRole] {
        &TeamRole::ALL
    }
}

/// GET /orgs/{slug}/teams
pub async fn list_teams(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<TableParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (list, filter) = name_listing(format!("/orgs/{slug}/teams"), &params);
    let (viewer, access, found) =
        state.db.run(move |conn| teams::list_page(conn, &slug, user.0, &filter, PAGE_SIZE)).await?;
    let (shown, next_url) = list.page(&found, PAGE_SIZE, |last| Cursor::Text(last.sort_key.clone(), last.team.id));
    page(&TeamsPage {
        rows: shown.iter().map(TeamRow::new).collect(),
        slug: access.org.slug.clone(),
        creates: access.role.can(Permission::ManageTeamsAndProjects),
        state: list,
        next_url,
        layout: frame.layout("Teams", Some(viewer), Some(&access.org.slug), Nav::Teams),
    })
}

/// GET /orgs/{slug}/teams/new: the `Create team` form.
pub async fn new_team_form(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    new_group_form(GroupKind::Team, frame, user, state, slug).await
}

/// POST /orgs/{slug}/teams: `Create team`.
pub async fn create_team(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<GroupForm>,
) -> Result<HttpResponse, AppError> {
    create_group(GroupKind::Team, req, frame, acting, state, slug, form.into_inner()).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub role: String,
    /// The day their place ends (`2027-03-31`), or empty: it does not.
    #[serde(default)]
    pub expires: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    #[serde(default)]
    after: String,
}

/// Renders a team's page, with a form's errors if one was refused.
async fn render_team(
    frame: Frame,
    state: &web::Data<AppState>,
    user: crate::domain::UserId,
    named: OrgNamed,
    after: String,
    add: Submitted<AddMemberForm>,
    settings: Option<Submitted<GroupForm>>,
) -> Result<HttpResponse, AppError> {
    let OrgNamed { slug, name, .. } = named;
    let cursor: Option<Cursor> = listing::decode_cursor(&after);
    let found =
        state.db.run(move |conn| teams::team_page(conn, &slug, user, &name, cursor.as_ref(), PAGE_SIZE)).await?;
    let failed = !add.errors.is_empty() || settings.as_ref().is_some_and(|s| !s.errors.is_empty());
    let org_slug = found.access.org.slug.clone();
    let list = Listing {
        path: format!("/orgs/{org_slug}/teams/{}", found.team.slug),
        filters: Vec::new(),
        sort: "name",
        descending: false,
        descending_first: &[],
        later_page: !after.is_empty(),
    };
    let (shown, next_url) = list
        .page(&found.members, PAGE_SIZE, |last| Cursor::Text(last.member.sort_key.clone(), last.member.membership_id));
    let settings = settings.unwrap_or_else(|| Submitted {
        form: GroupForm { name: found.team.name.clone(), description: found.team.description.clone() },
        errors: FormErrors::new(),
    });
    let page_view = TeamPage {
        csrf: frame.csrf().to_owned(),
        members: shown.iter().map(|entry| MemberRow::new(entry, found.team.id)).collect(),
        next_url,
        later_page: !after.is_empty(),
        rights: found.rights,
        projects: found.projects,
        add_picker: Picker {
            error: add.errors.get("member").map(str::to_owned),
            hint: format!(
                "Type a name or an email address and choose from the suggestions. People who are not members of the \
                 organization yet need an invitation first{}.",
                if found.rights.invite { ": use Invite to team" } else { "" }
            ),
            placeholder: "Name or email",
            ..Picker::single(
                "add-member",
                "Organization member",
                "member",
                format!("/orgs/{org_slug}/teams/{}/candidates", found.team.slug),
                &add.form.member,
            )
        },
        seats: found.seats,
        add,
        settings,
        slug: org_slug.clone(),
        layout: frame.layout(found.team.name.clone(), Some(found.viewer), Some(&org_slug), Nav::Teams),
        team: found.team,
    };
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    page_with_status(status, &page_view)
}

/// GET /orgs/{slug}/teams/{name}: a team's page.
pub async fn show_team(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let after = params.into_inner().after;
    render_team(frame, &state, user.0, named, after, Submitted::default(), None).await
}

/// GET /orgs/{slug}/teams/{name}/candidates?q=: suggestions for `Add member`.
pub async fn team_candidates(
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    params: web::Query<ChoiceParams>,
) -> Result<HttpResponse, AppError> {
    let path = format!("{}/candidates", team_url(&named));
    let OrgNamed { slug, name, .. } = named;
    let (q, after) = (params.q.clone(), listing::decode_cursor(&params.after));
    let found = state.db.run(move |conn| teams::candidates(conn, &slug, user.0, &name, &q, after)).await?;
    picker::answer(&path, &params, found, "member", true)
}

/// The team page's URL.
fn team_url(named: &OrgNamed) -> String {
    format!("/orgs/{}/teams/{}", named.slug, named.name)
}

/// POST /orgs/{slug}/teams/{name}/members: `Add member`.
pub async fn add_team_member(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: web::Form<AddMemberForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let Some(role) = TeamRole::from_db(form.role.trim()) else {
        let mut errors = FormErrors::new();
        errors.add("role", "Choose Maintainer or Member.");
        return render_team(frame, &state, acting.user, named, String::new(), Submitted { form, errors }, None).await;
    };
    let until = match crate::domain::expiry::parse_optional_date(&form.expires, time::OffsetDateTime::now_utc()) {
        Ok(until) => until,
        Err(error) => {
            let errors = FormErrors::field("expires", error);
            return render_team(frame, &state, acting.user, named, String::new(), Submitted { form, errors }, None)
                .await;
        }
    };
    let actor = acting.actor();
    let (slug, team, who) = (named.slug.clone(), named.name.clone(), form.member.clone());
    match state.db.run(move |conn| teams::add_member(conn, &actor, &slug, &team, &who, role, until)).await {
        Ok(member) => {
            let message = format!("{} ({}) was added to the team as {}.", member.name, member.email, role.label());
            Ok(done(&req, frame, &team_url(&named), message))
        }
        Err(AppError::Invalid(errors)) => {
            render_team(frame, &state, acting.user, named, String::new(), Submitted { form, errors }, None).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct TeamRoleForm {
    #[serde(default)]
    role: String,
}

/// POST /orgs/{slug}/teams/{name}/members/{id}/role: change a team role.
pub async fn change_team_role(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: web::Form<TeamRoleForm>,
) -> Result<HttpResponse, AppError> {
    let role = TeamRole::from_db(form.role.trim())
        .ok_or_else(|| AppError::Invalid(FormErrors::form("Choose Maintainer or Member.")))?;
    let member = named.id.ok_or(AppError::NotFound)?;
    let actor = acting.actor();
    let (slug, team) = (named.slug.clone(), named.name.clone());
    let (changed, entry) =
        state.db.run(move |conn| teams::change_team_role(conn, &actor, &slug, &team, member, role)).await?;
    let message = format!("{} is now {} of the team.", entry.member.email, role.label());
    if entry.is_me {
        // Their own rights on the page changed: show it all again.
        return Ok(done(&req, frame, &team_url(&named), message));
    }
    let team_path = team_url(&named);
    row_action(&req, frame, &team_path.clone(), message, |csrf, message| MemberRowFragment {
        row: MemberRow::new(&entry, changed.id),
        slug: named.slug.to_string(),
        csrf,
        team_path,
        manages: true,
        message,
    })
}

/// GET /orgs/{slug}/teams/{name}/members/{id}/remove: the confirmation, with the
/// projects the member would lose.
pub async fn confirm_remove_team_member(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    leaving_page(req, frame, user, state, named, false).await
}

/// Taking someone out of a team, asked first (`stale`: again, because what it does changed).
async fn leaving_page(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    stale: bool,
) -> Result<HttpResponse, AppError> {
    let member = named.id.ok_or(AppError::NotFound)?;
    let (slug, team) = (named.slug.clone(), named.name.clone());
    let (viewer, team, leaving, seen) =
        state.db.run(move |conn| teams::leaving(conn, &slug, user.0, &team, member)).await?;
    let confirm = crate::web::confirm::Confirm {
        title: "Remove from team".into(),
        question: "Take".into(),
        subject: format!("{} ({})", leaving.name, leaving.email),
        consequence: format!("out of team {}? They stay in the organization.", team.name),
        button: "Remove".into(),
        action: format!("{}/members/{member}/remove", team_url(&named)),
        back: team_url(&named),
        impact: Some(seen),
        stale,
    };
    crate::web::confirm::ask(&req, frame, viewer, named.slug.as_str(), Nav::Teams, confirm)
}

/// POST /orgs/{slug}/teams/{name}/members/{id}/remove: take someone out of the team.
pub async fn remove_team_member(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: Option<web::Form<crate::web::confirm::SeenForm>>,
) -> Result<HttpResponse, AppError> {
    let member = named.id.ok_or(AppError::NotFound)?;
    let actor = acting.actor();
    let (slug, team) = (named.slug.clone(), named.name.clone());
    let seen = form.and_then(|f| f.into_inner().digest);
    let removed =
        state.db.run(move |conn| teams::remove_member(conn, &actor, &slug, &team, member, seen.as_deref())).await;
    let (team, email, was_me) = match removed {
        Err(error) if crate::services::impact::is_stale(&error) => {
            let shown = leaving_page(req.clone(), frame, SignedIn(acting.user), state, named, true).await?;
            return Ok(crate::web::confirm::asked_again(&req, shown));
        }
        other => other?,
    };
    let message = format!("{email} was removed from {}. They are still a member of the organization.", team.name);
    if was_me {
        return Ok(done(&req, frame, &team_url(&named), message));
    }
    // The row goes (hx-swap="delete"); the message goes to the alert region.
    row_action(&req, frame, &team_url(&named), message, |_, message| FlashFragment { message })
}

/// POST /orgs/{slug}/teams/{name}/settings: rename the team, change its description.
pub async fn rename_team(
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
    let (slug, team) = (named.slug.clone(), named.name.clone());
    match state.db.run(move |conn| teams::rename(conn, &actor, &slug, &team, name, description)).await {
        Ok(team) => {
            let to = format!("/orgs/{}/teams/{}", named.slug, team.slug);
            Ok(done(&req, frame, &to, format!("Team {} was saved.", team.name)))
        }
        Err(AppError::Invalid(errors)) => {
            let settings = Some(Submitted { form, errors });
            render_team(frame, &state, acting.user, named, String::new(), Submitted::default(), settings).await
        }
        Err(other) => Err(other),
    }
}

/// GET /orgs/{slug}/teams/{name}/delete: the `Delete team` confirmation.
pub async fn confirm_delete_team(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
) -> Result<HttpResponse, AppError> {
    deletion_page(req, frame, user, state, named, false).await
}

/// The `Delete team` confirmation, with who loses which project; `stale`: asked again
/// because that changed since the person looked.
async fn deletion_page(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    stale: bool,
) -> Result<HttpResponse, AppError> {
    let (slug, name) = (named.slug.clone(), named.name.clone());
    let (found, impact) = state
        .db
        .run(move |conn| {
            let found = teams::team_page(conn, &slug, user.0, &name, None, 0)?;
            let impact = crate::services::impact::of_deleting_team(conn, found.team.id)?;
            Ok::<_, AppError>((found, impact))
        })
        .await?;
    if !found.rights.edit {
        return Err(AppError::Forbidden(format!("Only the Owner and Admins can delete {}.", found.team.name)));
    }
    let confirm = crate::web::confirm::Confirm {
        title: "Delete team".into(),
        question: "Delete team".into(),
        button: "Delete team".into(),
        consequence: format!(
            "Its members lose their place in the team and the team's access to {} project(s) ends. Nobody leaves the organization.",
            found.projects.len()
        ),
        subject: found.team.name.clone(),
        action: format!("{}/delete", team_url(&named)),
        back: team_url(&named),
        impact: Some(impact),
        stale,
    };
    crate::web::confirm::ask(&req, frame, found.viewer, named.slug.as_str(), Nav::Teams, confirm)
}

/// POST /orgs/{slug}/teams/{name}/delete: `Delete team`.
pub async fn delete_team(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    form: Option<web::Form<crate::web::confirm::SeenForm>>,
) -> Result<HttpResponse, AppError> {
    let actor = acting.actor();
    let (slug, team) = (named.slug.clone(), named.name.clone());
    let seen = form.and_then(|f| f.into_inner().digest);
    let deleted = state.db.run(move |conn| teams::delete(conn, &actor, &slug, &team, seen.as_deref())).await;
    let name = match deleted {
        Err(error) if crate::services::impact::is_stale(&error) => {
            let shown = deletion_page(req.clone(), frame, SignedIn(acting.user), state, named, true).await?;
            return Ok(crate::web::confirm::asked_again(&req, shown));
        }
        other => other?,
    };
    let message = format!("Team {name} was deleted. Its members are still in the organization.");
    Ok(done(&req, frame, &format!("/orgs/{}/teams", named.slug), message))
}

/// Rows read per database round trip while exporting.
const EXPORT_PAGE: i64 = 500;

/// The columns of a team's members export.
const EXPORT_COLUMNS: &[&str] = &["name", "email", "organization_role", "team_role", "added", "expires"];

fn team_member_fields(member: &TeamMember) -> Vec<String> {
    vec![
        member.name.clone(),
        member.email.clone(),
        member.org_role.as_str().into(),
        member.role.as_str().into(),
        machine_time(member.added_at),
        member.expires_at.map(machine_time).unwrap_or_default(),
    ]
}

fn team_member_json(member: &TeamMember) -> serde_json::Value {
    serde_json::json!({
        "membership_id": member.membership_id,
        "name": member.name,
        "email": member.email,
        "organization_role": member.org_role.as_str(),
        "team_role": member.role.as_str(),
        "added_at": machine_time(member.added_at),
        "expires_at": member.expires_at.map(machine_time),
    })
}

/// GET /orgs/{slug}/teams/{name}/members.csv and .json: a team's members, by name,
/// every page, streamed; audited when done. Whoever sees the team's page may export
/// what it lists.
pub async fn export_team_members(
    req: HttpRequest,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    Exported(format): Exported,
) -> Result<HttpResponse, AppError> {
    // Every page after the first (whose access check is on the primary) from the
    // read replica, unless this browser just changed something.
    let after_write = browser_wrote(&req);
    let OrgNamed { slug, name: team, .. } = named;
    let (actor, org, checked) = (acting.actor(), slug.clone(), team.clone());
    let (found, _) = state.db.run(move |conn| teams::members_of(conn, &actor, &org, &checked, None, 0)).await?;
    let (db, actor, org) = (state.db.clone(), acting.actor(), slug.clone());
    let page = move |after: Option<Cursor>| {
        let (db, actor, org, team) = (db.clone(), actor.clone(), org.clone(), team.clone());
        async move {
            let (_, members) = db
                .read(after_write, move |conn| {
                    teams::members_of(conn, &actor, &org, &team, after.as_ref(), EXPORT_PAGE)
                })
                .await?;
            Ok(next_page(members, EXPORT_PAGE, |m| Cursor::Text(m.sort_key.clone(), m.membership_id)))
        }
    };
    let what = format!("the members of team {}", found.name);
    let (db, actor, file) = (state.db.clone(), acting.actor(), format!("{slug}-team-{}", found.slug));
    let done = move |rows: usize| async move {
        db.run(move |conn| crate::services::exports::record(conn, &actor, &slug, &what, format, rows)).await
    };
    let sheet = crate::web::export::Sheet { header: EXPORT_COLUMNS, csv: team_member_fields, json: team_member_json };
    Ok(crate::web::export::stream(format, &file, sheet, page, done))
}
