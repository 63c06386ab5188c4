//! Projects: the Projects list, a project's page, creating, renaming and deleting
//! projects, and granting or revoking access to a team or a member (Owner and Admins).

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::groups::save;
pub use super::groups::GroupFilter;
use super::reach::{self, Place};
use super::viewer::Viewer;
use crate::db::memberships;
use crate::db::projects::{self as rows, Grantee};
use crate::db::teams as team_rows;
use crate::domain::names::NameError;
use crate::domain::team::{DescriptionError, Reach};
use crate::domain::{AccessLevel, Description, GroupName, Permission, Slug, UserId};
use crate::error::{AppError, FormErrors};

pub use crate::db::listing::Cursor;
pub use crate::db::projects::{Grant, Project};

/// A project of the Projects list: who has access, and the viewer's own access.
#[derive(Debug, Clone)]
pub struct ProjectEntry {
    pub project: Project,
    /// Teams first, then people: (name, level).
    pub access: Vec<(String, AccessLevel)>,
    pub mine: Option<AccessLevel>,
    /// `lower(name)`, for the next page's cursor.
    pub sort_key: String,
}

/// A page of the Projects list (every member sees every project, and their own access).
pub fn list_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    filter: &GroupFilter,
    limit: i64,
) -> Result<(Viewer, OrgAccess, Vec<ProjectEntry>), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let entries = entries_for(conn, &access, filter, limit)?;
    Ok((viewer, access, entries))
}

/// `limit + 1` projects of the Projects list for `actor` (an API key), with who has access.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    filter: &GroupFilter,
    limit: i64,
) -> Result<Vec<ProjectEntry>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    entries_for(conn, &access, filter, limit)
}

/// The grants of the project at `project`, for `actor` (an API key).
pub fn grants(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
) -> Result<(Project, Vec<Grant>), AppError> {
    let access = access::acting(conn, slug, actor)?;
    let project = rows::find_by_slug(conn, access.org.org_id(), project)?.ok_or(AppError::NotFound)?;
    let grants = rows::grants_of(conn, &[project.id])?;
    Ok((project, grants))
}

/// `limit + 1` projects matching `filter`, with who has access and the viewer's own access.
fn entries_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &GroupFilter,
    limit: i64,
) -> Result<Vec<ProjectEntry>, AppError> {
    let found = rows::list(conn, &filter.query(access.org.org_id(), limit))?;
    let ids: Vec<Uuid> = found.iter().map(|(p, _)| p.id).collect();
    // Who has access, and the viewer's own level (an API key reaches no project of its own).
    let mut labels: HashMap<Uuid, (rows::AccessList, Option<AccessLevel>)> =
        rows::grant_labels(conn, &ids, access.membership())?
            .into_iter()
            .map(|(id, list, mine)| (id, (list, mine)))
            .collect();
    let entries = found
        .into_iter()
        .map(|(project, sort_key)| {
            let (access, mine) = labels.remove(&project.id).unwrap_or_default();
            ProjectEntry { access, mine, project, sort_key }
        })
        .collect();
    Ok(entries)
}

/// A project's page.
pub struct ProjectPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub project: Project,
    pub grants: Vec<Grant>,
    /// How the viewer reaches it, if at all.
    pub mine: Option<Reach<Place>>,
    pub manages: bool,
    /// Whether the viewer may see who could reach it on a past day (and export who can).
    pub sees_history: bool,
    /// Who can grant access, when the viewer has none.
    pub granters: Option<reach::Granters>,
}

/// A project's page (every member may see it).
pub fn project_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    project: &Slug,
) -> Result<ProjectPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    // The project, its grants and whom to ask for access in one statement; then how
    // the viewer reaches it: four statements with the session's.
    let crate::db::organizations::ProjectPageRows { project, grants, granters } =
        crate::db::organizations::project_page_rows(
            conn,
            access.org.org_id(),
            project,
            access.membership(),
            reach::GRANTERS_NAMED,
        )?
        .ok_or(AppError::NotFound)?;
    let mine = reach::on_project(conn, access.person()?.membership, project.id)?;
    let manages = access.role.can(Permission::ManageTeamsAndProjects);
    let granters = (mine.is_none() && !manages).then(|| reach::Granters::of(&access, granters));
    let sees_history = access.role.can(Permission::ViewAuditLog);
    Ok(ProjectPage { viewer, access, project, grants, mine, manages, sees_history, granters })
}

