//! Teams: the Teams list, a team's page, creating, renaming and deleting teams, and
//! managing who is in them (the Owner and Admins, and a team's Maintainers).

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::choices::{self, Choices};
use super::events::{Actor, Event};
use super::groups::save;
pub use super::groups::GroupFilter;
use super::viewer::Viewer;
use crate::db::memberships;
use crate::db::projects::{self as project_rows};
use crate::db::teams::{self as rows, CandidateQuery};
use crate::domain::names::NameError;
use crate::domain::permission::{may_manage_team_place, may_on_team, TeamAction};
use crate::domain::team::DescriptionError;
use crate::domain::{AccessLevel, Description, GroupName, Permission, Role, Slug, TeamRole, UserId};
use crate::error::{AppError, FormErrors};

pub use crate::db::listing::Cursor;
pub use crate::db::teams::{Team, TeamMember};

/// A team of the Teams list, with its size and Maintainers.
#[derive(Debug, Clone)]
pub struct TeamEntry {
    pub team: Team,
    pub members: i64,
    pub maintainers: Vec<String>,
    /// `lower(name)`, for the next page's cursor.
    pub sort_key: String,
}

/// A page of the Teams list (every member may see it): `limit + 1` teams.
pub fn list_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    filter: &GroupFilter,
    limit: i64,
) -> Result<(Viewer, OrgAccess, Vec<TeamEntry>), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let entries = entries_for(conn, &access, filter, limit)?;
    Ok((viewer, access, entries))
}

/// `limit + 1` teams of the Teams list for `actor` (an API key).
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    filter: &GroupFilter,
    limit: i64,
) -> Result<Vec<TeamEntry>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    entries_for(conn, &access, filter, limit)
}

/// `limit + 1` members of the team at `team`, by name, for `actor` (an API key).
pub fn members_of(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Team, Vec<TeamMember>), AppError> {
    let access = access::acting(conn, slug, actor)?;
    let team = team_in(conn, &access, team)?;
    let members = rows::members(conn, team.id, after, limit)?;
    Ok((team, members))
}

/// `limit + 1` teams matching `filter`, with their sizes and Maintainers.
fn entries_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &GroupFilter,
    limit: i64,
) -> Result<Vec<TeamEntry>, AppError> {
    let found = rows::list(conn, &filter.query(access.org.org_id(), limit))?;
    let ids: Vec<Uuid> = found.iter().map(|(t, _)| t.id).collect();
    let mut summaries: HashMap<Uuid, rows::TeamSummary> =
        rows::summaries(conn, &ids)?.into_iter().map(|s| (s.team_id, s)).collect();
    let entries = found
        .into_iter()
        .map(|(team, sort_key)| {
            let summary = summaries.remove(&team.id);
            TeamEntry {
                members: summary.as_ref().map_or(0, |s| s.members),
                maintainers: summary.map(|s| s.maintainers).unwrap_or_default(),
                team,
                sort_key,
            }
        })
        .collect();
    Ok(entries)
}

/// What the viewer may do with one team, by the rules of `domain::permission`.
#[derive(Debug, Clone, Copy)]
pub struct TeamRights {
    pub manage_members: bool,
    pub invite: bool,
    pub edit: bool,
    role: Role,
    team_role: Option<TeamRole>,
}

impl TeamRights {
    /// Whether the viewer may change the team role of, or take out of the team, a
    /// member whose organization role is `target`.
    pub fn may_manage(&self, target: Role) -> bool {
        may_manage_team_place(self.role, self.team_role, target)
    }

    /// The only organization role whose members the viewer may add (a Maintainer:
    /// Members), or `None` for anyone.
    fn addable_only(&self) -> Option<Role> {
        (!self.may_manage(Role::Admin)).then_some(Role::Member)
    }
}

pub(crate) fn rights(conn: &mut PgConnection, access: &OrgAccess, team: &Team) -> Result<TeamRights, AppError> {
    let mine = match access.membership() {
        Some(membership) => rows::role_of(conn, team.id, membership)?,
        None => None,
    };
    Ok(rights_with(access, team, mine))
}

/// [`rights`] of the actor of `access`, whose role in `team` is `mine`.
fn rights_with(access: &OrgAccess, team: &Team, mine: Option<TeamRole>) -> TeamRights {
    let may = |action| may_on_team(access.role, mine, action);
    // A team the identity provider manages is renamed and deleted there alone.
    let provider = matches!(access.principal, crate::domain::Principal::IdentityProvider { .. });
    TeamRights {
        manage_members: may(TeamAction::ManageMembers),
        invite: may(TeamAction::Invite),
        edit: may(TeamAction::Edit) && (!team.scim_managed || !access.org.scim_enabled || provider),
        role: access.role,
        team_role: mine,
    }
}

