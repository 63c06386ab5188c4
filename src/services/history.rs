//! Access history (DESIGN.md §2.13): who could reach a project on a day and through
//! which grant, what happened to that access during the day, and what a person
//! reached when. The Owner and Admins see every history; a member sees their own.

use diesel::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::actor::Actor;
use super::reach::{self, MemberReach, Place};
use super::viewer::Viewer;
use crate::db::history as rows;
pub use crate::db::history::Stretch;
use crate::db::listing::Cursor;
use crate::db::projects::{self as projects, Project};
use crate::domain::history::{Cause, Day, Turn};
use crate::domain::team::Reach;
use crate::domain::{AccessLevel, Permission, Slug, UserId};
use crate::error::AppError;

/// At most this many changes of one day are listed (the earliest).
pub const TURNS_SHOWN: i64 = 200;
/// At most this many stretches of a person's history are listed (the latest).
pub const STRETCHES_SHOWN: i64 = 500;
/// Who could reach a project is counted up to this many; past it, the page says "more than".
pub const COUNT_CAP: i64 = 1_000;
/// [`COUNT_CAP`] as a page writes it.
pub const COUNT_CAP_IN_WORDS: &str = "1,000";

/// Someone who could reach the project at the moment looked up, and how.
#[derive(Debug, Clone)]
pub struct Holder {
    pub membership: Uuid,
    pub name: String,
    pub email: String,
    /// Whether they were suspended then (they held the access but could not use it).
    pub suspended: bool,
    pub reach: Reach<Place>,
    /// `lower(name)`, for the next page's cursor.
    pub sort_key: String,
}

/// A change of someone's access to the project during the day.
#[derive(Debug, Clone)]
pub struct Change {
    pub at: OffsetDateTime,
    pub membership: Uuid,
    pub name: String,
    pub email: String,
    pub turn: Turn,
}

/// A project's `Access history` page for one day.
pub struct ProjectDay {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub project: Project,
    pub day: Day,
    /// One page of the people who could reach it (`limit + 1`, for the next page).
    pub holders: Vec<Holder>,
    /// How many could reach it in all, up to [`COUNT_CAP`] (`COUNT_CAP + 1`: more).
    pub count: i64,
    /// The day's changes, the earliest first ([`TURNS_SHOWN`] at most), and how many there were.
    pub changes: Vec<Change>,
    pub changes_total: i64,
    /// Since when the history is whole, if not since the organization began (an
    /// earlier day shows only what was still held then).
    pub kept_since: Option<OffsetDateTime>,
}

/// The project at `project` for someone who may see histories.
fn project_for(conn: &mut PgConnection, access: &OrgAccess, project: &Slug) -> Result<Project, AppError> {
    access.require(Permission::ViewAuditLog)?;
    projects::find_by_slug(conn, access.org.org_id(), project)?.ok_or(AppError::NotFound)
}

/// Whether `user` may see the access history of the project at `project` (the
/// Owner and Admins): the viewer, their access, and the project.
pub fn project_access(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    project: &Slug,
) -> Result<(Viewer, OrgAccess, Project), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let project = project_for(conn, &access, project)?;
    Ok((viewer, access, project))
}