/// The actor, who must manage projects, and the organization's project at `project`, locked.
fn managed(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
) -> Result<(OrgAccess, Project), AppError> {
    let access = access::acting(conn, slug, actor)?;
    access.require(Permission::ManageTeamsAndProjects)?;
    let project = rows::lock_by_slug(conn, access.org.org_id(), project)?.ok_or(AppError::NotFound)?;
    Ok((access, project))
}

/// The confirmation of revoking `grant` on `project`: the viewer, the project, who
/// it was given to (as the audit log names them), and who would lose what.
pub fn revocation(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    project: &Slug,
    grant: Uuid,
) -> Result<(Viewer, Project, String, super::impact::Seen), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    access.require(Permission::ManageTeamsAndProjects)?;
    let project = rows::find_by_slug(conn, access.org.org_id(), project)?.ok_or(AppError::NotFound)?;
    let found = rows::grants_of(conn, &[project.id])?.into_iter().find(|g| g.id == grant).ok_or(AppError::NotFound)?;
    let seen = super::impact::of_revoking(conn, &found)?;
    Ok((viewer, project, found.grantee(), seen))
}

/// `Create project` (Owner and Admins).
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    name: Result<GroupName, NameError>,
    description: Result<Description, DescriptionError>,
) -> Result<Project, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        access.require(Permission::ManageTeamsAndProjects)?;
        let org = access.org.org_id();
        let project = save("project", name, description, |name, text| {
            rows::insert(conn, org, name.as_str(), name.slug(), text.as_str())
        })?;
        let event = Event::ProjectCreated { name: project.name.clone(), slug: project.slug.clone() };
        actor.record(conn, &access, &[event])?;
        Ok(project)
    })
}

/// Renames a project (its URL name follows) and sets its description.
pub fn rename(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
    name: Result<GroupName, NameError>,
    description: Result<Description, DescriptionError>,
) -> Result<Project, AppError> {
    conn.transaction(|conn| {
        let (access, project) = managed(conn, actor, slug, project)?;
        let renamed = save("project", name, description, |name, text| {
            rows::update(conn, project.id, name.as_str(), name.slug(), text.as_str())
        })?;
        if renamed.name != project.name || renamed.slug != project.slug {
            let event = Event::ProjectRenamed {
                from_name: project.name,
                from_slug: project.slug,
                name: renamed.name.clone(),
                slug: renamed.slug.clone(),
            };
            actor.record(conn, &access, &[event])?;
        }
        Ok(renamed)
    })
}

/// Deletes a project and every grant to it; returns its name.
pub fn delete(conn: &mut PgConnection, actor: &Actor, slug: &Slug, project: &Slug) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let (access, project) = managed(conn, actor, slug, project)?;
        let told = rows::users_reaching(conn, project.id)?;
        let grants = rows::grants_of(conn, &[project.id])?.len() as i64;
        rows::delete(conn, project.id)?;
        let event = Event::ProjectDeleted { project: project.id, name: project.name.clone(), told, grants };
        actor.record(conn, &access, &[event])?;
        Ok(project.name)
    })
}

/// Who `Grant access` names, as submitted: a team (by id) or a member (by email,
/// name or membership id).
#[derive(Debug, Clone)]
pub enum GranteeInput {
    Team(Uuid),
    /// A team's name as typed (exactly, or the one team it matches).
    TeamNamed(String),
    Member(String),
}

fn grantee_error(message: String) -> AppError {
    let mut errors = FormErrors::new();
    errors.add("grantee", message);
    AppError::Invalid(errors)
}

/// Finds the grantee in the organization, with the name the audit log gives it.
fn resolve(conn: &mut PgConnection, access: &OrgAccess, input: &GranteeInput) -> Result<(Grantee, String), AppError> {
    match input {
        GranteeInput::Team(id) => {
            let team = team_rows::find_many(conn, access.org.org_id(), &[*id])?
                .pop()
                .ok_or_else(|| grantee_error("That team does not exist any more. Reload the page.".into()))?;
            Ok((Grantee::Team(team.id), format!("team {}", team.name)))
        }
        GranteeInput::TeamNamed(typed) => {
            let team = super::teams::named(conn, access, typed)?.map_err(grantee_error)?;
            Ok((Grantee::Team(team.id), format!("team {}", team.name)))
        }
        GranteeInput::Member(who) => {
            let who = who.trim();
            if who.is_empty() {
                return Err(grantee_error("Choose a team, or type a member's email address.".into()));
            }
            let address = crate::domain::EmailAddress::parse(who).ok();
            let found = match &address {
                Some(address) => memberships::find_by_email(conn, access.org.org_id(), address)?,
                None => None,
            };
            let found = found.ok_or_else(|| {
                grantee_error(format!("{who} is not a member of {}. Invite them first.", access.org.name))
            })?;
            Ok((Grantee::Member(found.id), found.member_email))
        }
    }
}