/// Refuses unless the actor may manage `member`'s place in the team.
fn require_place(rights: &TeamRights, team: &Team, member: &TeamMember) -> Result<(), AppError> {
    if rights.may_manage(member.org_role) {
        return Ok(());
    }
    require(rights.manage_members, team)?;
    Err(AppError::Forbidden(format!(
        "Only the Owner and Admins can change the place of {} ({}) in {}.",
        member.name,
        member.org_role.label(),
        team.name
    )))
}

pub(crate) fn require(allowed: bool, team: &Team) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only the Owner, Admins and the Maintainers of {} can do this.", team.name)))
    }
}

/// A member of the team as the viewer sees them.
#[derive(Debug, Clone)]
pub struct TeamMemberEntry {
    pub member: TeamMember,
    /// Whether the viewer may change their team role or remove them.
    pub manageable: bool,
    pub is_me: bool,
}

/// A team's page.
pub struct TeamPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub team: Team,
    pub rights: TeamRights,
    /// `limit + 1` members by name.
    pub members: Vec<TeamMemberEntry>,
    /// The projects the team reaches, with the level.
    pub projects: Vec<(String, String, AccessLevel)>,
    /// For those who may invite into the team: the seats (at the limit,
    /// `Invite to team` is disabled with the reason).
    pub seats: Option<crate::domain::SeatUsage>,
}

fn team_in(conn: &mut PgConnection, access: &OrgAccess, team: &Slug) -> Result<Team, AppError> {
    rows::find_by_slug(conn, access.org.org_id(), team)?.ok_or(AppError::NotFound)
}

/// A team's page (every member may see it).
pub fn team_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    team: &Slug,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<TeamPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    // The team, the viewer's role in it, the seats and its projects in one statement,
    // then its members: four statements with the session's.
    let crate::db::organizations::TeamPageRows { team, my_role, seat_counts: (members, reserved), projects } =
        crate::db::organizations::team_page_rows(conn, access.org.org_id(), team, access.membership())?
            .ok_or(AppError::NotFound)?;
    let rights = rights_with(&access, &team, my_role);
    let seats =
        rights.invite.then(|| crate::domain::SeatUsage { members, reserved, limit: access.org.seat_limit.into() });
    let members = rows::members(conn, team.id, after, limit)?
        .into_iter()
        .map(|member| TeamMemberEntry {
            manageable: rights.may_manage(member.org_role),
            is_me: access.is_me(member.membership_id),
            member,
        })
        .collect();
    Ok(TeamPage { viewer, access, team, rights, members, projects, seats })
}

/// The members `Add member` suggests for `search` (for those who may add): the
/// organization's members not in the team, a Maintainer's only those they may add.
pub fn candidates(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    team: &Slug,
    search: &str,
    after: Option<Cursor>,
) -> Result<Choices, AppError> {
    let access = access::member_of(conn, slug, user)?;
    let team = team_in(conn, &access, team)?;
    let rights = rights(conn, &access, &team)?;
    require(rights.manage_members, &team)?;
    let query = CandidateQuery {
        org: access.org.org_id(),
        outside_team: Some(team.id),
        except: None,
        only: rights.addable_only(),
        search: search.trim(),
        after,
        limit: choices::PAGE + 1,
    };
    Ok(Choices::of_members(rows::candidates(conn, &query)?))
}

/// The organization's team at `team`, locked, with the actor's rights on it.
fn locked(conn: &mut PgConnection, access: &OrgAccess, team: &Slug) -> Result<(Team, TeamRights), AppError> {
    let team = rows::lock_by_slug(conn, access.org.org_id(), team)?.ok_or(AppError::NotFound)?;
    let rights = rights(conn, access, &team)?;
    Ok((team, rights))
}

/// The team whose name was typed: the one called exactly that (any case), or the one
/// team the words match; or why there is none, in a sentence for the field.
pub(crate) fn named(
    conn: &mut PgConnection,
    access: &OrgAccess,
    typed: &str,
) -> Result<Result<Team, String>, AppError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Err("Choose a team.".into()));
    }
    let query = crate::db::groups::GroupQuery {
        org: access.org.org_id(),
        search: typed,
        descending: false,
        after: None,
        limit: 20,
    };
    let mut found: Vec<Team> = rows::list(conn, &query)?.into_iter().map(|(team, _)| team).collect();
    if let Some(at) = found.iter().position(|t| t.name.to_lowercase() == typed.to_lowercase()) {
        return Ok(Ok(found.swap_remove(at)));
    }
    Ok(match found.len() {
        1 => Ok(found.swap_remove(0)),
        0 => Err(format!("No team in {} is called “{typed}”.", access.org.name)),
        _ => Err(format!(
            "“{typed}” matches several teams. Type the team's full name, or choose it from the suggestions."
        )),
    })
}