/// Projects → a project → `Access history` for `day`, for a viewer [`project_access`]
/// let in: one page of who could reach it (`limit + 1` after `after`), how many,
/// and what changed that day.
pub fn project_day(
    conn: &mut PgConnection,
    (viewer, access, project): &(Viewer, OrgAccess, Project),
    day: Day,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<ProjectDay, AppError> {
    let (viewer, access, project) = (viewer.clone(), access.clone(), project.clone());
    let teams = rows::teams_granted_at(conn, project.id, day.at)?;
    let holders = holders_of(conn, project.id, day.at, &teams, after, limit)?;
    let count = rows::count_project_at(conn, project.id, day.at, &teams, COUNT_CAP)?;
    let (from, to) = day.bounds();
    let (turns, changes_total) = rows::project_turns(conn, project.id, from, to, TURNS_SHOWN)?;
    let changes = turns
        .into_iter()
        .map(|t| Change {
            at: t.at,
            membership: t.membership_id,
            name: t.member_name,
            email: t.member_email,
            turn: Turn {
                began: t.began,
                cause: Cause::from_db(&t.by),
                level: AccessLevel::from_db(&t.level).unwrap_or(AccessLevel::Read),
                team: t.team,
            },
        })
        .collect();
    let kept_since = rows::kept_since(conn, access.org.org_id().0)?;
    Ok(ProjectDay { viewer, access, project, day, holders, count, changes, changes_total, kept_since })
}

/// One page of who could reach `project` at `day` for `actor` (an export's page:
/// `limit + 1` people, for the next page), and the project.
pub fn holders_page(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    project: &Slug,
    day: Day,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Project, Vec<Holder>), AppError> {
    let access = access::acting(conn, slug, actor)?;
    let project = project_for(conn, &access, project)?;
    let teams = rows::teams_granted_at(conn, project.id, day.at)?;
    let holders = holders_of(conn, project.id, day.at, &teams, after, limit)?;
    Ok((project, holders))
}

/// `limit + 1` people who could reach `project` at `at` (through a grant to them or to
/// one of `teams`), by name, after `after`; each with every way they had, added up as
/// the Access view adds them.
fn holders_of(
    conn: &mut PgConnection,
    project: Uuid,
    at: OffsetDateTime,
    teams: &[Uuid],
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Holder>, AppError> {
    let after = match after {
        Some(Cursor::Text(key, id)) => Some((key.as_str(), *id)),
        _ => None,
    };
    let mut holders: Vec<Holder> = Vec::new();
    let mut paths: Vec<crate::db::projects::Reached> = Vec::new();
    let rows = rows::project_at(conn, project, at, teams, after, limit + 1)?;
    for (i, row) in rows.iter().enumerate() {
        paths.push(row.path.clone());
        let last_of_member = rows.get(i + 1).is_none_or(|next| next.path.membership_id != row.path.membership_id);
        if last_of_member {
            let reach = reach::from_rows(std::mem::take(&mut paths))?.projects.into_iter().next();
            let Some(reach) = reach else { continue };
            holders.push(Holder {
                membership: row.path.membership_id,
                name: row.member_name.clone(),
                email: row.member_email.clone(),
                suspended: row.suspended,
                reach,
                sort_key: row.sort_key.clone(),
            });
        }
    }
    Ok(holders)
}

/// Whose access history a viewer may see: the membership, and who had it.
pub struct PersonAccess {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub membership: Uuid,
    pub person: rows::Person,
    /// Whether it is the viewer's own history.
    pub mine: bool,
}

/// A person's `Access history`: what they reached on a day, and every stretch of it.
pub struct PersonHistory {
    pub viewer: Viewer,
    pub access: OrgAccess,
    /// The membership looked up (it may have ended).
    pub membership: Uuid,
    pub name: String,
    pub email: String,
    /// Whether they are a member now.
    pub current: bool,
    /// Whether it is the viewer's own history.
    pub mine: bool,
    pub day: Day,
    /// Their teams and projects at the day's moment.
    pub reach: MemberReach,
    /// The latest stretches first ([`STRETCHES_SHOWN`] at most), and whether there were more.
    pub stretches: Vec<Stretch>,
    pub more: bool,
    pub kept_since: Option<OffsetDateTime>,
}

/// The `Access history` of whoever had the membership `membership`, across every
/// membership of theirs in the organization: the Owner and Admins may see anyone's,
/// a member their own.
pub fn person_access(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    membership: Uuid,
) -> Result<PersonAccess, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let person = rows::person(conn, access.org.org_id().0, membership)?.ok_or(AppError::NotFound)?;
    if person.user_id != user.0 {
        access.require(Permission::ViewAuditLog)?;
    }
    Ok(PersonAccess { viewer, access, membership, mine: person.user_id == user.0, person })
}

/// The `Access history` of the person [`person_access`] let the viewer see, on `day`.
pub fn person(conn: &mut PgConnection, checked: &PersonAccess, day: Day) -> Result<PersonHistory, AppError> {
    let (org, person) = (checked.access.org.org_id(), checked.person.user_id);
    let reach = at(conn, org.0, person, day.at)?;
    let mut stretches = rows::of_person(conn, org.0, person, STRETCHES_SHOWN + 1)?;
    let more = stretches.len() as i64 > STRETCHES_SHOWN;
    stretches.truncate(STRETCHES_SHOWN as usize);
    let kept_since = rows::kept_since(conn, org.0)?;
    Ok(PersonHistory {
        viewer: checked.viewer.clone(),
        access: checked.access.clone(),
        membership: checked.membership,
        name: checked.person.name.clone(),
        email: checked.person.email.clone(),
        current: checked.person.current,
        mine: checked.mine,
        day,
        reach,
        stretches,
        more,
        kept_since,
    })
}

/// What the person `user` reached in `org` at `at`: their teams and projects, in the
/// shape and order of the Access view (for now, the same).
pub fn at(conn: &mut PgConnection, org: Uuid, user: Uuid, at: OffsetDateTime) -> Result<MemberReach, AppError> {
    reach::from_rows(rows::person_at(conn, org, user, at)?)
}