/// `Grant access`: gives a team or a member access to the project at `level`
/// (replacing a level they had). Returns the project and the grant as it is now.
pub fn grant(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
    grantee: &GranteeInput,
    level: AccessLevel,
) -> Result<(Project, Grant), AppError> {
    grant_until(conn, actor, slug, project, grantee, level, None)
}

/// [`grant`], ending at `until` when given (a member's own grant only; DESIGN.md §2.12).
pub fn grant_until(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
    grantee: &GranteeInput,
    level: AccessLevel,
    until: Option<time::OffsetDateTime>,
) -> Result<(Project, Grant), AppError> {
    conn.transaction(|conn| {
        let (access, project) = managed(conn, actor, slug, project)?;
        let (grantee, label) = resolve(conn, &access, grantee)?;
        if until.is_some() && matches!(grantee, Grantee::Team(_)) {
            return Err(AppError::Invalid(FormErrors::field(
                "expires",
                "Only a member's own access ends at a date: leave it empty for a team, or set when each member's \
                 place in the team ends.",
            )));
        }
        let previous = rows::grant(conn, access.org.org_id(), project.id, grantee, level)?;
        let mut events = Vec::new();
        if previous != Some(level) {
            let told = rows::users_of(conn, grantee)?;
            events.push(Event::ProjectAccessGranted {
                project: project.id,
                project_name: project.name.clone(),
                grantee: label.clone(),
                previous,
                level,
                told,
            });
        }
        if let Grantee::Member(membership) = grantee {
            let on = crate::domain::expiry::On::Project(project.id);
            if let Some(until) = until {
                let before = crate::db::expiry::lock(conn, membership, on)?.and_then(|e| e.expires_at);
                crate::db::expiry::set(conn, membership, on, Some(until), access.user().map(|u| u.id))?;
                let member = memberships::detail(conn, access.org.org_id(), membership)?.ok_or(AppError::NotFound)?;
                events.push(Event::MemberExpirySet {
                    membership,
                    user: member.user_id,
                    email: member.member_email,
                    held: crate::domain::expiry::Held::ProjectGrant {
                        project: project.id,
                        project_name: project.name.clone(),
                        level,
                    },
                    from: before,
                    to: Some(until),
                });
            }
        }
        actor.record(conn, &access, &events)?;
        let granted = rows::grants_of(conn, &[project.id])?
            .into_iter()
            .find(|g| match grantee {
                Grantee::Team(id) => g.team_id == Some(id),
                Grantee::Member(id) => g.membership_id == Some(id),
            })
            .ok_or(AppError::NotFound)?;
        Ok((project, granted))
    })
}

/// Ends one grant of the project; returns the project and who lost access.
pub fn revoke(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
    grant: Uuid,
    seen: Option<&str>,
) -> Result<(Project, String), AppError> {
    conn.transaction(|conn| {
        let (access, project) = managed(conn, actor, slug, project)?;
        let found =
            rows::grants_of(conn, &[project.id])?.into_iter().find(|g| g.id == grant).ok_or(AppError::NotFound)?;
        super::impact::still(&super::impact::of_revoking(conn, &found)?, seen)?;
        let grantee = match (found.team_id, found.membership_id) {
            (Some(team), _) => Grantee::Team(team),
            (None, Some(member)) => Grantee::Member(member),
            (None, None) => return Err(AppError::NotFound),
        };
        let told = rows::users_of(conn, grantee)?;
        rows::revoke(conn, project.id, grant)?;
        let label = found.grantee();
        let event = Event::ProjectAccessRevoked {
            project: project.id,
            project_name: project.name.clone(),
            grantee: label.clone(),
            level: found.level,
            told,
        };
        actor.record(conn, &access, &[event])?;
        Ok((project, label))
    })
}
