//! What a member reaches (DESIGN.md §2.5): their teams and the projects those teams
//! or direct grants open, with the level and why. One query computes it; every
//! project check and the Access view use this code.

use std::collections::HashMap;

use diesel::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::viewer::Viewer;
use crate::db::expiry::Expired;
use crate::db::{memberships, projects};
use crate::domain::impact::Path;
use crate::domain::team::{effective, Reach, Reaching, Via};
use crate::domain::{AccessLevel, Slug, TeamRole, UserId};
use crate::error::AppError;

pub use crate::domain::team::Place;

/// Everything one member reaches.
#[derive(Debug, Clone, Default)]
pub struct MemberReach {
    /// Their teams, by name, with their team role.
    pub teams: Vec<(Place, TeamRole)>,
    /// The projects they reach, by name, each at its highest level with every reason.
    pub projects: Vec<Reach<Place>>,
    /// When their team places end, by team (those that do).
    pub team_ends: HashMap<Uuid, OffsetDateTime>,
    /// When their own project grants end, by project (those that do).
    pub grant_ends: HashMap<Uuid, OffsetDateTime>,
    /// Team places and grants that ended at their date, teams first (DESIGN.md §2.12).
    pub expired: Vec<Expired>,
}

impl MemberReach {
    pub fn is_empty(&self) -> bool {
        self.teams.is_empty() && self.projects.is_empty()
    }
}

fn load(conn: &mut PgConnection, membership: Uuid, projects: Option<&[Uuid]>) -> Result<MemberReach, AppError> {
    from_rows(projects::reached_by(conn, membership, projects)?)
}

/// One member's reach from their rows of [`projects::reached_by`], in its order (or
/// rows of the same shape: the access history's).
pub fn from_rows(rows: Vec<projects::Reached>) -> Result<MemberReach, AppError> {
    let mut reach = MemberReach::default();
    let mut grants = Vec::new();
    for row in rows {
        if let (Some(kind), Some(expired_at)) = (row.kind.strip_prefix("expired_"), row.expires_at) {
            let (team_id, project_id) = if kind == "team" { (Some(row.id), None) } else { (None, Some(row.id)) };
            let (name, slug, grade) = (row.name, row.slug, row.level);
            reach.expired.push(Expired { team_id, project_id, name, slug, grade, expired_at });
            continue;
        }
        let place = Place { id: row.id, name: row.name, slug: row.slug };
        if let Some(at) = row.expires_at {
            let ends = if row.kind == "team" { &mut reach.team_ends } else { &mut reach.grant_ends };
            ends.insert(place.id, at);
        }
        if row.kind == "team" {
            let role = TeamRole::from_db(&row.level)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("team role {}", row.level)))?;
            reach.teams.push((place, role));
        } else {
            let level = AccessLevel::from_db(&row.level)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("access level {}", row.level)))?;
            let via = row.via_team.map_or(Via::Direct, Via::Team);
            grants.push(Reaching { project: place, level, via });
        }
    }
    reach.projects = effective(grants);
    Ok(reach)
}

/// What each of `memberships` reaches, in one statement however many they are (an
/// export's page, a bulk action's selection): one entry per membership, in the order
/// given, empty for one that reaches nothing.
pub fn of_memberships(conn: &mut PgConnection, memberships: &[Uuid]) -> Result<Vec<(Uuid, MemberReach)>, AppError> {
    let mut rows: HashMap<Uuid, Vec<projects::Reached>> = HashMap::new();
    for row in projects::reached_by_each(conn, memberships, None)? {
        rows.entry(row.membership_id).or_default().push(row);
    }
    memberships.iter().map(|id| Ok((*id, from_rows(rows.remove(id).unwrap_or_default())?))).collect()
}

/// Every way each of `memberships` reaches a project (grants to them and to their
/// teams, nothing that ended), in one statement: what an impact preview starts from.
pub fn paths_of(conn: &mut PgConnection, memberships: &[Uuid]) -> Result<Vec<Path>, AppError> {
    let mut paths = Vec::new();
    for row in projects::reached_by_each(conn, memberships, None)? {
        if row.kind != "project" {
            continue;
        }
        let level = AccessLevel::from_db(&row.level)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("access level {}", row.level)))?;
        let team = match (row.via_team_id, row.via_team) {
            (Some(id), Some(name)) => Some(Place { id, name, slug: String::new() }),
            _ => None,
        };
        let project = Place { id: row.id, name: row.name, slug: row.slug };
        paths.push(Path { member: row.membership_id, project, level, team });
    }
    Ok(paths)
}

/// Everything the member `membership` reaches, and what of theirs ended at its date,
/// in one query.
pub fn of_membership(conn: &mut PgConnection, membership: Uuid) -> Result<MemberReach, AppError> {
    load(conn, membership, None)
}

/// How the member `membership` reaches one project (`None`: not at all).
pub fn on_project(conn: &mut PgConnection, membership: Uuid, project: Uuid) -> Result<Option<Reach<Place>>, AppError> {
    Ok(load(conn, membership, Some(&[project]))?.projects.into_iter().next())
}

/// How the member `membership` reaches each of `projects` (those it reaches at all).
pub fn on_projects(
    conn: &mut PgConnection,
    membership: Uuid,
    projects: &[Uuid],
) -> Result<Vec<Reach<Place>>, AppError> {
    Ok(load(conn, membership, Some(projects))?.projects)
}

/// How many of the people who can grant access a page names.
pub const GRANTERS_NAMED: i64 = 6;

/// Who can grant access, as the viewer is told: whether they can themselves, and
/// the others who can (the Owner, then Admins by name, a few), never the viewer.
#[derive(Debug, Clone)]
pub struct Granters {
    pub viewer_may: bool,
    pub others: Vec<String>,
}

/// [`Granters`] for the viewer of `access`.
pub fn granters(conn: &mut PgConnection, access: &OrgAccess) -> Result<Granters, AppError> {
    let names = memberships::granter_names(conn, access.org.org_id(), GRANTERS_NAMED, access.membership())?;
    Ok(Granters::of(access, names))
}

impl Granters {
    /// The viewer's, with the `others` who can grant access (in any order: sorted here).
    pub fn of(access: &OrgAccess, mut others: Vec<String>) -> Self {
        others.sort();
        Granters { viewer_may: access.role.can(crate::domain::Permission::ManageTeamsAndProjects), others }
    }
}

/// The `My access` page: the viewer, their access, what they reach, and who can grant more.
pub fn my_access_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
) -> Result<(Viewer, OrgAccess, MemberReach, Granters), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let reach = of_membership(conn, access.person()?.membership)?;
    let granters = granters(conn, &access)?;
    Ok((viewer, access, reach, granters))
}