/// The organization's team `team`, locked, for an actor who may manage the places of
/// its members whose organization role is `target` (set when a place ends, grant an
/// expired place again).
pub(crate) fn place_manager(
    conn: &mut PgConnection,
    access: &OrgAccess,
    team: Uuid,
    member_name: &str,
    target: Role,
) -> Result<Team, AppError> {
    let team = rows::lock_in(conn, access.org.org_id(), team)?.ok_or(AppError::NotFound)?;
    let rights = rights(conn, access, &team)?;
    require(rights.manage_members, &team)?;
    if !rights.may_manage(target) {
        return Err(AppError::Forbidden(format!(
            "Only the Owner and Admins can change the place of {member_name} ({}) in {}.",
            target.label(),
            team.name
        )));
    }
    Ok(team)
}

/// `Create team` (Owner and Admins).
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    name: Result<GroupName, NameError>,
    description: Result<Description, DescriptionError>,
) -> Result<Team, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        access.require(Permission::ManageTeamsAndProjects)?;
        let org = access.org.org_id();
        let team = save("team", name, description, |name, text| {
            rows::insert(conn, org, name.as_str(), name.slug(), text.as_str())
        })?;
        actor.record(conn, &access, &[Event::TeamCreated { name: team.name.clone(), slug: team.slug.clone() }])?;
        Ok(team)
    })
}

/// Renames a team (its URL name follows) and sets its description.
pub fn rename(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    name: Result<GroupName, NameError>,
    description: Result<Description, DescriptionError>,
) -> Result<Team, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (team, rights) = locked(conn, &access, team)?;
        if !rights.edit {
            return Err(only_admins(&team));
        }
        let renamed = save("team", name, description, |name, text| {
            rows::update(conn, team.id, name.as_str(), name.slug(), text.as_str())
        })?;
        if renamed.name != team.name || renamed.slug != team.slug {
            let event = Event::TeamRenamed {
                from_name: team.name,
                from_slug: team.slug,
                name: renamed.name.clone(),
                slug: renamed.slug.clone(),
            };
            actor.record(conn, &access, &[event])?;
        }
        Ok(renamed)
    })
}

fn only_admins(team: &Team) -> AppError {
    // (Said only to those who could otherwise: the rights decide who is refused.)
    if team.scim_managed {
        return AppError::Forbidden(format!(
            "{} is managed by SCIM: rename or delete it in your identity provider.",
            team.name
        ));
    }
    AppError::Forbidden(format!("Only the Owner and Admins can rename or delete {}.", team.name))
}

/// `Delete team`: team memberships and the team's project grants end; nobody
/// leaves the organization. Returns the team's name.
/// `seen`: the digest of the confirmation the person saw ([`super::impact`]); refused,
/// changing nothing, when deleting would now take other access away.
pub fn delete(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    seen: Option<&str>,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (team, rights) = locked(conn, &access, team)?;
        if !rights.edit {
            return Err(only_admins(&team));
        }
        super::impact::still(&super::impact::of_deleting_team(conn, team.id)?, seen)?;
        let told = rows::user_ids(conn, team.id)?;
        let grants = project_rows::count_for_team(conn, team.id)?;
        rows::delete(conn, team.id)?;
        actor.record(conn, &access, &[Event::TeamDeleted { team: team.id, name: team.name.clone(), told, grants }])?;
        Ok(team.name)
    })
}

/// Finds the organization member `who` names: a membership id (from a list), or an
/// email address or name typed into `Add member` (exactly, or the one member it matches).
pub(super) fn resolve_member(conn: &mut PgConnection, access: &OrgAccess, who: &str) -> Result<Uuid, AppError> {
    let who = who.trim();
    let field = |message: String| {
        let mut errors = FormErrors::new();
        errors.add("member", message);
        AppError::Invalid(errors)
    };
    if who.is_empty() {
        return Err(field("Choose a member of the organization to add.".into()));
    }
    if let Ok(id) = Uuid::parse_str(who) {
        return memberships::detail(conn, access.org.org_id(), id)?
            .map(|m| m.id)
            .ok_or_else(|| field("That person is not a member of the organization.".into()));
    }
    let query = CandidateQuery {
        org: access.org.org_id(),
        outside_team: None,
        except: None,
        only: None,
        search: who,
        after: None,
        limit: 50,
    };
    let found = rows::candidates(conn, &query)?;
    let exact: Vec<Uuid> = found
        .iter()
        .filter(|(_, name, email, _)| {
            crate::domain::email_address::same_address(email, who) || name.to_lowercase() == who.to_lowercase()
        })
        .map(|(id, _, _, _)| *id)
        .collect();
    match (exact.as_slice(), found.as_slice()) {
        ([one], _) | ([], [(one, _, _, _)]) => Ok(*one),
        ([], []) => Err(field(format!("Nobody in {} matches “{who}”. Invite them first.", access.org.name))),
        _ => Err(field(format!("“{who}” matches several members. Type their full email address."))),
    }
}

/// `Add member`: puts a member of the organization into the team with `role`, until
/// `until` when given (DESIGN.md §2.12).
pub fn add_member(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    who: &str,
    role: TeamRole,
    until: Option<time::OffsetDateTime>,
) -> Result<TeamMember, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (team, rights) = locked(conn, &access, team)?;
        require(rights.manage_members, &team)?;
        let membership = resolve_member(conn, &access, who)?;
        // Adding follows the rule of changing a place: a Maintainer adds Members only.
        let joining = memberships::detail(conn, access.org.org_id(), membership)?.ok_or(AppError::NotFound)?;
        if !rights.may_manage(joining.role) {
            let mut errors = FormErrors::new();
            errors.add(
                "member",
                format!(
                    "Only the Owner and Admins can add {} ({}) to {}: a Maintainer adds the organization's Members.",
                    joining.member_name,
                    joining.role.label(),
                    team.name
                ),
            );
            return Err(AppError::Invalid(errors));
        }
        if !rows::add(conn, access.org.org_id(), team.id, membership, role)? {
            let member = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
            let mut errors = FormErrors::new();
            errors.add("member", format!("{} is already in {}.", member.email, team.name));
            return Err(AppError::Invalid(errors));
        }
        if let Some(until) = until {
            let on = crate::domain::expiry::On::Team(team.id);
            crate::db::expiry::set(conn, membership, on, Some(until), access.user().map(|u| u.id))?;
        }
        let member = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
        let mut events = vec![Event::TeamMemberAdded {
            team: team.id,
            team_name: team.name.clone(),
            user: member.user_id,
            email: member.email.clone(),
            role,
        }];
        if until.is_some() {
            events.push(Event::MemberExpirySet {
                membership,
                user: member.user_id,
                email: member.email.clone(),
                held: crate::domain::expiry::Held::TeamPlace { team: team.id, team_name: team.name.clone(), role },
                from: None,
                to: until,
            });
        }
        actor.record(conn, &access, &events)?;
        Ok(member)
    })
}

/// The confirmation of taking `membership` out of `team`: the viewer, the team, the
/// member, and the projects they would lose.
pub fn leaving(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    team: &Slug,
    membership: Uuid,
) -> Result<(Viewer, Team, TeamMember, super::impact::Seen), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let team = team_in(conn, &access, team)?;
    let rights = rights(conn, &access, &team)?;
    require(rights.manage_members, &team)?;
    let member = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
    require_place(&rights, &team, &member)?;
    let seen = super::impact::of_leaving_team(conn, membership, &member.name, team.id)?;
    Ok((viewer, team, member, seen))
}

/// Takes a member out of the team (they stay in the organization); returns their
/// email, and whether the actor took themself out. `seen`: the digest of the
/// confirmation the person saw; refused, changing nothing, when it no longer holds.
pub fn remove_member(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    membership: Uuid,
    seen: Option<&str>,
) -> Result<(Team, String, bool), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (team, rights) = locked(conn, &access, team)?;
        require(rights.manage_members, &team)?;
        let member = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
        require_place(&rights, &team, &member)?;
        // Only the digest is compared: the names are for the confirmation.
        super::impact::still(&super::impact::of_leaving_team(conn, membership, "", team.id)?, seen)?;
        rows::remove(conn, team.id, membership)?;
        let event = Event::TeamMemberRemoved {
            team: team.id,
            team_name: team.name.clone(),
            user: member.user_id,
            email: member.email.clone(),
            role: member.role,
        };
        actor.record(conn, &access, &[event])?;
        Ok((team, member.email, access.is_me(membership)))
    })
}

/// Gives a team member another team role; returns them as they are now.
pub fn change_team_role(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    team: &Slug,
    membership: Uuid,
    role: TeamRole,
) -> Result<(Team, TeamMemberEntry), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (team, allowed) = locked(conn, &access, team)?;
        require(allowed.manage_members, &team)?;
        let before = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
        require_place(&allowed, &team, &before)?;
        if before.role != role {
            rows::set_role(conn, team.id, membership, role)?;
            let event = Event::TeamRoleChanged {
                team: team.id,
                team_name: team.name.clone(),
                user: before.user_id,
                email: before.email.clone(),
                from: before.role,
                to: role,
            };
            actor.record(conn, &access, &[event])?;
        }
        let member = rows::member(conn, team.id, membership)?.ok_or(AppError::NotFound)?;
        // A Maintainer who steps down may no longer manage the team.
        let manageable = rights(conn, &access, &team)?.may_manage(member.org_role);
        let is_me = access.is_me(membership);
        Ok((team, TeamMemberEntry { member, manageable, is_me }))
    })
}
